package rpc

import (
	"context"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/observe"
	"github.com/switchyard/switchyard/store"
)

// SeriesQuerier buckets the ledger by time (store.Store implements it). A
// UsageQuerier without it answers GetUsageSeries Unimplemented.
type SeriesQuerier interface {
	UsageSeries(ctx context.Context, q store.SeriesQuery) ([]store.SeriesBucket, error)
}

// Tailer is the live feed of finished requests (observe.Tail implements it).
type Tailer interface {
	Subscribe(backlog, buf int) ([]observe.Event, *observe.Subscription, bool)
}

// UsageOption configures the usage service.
type UsageOption func(*Usage)

// WithTail serves TailRequests from t.
func WithTail(t Tailer) UsageOption { return func(u *Usage) { u.tail = t } }

const (
	defaultTailBacklog = 50
	maxTailBacklog     = 500
	// tailBuffer is how far a reader may fall behind before it loses events.
	tailBuffer = 256
	// defaultTailKeepAlive spaces the empty messages of an idle stream.
	defaultTailKeepAlive = 15 * time.Second
)

var seriesGroups = map[string]string{
	"": "", "key": store.GroupKey, "provider": store.GroupProvider, "model": store.GroupModel,
	"route": store.GroupRoute, "dialect": store.GroupDialect,
}

// GetUsageSeries buckets the ledger into steps over a range (default: the
// last hour in 60 steps) for the console's charts.
func (s *Usage) GetUsageSeries(ctx context.Context, in *pb.GetUsageSeriesRequest) (*pb.GetUsageSeriesResponse, error) {
	sq, ok := s.q.(SeriesQuerier)
	if !ok {
		return s.UnimplementedUsageServiceServer.GetUsageSeries(ctx, in)
	}
	q := store.SeriesQuery{KeyID: in.GetKeyId(), To: s.now()}
	if k := access.FromContext(ctx); k != nil && k.ID != access.AdminKeyID {
		q.KeyID = k.ID
	}
	if in.GetEndTime() != nil {
		q.To = in.GetEndTime().AsTime()
	}
	q.From = q.To.Add(-time.Hour)
	if in.GetStartTime() != nil {
		q.From = in.GetStartTime().AsTime()
	}
	if !q.From.Before(q.To) {
		return nil, llm.InvalidParam("start_time", "start_time must be before end_time")
	}
	if in.GetStepSeconds() < 0 {
		return nil, llm.InvalidParam("step_seconds", "step_seconds must not be negative")
	}
	q.Step = time.Duration(in.GetStepSeconds()) * time.Second
	if q.Step == 0 {
		q.Step = max(q.To.Sub(q.From)/60, time.Second).Truncate(time.Second)
	}
	if n := (q.To.Sub(q.From) + q.Step - 1) / q.Step; n > store.MaxSeriesBuckets {
		return nil, llm.InvalidParam("step_seconds", "%d buckets asked for, at most %d: use a longer step", n, store.MaxSeriesBuckets)
	}
	g, ok := seriesGroups[in.GetGroupBy()]
	if !ok {
		return nil, llm.InvalidParam("group_by", "unknown group %q (want key, provider, model, route or dialect)", in.GetGroupBy())
	}
	q.GroupBy = g
	buckets, err := sq.UsageSeries(ctx, q)
	if err != nil {
		return nil, err
	}
	out := &pb.GetUsageSeriesResponse{StepSeconds: int64(q.Step / time.Second),
		StartTime: timestamppb.New(q.From), EndTime: timestamppb.New(q.To)}
	for _, b := range buckets {
		out.Buckets = append(out.Buckets, &pb.UsageBucket{
			StartTime: timestamppb.New(b.Start), Group: b.Group, Requests: b.Requests, Errors: b.Errors,
			P50LatencyMs: float64(b.P50LatencyMS), P95LatencyMs: float64(b.P95LatencyMS),
			CostUsd: llm.Money(b.CostNanos).Dollars(), Cost: llm.Money(b.CostNanos).String(),
			CacheHits: b.CacheHits, PromptTokens: b.PromptTokens, CompletionTokens: b.CompletionTokens,
		})
	}
	return out, nil
}

// StreamTail (TailRequests) sends the recent requests, then each new one, until the
// client goes away or the feed closes (server drain). The feed never waits
// for this stream: events it could not buffer are counted in dropped.
func (s *Usage) StreamTail(ctx context.Context, in *pb.TailRequestsRequest, send func(*pb.TailRequestsResponse) error) error {
	if s.tail == nil {
		return llm.Errorf(llm.KindUnimplemented, "this gateway has no live request feed")
	}
	if in.GetStatus() != "" && in.GetStatus() != "ok" && in.GetStatus() != "error" {
		return llm.InvalidParam("status", "status must be ok, error or empty, got %q", in.GetStatus())
	}
	backlog := int(in.GetBacklog())
	if backlog == 0 {
		backlog = defaultTailBacklog
	}
	if backlog < 0 || backlog > maxTailBacklog {
		return llm.InvalidParam("backlog", "backlog must be between 0 and %d", maxTailBacklog)
	}
	recent, sub, ok := s.tail.Subscribe(backlog, tailBuffer)
	if !ok {
		return llm.Errorf(llm.KindUnavailable, "the gateway is shutting down")
	}
	defer sub.Cancel()
	// Headers go out with the first message: without one an idle gateway
	// would leave the client waiting to learn the stream is open.
	if err := send(&pb.TailRequestsResponse{}); err != nil {
		return err
	}
	keepAlive := time.NewTicker(s.tailKeepAlive)
	defer keepAlive.Stop()
	for _, ev := range recent {
		if tailMatches(in, ev.Record) {
			if err := send(&pb.TailRequestsResponse{Event: eventToProto(ev)}); err != nil {
				return err
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-keepAlive.C:
			// Idle connections through proxies are cut after a minute or so.
			if err := send(&pb.TailRequestsResponse{Dropped: sub.Dropped()}); err != nil {
				return err
			}
		case ev, open := <-sub.C:
			if !open {
				return nil
			}
			if !tailMatches(in, ev.Record) {
				continue
			}
			if err := send(&pb.TailRequestsResponse{Event: eventToProto(ev), Dropped: sub.Dropped()}); err != nil {
				return err
			}
		}
	}
}

// connectUsage adapts Usage to connect's handler interface, whose
// server-streaming signature differs from gRPC's (which the REST facade
// needs and the embedded Unimplemented server provides).
type connectUsage struct{ *Usage }

func (c connectUsage) TailRequests(ctx context.Context, in *pb.TailRequestsRequest, st *connect.ServerStream[pb.TailRequestsResponse]) error {
	return c.Usage.StreamTail(ctx, in, st.Send)
}

func tailMatches(in *pb.TailRequestsRequest, r gateway.Record) bool {
	switch {
	case in.GetRoute() != "" && in.GetRoute() != r.Route,
		in.GetProvider() != "" && in.GetProvider() != r.Provider,
		in.GetKeyId() != "" && in.GetKeyId() != r.Client,
		in.GetDialect() != "" && in.GetDialect() != r.Dialect,
		in.GetStatus() == "ok" && r.Status != store.StatusOK,
		in.GetStatus() == "error" && r.Status == store.StatusOK:
		return false
	}
	return true
}

func eventToProto(ev observe.Event) *pb.RequestEvent {
	r := ev.Record
	return &pb.RequestEvent{
		Time: timestamppb.New(ev.Time), RequestId: r.RequestID, KeyId: r.Client, Dialect: r.Dialect, Route: r.Route,
		Provider: r.Provider, Model: r.Model, Target: r.Target, Attempts: int32(r.Attempts), Cache: r.Cache,
		PromptTokens: int64(r.Usage.PromptTokens), CompletionTokens: int64(r.Usage.CompletionTokens),
		CostUsd: r.Cost.Dollars(), Cost: r.Cost.String(),
		LatencyMs: float64(r.Latency.Microseconds()) / 1000, TtftMs: float64(r.TTFT.Microseconds()) / 1000,
		Status: r.Status, Stream: r.Stream, Estimated: r.Estimated,
	}
}
