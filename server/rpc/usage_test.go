package rpc

import (
	"context"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/access"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/store"
)

// usageNow is the service's clock in these tests: the ledger rows sit in the
// 30 days before it, so the default window covers them whatever today is.
var usageNow = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

// noCost is the exact cost of the fixture's rows, which carry none.
const noCost = "0.000000000"

func newUsageService(t *testing.T) *Usage {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	day := usageNow.Add(-48 * time.Hour)
	recs := []store.UsageRecord{
		{TS: day, KeyID: "a", Route: "fast", Provider: "openai", Model: "gpt-4o-mini", PromptTokens: 3, Cache: "miss"},
		{TS: day.Add(time.Minute), KeyID: "a", Route: "fast", Provider: "openai", Model: "gpt-4o-mini", Cache: "hit"},
		{TS: day.Add(2 * time.Minute), KeyID: "b", Route: "fast", Provider: "openai", Model: "gpt-4o-mini", Cache: "coalesced"},
		{TS: day.Add(3 * time.Minute), KeyID: "b", Route: "smart", Provider: "anthropic", Model: "claude", PromptTokens: 5, Status: "upstream_503"},
		{TS: day.Add(4 * time.Minute), KeyID: "b", Route: "smart", Provider: "anthropic", Model: "claude", Cache: "hit"},
		// Older than the default 30-day window.
		{TS: usageNow.Add(-40 * 24 * time.Hour), KeyID: "a", Route: "old", Cache: "hit"},
	}
	if err := st.InsertUsage(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	u := NewUsage(st)
	u.now = func() time.Time { return usageNow }
	return u
}

func TestGetUsage_GroupsNameTheirRouteAndCountCacheHits(t *testing.T) {
	u := newUsageService(t)
	admin := access.WithKey(context.Background(), &access.Key{ID: access.AdminKeyID})
	client := access.WithKey(context.Background(), &access.Key{ID: "a"})
	tests := []struct {
		name  string
		ctx   context.Context
		in    *pb.GetUsageRequest
		rows  []*pb.UsageRow
		total *pb.UsageRow
	}{
		{
			name: "by route over the default window",
			ctx:  admin,
			in:   &pb.GetUsageRequest{GroupBy: []string{"route"}},
			rows: []*pb.UsageRow{
				{Cost: noCost, Route: "fast", Requests: 3, PromptTokens: 3, CacheHits: 1, Coalesced: 1},
				{Cost: noCost, Route: "smart", Requests: 2, Errors: 1, PromptTokens: 5, CacheHits: 1},
			},
			total: &pb.UsageRow{Cost: noCost, Requests: 5, Errors: 1, PromptTokens: 8, CacheHits: 2, Coalesced: 1},
		},
		{
			name: "by route and key",
			ctx:  admin,
			in:   &pb.GetUsageRequest{GroupBy: []string{"route", "key"}},
			rows: []*pb.UsageRow{
				{Cost: noCost, Route: "fast", KeyId: "a", Requests: 2, PromptTokens: 3, CacheHits: 1},
				{Cost: noCost, Route: "fast", KeyId: "b", Requests: 1, Coalesced: 1},
				{Cost: noCost, Route: "smart", KeyId: "b", Requests: 2, Errors: 1, PromptTokens: 5, CacheHits: 1},
			},
			total: &pb.UsageRow{Cost: noCost, Requests: 5, Errors: 1, PromptTokens: 8, CacheHits: 2, Coalesced: 1},
		},
		{
			name: "a client key sees only its own routes, whatever key it asks for",
			ctx:  client,
			in:   &pb.GetUsageRequest{GroupBy: []string{"route"}, KeyId: "b"},
			rows: []*pb.UsageRow{
				{Cost: noCost, Route: "fast", Requests: 2, PromptTokens: 3, CacheHits: 1},
			},
			total: &pb.UsageRow{Cost: noCost, Requests: 2, PromptTokens: 3, CacheHits: 1},
		},
		{
			name: "an explicit range reaches the old row",
			ctx:  admin,
			in: &pb.GetUsageRequest{GroupBy: []string{"route"},
				StartTime: timestamppb.New(usageNow.Add(-50 * 24 * time.Hour)), EndTime: timestamppb.New(usageNow.Add(-30 * 24 * time.Hour))},
			rows:  []*pb.UsageRow{{Cost: noCost, Route: "old", Requests: 1, CacheHits: 1}},
			total: &pb.UsageRow{Cost: noCost, Requests: 1, CacheHits: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := u.GetUsage(tt.ctx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			want := &pb.GetUsageResponse{Rows: tt.rows, Total: tt.total}
			if !proto.Equal(resp, want) {
				t.Fatalf("got  %v\nwant %v", resp, want)
			}
		})
	}
}

func TestGetUsage_UnknownGroupIsInvalid(t *testing.T) {
	u := newUsageService(t)
	if _, err := u.GetUsage(context.Background(), &pb.GetUsageRequest{GroupBy: []string{"target"}}); err == nil {
		t.Fatal("unknown group_by accepted")
	}
}
