package rpc

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/store"
)

// UsageQuerier reads the usage ledger (store.Store implements it).
type UsageQuerier interface {
	Usage(ctx context.Context, q store.UsageQuery) ([]store.UsageRow, store.UsageRow, error)
	Metrics(ctx context.Context, since time.Time) (store.Metrics, error)
}

// Usage implements UsageService over the ledger.
type Usage struct {
	pb.UnimplementedUsageServiceServer
	q    UsageQuerier
	tail Tailer // nil: TailRequests answers Unimplemented
	// tailKeepAlive spaces TailRequests' keep-alives (a field for tests).
	tailKeepAlive time.Duration
	now           func() time.Time
}

// NewUsage returns the usage service; q nil answers Unimplemented.
func NewUsage(q UsageQuerier, opts ...UsageOption) *Usage {
	u := &Usage{q: q, now: time.Now, tailKeepAlive: defaultTailKeepAlive}
	for _, o := range opts {
		o(u)
	}
	return u
}

var groupNames = map[string]string{
	"key": store.GroupKey, "provider": store.GroupProvider, "model": store.GroupModel,
	"day": store.GroupDay, "route": store.GroupRoute, "dialect": store.GroupDialect,
}

func usageRowToProto(r store.UsageRow) *pb.UsageRow {
	return &pb.UsageRow{
		KeyId: r.KeyID, Provider: r.Provider, Model: r.Model, Day: r.Day, Route: r.Route, Dialect: r.Dialect,
		Requests: r.Requests, Errors: r.Errors, PromptTokens: r.PromptTokens, CompletionTokens: r.CompletionTokens,
		CachedTokens: r.CachedTokens, ReasoningTokens: r.ReasoningTokens,
		CostUsd: llm.Money(r.CostNanos).Dollars(), Cost: llm.Money(r.CostNanos).String(), Estimated: r.Estimated,
		CacheHits: r.CacheHits, Coalesced: r.Coalesced,
	}
}

// GetUsage aggregates the ledger by key / provider / model / day / route over a
// time range (default: the last 30 days).
func (s *Usage) GetUsage(ctx context.Context, in *pb.GetUsageRequest) (*pb.GetUsageResponse, error) {
	if s.q == nil {
		return s.UnimplementedUsageServiceServer.GetUsage(ctx, in)
	}
	q := store.UsageQuery{KeyID: in.GetKeyId(), To: s.now()}
	if k := access.FromContext(ctx); k != nil && k.ID != access.AdminKeyID {
		// A client key sees its own usage only, whatever it asks for.
		q.KeyID = k.ID
	}
	if in.GetEndTime() != nil {
		q.To = in.GetEndTime().AsTime()
	}
	q.From = q.To.Add(-30 * 24 * time.Hour)
	if in.GetStartTime() != nil {
		q.From = in.GetStartTime().AsTime()
	}
	if !q.From.Before(q.To) {
		return nil, llm.InvalidParam("start_time", "start_time must be before end_time")
	}
	for _, g := range in.GetGroupBy() {
		name, ok := groupNames[g]
		if !ok {
			return nil, llm.InvalidParam("group_by", "unknown group %q (want key, provider, model, day or route)", g)
		}
		q.GroupBy = append(q.GroupBy, name)
	}
	rows, total, err := s.q.Usage(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &pb.GetUsageResponse{Total: usageRowToProto(total)}
	for _, r := range rows {
		out.Rows = append(out.Rows, usageRowToProto(r))
	}
	return out, nil
}

// GetMetrics summarises the ledger over a period (e.g. 5m, 1h, 24h; default 1h).
func (s *Usage) GetMetrics(ctx context.Context, in *pb.GetMetricsRequest) (*pb.GetMetricsResponse, error) {
	if s.q == nil {
		return s.UnimplementedUsageServiceServer.GetMetrics(ctx, in)
	}
	period := in.GetPeriod()
	if period == "" {
		period = "1h"
	}
	d, err := time.ParseDuration(period)
	if err != nil || d <= 0 || d > 366*24*time.Hour {
		return nil, llm.InvalidParam("period", "period must be a duration like 5m, 1h or 24h, got %q", in.GetPeriod())
	}
	m, err := s.q.Metrics(ctx, s.now().Add(-d))
	if err != nil {
		return nil, err
	}
	return &pb.GetMetricsResponse{Period: period, Metrics: &pb.Metrics{
		RequestsTotal: m.RequestsTotal, SuccessRate: m.SuccessRate, AvgLatencyMs: m.AvgLatencyMS,
		P95LatencyMs: m.P95LatencyMS, ErrorRate: m.ErrorRate, AvgTtftMs: m.AvgTTFTMS,
		CostUsd: llm.Money(m.CostNanos).Dollars(), Cost: llm.Money(m.CostNanos).String(), CacheHitRate: m.CacheHitRate,
	}}, nil
}
