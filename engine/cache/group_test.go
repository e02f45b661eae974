package cache

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// waitFor polls cond for up to 5s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// noLeaks fails when goroutines started during the test outlive it.
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		waitFor(t, "goroutines to stop", func() bool { return runtime.NumGoroutine() <= before })
	})
}

func TestGroupRunsOneCallForConcurrentCallers(t *testing.T) {
	noLeaks(t)
	g := NewGroup[*llm.ChatResponse](time.Minute)
	defer g.Close()
	release := make(chan struct{})
	var runs atomic.Int32
	fn := func(ctx context.Context) (*llm.ChatResponse, error) {
		runs.Add(1)
		<-release
		return &llm.ChatResponse{ID: "one"}, nil
	}
	const n = 50
	var wg sync.WaitGroup
	var shared atomic.Int32
	results := make(chan *llm.ChatResponse, n)
	var started sync.WaitGroup
	started.Add(n)
	for range n {
		wg.Go(func() {
			started.Done()
			r, sh, err := g.Do(context.Background(), keyN(1), fn)
			if err != nil {
				t.Error(err)
			}
			if sh {
				shared.Add(1)
			}
			results <- r
		})
	}
	started.Wait()
	waitFor(t, "callers to join", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		c := g.calls[keyN(1)]
		return c != nil && c.waiters == n
	})
	close(release)
	wg.Wait()
	close(results)
	for r := range results {
		if r == nil || r.ID != "one" {
			t.Fatalf("result %+v", r)
		}
	}
	if runs.Load() != 1 || shared.Load() != n-1 {
		t.Fatalf("runs %d, shared %d", runs.Load(), shared.Load())
	}
	if g.InFlight() != 0 {
		t.Fatal("call still registered")
	}
}

func TestGroupCallerLeavingDoesNotFailOthers(t *testing.T) {
	noLeaks(t)
	g := NewGroup[string](time.Minute)
	defer g.Close()
	release := make(chan struct{})
	fnCtxErr := make(chan error, 1)
	fn := func(ctx context.Context) (string, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		fnCtxErr <- ctx.Err()
		return "answer", ctx.Err()
	}
	leaderCtx, cancelLeader := context.WithCancel(context.Background())
	leaderDone := make(chan error, 1)
	go func() {
		_, _, err := g.Do(leaderCtx, keyN(1), fn)
		leaderDone <- err
	}()
	waitFor(t, "leader to start", func() bool { return g.InFlight() == 1 })
	follower := make(chan string, 1)
	go func() {
		v, shared, err := g.Do(context.Background(), keyN(1), fn)
		if err != nil || !shared {
			t.Errorf("follower: %v shared=%v", err, shared)
		}
		follower <- v
	}()
	waitFor(t, "follower to join", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.calls[keyN(1)].waiters == 2
	})
	cancelLeader()
	if err := <-leaderDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader returned %v, want its own cancellation", err)
	}
	close(release)
	if v := <-follower; v != "answer" {
		t.Fatalf("follower got %q", v)
	}
	if err := <-fnCtxErr; err != nil {
		t.Fatalf("fn's context was cancelled with a caller still waiting: %v", err)
	}
}

func TestGroupCancelsTheCallWhenEveryCallerLeft(t *testing.T) {
	noLeaks(t)
	g := NewGroup[string](time.Minute)
	defer g.Close()
	cancelled := make(chan struct{})
	fn := func(ctx context.Context) (string, error) {
		<-ctx.Done()
		close(cancelled)
		return "", ctx.Err()
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		g.Do(ctx, keyN(1), fn)
		close(done)
	}()
	waitFor(t, "call to start", func() bool { return g.InFlight() == 1 })
	cancel()
	<-done
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("fn kept running with nobody waiting")
	}
	// The key is free again: a new caller starts a new call.
	v, shared, err := g.Do(context.Background(), keyN(1), func(context.Context) (string, error) { return "fresh", nil })
	if v != "fresh" || shared || err != nil {
		t.Fatalf("new call: %q shared=%v err=%v", v, shared, err)
	}
}

func TestGroupCallRunsUnderItsOwnTimeout(t *testing.T) {
	g := NewGroup[string](20 * time.Millisecond)
	defer g.Close()
	_, _, err := g.Do(context.Background(), keyN(1), func(ctx context.Context) (string, error) {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("fn's context has no deadline")
		}
		<-ctx.Done()
		return "", ctx.Err()
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestGroupSharesErrorsAndPanics(t *testing.T) {
	g := NewGroup[string](time.Minute)
	defer g.Close()
	boom := errors.New("upstream 500")
	cases := []struct {
		name string
		fn   func(context.Context) (string, error)
		want func(error) bool
	}{
		{"error", func(context.Context) (string, error) { time.Sleep(20 * time.Millisecond); return "", boom },
			func(err error) bool { return errors.Is(err, boom) }},
		{"panic", func(context.Context) (string, error) { time.Sleep(20 * time.Millisecond); panic("bug") },
			func(err error) bool { return err != nil && err.Error() == "cache: coalesced call panicked: bug" }},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var wg sync.WaitGroup
			for range 5 {
				wg.Go(func() {
					if _, _, err := g.Do(context.Background(), keyN(100+i), tc.fn); !tc.want(err) {
						t.Errorf("err %v", err)
					}
				})
			}
			wg.Wait()
		})
	}
}

func TestGroupCloseCancelsAndWaits(t *testing.T) {
	noLeaks(t)
	g := NewGroup[string](time.Minute)
	var returned atomic.Bool
	go g.Do(context.Background(), keyN(1), func(ctx context.Context) (string, error) {
		<-ctx.Done()
		time.Sleep(10 * time.Millisecond)
		returned.Store(true)
		return "", ctx.Err()
	})
	waitFor(t, "call to start", func() bool { return g.InFlight() == 1 })
	g.Close()
	if !returned.Load() {
		t.Fatal("Close returned before fn")
	}
	if _, _, err := g.Do(context.Background(), keyN(2), func(context.Context) (string, error) { return "", nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Do after Close: %v", err)
	}
}

// BenchmarkGroupDo measures the coalescing overhead: "shared" has many
// goroutines on one key whose call is slow enough that most of them join
// it (the joiners' path); "unique" gives every call its own key (the
// leader's path: map entry, goroutine, channel).
func BenchmarkGroupDo(b *testing.B) {
	b.Run("shared", func(b *testing.B) {
		g := NewGroup[*llm.ChatResponse](time.Minute)
		defer g.Close()
		resp := &llm.ChatResponse{ID: "x"}
		var runs, calls atomic.Int64
		fn := func(context.Context) (*llm.ChatResponse, error) {
			runs.Add(1)
			time.Sleep(50 * time.Microsecond)
			return resp, nil
		}
		k := keyN(1)
		b.ReportAllocs()
		b.SetParallelism(64)
		b.RunParallel(func(pb *testing.PB) {
			ctx := context.Background()
			for pb.Next() {
				calls.Add(1)
				if _, _, err := g.Do(ctx, k, fn); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(calls.Load())/float64(max(runs.Load(), 1)), "callers/run")
	})
	b.Run("unique", func(b *testing.B) {
		g := NewGroup[*llm.ChatResponse](time.Minute)
		defer g.Close()
		resp := &llm.ChatResponse{ID: "x"}
		fn := func(context.Context) (*llm.ChatResponse, error) { return resp, nil }
		keys := make([]Key, 1024)
		for i := range keys {
			keys[i] = keyN(i)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, _, err := g.Do(context.Background(), keys[i%len(keys)], fn); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
