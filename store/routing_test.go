package store

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestRoutingConfig_RecordsCallersClockAndPrincipal(t *testing.T) {
	at := time.Date(2031, 5, 6, 7, 8, 9, 123456789, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			tests := []struct {
				by   string
				at   time.Time
				want time.Time
			}{
				{"admin", at, at.Truncate(time.Millisecond)},
				{"key_abc", at.Add(time.Hour), at.Add(time.Hour).Truncate(time.Millisecond)},
				{"open-mode", at.Add(2 * time.Hour), at.Add(2 * time.Hour).Truncate(time.Millisecond)},
			}
			for i, tt := range tests {
				rc, err := s.PutRoutingConfig(ctx, json.RawMessage(`{}`), tt.by, tt.at, AnyVersion)
				if err != nil || rc.Version != int64(i+1) || !rc.UpdatedAt.Equal(tt.want) {
					t.Fatalf("put %d: %+v %v", i, rc, err)
				}
			}
			l, err := s.ListRoutingConfigs(ctx, 0)
			if err != nil || len(l) != len(tests) {
				t.Fatalf("list %+v %v", l, err)
			}
			for i, rc := range l {
				tt := tests[len(tests)-1-i] // newest first
				if rc.UpdatedBy != tt.by || !rc.UpdatedAt.Equal(tt.want) {
					t.Errorf("list[%d] = %s at %v, want %s at %v", i, rc.UpdatedBy, rc.UpdatedAt, tt.by, tt.want)
				}
			}
		})
	}
}

func TestRoutesServedSince(t *testing.T) {
	t0 := time.Date(2031, 5, 6, 12, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			recs := []UsageRecord{
				{TS: t0.Add(-2 * time.Hour), Route: "old-only", Status: StatusOK},
				{TS: t0.Add(-time.Hour), Route: "auto", Status: StatusOK},
				{TS: t0.Add(-time.Minute), Route: "auto", Status: StatusOK},
				{TS: t0.Add(-time.Minute), Route: "faq", Status: "error"},
				{TS: t0.Add(-time.Second), Route: "", Status: StatusOK},
			}
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name  string
				since time.Time
				want  []string
			}{
				{"last hour, boundary included", t0.Add(-time.Hour), []string{"auto", "faq"}},
				{"last three hours", t0.Add(-3 * time.Hour), []string{"auto", "faq", "old-only"}},
				{"nothing since", t0, nil},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := s.RoutesServedSince(ctx, tt.since)
					if err != nil || !slices.Equal(got, tt.want) {
						t.Fatalf("got %v %v, want %v", got, err, tt.want)
					}
				})
			}
		})
	}
}
