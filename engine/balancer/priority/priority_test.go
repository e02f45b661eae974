package priority

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"testing"

	"github.com/switchyard/switchyard/engine/balancer"
)

type tgt struct{ prio, weight int }

func build(t testing.TB, specs ...tgt) *Picker {
	t.Helper()
	ts := make([]balancer.Target, len(specs))
	st := make([]*balancer.Stats, len(specs))
	for i, s := range specs {
		ts[i] = balancer.Target{ID: fmt.Sprintf("t%d", i), Priority: s.prio, Weight: s.weight}
		st[i] = new(balancer.Stats)
	}
	p, err := New(ts, st, WithSeed(3))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestPickShares(t *testing.T) {
	tests := []struct {
		name    string
		specs   []tgt
		exclude balancer.Mask
		want    []float64 // share per target
	}{
		{"lowest priority takes all", []tgt{{2, 1}, {0, 1}, {1, 1}}, 0, []float64{0, 1, 0}},
		{"ties split by weight", []tgt{{1, 1}, {0, 1}, {0, 3}, {1, 5}}, 0, []float64{0, 0.25, 0.75, 0}},
		{"failover to the next tier", []tgt{{1, 1}, {0, 1}, {0, 3}, {1, 5}}, 0b0110, []float64{1.0 / 6, 0, 0, 5.0 / 6}},
		{"tier partly excluded", []tgt{{0, 1}, {0, 2}, {0, 3}, {1, 1}}, 0b0100, []float64{1.0 / 3, 2.0 / 3, 0, 0}},
		{"negative priorities come first", []tgt{{0, 1}, {-5, 1}}, 0, []float64{0, 1}},
		{"listed order does not matter", []tgt{{3, 1}, {1, 1}, {2, 1}, {1, 1}}, 0b0010, []float64{0, 0, 0, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := build(t, tc.specs...)
			const picks = 100_000
			count := make([]int, len(tc.specs))
			for range picks {
				i, err := p.Pick(&balancer.Request{Exclude: tc.exclude})
				if err != nil {
					t.Fatal(err)
				}
				count[i]++
			}
			for i, w := range tc.want {
				if got := float64(count[i]) / picks; math.Abs(got-w) > 0.01 {
					t.Errorf("target %d: share %.4f, want %.4f", i, got, w)
				}
			}
		})
	}
}

func TestPickExclusion(t *testing.T) {
	p := build(t, tgt{0, 1}, tgt{0, 1}, tgt{1, 1})
	for _, excl := range []balancer.Mask{0b111, ^balancer.Mask(0)} {
		if i, err := p.Pick(&balancer.Request{Exclude: excl}); !errors.Is(err, balancer.ErrNoTarget) {
			t.Errorf("exclude %b: Pick = %d, %v; want ErrNoTarget", excl, i, err)
		}
	}
}

func TestNewValidates(t *testing.T) {
	ts := []balancer.Target{{ID: "a"}, {ID: "b"}}
	if _, err := New(ts, []*balancer.Stats{new(balancer.Stats)}); !errors.Is(err, balancer.ErrInvalidSnapshot) {
		t.Errorf("err = %v, want ErrInvalidSnapshot", err)
	}
}

func TestPickConcurrent(t *testing.T) {
	p := build(t, tgt{0, 1}, tgt{0, 2}, tgt{1, 1}, tgt{1, 1}, tgt{2, 1})
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			excl := balancer.Mask(0).With(g % 5)
			for range 5000 {
				i, err := p.Pick(&balancer.Request{Exclude: excl})
				// One exclusion never empties tier 0 ({0, 1}).
				if err != nil || excl.Has(i) || i > 1 {
					t.Errorf("Pick = %d, %v with exclude %b", i, err, excl)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func BenchmarkPick(b *testing.B) {
	for _, n := range []int{8, 64} {
		specs := make([]tgt, n)
		for i := range specs {
			specs[i] = tgt{prio: i % 4, weight: 1 + i%3}
		}
		p := build(b, specs...)
		// The first tier partly excluded: the exclusion is translated.
		excl := balancer.Mask(0).With(0)
		b.Run(fmt.Sprintf("targets=%d/serial", n), func(b *testing.B) {
			b.ReportAllocs()
			r := &balancer.Request{Exclude: excl}
			for b.Loop() {
				if _, err := p.Pick(r); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(fmt.Sprintf("targets=%d/parallel", n), func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				r := &balancer.Request{Exclude: excl}
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
