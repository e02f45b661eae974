package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestProviderTraffic_CountsOnlyUpstreamCalls(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	recs := []UsageRecord{
		// Key "a": openai answers 3 calls (one failed upstream), 1 response-cache hit, 1 semantic
		// hit and 1 coalesced reader that still paid for what it received beyond its leader.
		{TS: t0, KeyID: "a", Provider: "openai", CostNanos: 100, Cache: "miss"},
		{TS: t0, KeyID: "a", Provider: "openai", CostNanos: 200},
		{TS: t0, KeyID: "a", Provider: "openai", Status: "unavailable"},
		{TS: t0, KeyID: "a", Provider: "openai", Cache: "hit"},
		{TS: t0, KeyID: "a", Provider: "openai", Cache: "semantic_hit"},
		{TS: t0, KeyID: "a", Provider: "openai", Cache: "coalesced", CostNanos: 5},
		{TS: t0, KeyID: "a", Provider: "anthropic", CostNanos: 1000, Cache: "bypass"},
		// Refused by admission, and failed before routing: no provider.
		{TS: t0, KeyID: "a", Status: "rate_limited", CostNanos: 7},
		{TS: t0, KeyID: "a", Status: "no_route"},
		// The gateway's own probe of an idle target.
		{TS: t0, KeyID: "system:probe", Dialect: "probe", Provider: "gemini", CostNanos: 3},
		// Key "b", and an old row outside the window.
		{TS: t0.Add(time.Second), KeyID: "b", Provider: "gemini", CostNanos: 50},
		{TS: t0.Add(-time.Hour), KeyID: "a", Provider: "gemini", CostNanos: 9999},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name  string
				since time.Time
				key   string
				want  []ProviderTraffic
			}{
				{"one key", t0, "a", []ProviderTraffic{
					{Provider: "anthropic", Calls: 1, CostNanos: 1000}, {Provider: "openai", Calls: 3, CostNanos: 305}}},
				{"gateway-wide", t0, "", []ProviderTraffic{
					{Provider: "anthropic", Calls: 1, CostNanos: 1000}, {Provider: "gemini", Calls: 1, CostNanos: 50},
					{Provider: "openai", Calls: 3, CostNanos: 305}}},
				{"older rows in a longer window", t0.Add(-2 * time.Hour), "a", []ProviderTraffic{
					{Provider: "anthropic", Calls: 1, CostNanos: 1000}, {Provider: "gemini", Calls: 1, CostNanos: 9999},
					{Provider: "openai", Calls: 3, CostNanos: 305}}},
				{"empty window", t0.Add(time.Hour), "", nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := s.ProviderTraffic(ctx, tt.since, tt.key)
					if err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(got, tt.want) {
						t.Fatalf("ProviderTraffic = %+v, want %+v", got, tt.want)
					}
				})
			}
		})
	}
}
