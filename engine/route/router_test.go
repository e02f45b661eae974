package route

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// fake is a scripted provider: fail decides each call's error by call
// number (1-based); delay stalls before answering (ctx-aware).
type fake struct {
	name  string
	calls atomic.Int64
	fail  func(n int64) error
	delay time.Duration
	// failFirstRecv makes streams die before their first chunk.
	failFirstRecv error
}

func (f *fake) call(ctx context.Context) error {
	n := f.calls.Add(1)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail != nil {
		return f.fail(n)
	}
	return nil
}

func (f *fake) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	if err := f.call(ctx); err != nil {
		return nil, err
	}
	return &llm.ChatResponse{ID: "x", Model: req.Model, Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: f.name}, FinishReason: "stop"}},
		Usage: llm.Usage{PromptTokens: 1000, CompletionTokens: 500, TotalTokens: 1500}}, nil
}

func (f *fake) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if err := f.call(ctx); err != nil {
		return nil, err
	}
	return &fakeStream{name: f.name, first: f.failFirstRecv}, nil
}

type fakeStream struct {
	name  string
	first error
	n     int
}

func (s *fakeStream) Recv() (llm.Chunk, error) {
	if s.first != nil {
		return llm.Chunk{}, s.first
	}
	s.n++
	switch s.n {
	case 1:
		return llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: llm.RoleAssistant, Content: s.name}}}}, nil
	case 2:
		return llm.Chunk{Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30}}, nil
	}
	return llm.Chunk{}, io.EOF
}

func (s *fakeStream) Close() error { return nil }

func always(err error) func(int64) error { return func(int64) error { return err } }

func prov(name string, models []string, impls ...Provider) ProviderSpec {
	p := ProviderSpec{Name: name, Models: models, Prices: map[string]Price{"m1": {Input: 1, Output: 2}}}
	for i, impl := range impls {
		p.Keys = append(p.Keys, KeySpec{ID: fmt.Sprintf("k%d", i), Weight: 1, Provider: impl})
	}
	return p
}

// twoProviders: alias → a/m1 (priority 1), b/m2 (priority 2).
func twoProviders(t testing.TB, a, b Provider, failover string, opts ...Option) *Router {
	t.Helper()
	r, err := New(Spec{
		Providers: []ProviderSpec{prov("a", []string{"m1", "shared"}, a), prov("b", []string{"m2", "shared"}, b)},
		Routes: []RouteSpec{{Model: "alias", Strategy: "priority", FallbackStrategy: failover, Targets: []TargetSpec{
			{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
	}, append([]Option{WithJitter(func() float64 { return 0 })}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func newClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func TestChatFailsOverOnlyOnRetryableErrors(t *testing.T) {
	cases := []struct {
		name         string
		aErr         error
		failover     string
		wantProvider string
		wantAttempts int
		wantKind     llm.Kind
	}{
		{"healthy first target", nil, "failover", "a", 1, 0},
		{"503 fails over", &llm.UpstreamError{Provider: "a", Status: 503}, "failover", "b", 2, 0},
		{"429 fails over", &llm.UpstreamError{Provider: "a", Status: 429}, "failover", "b", 2, 0},
		{"connection error fails over", &llm.UpstreamError{Provider: "a", Err: io.ErrUnexpectedEOF}, "failover", "b", 2, 0},
		{"400 does not", &llm.UpstreamError{Provider: "a", Status: 400}, "failover", "", 1, llm.KindInvalidRequest},
		{"401 bad key fails over", &llm.UpstreamError{Provider: "a", Status: 401}, "failover", "b", 2, 0},
		{"403 bad key fails over", &llm.UpstreamError{Provider: "a", Status: 403}, "failover", "b", 2, 0},
		{"gemini API_KEY_INVALID fails over", &llm.UpstreamError{Provider: "a", Status: 400, Code: "API_KEY_INVALID"}, "failover", "b", 2, 0},
		{"404 does not", &llm.UpstreamError{Provider: "a", Status: 404}, "failover", "", 1, llm.KindNotFound},
		{"failover none", &llm.UpstreamError{Provider: "a", Status: 503}, "none", "", 1, llm.KindUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := &fake{name: "a"}, &fake{name: "b"}
			if tc.aErr != nil {
				a.fail = always(tc.aErr)
			}
			r := twoProviders(t, a, b, tc.failover)
			resp, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"})
			if info.Attempts != tc.wantAttempts {
				t.Fatalf("attempts %d, want %d (%v)", info.Attempts, tc.wantAttempts, err)
			}
			if tc.wantProvider == "" {
				if err == nil || llm.KindOf(err) != tc.wantKind {
					t.Fatalf("err %v (kind %v), want kind %v", err, llm.KindOf(err), tc.wantKind)
				}
				return
			}
			if err != nil || info.Provider != tc.wantProvider || resp.Choices[0].Message.Content != tc.wantProvider {
				t.Fatalf("got %v %+v %v", resp, info, err)
			}
		})
	}
}

func TestRetriesTheSameTargetWithBackoffAndHonoursRetryAfterMs(t *testing.T) {
	var waits []time.Duration
	a := &fake{name: "a", fail: func(n int64) error {
		if n < 3 {
			return &llm.UpstreamError{Status: 503, RetryAfter: 30 * time.Millisecond}
		}
		return nil
	}}
	r, err := New(Spec{Providers: []ProviderSpec{prov("a", []string{"m"}, a)}}, WithJitter(func() float64 { return 0.5 }))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "m"})
	waits = append(waits, time.Since(start))
	if err != nil || info.Attempts != 3 {
		t.Fatalf("attempts %d err %v", info.Attempts, err)
	}
	if waits[0] < 60*time.Millisecond {
		t.Fatalf("two Retry-After waits of 30ms should take ≥ 60ms, took %v", waits[0])
	}
}

func TestDeadlineStopsRetries(t *testing.T) {
	a := &fake{name: "a", fail: always(&llm.UpstreamError{Status: 503, RetryAfter: 5 * time.Second})}
	r, err := New(Spec{Providers: []ProviderSpec{prov("a", []string{"m"}, a)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = r.Chat(ctx, &llm.ChatRequest{Model: "m"})
	if err == nil || time.Since(start) > 150*time.Millisecond {
		t.Fatalf("should fail fast when Retry-After passes the deadline: %v after %v", err, time.Since(start))
	}
}

// Acceptance: one provider answering 500 to everything; every client
// request succeeds, and the failing one sees no more than the threshold
// plus the half-open probes per open period.
func TestFailingProviderIsShieldedByItsBreaker(t *testing.T) {
	clk := newClock()
	bad := &fake{name: "bad", fail: always(&llm.UpstreamError{Status: 500})}
	good := &fake{name: "good"}
	const threshold, probes = 5, 1
	r := twoProviders(t, bad, good, "failover", WithClock(clk.now),
		WithBreaker(breaker.Config{ConsecutiveFailures: threshold, MinRequests: 1000, OpenTime: time.Second, MaxOpenTime: time.Second, HalfOpenProbes: probes}))
	const n = 2000
	for i := 0; i < n; i++ {
		if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"}); err != nil {
			t.Fatalf("request %d failed: %v", i, err)
		}
		clk.advance(10 * time.Millisecond) // 20 s in all: 20 open periods of 1 s
	}
	periods := int64(20)
	if got, limit := bad.calls.Load(), threshold+probes*periods; got > limit {
		t.Fatalf("failing provider saw %d calls, limit %d", got, limit)
	}
	t.Logf("failing provider saw %d of %d requests", bad.calls.Load(), n)
}

// Acceptance: a key answering 429 with Retry-After: 2 gets no request for
// 2 s, and the pool keeps serving.
func TestRateLimitedKeyCoolsForRetryAfter(t *testing.T) {
	clk := newClock()
	var limitedAt time.Time
	var afterLimit atomic.Int64
	k0 := &fake{name: "k0"}
	k0.fail = func(n int64) error {
		if n == 1 {
			limitedAt = clk.now()
			return &llm.UpstreamError{Status: 429, RetryAfter: 2 * time.Second}
		}
		if clk.now().Sub(limitedAt) < 2*time.Second {
			afterLimit.Add(1)
		}
		return nil
	}
	k1 := &fake{name: "k1"}
	r, err := New(Spec{Providers: []ProviderSpec{prov("p", []string{"m"}, k0, k1)},
		Routes: []RouteSpec{{Model: "pool", Strategy: "weighted", Targets: []TargetSpec{{Provider: "p", Model: "m"}}}}}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 400; i++ { // 4 s at 10 ms per request
		if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "pool"}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		clk.advance(10 * time.Millisecond)
	}
	if afterLimit.Load() != 0 {
		t.Fatalf("cooling key got %d requests inside its Retry-After", afterLimit.Load())
	}
	if k0.calls.Load() < 50 {
		t.Fatalf("key never came back after cooling: %d calls", k0.calls.Load())
	}
	var st string
	for _, p := range r.Status() {
		for _, k := range p.Keys {
			if k.ID == "k0" {
				st = k.State
			}
		}
	}
	if st != "healthy" {
		t.Fatalf("k0 state %q after cooling", st)
	}
}

// Acceptance: hedging on, one target stalling 2 s; p99 stays under the hedge
// delay plus the fast target's latency.
func TestHedgingBoundsTailLatency(t *testing.T) {
	slow := &fake{name: "slow", delay: 2 * time.Second}
	fast := &fake{name: "fast", delay: 5 * time.Millisecond}
	const hedgeDelay = 50 * time.Millisecond
	r, err := New(Spec{
		Providers: []ProviderSpec{prov("slow", []string{"m"}, slow), prov("fast", []string{"m2"}, fast)},
		Routes: []RouteSpec{{Model: "h", Strategy: "priority", Hedge: HedgeSpec{Enabled: true, Delay: hedgeDelay},
			Targets: []TargetSpec{{Provider: "slow", Model: "m", Priority: 1}, {Provider: "fast", Model: "m2", Priority: 2}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var lat []time.Duration
	for i := 0; i < 40; i++ {
		start := time.Now()
		resp, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "h"})
		if err != nil || resp.Choices[0].Message.Content != "fast" || !info.Hedged {
			t.Fatalf("%v %+v %v", resp, info, err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	// The claim is that nobody waits for the slow target: every call ends far below its 2 s.
	// How close the tail sits to delay+5ms is a benchmark's business (BenchmarkHedgedChat),
	// not a wall-clock assertion on a shared, -race-instrumented machine.
	if worst := lat[len(lat)-1]; worst >= slow.delay/2 {
		t.Fatalf("slowest hedged call took %v; the slow target's %v leaked through", worst, slow.delay)
	}
	t.Logf("hedged p50 %v max %v (delay %v + fast 5ms)", lat[len(lat)/2], lat[len(lat)-1], hedgeDelay)

	st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "h"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Recv()
	if err != nil || c.Choices[0].Delta.Content != "fast" {
		t.Fatalf("hedged stream: %+v %v", c, err)
	}
	st.Close()
}

func TestResolveAliasPlainModelAndUnknown(t *testing.T) {
	r := twoProviders(t, &fake{name: "a"}, &fake{name: "b"}, "")
	cases := []struct{ model, wantProvider, wantUpstream string }{
		{"alias", "a", "m1"},
		{"m2", "b", "m2"},
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: tc.model})
			if err != nil || info.Provider != tc.wantProvider || info.UpstreamModel != tc.wantUpstream {
				t.Fatalf("%+v %v", info, err)
			}
		})
	}
	_, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "nope"})
	if !errors.Is(err, llm.ErrUnknownModel) || llm.KindOf(err) != llm.KindNotFound {
		t.Fatalf("unknown model: %v", err)
	}
	_, _, err = r.Chat(context.Background(), &llm.ChatRequest{Model: "alias", Hints: llm.Hints{Strategy: "sideways"}})
	if llm.KindOf(err) != llm.KindInvalidRequest {
		t.Fatalf("unknown strategy hint: %v", err)
	}
}

func TestCostUsesPriceTable(t *testing.T) {
	r := twoProviders(t, &fake{name: "a"}, &fake{name: "b"}, "")
	_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"})
	if err != nil {
		t.Fatal(err)
	}
	if want := llm.USD(0.002); info.Cost != want {
		t.Fatalf("cost %v, want %v", info.Cost, want)
	}
}

func TestPriceCostIsExactInNanoDollars(t *testing.T) {
	tests := []struct {
		name  string
		price Price
		usage llm.Usage
		want  llm.Money
	}{
		// The float sum gave 6.1499999999999996e-06 here.
		{"small request", Price{Input: 0.15, Output: 0.6}, llm.Usage{PromptTokens: 9, CompletionTokens: 8}, 6150},
		{"cached prompt at its own price", Price{Input: 2, Output: 4, CachedInput: 1}, llm.Usage{PromptTokens: 1000, CachedTokens: 400, CompletionTokens: 100}, 2_000_000},
		{"cached prompt at the input price when none is set", Price{Input: 2, Output: 4}, llm.Usage{PromptTokens: 1000, CachedTokens: 400, CompletionTokens: 100}, 2_400_000},
		{"rounds half up to the nano-dollar", Price{Input: 0.0005}, llm.Usage{PromptTokens: 1}, 1},
		{"below half a nano-dollar is nothing", Price{Input: 0.0004}, llm.Usage{PromptTokens: 1}, 0},
		{"a million tokens at $100", Price{Output: 100}, llm.Usage{CompletionTokens: 1_000_000}, llm.USD(100)},
		{"cached tokens beyond the prompt are not billed", Price{Input: 1, CachedInput: 0.5}, llm.Usage{PromptTokens: 2, CachedTokens: 5}, 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.price.Cost(tt.usage); got != tt.want {
				t.Fatalf("Cost = %v (%s), want %v (%s)", int64(got), got, int64(tt.want), tt.want)
			}
		})
	}
	// A million small requests sum to exactly a million times one.
	var sum llm.Money
	one := (Price{Input: 0.15, Output: 0.6}).Cost(llm.Usage{PromptTokens: 9, CompletionTokens: 8})
	for range 1_000_000 {
		sum += one
	}
	if sum.String() != "6.150000000" {
		t.Fatalf("sum %s", sum)
	}
}

func TestStreamRetriesOnlyBeforeFirstChunk(t *testing.T) {
	a := &fake{name: "a", failFirstRecv: &llm.UpstreamError{Provider: "a", Status: 502}}
	b := &fake{name: "b"}
	r := twoProviders(t, a, b, "failover")
	st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "alias"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Recv()
	if err != nil || c.Choices[0].Delta.Content != "b" {
		t.Fatalf("first chunk %+v %v", c, err)
	}
	for {
		if _, err := st.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	u, partial := st.Usage()
	if info := st.Info(); info.Attempts != 2 || info.Provider != "b" || u.TotalTokens != 30 || partial {
		t.Fatalf("info %+v usage %+v", info, u)
	}
}

// Keys come and go under load; no request fails and -race stays quiet.
func TestKeyAddRemoveUnderConcurrentLoad(t *testing.T) {
	r, err := New(Spec{Providers: []ProviderSpec{prov("p", []string{"m"}, &fake{name: "k0"})},
		Routes: []RouteSpec{{Model: "pool", Strategy: "least_connections", Targets: []TargetSpec{{Provider: "p", Model: "m"}}}}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	var served, failed atomic.Int64
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "pool"}); err != nil {
					failed.Add(1)
				}
				served.Add(1)
			}
		}()
	}
	for i := 1; ctx.Err() == nil; i++ {
		id := fmt.Sprintf("extra%d", i)
		if err := r.AddKey("p", KeySpec{ID: id, Provider: &fake{name: id}}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
		if err := r.RemoveKey("p", id); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if failed.Load() != 0 || served.Load() == 0 {
		t.Fatalf("served %d, failed %d", served.Load(), failed.Load())
	}
	if err := r.RemoveKey("p", "k0"); err == nil {
		t.Fatal("removed the last key")
	}
	if err := r.AddKey("nope", KeySpec{ID: "x", Provider: &fake{}}); llm.KindOf(err) != llm.KindNotFound {
		t.Fatalf("unknown provider: %v", err)
	}
}

func TestUpdateIsSeenByNewRequestsAndBadSpecsAreRefused(t *testing.T) {
	b := &fake{name: "b"}
	r := twoProviders(t, &fake{name: "a"}, b, "")
	if err := r.Update(Spec{Providers: []ProviderSpec{prov("b", []string{"only"}, b)}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"}); !errors.Is(err, llm.ErrUnknownModel) {
		t.Fatalf("old alias still served: %v", err)
	}
	bad := []Spec{
		{Providers: []ProviderSpec{prov("a", nil, b)}, Routes: []RouteSpec{{Model: "x", Targets: []TargetSpec{{Provider: "ghost"}}}}},
		{Providers: []ProviderSpec{prov("a", nil, b)}, Routes: []RouteSpec{{Model: "x"}}},
		{Providers: []ProviderSpec{prov("a", nil, b), prov("a", nil, b)}},
		{Providers: []ProviderSpec{prov("a", nil, b)}, Routes: []RouteSpec{{Model: "x", Fallbacks: []string{"y"}, Targets: []TargetSpec{{Provider: "a"}}}}},
		{Providers: []ProviderSpec{{Name: "a"}}},
		{Providers: []ProviderSpec{prov("a", nil, b)}, Routes: []RouteSpec{{Model: "x", Strategy: "sideways", Targets: []TargetSpec{{Provider: "a"}}}}},
	}
	for i, s := range bad {
		if err := r.Update(s); err == nil {
			t.Fatalf("bad spec %d accepted", i)
		}
	}
	if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "only"}); err != nil {
		t.Fatalf("refused update broke the table in force: %v", err)
	}
}

func BenchmarkRouterChat(b *testing.B) {
	r, err := New(Spec{Providers: []ProviderSpec{prov("a", []string{"m"}, &fake{name: "a"})}})
	if err != nil {
		b.Fatal(err)
	}
	req := &llm.ChatRequest{Model: "m"}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func TestEveryTargetCoolingAnswers429WithRetryAfter(t *testing.T) {
	clk := newClock()
	k := &fake{name: "k", fail: always(&llm.UpstreamError{Status: 429, RetryAfter: 30 * time.Second})}
	r, err := New(Spec{Providers: []ProviderSpec{prov("p", []string{"m"}, k)}}, WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "m"}); llm.KindOf(err) != llm.KindRateLimited {
		t.Fatalf("first: %v", err)
	}
	clk.advance(10 * time.Second)
	calls := k.calls.Load()
	_, _, err = r.Chat(context.Background(), &llm.ChatRequest{Model: "m"})
	if llm.KindOf(err) != llm.KindRateLimited || llm.RetryAfterSeconds(err) != 20 || k.calls.Load() != calls {
		t.Fatalf("cooling target: %v (retry after %ds), calls %d→%d", err, llm.RetryAfterSeconds(err), calls, k.calls.Load())
	}
}

func TestHybridDecisionReportsScores(t *testing.T) {
	r, err := New(Spec{
		Providers: []ProviderSpec{prov("a", []string{"m1"}, &fake{name: "a"}), prov("b", []string{"m2"}, &fake{name: "b"})},
		Routes: []RouteSpec{{Model: "h", Strategy: "hybrid", Targets: []TargetSpec{
			{Provider: "a", Model: "m1", Quality: 0.9}, {Provider: "b", Model: "m2", Quality: 0.1}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "h"})
	if err != nil {
		t.Fatal(err)
	}
	// a costs $1/$2 per 1M tokens with quality 0.9; b is free with quality
	// 0.1. With the default weights (cost 0.4, quality 0.3) b scores
	// 0.3×0.9 = 0.27 and a 0.4×1 + 0.3×0.1 = 0.43: the lower score wins.
	if len(info.Scores) != 2 || info.Provider != "b" || info.Scores["b/k0/m2"] >= info.Scores["a/k0/m1"] {
		t.Fatalf("scores %v, picked %s", info.Scores, info.Provider)
	}
}

// A key the upstream refuses (401, 403, Gemini's API_KEY_INVALID) fails
// over at once and is taken out: the next request does not try it again.
func TestRefusedKeyFailsOverAndIsTakenOut(t *testing.T) {
	for _, status := range []int{401, 403} {
		a := &fake{name: "a", fail: always(&llm.UpstreamError{Provider: "a", Status: status, Message: "bad key"})}
		b := &fake{name: "b"}
		r := twoProviders(t, a, b, "failover")
		for i := range 3 {
			resp, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"})
			if err != nil || resp.Choices[0].Message.Content != "b" {
				t.Fatalf("%d, request %d: %v %v", status, i, resp, err)
			}
		}
		if n := a.calls.Load(); n != 1 {
			t.Fatalf("%d: the refused key was called %d times, want once", status, n)
		}
	}
}

// BenchmarkHedgedChat measures what a hedged call costs when the first target stalls: ns/op
// should sit near the hedge delay plus the fast target's 5 ms, whatever the slow one does.
func BenchmarkHedgedChat(b *testing.B) {
	slow := &fake{name: "slow", delay: time.Second}
	fast := &fake{name: "fast", delay: 5 * time.Millisecond}
	r, err := New(Spec{
		Providers: []ProviderSpec{prov("slow", []string{"m"}, slow), prov("fast", []string{"m2"}, fast)},
		Routes: []RouteSpec{{Model: "h", Strategy: "priority", Hedge: HedgeSpec{Enabled: true, Delay: 10 * time.Millisecond},
			Targets: []TargetSpec{{Provider: "slow", Model: "m", Priority: 1}, {Provider: "fast", Model: "m2", Priority: 2}}}},
	})
	if err != nil {
		b.Fatal(err)
	}
	req := &llm.ChatRequest{Model: "h"}
	for b.Loop() {
		if _, _, err := r.Chat(context.Background(), req); err != nil {
			b.Fatal(err)
		}
	}
}
