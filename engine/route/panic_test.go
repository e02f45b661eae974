package route

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// flaky answers 500 to a seeded random share of its calls. Each call moves
// the shared fake clock on by a millisecond, so breaker windows and open
// periods see simulated time pass without the test sleeping.
type flaky struct {
	fake
	clk *fakeClock

	mu   sync.Mutex
	rnd  *rand.Rand
	rate float64
}

func newFlaky(name string, clk *fakeClock, rate float64, seed uint64) *flaky {
	f := &flaky{fake: fake{name: name}, clk: clk, rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), rate: rate}
	f.fail = func(int64) error {
		clk.advance(time.Millisecond)
		f.mu.Lock()
		bad := f.rnd.Float64() < f.rate
		f.mu.Unlock()
		if bad {
			return &llm.UpstreamError{Provider: name, Status: 500, Message: "injected"}
		}
		return nil
	}
	return f
}

// Acceptance: both providers of a route failing 30% of calls at random,
// three attempts a request. Independent retries alone give 1 − 0.3³ ≈ 97%;
// the breakers must not turn that into mass 503s — with the default rule
// they should not trip, and where a stricter rule trips them all, panic
// mode keeps trying.
func TestRandomErrorsOnEveryProviderAreRetriedNotShed(t *testing.T) {
	cases := []struct {
		name     string
		strategy string
		breaker  breaker.Config
	}{
		{"priority, default breaker", "priority", breaker.Config{}},
		{"weighted, default breaker", "weighted", breaker.Config{}},
		{"priority, breaker tripping on 5 in a row", "priority", breaker.Config{ConsecutiveFailures: 5}},
		{"weighted, breaker tripping on 5 in a row", "weighted", breaker.Config{ConsecutiveFailures: 5}},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			a, b := newFlaky("a", clk, 0.3, uint64(2*i+1)), newFlaky("b", clk, 0.3, uint64(2*i+2))
			r, err := New(Spec{
				Providers: []ProviderSpec{prov("a", []string{"m1"}, a), prov("b", []string{"m2"}, b)},
				Routes: []RouteSpec{{Model: "alias", Strategy: tc.strategy,
					Retry:   RetrySpec{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
					Targets: []TargetSpec{{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
			}, WithClock(clk.now), WithJitter(func() float64 { return 0 }), WithBreaker(tc.breaker))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			const requests, workers = 2000, 16
			var next, ok atomic.Int64
			var wg sync.WaitGroup
			for range workers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= requests {
						if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"}); err == nil {
							ok.Add(1)
						}
					}
				}()
			}
			wg.Wait()
			share := float64(ok.Load()) / requests
			t.Logf("%d of %d requests succeeded (%.1f%%); upstream calls a=%d b=%d; panic picks %d",
				ok.Load(), requests, 100*share, a.calls.Load(), b.calls.Load(), r.PanicPicks())
			if share < 0.95 {
				t.Fatalf("only %.1f%% succeeded, want ≥ 95%%", 100*share)
			}
		})
	}
}

// switchable fails with 500 while down is set.
func switchable(name string) (*fake, *atomic.Bool) {
	down := new(atomic.Bool)
	return &fake{name: name, fail: func(int64) error {
		if down.Load() {
			return &llm.UpstreamError{Provider: name, Status: 500}
		}
		return nil
	}}, down
}

func TestPanicModeTriesOpenTargetsInsteadOfFailing(t *testing.T) {
	cases := []struct {
		name string
		// setup trips or cools targets a and b (a trips first, so its open
		// period ends first) and may take probe slots.
		setup        func(t *testing.T, r *Router, clk *fakeClock)
		noPanic      bool
		failA        bool // a keeps failing during the request
		wantProvider string
		wantAttempts int
		wantPanic    bool
		wantCode     string // error code when the request fails
	}{
		{name: "both open: the one reopening soonest serves", setup: tripBoth,
			wantProvider: "a", wantAttempts: 1, wantPanic: true},
		{name: "both open, soonest fails: the other is tried", setup: tripBoth, failA: true,
			wantProvider: "b", wantAttempts: 2, wantPanic: true},
		{name: "panic mode off: no healthy target at once", setup: tripBoth, noPanic: true,
			wantCode: "no_healthy_target"},
		{name: "half-open with its probe slot taken is tried without a slot",
			setup: func(t *testing.T, r *Router, clk *fakeClock) {
				tripBoth(t, r, clk)
				clk.advance(9500 * time.Millisecond) // a's open period is over, b's is not
				if ok, probe := stateOf(t, r, "a").breaker.Allow(); !ok || !probe {
					t.Fatal("a did not hand out its probe")
				}
			},
			wantProvider: "a", wantAttempts: 1, wantPanic: true},
		{name: "a cooling after a 429 is left alone; open b serves",
			setup: func(t *testing.T, r *Router, clk *fakeClock) {
				stateOf(t, r, "a").breaker.Record(false, breaker.RateLimited, time.Minute)
				tripBoth(t, r, clk)
			},
			wantProvider: "b", wantAttempts: 1, wantPanic: true},
		{name: "one target healthy: no panic",
			setup: func(t *testing.T, r *Router, clk *fakeClock) {
				trip(t, r, "b")
			},
			wantProvider: "a", wantAttempts: 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			a, aDown := switchable("a")
			b, _ := switchable("b")
			r, err := New(Spec{
				Providers: []ProviderSpec{prov("a", []string{"m1"}, a), prov("b", []string{"m2"}, b)},
				Routes: []RouteSpec{{Model: "alias", Strategy: "priority", NoPanic: tc.noPanic, Retry: RetrySpec{MaxAttempts: 3},
					Targets: []TargetSpec{{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
			}, WithClock(clk.now), WithJitter(func() float64 { return 0 }),
				WithBreaker(breaker.Config{ConsecutiveFailures: 1, OpenTime: 10 * time.Second, MaxOpenTime: 10 * time.Second}))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			tc.setup(t, r, clk)
			aDown.Store(tc.failA)
			callsBefore := a.calls.Load() + b.calls.Load()
			panicsBefore := r.PanicPicks()
			_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"})
			if tc.wantCode != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Code != tc.wantCode {
					t.Fatalf("err %v, want code %s", err, tc.wantCode)
				}
				if n := a.calls.Load() + b.calls.Load() - callsBefore; n != 0 {
					t.Fatalf("%d upstream calls, want none", n)
				}
				return
			}
			if err != nil || info.Provider != tc.wantProvider || info.Attempts != tc.wantAttempts || info.Panic != tc.wantPanic {
				t.Fatalf("got provider %q attempts %d panic %v (%v), want %q %d %v",
					info.Provider, info.Attempts, info.Panic, err, tc.wantProvider, tc.wantAttempts, tc.wantPanic)
			}
			wantPanics := uint64(0)
			if tc.wantPanic {
				wantPanics = uint64(tc.wantAttempts)
			}
			if got := r.PanicPicks() - panicsBefore; got != wantPanics {
				t.Fatalf("panic picks %d, want %d", got, wantPanics)
			}
		})
	}
}

// trip opens provider's breaker as a failed call would.
func trip(t *testing.T, r *Router, provider string) {
	t.Helper()
	st := stateOf(t, r, provider)
	st.breaker.Record(false, breaker.Failure, 0)
	if st.breaker.Snapshot().State != breaker.Open {
		t.Fatalf("%s did not trip", provider)
	}
}

func tripBoth(t *testing.T, r *Router, clk *fakeClock) {
	trip(t, r, "a")
	clk.advance(time.Second)
	trip(t, r, "b")
}

func stateOf(t *testing.T, r *Router, provider string) *targetState {
	t.Helper()
	for _, tg := range r.Table().targets {
		if tg.Provider == provider {
			return tg.state
		}
	}
	t.Fatalf("no target of %s", provider)
	return nil
}
