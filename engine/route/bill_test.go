package route

import (
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/llm"
)

// wordy streams n chunks of one word ("word " = about a token and a bit)
// and then, unless noUsage, the usage chunk; delay is before the first
// chunk (hedging tests).
type wordy struct {
	n       int
	noUsage bool
	delay   time.Duration
	gap     time.Duration // between chunks
	opened  atomic.Int64
	closed  atomic.Int64
}

func (w *wordy) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	if err := sleepCtx(ctx, w.delay); err != nil {
		return nil, err
	}
	return &llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: strings.Repeat("word ", w.n)}}},
		Usage: llm.Usage{PromptTokens: 100, CompletionTokens: w.n, TotalTokens: 100 + w.n}}, nil
}

func (w *wordy) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	w.opened.Add(1)
	return &wordyStream{w: w, ctx: ctx}, nil
}

type wordyStream struct {
	w   *wordy
	ctx context.Context
	i   int
}

func (s *wordyStream) Recv() (llm.Chunk, error) {
	d := s.w.gap
	if s.i == 0 {
		d = s.w.delay
	}
	if err := sleepCtx(s.ctx, d); err != nil {
		return llm.Chunk{}, err
	}
	if err := s.ctx.Err(); err != nil {
		return llm.Chunk{}, err
	}
	s.i++
	switch {
	case s.i <= s.w.n:
		return llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "word "}}}}, nil
	case s.i == s.w.n+1 && !s.w.noUsage:
		return llm.Chunk{Usage: &llm.Usage{PromptTokens: 100, CompletionTokens: s.w.n, TotalTokens: 100 + s.w.n}}, nil
	}
	return llm.Chunk{}, io.EOF
}

func (s *wordyStream) Close() error { s.w.closed.Add(1); return nil }

func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// memCache is a ResponseCache over the engine's L1.
type memCache struct{ l1 *cache.L1 }

func (m memCache) Get(_ context.Context, k cache.Key) (*cache.Entry, bool) { return m.l1.Get(k) }
func (m memCache) Set(_ context.Context, k cache.Key, e *cache.Entry, ttl time.Duration) {
	m.l1.Set(k, e, ttl)
}

// price: $1 per million prompt tokens, $2 per million completion tokens.
var billPrice = Price{Input: 1, Output: 2}

func billRouter(t *testing.T, route RouteSpec, provs map[string]Provider, opts ...Option) *Router {
	t.Helper()
	spec := Spec{}
	for name, p := range provs {
		spec.Providers = append(spec.Providers, ProviderSpec{Name: name, Models: []string{"m"}, Prices: map[string]Price{"m": billPrice},
			Keys: []KeySpec{{ID: "k", Weight: 1, Provider: p}}})
	}
	spec.Routes = []RouteSpec{route}
	r, err := New(spec, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func zeroTemp() *float64 { z := 0.0; return &z }

// prompt is 400 bytes: 101 estimated tokens.
var billPrompt = []llm.Message{{Role: llm.RoleUser, Content: strings.Repeat("p", 396)}}

// TestAbortedStreamsAreBilled is the budget bypass: a stream that ends
// before its usage chunk is billed for its prompt and what it relayed,
// on a cacheable route (temperature 0) exactly as on an uncached one.
func TestAbortedStreamsAreBilled(t *testing.T) {
	tests := []struct {
		name        string
		temperature *float64
		read        int  // chunks the client reads before closing; -1 reads to the end
		noUsage     bool // the upstream never reports usage
		wantCache   llm.CacheStatus
		wantEst     bool
		wantUsage   llm.Usage
	}{
		{"uncached, client leaves after 40 of 50", nil, 40, false, llm.CacheBypass, true, llm.Usage{PromptTokens: 101, CompletionTokens: 50, TotalTokens: 151}},
		{"cacheable, client leaves after 40 of 50", zeroTemp(), 40, false, llm.CacheMiss, true, llm.Usage{PromptTokens: 101, CompletionTokens: 50, TotalTokens: 151}},
		{"cacheable, read to the end", zeroTemp(), -1, false, llm.CacheMiss, false, llm.Usage{PromptTokens: 100, CompletionTokens: 50, TotalTokens: 150}},
		{"cacheable, upstream reports no usage", zeroTemp(), -1, true, llm.CacheMiss, true, llm.Usage{PromptTokens: 101, CompletionTokens: 63, TotalTokens: 164}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := &wordy{n: 50, noUsage: tt.noUsage}
			r := billRouter(t, RouteSpec{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}}},
				map[string]Provider{"p": up}, WithCache(memCache{cache.NewL1()}, false))
			st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "r", Temperature: tt.temperature, Messages: billPrompt})
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; tt.read < 0 || i < tt.read; i++ {
				if _, err := st.Recv(); err != nil {
					break
				}
			}
			_ = st.Close()
			info := st.Info()
			u, partial := st.Usage()
			if info.Cache != tt.wantCache || partial != tt.wantEst || info.Estimated != tt.wantEst {
				t.Fatalf("cache %v partial %v estimated %v, want %v %v", info.Cache, partial, info.Estimated, tt.wantCache, tt.wantEst)
			}
			if tt.wantEst {
				// Relayed content is 5 bytes a chunk: 40 chunks → 50 tokens at 4 bytes a token.
				want := tt.wantUsage
				if tt.read > 0 {
					want.CompletionTokens, want.TotalTokens = (tt.read*5+3)/4, 101+(tt.read*5+3)/4
				}
				if u != want {
					t.Fatalf("usage %+v, want %+v", u, want)
				}
			} else if u != tt.wantUsage {
				t.Fatalf("usage %+v, want %+v", u, tt.wantUsage)
			}
			if want := billPrice.Cost(u); info.Cost != want || info.Cost == 0 {
				t.Fatalf("cost %v, want %v (non-zero)", info.Cost, want)
			}
		})
	}
}

// One upstream stream shared by identical requests is paid once, in
// full, whoever of them ends first; a cache hit costs nothing.
func TestCoalescedStreamsPayOnceAndCacheHitsNothing(t *testing.T) {
	up := &wordy{n: 5, delay: 50 * time.Millisecond}
	r := billRouter(t, RouteSpec{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}}},
		map[string]Provider{"p": up}, WithCache(memCache{cache.NewL1()}, false))
	req := &llm.ChatRequest{Model: "r", Temperature: zeroTemp(), Messages: billPrompt}
	drain := func(st *Stream) Info {
		for {
			if _, err := st.Recv(); err != nil {
				break
			}
		}
		_ = st.Close()
		return st.Info()
	}
	res := make(chan Info, 2)
	for range 2 {
		go func() {
			st, err := r.ChatStream(context.Background(), req)
			if err != nil {
				t.Error(err)
				res <- Info{}
				return
			}
			res <- drain(st)
		}()
	}
	a, b := <-res, <-res
	if a.Cache == llm.CacheCoalesced {
		a, b = b, a
	}
	if a.Cache != llm.CacheMiss || b.Cache != llm.CacheCoalesced {
		t.Fatalf("caches %v %v, want one miss (leader) and one coalesced", a.Cache, b.Cache)
	}
	full := billPrice.Cost(llm.Usage{PromptTokens: 100, CompletionTokens: 5})
	if a.Cost+b.Cost != full || (a.Cost != 0 && b.Cost != 0) {
		t.Fatalf("leader paid %v, follower %v: want %v once", a.Cost, b.Cost, full)
	}
	// The flight stores its answer just after its readers see the end:
	// wait for it to leave the group, then the next request is a hit.
	for deadline := time.Now().Add(5 * time.Second); r.streams.InFlight() > 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the shared stream never left its group")
		}
	}
	st, err := r.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if hit := drain(st); hit.Cache != llm.CacheHit || hit.Cost != 0 {
		t.Fatalf("hit %v cost %v", hit.Cache, hit.Cost)
	}
	if n := up.opened.Load(); n != 1 {
		t.Fatalf("upstream opened %d times, want 1", n)
	}
}

// A leader that leaves early pays for what it saw; the follower that
// stayed pays for the rest, so the shared upstream is not free to anyone.
func TestCoalescedFollowerPaysWhatTheLeaderLeft(t *testing.T) {
	up := &wordy{n: 50, gap: 2 * time.Millisecond}
	r := billRouter(t, RouteSpec{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}}},
		map[string]Provider{"p": up}, WithCache(memCache{cache.NewL1()}, false))
	req := &llm.ChatRequest{Model: "r", Temperature: zeroTemp(), Messages: billPrompt}
	leader, err := r.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	follower, err := r.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if leader.Info().Cache != llm.CacheMiss || follower.Info().Cache != llm.CacheCoalesced {
		t.Fatalf("caches %v %v", leader.Info().Cache, follower.Info().Cache)
	}
	for range 10 {
		if _, err := leader.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	_ = leader.Close()
	for {
		if _, err := follower.Recv(); err != nil {
			break
		}
	}
	_ = follower.Close()
	l, f := leader.Info(), follower.Info()
	lu, _ := leader.Usage()
	fu, _ := follower.Usage()
	// Leader: 101 estimated prompt tokens and 10 chunks (13 tokens), estimated.
	if want := (llm.Usage{PromptTokens: 101, CompletionTokens: 13, TotalTokens: 114}); lu != want || !l.Estimated || l.Cost != billPrice.Cost(want) {
		t.Fatalf("leader %+v %+v, want usage %+v estimated", l, lu, want)
	}
	// Follower saw the real usage (100 + 50): it pays the 37 completion
	// tokens the leader did not, and no prompt; together they paid the
	// upstream's real cost.
	full := billPrice.Cost(llm.Usage{PromptTokens: 100, CompletionTokens: 50})
	if want := (llm.Usage{CompletionTokens: 37, TotalTokens: 37}); fu != want || f.Cost != full-l.Cost || f.Cost == 0 {
		t.Fatalf("follower %+v %+v, want usage %+v", f, fu, want)
	}
}

// TestHedgedRequestsBillBothLegs: the lane that lost reached a provider
// too. Unary: the slow lane is cancelled and billed its prompt. Stream:
// the slow lane had not sent its first chunk and is billed its prompt.
func TestHedgedRequestsBillBothLegs(t *testing.T) {
	slow := &wordy{n: 10, delay: 2 * time.Second}
	fast := &wordy{n: 10}
	spec := RouteSpec{Model: "h", Strategy: "priority", Hedge: HedgeSpec{Enabled: true, Delay: 20 * time.Millisecond},
		Targets: []TargetSpec{{Provider: "slow", Model: "m", Priority: 1}, {Provider: "fast", Model: "m", Priority: 2}}}
	r := billRouter(t, spec, map[string]Provider{"slow": slow, "fast": fast})
	leg := llm.Usage{PromptTokens: 101, TotalTokens: 101}

	_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "h", Messages: billPrompt})
	if err != nil {
		t.Fatal(err)
	}
	own := billPrice.Cost(llm.Usage{PromptTokens: 100, CompletionTokens: 10})
	if !info.Hedged || info.Extra != leg || !info.Estimated || info.Cost != own+billPrice.Cost(leg) {
		t.Fatalf("unary hedge: %+v; want extra %+v and cost %v", info, leg, own+billPrice.Cost(leg))
	}

	st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "h", Messages: billPrompt})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for {
		if _, err := st.Recv(); err != nil {
			break
		}
		n++
	}
	_ = st.Close()
	info = st.Info()
	if n != 11 {
		t.Fatalf("winner relayed %d chunks, want 10 and usage", n)
	}
	if !info.Hedged || info.Extra != leg || info.Cost != own+billPrice.Cost(leg) {
		t.Fatalf("stream hedge: %+v; want extra %+v and cost %v", info, leg, own+billPrice.Cost(leg))
	}
}

// A unary answer shared by identical requests is paid by the first to get
// it: when the leader left before it came, the follower pays.
func TestCoalescedUnaryIsPaidByWhoeverGetsIt(t *testing.T) {
	up := &wordy{n: 10, delay: 100 * time.Millisecond}
	r := billRouter(t, RouteSpec{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}}},
		map[string]Provider{"p": up}, WithCache(memCache{cache.NewL1()}, false))
	req := &llm.ChatRequest{Model: "r", Temperature: zeroTemp(), Messages: billPrompt}
	lctx, leave := context.WithCancel(context.Background())
	leaderErr := make(chan error, 1)
	go func() {
		_, _, err := r.Chat(lctx, req)
		leaderErr <- err
	}()
	time.Sleep(20 * time.Millisecond) // the leader's call is in flight
	follower := make(chan Info, 1)
	go func() {
		_, info, err := r.Chat(context.Background(), req)
		if err != nil {
			t.Error(err)
		}
		follower <- info
	}()
	time.Sleep(20 * time.Millisecond)
	leave()
	if err := <-leaderErr; err == nil {
		t.Fatal("the leader that left got an answer")
	}
	info := <-follower
	if want := billPrice.Cost(llm.Usage{PromptTokens: 100, CompletionTokens: 10}); info.Cache != llm.CacheCoalesced || info.Cost != want {
		t.Fatalf("follower %v cost %v, want coalesced paying %v", info.Cache, info.Cost, want)
	}
}

// A unary call the client gave up on reached a provider: its prompt is
// billed, estimated.
func TestCancelledUnaryBillsItsPrompt(t *testing.T) {
	up := &wordy{n: 10, delay: time.Second}
	r := billRouter(t, RouteSpec{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}}},
		map[string]Provider{"p": up})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, info, err := r.Chat(ctx, &llm.ChatRequest{Model: "r", Messages: billPrompt})
	if err == nil {
		t.Fatal("want the cancellation")
	}
	// A deadline is not a cancellation by the client: the provider timed out.
	if info.Cost != 0 {
		t.Fatalf("deadline: cost %v", info.Cost)
	}
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(30*time.Millisecond, cancel)
	_, info, err = r.Chat(ctx, &llm.ChatRequest{Model: "r", Messages: billPrompt})
	leg := llm.Usage{PromptTokens: 101, TotalTokens: 101}
	if err == nil || info.Extra != leg || !info.Estimated || info.Cost != billPrice.Cost(leg) {
		t.Fatalf("cancelled: %v %+v", err, info)
	}
}
