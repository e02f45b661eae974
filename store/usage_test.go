package store

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"testing"
	"time"
)

var day0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

// usageFixture: 6 rows over two days, two keys, two providers, two routes; one cache hit, one
// coalesced request and one miss.
func usageFixture() []UsageRecord {
	return []UsageRecord{
		{TS: day0, KeyID: "a", Provider: "openai", Model: "gpt-4o", Route: "auto", PromptTokens: 10, CompletionTokens: 20, CostNanos: usd(0.5), LatencyMS: 100, Status: "ok"},
		{TS: day0.Add(time.Hour), KeyID: "a", Provider: "openai", Model: "gpt-4o-mini", Route: "auto", PromptTokens: 5, CompletionTokens: 5, CachedTokens: 2, CostNanos: usd(0.1), LatencyMS: 50, Status: "ok", Cache: "hit"},
		{TS: day0.Add(2 * time.Hour), KeyID: "b", Provider: "anthropic", Model: "claude", Route: "smart", PromptTokens: 7, CompletionTokens: 3, ReasoningTokens: 4, CostNanos: usd(0.25), LatencyMS: 300, Status: "upstream_503"},
		{TS: day0.Add(24 * time.Hour), KeyID: "a", Provider: "anthropic", Model: "claude", Route: "smart", PromptTokens: 1, CompletionTokens: 1, CostNanos: usd(1), LatencyMS: 10, Status: "ok", Stream: true, TTFTMS: 4, Cache: "miss"},
		{TS: day0.Add(25 * time.Hour), KeyID: "b", Provider: "openai", Model: "gpt-4o", Route: "auto", PromptTokens: 2, CompletionTokens: 2, CostNanos: usd(2), LatencyMS: 20, Status: "ok", Stream: true, TTFTMS: 8, Partial: true, Cache: "coalesced"},
		{TS: day0.Add(26 * time.Hour), KeyID: "b", Provider: "openai", Model: "gpt-4o", Route: "auto", PromptTokens: 0, CompletionTokens: 0, CostNanos: usd(0), LatencyMS: 5, Status: "rate_limited"},
	}
}

func TestUsage_Aggregation(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, usageFixture()); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name  string
				q     UsageQuery
				rows  []UsageRow
				total UsageRow
			}{
				{
					name:  "no grouping gives only the total",
					q:     UsageQuery{},
					total: UsageRow{Requests: 6, Errors: 2, PromptTokens: 25, CompletionTokens: 31, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(3.85), CacheHits: 1, Coalesced: 1},
				},
				{
					name: "by key",
					q:    UsageQuery{GroupBy: []string{GroupKey}},
					rows: []UsageRow{
						{KeyID: "a", Requests: 3, PromptTokens: 16, CompletionTokens: 26, CachedTokens: 2, CostNanos: usd(1.6), CacheHits: 1},
						{KeyID: "b", Requests: 3, Errors: 2, PromptTokens: 9, CompletionTokens: 5, ReasoningTokens: 4, CostNanos: usd(2.25), Coalesced: 1},
					},
					total: UsageRow{Requests: 6, Errors: 2, PromptTokens: 25, CompletionTokens: 31, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(3.85), CacheHits: 1, Coalesced: 1},
				},
				{
					name: "by provider",
					q:    UsageQuery{GroupBy: []string{GroupProvider}},
					rows: []UsageRow{
						{Provider: "anthropic", Requests: 2, Errors: 1, PromptTokens: 8, CompletionTokens: 4, ReasoningTokens: 4, CostNanos: usd(1.25)},
						{Provider: "openai", Requests: 4, Errors: 1, PromptTokens: 17, CompletionTokens: 27, CachedTokens: 2, CostNanos: usd(2.6), CacheHits: 1, Coalesced: 1},
					},
					total: UsageRow{Requests: 6, Errors: 2, PromptTokens: 25, CompletionTokens: 31, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(3.85), CacheHits: 1, Coalesced: 1},
				},
				{
					name: "by model for one key",
					q:    UsageQuery{GroupBy: []string{GroupModel}, KeyID: "a"},
					rows: []UsageRow{
						{Model: "claude", Requests: 1, PromptTokens: 1, CompletionTokens: 1, CostNanos: usd(1)},
						{Model: "gpt-4o", Requests: 1, PromptTokens: 10, CompletionTokens: 20, CostNanos: usd(0.5)},
						{Model: "gpt-4o-mini", Requests: 1, PromptTokens: 5, CompletionTokens: 5, CachedTokens: 2, CostNanos: usd(0.1), CacheHits: 1},
					},
					total: UsageRow{Requests: 3, PromptTokens: 16, CompletionTokens: 26, CachedTokens: 2, CostNanos: usd(1.6), CacheHits: 1},
				},
				{
					name: "by day",
					q:    UsageQuery{GroupBy: []string{GroupDay}},
					rows: []UsageRow{
						{Day: "2026-03-01", Requests: 3, Errors: 1, PromptTokens: 22, CompletionTokens: 28, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(0.85), CacheHits: 1},
						{Day: "2026-03-02", Requests: 3, Errors: 1, PromptTokens: 3, CompletionTokens: 3, CostNanos: usd(3), Coalesced: 1},
					},
					total: UsageRow{Requests: 6, Errors: 2, PromptTokens: 25, CompletionTokens: 31, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(3.85), CacheHits: 1, Coalesced: 1},
				},
				{
					name: "by day and key within a time range (To exclusive)",
					q:    UsageQuery{GroupBy: []string{GroupDay, GroupKey, GroupDay}, From: day0.Add(time.Hour), To: day0.Add(25 * time.Hour)},
					rows: []UsageRow{
						{Day: "2026-03-01", KeyID: "a", Requests: 1, PromptTokens: 5, CompletionTokens: 5, CachedTokens: 2, CostNanos: usd(0.1), CacheHits: 1},
						{Day: "2026-03-01", KeyID: "b", Requests: 1, Errors: 1, PromptTokens: 7, CompletionTokens: 3, ReasoningTokens: 4, CostNanos: usd(0.25)},
						{Day: "2026-03-02", KeyID: "a", Requests: 1, PromptTokens: 1, CompletionTokens: 1, CostNanos: usd(1)},
					},
					total: UsageRow{Requests: 3, Errors: 1, PromptTokens: 13, CompletionTokens: 9, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(1.35), CacheHits: 1},
				},
				{
					name: "by route",
					q:    UsageQuery{GroupBy: []string{GroupRoute}, From: day0.Add(24 * time.Hour)},
					rows: []UsageRow{
						{Route: "auto", Requests: 2, Errors: 1, PromptTokens: 2, CompletionTokens: 2, CostNanos: usd(2), Coalesced: 1},
						{Route: "smart", Requests: 1, PromptTokens: 1, CompletionTokens: 1, CostNanos: usd(1)},
					},
					total: UsageRow{Requests: 3, Errors: 1, PromptTokens: 3, CompletionTokens: 3, CostNanos: usd(3), Coalesced: 1},
				},
				{
					name: "by route over everything: hits and coalesced requests land in their route",
					q:    UsageQuery{GroupBy: []string{GroupRoute}},
					rows: []UsageRow{
						{Route: "auto", Requests: 4, Errors: 1, PromptTokens: 17, CompletionTokens: 27, CachedTokens: 2, CostNanos: usd(2.6), CacheHits: 1, Coalesced: 1},
						{Route: "smart", Requests: 2, Errors: 1, PromptTokens: 8, CompletionTokens: 4, ReasoningTokens: 4, CostNanos: usd(1.25)},
					},
					total: UsageRow{Requests: 6, Errors: 2, PromptTokens: 25, CompletionTokens: 31, CachedTokens: 2, ReasoningTokens: 4, CostNanos: usd(3.85), CacheHits: 1, Coalesced: 1},
				},
				{
					name: "empty range",
					q:    UsageQuery{GroupBy: []string{GroupKey}, From: day0.Add(100 * time.Hour)},
				},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					rows, total, err := s.Usage(ctx, tt.q)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(rows, tt.rows) {
						t.Errorf("rows\n got %+v\nwant %+v", rows, tt.rows)
					}
					if total != tt.total {
						t.Errorf("total\n got %+v\nwant %+v", total, tt.total)
					}
				})
			}
		})
	}
}

// usd is a test's dollar amount in nano-dollars.
func usd(f float64) int64 { return int64(math.Round(f * 1e9)) }

func TestUsage_UnknownGroupByRejected(t *testing.T) {
	s := openSQLiteStore(t)
	if _, _, err := s.Usage(context.Background(), UsageQuery{GroupBy: []string{"key_id; DROP TABLE usage"}}); err == nil {
		t.Fatal("unknown group-by accepted")
	}
}

func TestMetrics_KnownData(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			// Latencies 1..100 (shuffled order), 10 errors, 20 cache hits, TTFT on 4 streams,
			// plus one old row before `since` that must not count.
			var recs []UsageRecord
			for i := range 100 {
				lat := int64((i*37)%100 + 1) // a permutation of 1..100
				r := UsageRecord{TS: day0.Add(time.Duration(i) * time.Second), LatencyMS: lat, CostNanos: usd(0.01), Status: StatusOK}
				if i < 10 {
					r.Status = "upstream_500"
				}
				if i >= 80 {
					r.Cache = "hit"
				}
				if i >= 96 {
					r.Stream, r.TTFTMS = true, int64(10*(i-95)) // 10, 20, 30, 40
				}
				recs = append(recs, r)
			}
			recs = append(recs, UsageRecord{TS: day0.Add(-time.Hour), LatencyMS: 100000, CostNanos: usd(50), Status: "x"})
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			m, err := s.Metrics(ctx, day0)
			if err != nil {
				t.Fatal(err)
			}
			want := Metrics{RequestsTotal: 100, SuccessRate: 0.9, ErrorRate: 0.1, AvgLatencyMS: 50.5, P95LatencyMS: 95,
				AvgTTFTMS: 25, CostNanos: usd(1), CacheHitRate: 0.2}
			if m != want {
				t.Fatalf("metrics\n got %+v\nwant %+v", m, want)
			}

			all, err := s.Metrics(ctx, time.Time{})
			if err != nil || all.RequestsTotal != 101 || all.P95LatencyMS != 96 {
				// 101 rows: rank ceil(95.95) = 96 -> 96th smallest = 96.
				t.Fatalf("all rows %+v %v", all, err)
			}
		})
	}
}

func TestMetrics_P95NearestRank(t *testing.T) {
	tests := []struct {
		n    int
		want float64
	}{{1, 1}, {2, 2}, {19, 19}, {20, 19}, {21, 20}, {100, 95}, {1000, 950}}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.n), func(t *testing.T) {
			s := openSQLiteStore(t)
			recs := make([]UsageRecord, tt.n)
			for i := range recs {
				recs[i] = UsageRecord{TS: day0, LatencyMS: int64(tt.n - i)}
			}
			if err := s.InsertUsage(context.Background(), recs); err != nil {
				t.Fatal(err)
			}
			m, err := s.Metrics(context.Background(), time.Time{})
			if err != nil || m.P95LatencyMS != tt.want {
				t.Fatalf("p95 of 1..%d = %v (%v), want %v", tt.n, m.P95LatencyMS, err, tt.want)
			}
		})
	}
}

func TestMetrics_EmptyWindowIsZero(t *testing.T) {
	s := openSQLiteStore(t)
	m, err := s.Metrics(context.Background(), time.Now())
	if err != nil || m != (Metrics{}) {
		t.Fatalf("%+v %v", m, err)
	}
}

func TestInsertUsage_RoundTripsEveryColumn(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			in := UsageRecord{RequestID: "req-1", TS: ms(time.Now()), KeyID: "k", Route: "r", Provider: "p", Model: "m",
				Target: "t", PromptTokens: 1, CompletionTokens: 2, CachedTokens: 3, ReasoningTokens: 4, CostNanos: usd(0.125),
				LatencyMS: 5, TTFTMS: 6, Status: "upstream_502", Cache: "miss", Attempts: 3, Stream: true, Partial: true,
				Estimated: true, Dialect: "anthropic"}
			if err := s.InsertUsage(context.Background(), []UsageRecord{in, {TS: in.TS}}); err != nil {
				t.Fatal(err)
			}
			var (
				out           UsageRecord
				ts            int64
				stream, part  int64
				est           int64
				defaultStatus string
			)
			err := s.db.QueryRow(`SELECT `+usageCols+` FROM usage ORDER BY id LIMIT 1`).Scan(&out.RequestID, &ts, &out.KeyID,
				&out.Route, &out.Provider, &out.Model, &out.Target, &out.PromptTokens, &out.CompletionTokens, &out.CachedTokens,
				&out.ReasoningTokens, &out.CostNanos, &out.LatencyMS, &out.TTFTMS, &out.Status, &out.Cache, &out.Attempts, &stream, &part, &est, &out.Dialect)
			if err != nil {
				t.Fatal(err)
			}
			out.TS, out.Stream, out.Partial, out.Estimated = fromMillis(ts), stream == 1, part == 1, est == 1
			if out != in {
				t.Fatalf("got %+v\nwant %+v", out, in)
			}
			s.db.QueryRow(`SELECT status FROM usage ORDER BY id DESC LIMIT 1`).Scan(&defaultStatus)
			if defaultStatus != StatusOK {
				t.Fatalf("empty status stored as %q", defaultStatus)
			}
		})
	}
}

func TestDeleteUsageBefore(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, usageFixture()); err != nil {
				t.Fatal(err)
			}
			n, err := s.DeleteUsageBefore(ctx, day0.Add(24*time.Hour))
			if err != nil || n != 3 {
				t.Fatalf("deleted %d %v", n, err)
			}
			_, total, _ := s.Usage(ctx, UsageQuery{})
			if total.Requests != 3 {
				t.Fatalf("left %d", total.Requests)
			}
		})
	}
}
