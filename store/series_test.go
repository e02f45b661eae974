package store

import (
	"context"
	"reflect"
	"testing"
	"time"
)

func TestUsageSeries_Buckets(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, usageFixture()); err != nil {
				t.Fatal(err)
			}
			// A row one millisecond before the window and one at its end stay out.
			if err := s.InsertUsage(ctx, []UsageRecord{
				{TS: day0.Add(-time.Millisecond), Provider: "openai", LatencyMS: 9999, Status: "ok"},
				{TS: day0.Add(48 * time.Hour), Provider: "openai", LatencyMS: 9999, Status: "ok"},
			}); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name string
				q    SeriesQuery
				want []SeriesBucket
			}{
				{
					name: "one series by day",
					q:    SeriesQuery{From: day0, To: day0.Add(48 * time.Hour), Step: 24 * time.Hour},
					want: []SeriesBucket{
						{Start: day0, Requests: 3, Errors: 1, P50LatencyMS: 100, P95LatencyMS: 300, CostNanos: usd(0.85), CacheHits: 1, PromptTokens: 22, CompletionTokens: 28},
						{Start: day0.Add(24 * time.Hour), Requests: 3, Errors: 1, P50LatencyMS: 10, P95LatencyMS: 20, CostNanos: usd(3), PromptTokens: 3, CompletionTokens: 3},
					},
				},
				{
					name: "by provider, empty steps left out",
					q:    SeriesQuery{From: day0, To: day0.Add(48 * time.Hour), Step: 12 * time.Hour, GroupBy: GroupProvider},
					want: []SeriesBucket{
						{Start: day0, Group: "anthropic", Requests: 1, Errors: 1, P50LatencyMS: 300, P95LatencyMS: 300, CostNanos: usd(0.25), PromptTokens: 7, CompletionTokens: 3},
						{Start: day0, Group: "openai", Requests: 2, P50LatencyMS: 50, P95LatencyMS: 100, CostNanos: usd(0.6), CacheHits: 1, PromptTokens: 15, CompletionTokens: 25},
						{Start: day0.Add(24 * time.Hour), Group: "anthropic", Requests: 1, P50LatencyMS: 10, P95LatencyMS: 10, CostNanos: usd(1), PromptTokens: 1, CompletionTokens: 1},
						{Start: day0.Add(24 * time.Hour), Group: "openai", Requests: 2, Errors: 1, P50LatencyMS: 5, P95LatencyMS: 20, CostNanos: usd(2), PromptTokens: 2, CompletionTokens: 2},
					},
				},
				{
					name: "one key, hourly",
					q:    SeriesQuery{From: day0, To: day0.Add(3 * time.Hour), Step: time.Hour, KeyID: "a"},
					want: []SeriesBucket{
						{Start: day0, Requests: 1, P50LatencyMS: 100, P95LatencyMS: 100, CostNanos: usd(0.5), PromptTokens: 10, CompletionTokens: 20},
						{Start: day0.Add(time.Hour), Requests: 1, P50LatencyMS: 50, P95LatencyMS: 50, CostNanos: usd(0.1), CacheHits: 1, PromptTokens: 5, CompletionTokens: 5},
					},
				},
				{
					name: "a window with no rows",
					q:    SeriesQuery{From: day0.Add(-10 * time.Hour), To: day0.Add(-time.Hour), Step: time.Hour},
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := s.UsageSeries(ctx, tt.q)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, tt.want) {
						t.Errorf("got  %+v\nwant %+v", got, tt.want)
					}
				})
			}
		})
	}
}

func TestUsageSeries_RefusesBadQueries(t *testing.T) {
	s := openSQLiteStore(t)
	tests := []struct {
		name string
		q    SeriesQuery
	}{
		{"no step", SeriesQuery{From: day0, To: day0.Add(time.Hour)}},
		{"empty range", SeriesQuery{From: day0, To: day0, Step: time.Minute}},
		{"too many buckets", SeriesQuery{From: day0, To: day0.Add(time.Duration(MaxSeriesBuckets+1) * time.Second), Step: time.Second}},
		{"day is the axis, not a group", SeriesQuery{From: day0, To: day0.Add(time.Hour), Step: time.Minute, GroupBy: GroupDay}},
		{"unknown group", SeriesQuery{From: day0, To: day0.Add(time.Hour), Step: time.Minute, GroupBy: "colour"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.UsageSeries(context.Background(), tt.q); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

func TestNearestRank(t *testing.T) {
	lats := []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, tt := range []struct{ p, want int64 }{{50, 5}, {95, 10}, {10, 1}, {100, 10}} {
		if got := nearestRank(lats, tt.p); got != tt.want {
			t.Errorf("p%d = %d, want %d", tt.p, got, tt.want)
		}
	}
	if got := nearestRank(nil, 95); got != 0 {
		t.Errorf("empty = %d, want 0", got)
	}
}

// An hour of ledger at 10 requests/s (36k rows) in 60 steps by provider:
// what the console's overview asks for every 10 s.
func BenchmarkUsageSeries(b *testing.B) {
	s, err := Open(context.Background(), Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	recs := make([]UsageRecord, 36000)
	for i := range recs {
		recs[i] = UsageRecord{TS: day0.Add(time.Duration(i) * 100 * time.Millisecond), Provider: []string{"openai", "anthropic", "gemini"}[i%3],
			Model: "m", LatencyMS: int64(i % 900), CostNanos: 1000, Status: "ok"}
	}
	if err := s.InsertUsage(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	q := SeriesQuery{From: day0, To: day0.Add(time.Hour), Step: time.Minute, GroupBy: GroupProvider}
	b.ReportAllocs()
	for b.Loop() {
		if out, err := s.UsageSeries(context.Background(), q); err != nil || len(out) != 180 {
			b.Fatalf("%d buckets, %v", len(out), err)
		}
	}
}
