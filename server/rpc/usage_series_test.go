package rpc

import (
	"context"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/observe"
)

func TestGetUsageSeries_BucketsAndScopesToTheCaller(t *testing.T) {
	u := newUsageService(t)
	day := usageNow.Add(-48 * time.Hour)
	admin := access.WithKey(context.Background(), &access.Key{ID: access.AdminKeyID})
	client := access.WithKey(context.Background(), &access.Key{ID: "a"})
	window := &pb.GetUsageSeriesRequest{StartTime: timestamppb.New(day), EndTime: timestamppb.New(day.Add(10 * time.Minute)), StepSeconds: 120}
	tests := []struct {
		name string
		ctx  context.Context
		in   *pb.GetUsageSeriesRequest
		want map[string]int64 // bucket start "15:04" + "/" + group -> requests
	}{
		{"admin sees every key", admin, window, map[string]int64{"12:00/": 2, "12:02/": 2, "12:04/": 1}},
		{"a client key sees its own only, whatever it asks", client,
			&pb.GetUsageSeriesRequest{StartTime: window.StartTime, EndTime: window.EndTime, StepSeconds: 120, KeyId: "b"},
			map[string]int64{"12:00/": 2}},
		{"grouped by provider", admin,
			&pb.GetUsageSeriesRequest{StartTime: window.StartTime, EndTime: window.EndTime, StepSeconds: 600, GroupBy: "provider"},
			map[string]int64{"12:00/anthropic": 2, "12:00/openai": 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := u.GetUsageSeries(tt.ctx, tt.in)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int64{}
			for _, b := range out.GetBuckets() {
				got[b.GetStartTime().AsTime().Format("15:04")+"/"+b.GetGroup()] = b.GetRequests()
			}
			if len(got) != len(tt.want) {
				t.Fatalf("buckets %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("bucket %s: %d requests, want %d (all: %v)", k, got[k], v, got)
				}
			}
		})
	}
}

func TestGetUsageSeries_DefaultsAndRefusals(t *testing.T) {
	u := newUsageService(t)
	out, err := u.GetUsageSeries(context.Background(), &pb.GetUsageSeriesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if out.GetStepSeconds() != 60 || !out.GetEndTime().AsTime().Equal(usageNow) || !out.GetStartTime().AsTime().Equal(usageNow.Add(-time.Hour)) {
		t.Errorf("default window %v..%v step %d, want the hour before now in 60 s steps", out.GetStartTime().AsTime(), out.GetEndTime().AsTime(), out.GetStepSeconds())
	}
	for _, tt := range []struct {
		name, param string
		in          *pb.GetUsageSeriesRequest
	}{
		{"unknown group", "group_by", &pb.GetUsageSeriesRequest{GroupBy: "day"}},
		{"negative step", "step_seconds", &pb.GetUsageSeriesRequest{StepSeconds: -1}},
		{"too many buckets", "step_seconds", &pb.GetUsageSeriesRequest{StepSeconds: 1}},
		{"reversed range", "start_time", &pb.GetUsageSeriesRequest{StartTime: timestamppb.New(usageNow), EndTime: timestamppb.New(usageNow.Add(-time.Hour))}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := u.GetUsageSeries(context.Background(), tt.in)
			var le *llm.Error
			if !errors.As(err, &le) || le.Param != tt.param {
				t.Fatalf("error %v, want one naming %s", err, tt.param)
			}
		})
	}
}

// The tail sends the matching backlog, then matching new requests, and ends
// when the feed closes (drain) or the client goes away.
func TestStreamTail_BacklogFiltersAndEnds(t *testing.T) {
	tl := observe.NewTail(10)
	tl.Publish(gateway.Record{RequestID: "old-ok", Route: "auto", Status: "ok", Cost: 1500, Latency: 1500 * time.Microsecond})
	tl.Publish(gateway.Record{RequestID: "old-err", Route: "auto", Status: "upstream_503"})
	u := NewUsage(nil, WithTail(tl))

	got := make(chan *pb.TailRequestsResponse, 10)
	done := make(chan error, 1)
	go func() {
		done <- u.StreamTail(context.Background(), &pb.TailRequestsRequest{Status: "error"}, func(r *pb.TailRequestsResponse) error {
			got <- r
			return nil
		})
	}()
	if r := <-got; r.GetEvent() != nil {
		t.Fatalf("first message %+v, want an empty one that opens the stream", r)
	}
	if r := <-got; r.GetEvent().GetRequestId() != "old-err" {
		t.Fatalf("first event %s, want the failed backlog request", r.GetEvent().GetRequestId())
	}
	for tl.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	tl.Publish(gateway.Record{RequestID: "new-ok", Status: "ok"})
	tl.Publish(gateway.Record{RequestID: "new-err", Status: "rate_limited", Provider: "sim"})
	if r := <-got; r.GetEvent().GetRequestId() != "new-err" || r.GetEvent().GetProvider() != "sim" {
		t.Fatalf("live event %+v, want new-err", r.GetEvent())
	}
	tl.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("stream ended with %v on drain", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream outlived the feed's Close")
	}

	// Client disconnect.
	tl2 := observe.NewTail(10)
	u2 := NewUsage(nil, WithTail(tl2))
	ctx, cancel := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() {
		done2 <- u2.StreamTail(ctx, &pb.TailRequestsRequest{}, func(*pb.TailRequestsResponse) error { return nil })
	}()
	for tl2.Subscribers() == 0 {
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done2
	if n := tl2.Subscribers(); n != 0 {
		t.Fatalf("%d subscribers after the client left, want 0", n)
	}
}

// An idle stream sends empty keep-alives, so proxies do not cut it.
func TestStreamTail_KeepAliveWhileIdle(t *testing.T) {
	u := NewUsage(nil, WithTail(observe.NewTail(1)))
	u.tailKeepAlive = time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := u.StreamTail(ctx, &pb.TailRequestsRequest{}, func(r *pb.TailRequestsResponse) error {
		if r.GetEvent() != nil {
			t.Errorf("idle stream sent an event: %+v", r)
		}
		if n++; n == 4 {
			cancel()
		}
		return nil
	})
	if err != nil || n < 4 {
		t.Fatalf("%d messages, %v", n, err)
	}
}

func TestStreamTail_EventCarriesNoContentAndExactCost(t *testing.T) {
	ev := eventToProto(observe.Event{Time: usageNow, Record: gateway.Record{RequestID: "r", Client: "k1", Dialect: "openai", Route: "auto",
		Provider: "sim", Model: "m", Attempts: 2, Cache: "miss", Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 4},
		Cost: 1234, Latency: 2500 * time.Microsecond, Status: "ok"}})
	if ev.GetCost() != "0.000001234" || ev.GetLatencyMs() != 2.5 || ev.GetAttempts() != 2 || ev.GetKeyId() != "k1" || ev.GetPromptTokens() != 3 {
		t.Fatalf("event %+v", ev)
	}
}

func TestStreamTail_RefusesBadFilters(t *testing.T) {
	u := NewUsage(nil, WithTail(observe.NewTail(1)))
	for _, in := range []*pb.TailRequestsRequest{{Status: "maybe"}, {Backlog: 501}, {Backlog: -1}} {
		if err := u.StreamTail(context.Background(), in, func(*pb.TailRequestsResponse) error { return nil }); err == nil {
			t.Errorf("%v accepted", in)
		}
	}
	if err := NewUsage(nil).StreamTail(context.Background(), &pb.TailRequestsRequest{}, nil); err == nil {
		t.Error("no tail: want Unimplemented")
	}
}
