package weighted

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

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

func mustNew(t testing.TB, weights ...int) *Picker {
	t.Helper()
	ts, st := targets(weights...)
	p, err := New(ts, st, WithSeed(0))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCycleIsSmooth(t *testing.T) {
	tests := []struct {
		weights []int64
		want    string
	}{
		{[]int64{5, 1, 1}, "aabacaa"}, // nginx's documented example
		{[]int64{1, 1, 1}, "abc"},
		{[]int64{2, 4}, "bab"}, // divided by the GCD first
		{[]int64{3, 2}, "abab" + "a"},
		{[]int64{1}, "a"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.weights), func(t *testing.T) {
			seq := cycle(tc.weights)
			got := make([]byte, len(seq))
			for k, i := range seq {
				got[k] = 'a' + i
			}
			if string(got) != tc.want {
				t.Errorf("cycle = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestCycleApportionsLargeSums(t *testing.T) {
	w := []int64{balancer.MaxWeight, balancer.MaxWeight / 3, 7, 1, balancer.MaxWeight - 1}
	var sum int64
	for _, v := range w {
		sum += v
	}
	seq := cycle(w)
	if len(seq) != MaxCycle {
		t.Fatalf("cycle length %d, want %d", len(seq), MaxCycle)
	}
	count := make([]int, len(w))
	for _, i := range seq {
		count[i]++
	}
	for i, v := range w {
		want := float64(v) / float64(sum) * MaxCycle
		if count[i] < 1 || math.Abs(float64(count[i])-want) > 1 {
			t.Errorf("target %d: %d slots, want %.2f (±1, at least 1)", i, count[i], want)
		}
	}
}

func TestPickFollowsWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		exclude balancer.Mask
		tol     float64 // relative
	}{
		{"equal", []int{1, 1, 1, 1}, 0, 0.001},
		{"weighted", []int{1, 2, 3, 4, 10}, 0, 0.001},
		{"zero weight means 1", []int{0, 1, 2}, 0, 0.001},
		// The excluded target's slots go to the others by weight, at random.
		{"heaviest excluded", []int{1, 2, 3, 4, 10}, balancer.Mask(0).With(4), 0.03},
		{"light excluded", []int{1, 2, 3, 4, 10}, balancer.Mask(0).With(0), 0.03},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustNew(t, tc.weights...)
			const picks = 100_000
			count := make([]int, len(tc.weights))
			for range picks {
				i, err := p.Pick(&balancer.Request{Exclude: tc.exclude})
				if err != nil {
					t.Fatal(err)
				}
				count[i]++
			}
			total := 0
			for i, w := range tc.weights {
				if !tc.exclude.Has(i) {
					total += max(w, 1)
				}
			}
			for i, w := range tc.weights {
				if tc.exclude.Has(i) {
					if count[i] != 0 {
						t.Errorf("excluded %d picked %d times", i, count[i])
					}
					continue
				}
				want := float64(max(w, 1)) / float64(total)
				if got := float64(count[i]) / picks; math.Abs(got-want) > tc.tol*want+1e-4 {
					t.Errorf("target %d: share %.4f, want %.4f", i, got, want)
				}
			}
		})
	}
}

func TestPickExclusion(t *testing.T) {
	p := mustNew(t, 3, 1, 1)
	tests := []struct {
		name    string
		exclude balancer.Mask
		only    int // -1: ErrNoTarget
	}{
		{"all", 0b111, -1},
		{"everything", ^balancer.Mask(0), -1},
		{"one left", 0b011, 2},
		{"only the heavy one left", 0b110, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for range 50 {
				i, err := p.Pick(&balancer.Request{Exclude: tc.exclude})
				if tc.only < 0 {
					if !errors.Is(err, balancer.ErrNoTarget) {
						t.Fatalf("Pick = %d, %v; want ErrNoTarget", i, err)
					}
					continue
				}
				if err != nil || i != tc.only {
					t.Fatalf("Pick = %d, %v; want %d", i, err, tc.only)
				}
			}
		})
	}
}

func TestSeedsStartAtDifferentPoints(t *testing.T) {
	ts, st := targets(1, 1, 1, 1, 1, 1, 1, 1)
	first := map[int]bool{}
	for seed := range uint64(16) {
		p, err := New(ts, st, WithSeed(seed))
		if err != nil {
			t.Fatal(err)
		}
		i, _ := p.Pick(&balancer.Request{})
		first[i] = true
	}
	if len(first) < 3 {
		t.Errorf("16 seeds opened with only %v", first)
	}
}

// Concurrent picks share one counter: over whole cycles every target gets
// exactly its weight, however the goroutines interleave.
func TestPickConcurrentExact(t *testing.T) {
	weights := []int{1, 2, 3, 4, 5, 6, 7, 8} // cycle of 36
	p := mustNew(t, weights...)
	const goroutines, each = 8, 36 * 250
	counts := make([][]int, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts[g] = make([]int, len(weights))
			for range each {
				i, err := p.Pick(&balancer.Request{})
				if err != nil {
					t.Error(err)
					return
				}
				counts[g][i]++
			}
		}()
	}
	wg.Wait()
	for i, w := range weights {
		total := 0
		for g := range goroutines {
			total += counts[g][i]
		}
		if want := w * goroutines * each / 36; total != want {
			t.Errorf("target %d: %d picks, want exactly %d", i, total, want)
		}
	}
}

func TestNewValidates(t *testing.T) {
	ts, st := targets(1, 2)
	if _, err := New(ts, st[:1]); !errors.Is(err, balancer.ErrInvalidSnapshot) {
		t.Errorf("err = %v, want ErrInvalidSnapshot", err)
	}
	ts[0].Weight = -1
	if _, err := New(ts, st); !errors.Is(err, balancer.ErrInvalidSnapshot) {
		t.Errorf("negative weight: err = %v, want ErrInvalidSnapshot", err)
	}
}

func BenchmarkPick(b *testing.B) {
	for _, n := range []int{8, 64} {
		w := make([]int, n)
		for i := range w {
			w[i] = 1 + i%5
		}
		ts, st := targets(w...)
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
