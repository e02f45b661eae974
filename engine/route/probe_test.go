package route

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// timedFake answers streams whose first chunk comes after ttft and whose
// end after total, on the test's clock (advanced as the chunks are read),
// or fails with err.
type timedFake struct {
	clk         *fakeClock
	ttft, total time.Duration
	err         error
	streams     atomic.Int64
	chats       atomic.Int64
}

func (f *timedFake) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	f.chats.Add(1)
	return &llm.ChatResponse{Model: req.Model, Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "ok"}}}}, nil
}

func (f *timedFake) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	f.streams.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &timedStream{f: f}, nil
}

type timedStream struct {
	f *timedFake
	n int
}

func (s *timedStream) Recv() (llm.Chunk, error) {
	s.n++
	switch s.n {
	case 1:
		s.f.clk.advance(s.f.ttft)
		return llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "pong"}}}}, nil
	case 2:
		s.f.clk.advance(s.f.total - s.f.ttft)
		return llm.Chunk{Usage: &llm.Usage{PromptTokens: 3, CompletionTokens: 1, TotalTokens: 4}}, nil
	}
	return llm.Chunk{}, io.EOF
}

func (s *timedStream) Close() error { return nil }

func probedRouter(t *testing.T, clk *fakeClock, a, b Provider) *Router {
	t.Helper()
	r, err := New(Spec{
		Providers: []ProviderSpec{prov("a", []string{"m1"}, a), prov("b", []string{"m1"}, b)},
		Routes: []RouteSpec{{Model: "probed", Strategy: "latency_priority", Targets: []TargetSpec{{Provider: "a", Model: "m1"}, {Provider: "b", Model: "m1"}},
			Probe: ProbeSpec{Interval: time.Minute, Timeout: 5 * time.Second, TTFT: 500 * time.Millisecond, Total: 2 * time.Second, Prompt: "ping", MaxTokens: 1}}},
	}, WithClock(clk.now), WithJitter(func() float64 { return 0 }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func runProbes(t *testing.T, r *Router) map[string]ProbeResult {
	t.Helper()
	out := map[string]ProbeResult{}
	for _, j := range r.DueProbes() {
		res := r.Probe(context.Background(), j)
		out[res.Provider] = res
	}
	return out
}

func TestProbesMeasureIdleTargetsAndSteerLatencyRouting(t *testing.T) {
	clk := newClock()
	fast := &timedFake{clk: clk, ttft: 100 * time.Millisecond, total: 300 * time.Millisecond}
	slow := &timedFake{clk: clk, ttft: 900 * time.Millisecond, total: 2500 * time.Millisecond}
	// b is listed second but a knows nothing yet either: before probes the
	// latency term cannot tell them apart.
	r := probedRouter(t, clk, slow, fast)

	if r.ProbeEvery() != 30*time.Second {
		t.Errorf("ProbeEvery = %v, want half the interval", r.ProbeEvery())
	}
	got := runProbes(t, r)
	if len(got) != 2 {
		t.Fatalf("probed %d targets, want both idle ones: %+v", len(got), got)
	}
	if a := got["a"]; a.TTFT != 900*time.Millisecond || a.Total != 2500*time.Millisecond || !a.Slow || a.Err != nil {
		t.Errorf("slow target's probe = %+v", a)
	}
	if b := got["b"]; b.TTFT != 100*time.Millisecond || b.Slow || b.Err != nil || b.Cost == 0 || b.Estimated {
		t.Errorf("fast target's probe = %+v (want billed at its usage)", b)
	}
	if len(r.DueProbes()) != 0 {
		t.Error("targets just probed are due again")
	}
	for range 5 {
		_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "probed"})
		if err != nil {
			t.Fatal(err)
		}
		if info.Provider != "b" {
			t.Fatalf("latency routing after probes chose %s, want the fast one (b)", info.Provider)
		}
	}
	// A minute on, b has had real traffic since (just now) and is not due;
	// a has had none and is.
	clk.advance(time.Minute)
	for range 3 {
		if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "probed"}); err != nil {
			t.Fatal(err)
		}
	}
	jobs := r.DueProbes()
	if len(jobs) != 1 || jobs[0].Target != "a/k0/m1" {
		t.Fatalf("due after a minute: %+v, want only the idle target a", jobs)
	}
	// Claimed: listed once until its probe returns.
	if again := r.DueProbes(); len(again) != 0 {
		t.Errorf("a job in flight listed twice: %+v", again)
	}
	r.Probe(context.Background(), jobs[0])
}

func TestAFailedOrTimedOutProbeMarksTheTargetUnavailable(t *testing.T) {
	cases := []struct {
		name string
		bad  *timedFake
	}{
		{"upstream error", &timedFake{err: &llm.UpstreamError{Provider: "a", Status: 503}}},
		{"slower than the timeout", &timedFake{ttft: 6 * time.Second, total: 7 * time.Second}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			tc.bad.clk = clk
			good := &timedFake{clk: clk, ttft: 100 * time.Millisecond, total: 200 * time.Millisecond}
			r := probedRouter(t, clk, tc.bad, good)
			got := runProbes(t, r)
			if got["a"].Err == nil {
				t.Fatalf("bad target's probe = %+v, want an error", got["a"])
			}
			if tc.bad.ttft == 0 && !errors.As(got["a"].Err, new(*llm.UpstreamError)) {
				t.Errorf("probe error = %v", got["a"].Err)
			}
			if tc.bad.ttft > 0 && !errors.Is(got["a"].Err, context.DeadlineExceeded) {
				t.Errorf("probe error = %v, want a timeout", got["a"].Err)
			}
			if st := statusOf(r, "a"); st != "open" {
				t.Errorf("a failed probe left the target %s, want open", st)
			}
			calls := tc.bad.streams.Load() + tc.bad.chats.Load()
			for range 5 {
				_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "probed"})
				if err != nil {
					t.Fatal(err)
				}
				if info.Provider != "b" {
					t.Fatalf("served by %s after its probe failed", info.Provider)
				}
			}
			if n := tc.bad.streams.Load() + tc.bad.chats.Load(); n != calls {
				t.Errorf("the unavailable target got %d real calls", n-calls)
			}
		})
	}
}

// statusOf is the state of provider p's first key, as Status reports it.
func statusOf(r *Router, p string) string {
	for _, s := range r.Status() {
		if s.Name == p && len(s.Keys) > 0 {
			return s.Keys[0].State
		}
	}
	return "missing"
}
