package route

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
// three attempts a request, default breakers. Independent retries alone
// give 1 − 0.3³ ≈ 97%; the breakers must not turn that into mass 503s.
func TestRandomErrorsOnEveryProviderAreRetriedNotShed(t *testing.T) {
	for _, strategy := range []string{"priority", "weighted"} {
		t.Run(strategy, func(t *testing.T) {
			clk := newClock()
			a, b := newFlaky("a", clk, 0.3, 1), newFlaky("b", clk, 0.3, 2)
			r, err := New(Spec{
				Providers: []ProviderSpec{prov("a", []string{"m1"}, a), prov("b", []string{"m2"}, b)},
				Routes: []RouteSpec{{Model: "alias", Strategy: strategy,
					Retry:   RetrySpec{MaxAttempts: 3, InitialBackoff: time.Millisecond, MaxBackoff: 10 * time.Millisecond},
					Targets: []TargetSpec{{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
			}, WithClock(clk.now), WithJitter(func() float64 { return 0 }))
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
			t.Logf("%s: %d of %d requests succeeded (%.1f%%); upstream calls a=%d b=%d", strategy, ok.Load(), requests, 100*share, a.calls.Load(), b.calls.Load())
			if share < 0.95 {
				t.Fatalf("only %.1f%% succeeded, want ≥ 95%%", 100*share)
			}
		})
	}
}
