package leastconn

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
		ts[i] = balancer.Target{ID: fmt.Sprintf("t%d", i), Weight: w}
		st[i] = new(balancer.Stats)
	}
	return ts, st
}

func mustNew(t testing.TB, ts []balancer.Target, st []*balancer.Stats) *Picker {
	t.Helper()
	p, err := New(ts, st, WithSeed(42))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// simulate keeps `slots` calls in flight: each step finishes a random one
// (so a target's completions are proportional to its in-flight count, as
// with equal service times) and picks the next. It returns picks per target.
func simulate(t *testing.T, p *Picker, st []*balancer.Stats, picks, slots int, excl balancer.Mask) []int {
	t.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	now := time.Unix(1000, 0)
	count := make([]int, len(st))
	var inflight []int
	for range picks {
		if len(inflight) == slots {
			k := rng.IntN(len(inflight))
			st[inflight[k]].Done(now, balancer.DoneInfo{Latency: time.Millisecond})
			inflight[k] = inflight[len(inflight)-1]
			inflight = inflight[:len(inflight)-1]
		}
		i, err := p.Pick(&balancer.Request{Exclude: excl, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		if excl.Has(i) {
			t.Fatalf("picked excluded target %d", i)
		}
		st[i].Begin()
		count[i]++
		inflight = append(inflight, i)
	}
	return count
}

func TestPickSharesFollowWeightsUnderLoad(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		exclude balancer.Mask
	}{
		{"equal", []int{1, 1, 1, 1}, 0},
		{"weighted", []int{1, 2, 3, 4}, 0},
		{"weighted 8", []int{1, 1, 2, 2, 3, 3, 4, 8}, 0},
		{"weighted with exclusion", []int{1, 2, 3, 4, 10}, balancer.Mask(0).With(4)},
		{"two candidates", []int{1, 3}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, st := targets(tc.weights...)
			p := mustNew(t, ts, st)
			const picks = 100_000
			count := simulate(t, p, st, picks, 200, tc.exclude)
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
				got := float64(count[i]) / picks
				if math.Abs(got-want) > 0.05*want {
					t.Errorf("target %d (weight %d): share %.4f, want %.4f ±5%%", i, w, got, want)
				}
			}
		})
	}
}

func TestPickAvoidsLoadedTarget(t *testing.T) {
	tests := []struct {
		name     string
		weights  []int
		inflight []int
		maxShare []float64 // per target, over many picks with no completions
	}{
		// The loaded target loses every comparison it takes part in.
		{"one busy of four", []int{1, 1, 1, 1}, []int{50, 0, 0, 0}, []float64{0, 1, 1, 1}},
		// Per unit of weight: 8/4 = 2 beats 3/1 = 3.
		{"weight-aware", []int{4, 1}, []int{8, 3}, []float64{1, 0}},
		{"weight-aware tie-free", []int{1, 4}, []int{3, 8}, []float64{0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts, st := targets(tc.weights...)
			for i, n := range tc.inflight {
				for range n {
					st[i].Begin()
				}
			}
			p := mustNew(t, ts, st)
			count := make([]int, len(ts))
			const picks = 10_000
			for range picks {
				i, err := p.Pick(&balancer.Request{})
				if err != nil {
					t.Fatal(err)
				}
				count[i]++
			}
			for i, c := range count {
				if share := float64(c) / picks; share > tc.maxShare[i] {
					t.Errorf("target %d: share %.3f, want ≤ %.3f", i, share, tc.maxShare[i])
				}
			}
		})
	}
}

func TestPickIdleTiesSpreadEvenly(t *testing.T) {
	ts, st := targets(1, 1, 1, 1, 1, 1, 1, 1)
	p := mustNew(t, ts, st)
	count := make([]int, len(ts))
	const picks = 80_000
	for range picks {
		i, _ := p.Pick(&balancer.Request{})
		count[i]++
	}
	for i, c := range count {
		if math.Abs(float64(c)-picks/8) > 0.05*picks/8 {
			t.Errorf("target %d: %d picks, want %d ±5%%", i, c, picks/8)
		}
	}
}

func TestPickExclusion(t *testing.T) {
	ts, st := targets(1, 2, 3, 4, 5)
	p := mustNew(t, ts, st)
	tests := []struct {
		name    string
		exclude balancer.Mask
		only    []int // the possible answers; nil = ErrNoTarget
	}{
		{"all excluded", 0b11111, nil},
		{"excess bits ignored but all excluded", ^balancer.Mask(0), nil},
		{"one left", 0b10111, []int{3}},
		{"two left", 0b01101, []int{1, 4}},
		{"three left, gaps", 0b10010, []int{0, 2, 3}},
		{"bits beyond the snapshot do not matter", ^balancer.Mask(0) &^ 0b11111, []int{0, 1, 2, 3, 4}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seen := map[int]bool{}
			for range 2000 {
				i, err := p.Pick(&balancer.Request{Exclude: tc.exclude})
				if tc.only == nil {
					if !errors.Is(err, balancer.ErrNoTarget) {
						t.Fatalf("Pick = %d, %v; want ErrNoTarget", i, err)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				seen[i] = true
			}
			if tc.only == nil {
				return
			}
			if len(seen) != len(tc.only) {
				t.Errorf("picked %v, want exactly %v", seen, tc.only)
			}
			for _, i := range tc.only {
				if !seen[i] {
					t.Errorf("never picked %d; picked %v", i, seen)
				}
			}
		})
	}
}

func TestNewRejectsBadSnapshots(t *testing.T) {
	ts, st := targets(1, 1)
	if _, err := New(ts, st[:1]); !errors.Is(err, balancer.ErrInvalidSnapshot) {
		t.Errorf("length mismatch: err = %v", err)
	}
	if _, err := New(nil, nil); !errors.Is(err, balancer.ErrInvalidSnapshot) {
		t.Errorf("empty: err = %v", err)
	}
}

func TestPickConcurrent(t *testing.T) {
	ts, st := targets(1, 2, 3, 4, 5, 6, 7, 8)
	p := mustNew(t, ts, st)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			excl := balancer.Mask(0).With(g)
			for range 2000 {
				i, err := p.Pick(&balancer.Request{Exclude: excl})
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
	for i, s := range st {
		if s.InFlight() != 0 {
			t.Errorf("target %d: in flight %d after all done", i, s.InFlight())
		}
	}
}

func BenchmarkPick(b *testing.B) {
	for _, n := range []int{8, 64} {
		w := make([]int, n)
		for i := range w {
			w[i] = 1 + i%4
		}
		ts, st := targets(w...)
		for i, s := range st {
			for range i % 5 {
				s.Begin()
			}
		}
		p, err := New(ts, st, WithSeed(1))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("targets=%d/serial", n), func(b *testing.B) {
			b.ReportAllocs()
			r := &balancer.Request{Exclude: balancer.Mask(0).With(1)}
			for b.Loop() {
				if _, err := p.Pick(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("targets=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := &balancer.Request{Exclude: balancer.Mask(0).With(1)}
				for pb.Next() {
					if _, err := p.Pick(r); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
