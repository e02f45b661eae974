package chash

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
)

func targets(weights ...int) ([]balancer.Target, []*balancer.Stats) {
	ts := make([]balancer.Target, len(weights))
	st := make([]*balancer.Stats, len(weights))
	for i, w := range weights {
		ts[i] = balancer.Target{ID: fmt.Sprintf("openai/key%d/gpt", i), Weight: w}
		st[i] = new(balancer.Stats)
	}
	return ts, st
}

func idle(n int) []*balancer.Stats {
	st := make([]*balancer.Stats, n)
	for i := range st {
		st[i] = new(balancer.Stats)
	}
	return st
}

func mustNew(t testing.TB, ts []balancer.Target, st []*balancer.Stats, opts ...Option) *Picker {
	t.Helper()
	p, err := New(ts, st, append([]Option{WithSeed(7)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pick(t testing.TB, p *Picker, r balancer.Request) int {
	t.Helper()
	i, err := p.Pick(&r)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func sessionKeys(n int) []uint64 {
	rng := rand.New(rand.NewPCG(3, 4))
	keys := make([]uint64, n)
	for i := range keys {
		keys[i] = rng.Uint64() | 1 // never 0, which means "no affinity"
	}
	return keys
}

// bound is the load a target may reach by taking one more request.
func bound(c float64, total int64, n int) int64 {
	return int64(math.Ceil(c * float64(total+1) / float64(n)))
}

// TestSessionsStickUnderLoad runs 1,000 sessions of 10 requests each with
// router-style accounting: a session has at most one call in flight (a
// conversation waits for its answer), `slots` calls run at once, and a
// random one finishes whenever all slots are busy. Every request must go to
// its session's home target unless that target is at its bound, and no
// pick may take a target past ceil(1.25 × mean in-flight).
func TestSessionsStickUnderLoad(t *testing.T) {
	const sessions, perSession, n = 1000, 10, 8
	tests := []struct {
		slots     int
		maxSpills float64 // share of all requests
	}{
		// With few calls per target the bound is tight against ordinary
		// fluctuation (at 1 per target it is 2), so spills are the price of
		// the load guarantee; from ~32 per target on they are rare.
		// Measured: 20.7%, 17.6%, 2.9%, 0.65%, 0.37%.
		{slots: 8, maxSpills: 0.25},
		{slots: 64, maxSpills: 0.22},
		{slots: 256, maxSpills: 0.04},
		{slots: 512, maxSpills: 0.01},
		{slots: 1000, maxSpills: 0.01},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("in-flight=%d", tc.slots), func(t *testing.T) {
			ts, st := targets(1, 1, 1, 1, 1, 1, 1, 1)
			p := mustNew(t, ts, st)
			home := mustNew(t, ts, idle(n)) // load never binds: the ring owner
			keys := sessionKeys(sessions)
			homes := make([]int, sessions)
			for s, k := range keys {
				homes[s] = pick(t, home, balancer.Request{Key: k})
			}

			rng := rand.New(rand.NewPCG(5, 6))
			now := time.Unix(1000, 0)
			left := make([]int, sessions)
			for s := range left {
				left[s] = perSession
			}
			ready := make([]int, sessions) // sessions with requests left and none in flight
			for s := range ready {
				ready[s] = s
			}
			type call struct{ session, target int }
			var running []call
			var total int64
			spills, spilledSessions := 0, map[int]bool{}
			finish := func() {
				k := rng.IntN(len(running))
				c := running[k]
				running[k] = running[len(running)-1]
				running = running[:len(running)-1]
				st[c.target].Done(now, balancer.DoneInfo{Latency: time.Second})
				total--
				if left[c.session] > 0 {
					ready = append(ready, c.session)
				}
			}
			for len(ready) > 0 || len(running) > 0 {
				if len(running) == tc.slots || len(ready) == 0 {
					finish()
					continue
				}
				k := rng.IntN(len(ready))
				s := ready[k]
				ready[k] = ready[len(ready)-1]
				ready = ready[:len(ready)-1]

				limit := bound(DefaultLoadFactor, total, n)
				homeLoad := st[homes[s]].InFlight()
				i := pick(t, p, balancer.Request{Key: keys[s], Now: now})
				if i != homes[s] {
					if homeLoad < limit {
						t.Fatalf("session %d left its home %d (load %d < bound %d) for %d", s, homes[s], homeLoad, limit, i)
					}
					spills++
					spilledSessions[s] = true
				}
				st[i].Begin()
				total++
				if got, max := st[i].InFlight(), int64(math.Ceil(DefaultLoadFactor*float64(total)/n)); got > max {
					t.Fatalf("target %d at %d in flight, over ceil(1.25 × mean) = %d", i, got, max)
				}
				left[s]--
				running = append(running, call{s, i})
			}
			rate := float64(spills) / (sessions * perSession)
			t.Logf("in-flight %d: %d of %d requests spilled (%.2f%%), %d of %d sessions ever spilled",
				tc.slots, spills, sessions*perSession, 100*rate, len(spilledSessions), sessions)
			if rate > tc.maxSpills {
				t.Errorf("spill rate %.2f%%, want ≤ %.0f%%", 100*rate, 100*tc.maxSpills)
			}
		})
	}
}

// TestRemovingATargetMovesOnlyItsKeys compares a picker built without one
// of 8 targets, and one excluding it, against the full ring.
func TestRemovingATargetMovesOnlyItsKeys(t *testing.T) {
	const sessions = 1000
	ts, _ := targets(1, 1, 1, 1, 1, 1, 1, 1)
	full := mustNew(t, ts, idle(len(ts)))
	keys := sessionKeys(sessions)
	before := make([]int, sessions)
	for s, k := range keys {
		before[s] = pick(t, full, balancer.Request{Key: k})
	}
	for gone := range ts {
		t.Run(ts[gone].ID, func(t *testing.T) {
			rest := append(append([]balancer.Target(nil), ts[:gone]...), ts[gone+1:]...)
			smaller := mustNew(t, rest, idle(len(rest)))
			moved := 0
			for s, k := range keys {
				j := pick(t, smaller, balancer.Request{Key: k})
				after := j
				if j >= gone {
					after = j + 1 // back to the full snapshot's indexes
				}
				if after != before[s] {
					moved++
					if before[s] != gone {
						t.Fatalf("session %d moved from %d to %d though %d was removed", s, before[s], after, gone)
					}
				}
				if ex := pick(t, full, balancer.Request{Key: k, Exclude: balancer.Mask(0).With(gone)}); ex != after {
					t.Fatalf("session %d: excluding %d gives %d, removing it gives %d", s, gone, ex, after)
				}
			}
			if limit := sessions * (1.0/8 + 0.05); float64(moved) > limit {
				t.Errorf("%d of %d sessions moved, want ≤ %.0f", moved, sessions, limit)
			}
		})
	}
}

func TestKeySharesFollowWeights(t *testing.T) {
	// A ring's shares vary by about 1/sqrt(virtual nodes per target): ±8%
	// (σ) at the default 160 per unit of weight, ±3% at 1000.
	tests := []struct {
		name     string
		weights  []int
		exclude  balancer.Mask
		replicas int
		tol      float64
	}{
		{"equal 8, default ring", []int{1, 1, 1, 1, 1, 1, 1, 1}, 0, DefaultReplicas, 0.2},
		{"equal 8", []int{1, 1, 1, 1, 1, 1, 1, 1}, 0, 1000, 0.08},
		{"weighted", []int{1, 2, 3, 4}, 0, 1000, 0.08},
		{"weighted with exclusion", []int{1, 2, 3, 4, 5}, balancer.Mask(0).With(3), 1000, 0.08},
		{"heavy weights scaled onto the capped ring", []int{1000, 2000, 3000, 1000}, 0, DefaultReplicas, 0.08},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, st := targets(tc.weights...)
			p := mustNew(t, ts, st, WithReplicas(tc.replicas))
			count := make([]int, len(ts))
			const picks = 100_000
			rng := rand.New(rand.NewPCG(8, 9))
			for range picks {
				count[pick(t, p, balancer.Request{Key: rng.Uint64() | 1, Exclude: tc.exclude})]++
			}
			total := 0
			for i, w := range tc.weights {
				if !tc.exclude.Has(i) {
					total += w
				}
			}
			for i, w := range tc.weights {
				if tc.exclude.Has(i) {
					if count[i] != 0 {
						t.Errorf("excluded target %d got %d picks", i, count[i])
					}
					continue
				}
				want := float64(w) / float64(total)
				if got := float64(count[i]) / picks; math.Abs(got-want) > tc.tol*want {
					t.Errorf("target %d: share %.4f, want %.4f ±%.0f%%", i, got, want, 100*tc.tol)
				}
			}
		})
	}
}

func TestHotKeySpillsWithinBound(t *testing.T) {
	ts, st := targets(1, 1, 1, 1)
	p := mustNew(t, ts, st)
	var total int64
	seen := map[int]bool{}
	for range 100 { // one key, nothing finishes
		i := pick(t, p, balancer.Request{Key: 12345})
		st[i].Begin()
		total++
		seen[i] = true
		if got, max := st[i].InFlight(), int64(math.Ceil(1.25*float64(total)/4)); got > max {
			t.Fatalf("target %d at %d in flight, bound %d", i, got, max)
		}
	}
	if len(seen) < 2 {
		t.Errorf("a hot key stayed on %v", seen)
	}
}

func TestNoKeyPicksLessLoadedOfTwo(t *testing.T) {
	ts, st := targets(1, 1, 1)
	for range 40 {
		st[0].Begin()
	}
	p := mustNew(t, ts, st)
	for range 1000 {
		if i := pick(t, p, balancer.Request{}); i == 0 {
			t.Fatal("key 0 went to the loaded target")
		}
	}
	if i := pick(t, p, balancer.Request{Exclude: 0b110}); i != 0 {
		t.Fatalf("key 0 with the others excluded picked %d", i)
	}
}

func TestPickExclusion(t *testing.T) {
	ts, st := targets(1, 1, 1, 1)
	p := mustNew(t, ts, st)
	tests := []struct {
		name    string
		key     uint64
		exclude balancer.Mask
		want    int // -1: ErrNoTarget
	}{
		{"all excluded", 99, 0b1111, -1},
		{"all excluded, no key", 0, 0b1111, -1},
		{"everything and more excluded", 99, ^balancer.Mask(0), -1},
		{"one left", 99, 0b1011, 2},
		{"one left, no key", 0, 0b0111, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, err := p.Pick(&balancer.Request{Key: tc.key, Exclude: tc.exclude})
			if tc.want < 0 {
				if !errors.Is(err, balancer.ErrNoTarget) {
					t.Fatalf("Pick = %d, %v; want ErrNoTarget", i, err)
				}
				return
			}
			if err != nil || i != tc.want {
				t.Fatalf("Pick = %d, %v; want %d", i, err, tc.want)
			}
		})
	}
}

func TestNewValidates(t *testing.T) {
	ts, st := targets(1, 1)
	tests := []struct {
		name string
		ts   []balancer.Target
		st   []*balancer.Stats
		opts []Option
	}{
		{"length mismatch", ts, st[:1], nil},
		{"load factor below 1", ts, st, []Option{WithLoadFactor(0.9)}},
		{"load factor NaN", ts, st, []Option{WithLoadFactor(math.NaN())}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.ts, tc.st, tc.opts...); !errors.Is(err, balancer.ErrInvalidSnapshot) {
				t.Fatalf("err = %v, want ErrInvalidSnapshot", err)
			}
		})
	}
	t.Run("ring size follows replicas and caps", func(t *testing.T) {
		p := mustNew(t, ts, st, WithReplicas(5000))
		if got := len(p.points); got != 2*1000 {
			t.Errorf("ring has %d points, want %d (replicas capped at 1000)", got, 2*1000)
		}
		big, bst := targets(balancer.MaxWeight, balancer.MaxWeight)
		if got := len(mustNew(t, big, bst).points); got > maxPoints+2 {
			t.Errorf("ring has %d points, want ≤ %d", got, maxPoints+2)
		}
	})
	t.Run("ring independent of target order", func(t *testing.T) {
		a, ast := targets(1, 2, 3)
		b := []balancer.Target{a[2], a[0], a[1]}
		pa, pb := mustNew(t, a, ast), mustNew(t, b, []*balancer.Stats{ast[2], ast[0], ast[1]})
		for _, k := range sessionKeys(500) {
			if x, y := pick(t, pa, balancer.Request{Key: k}), pick(t, pb, balancer.Request{Key: k}); a[x].ID != b[y].ID {
				t.Fatalf("key %d: %s vs %s", k, a[x].ID, b[y].ID)
			}
		}
	})
}

func TestPickConcurrent(t *testing.T) {
	ts, st := targets(1, 2, 1, 2, 1, 2, 1, 2)
	p := mustNew(t, ts, st)
	keys := sessionKeys(64)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			excl := balancer.Mask(0).With(g)
			for j := range 2000 {
				i, err := p.Pick(&balancer.Request{Key: keys[j%len(keys)] * uint64(j%3), Exclude: excl})
				if err != nil || excl.Has(i) {
					t.Errorf("Pick = %d, %v with %d excluded", i, err, g)
					return
				}
				st[i].Begin()
				st[i].Done(time.Unix(1000, 0), balancer.DoneInfo{Latency: time.Millisecond})
			}
		}()
	}
	wg.Wait()
}

func BenchmarkPick(b *testing.B) {
	for _, n := range []int{8, 64} {
		w := make([]int, n)
		for i := range w {
			w[i] = 1 + i%2
		}
		ts, st := targets(w...)
		// Some calls in flight everywhere, so the bound is computed.
		for i, s := range st {
			for range 2 + i%3 {
				s.Begin()
			}
		}
		p, err := New(ts, st, WithSeed(1))
		if err != nil {
			b.Fatal(err)
		}
		keys := sessionKeys(1024)
		b.Run(fmt.Sprintf("targets=%d/serial", n), func(b *testing.B) {
			b.ReportAllocs()
			r := &balancer.Request{}
			j := 0
			for b.Loop() {
				r.Key = keys[j&1023]
				j++
				if _, err := p.Pick(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("targets=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := &balancer.Request{}
				j := 0
				for pb.Next() {
					r.Key = keys[j&1023]
					j++
					if _, err := p.Pick(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// TestSessionsStickWhileHealthy is the acceptance case as stated: 1,000
// sessions × 10 requests, interleaved, each answered before the next is
// sent. No target is ever overloaded, so every session stays on one target
// (100%), and no target exceeds 1.25 × the mean request share.
func TestSessionsStickWhileHealthy(t *testing.T) {
	const sessions, perSession, n = 1000, 10, 8
	ts, st := targets(1, 1, 1, 1, 1, 1, 1, 1)
	p := mustNew(t, ts, st)
	keys := sessionKeys(sessions)
	home := make([]int, sessions)
	for i := range home {
		home[i] = -1
	}
	load := make([]int, n)
	for round := 0; round < perSession; round++ {
		for s, k := range keys {
			i := pick(t, p, balancer.Request{Key: k})
			st[i].Begin()
			st[i].Done(time.Now(), balancer.DoneInfo{Latency: time.Millisecond})
			load[i]++
			if home[s] == -1 {
				home[s] = i
			} else if home[s] != i {
				t.Fatalf("session %d moved from %d to %d", s, home[s], i)
			}
		}
	}
	mean := sessions * perSession / n
	for i, l := range load {
		if float64(l) > 1.25*float64(mean) {
			t.Errorf("target %d took %d requests, over 1.25 × the mean %d", i, l, mean)
		}
	}
	t.Logf("requests per target: %v (mean %d)", load, mean)
}
