package hybrid

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

var t0 = time.Unix(1_000_000, 0)

type spec struct {
	in, out float64 // prices
	quality float64
	weight  int
	latMs   float64 // observed at t0; 0 = never called
	ttftMs  float64
}

func build(t testing.TB, specs []spec, opts ...Option) (*Picker, []balancer.Target, []*balancer.Stats) {
	t.Helper()
	ts := make([]balancer.Target, len(specs))
	st := make([]*balancer.Stats, len(specs))
	for i, s := range specs {
		ts[i] = balancer.Target{ID: fmt.Sprintf("t%d", i), Weight: s.weight, Quality: s.quality, InputPrice: s.in, OutputPrice: s.out}
		st[i] = new(balancer.Stats)
		if s.latMs > 0 {
			observe(st[i], t0, s.latMs, s.ttftMs, false)
		}
	}
	p, err := New(ts, st, append([]Option{WithSeed(11)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return p, ts, st
}

func observe(s *balancer.Stats, at time.Time, latMs, ttftMs float64, failed bool) {
	s.Begin()
	s.Done(at, balancer.DoneInfo{
		Latency: time.Duration(latMs * float64(time.Millisecond)),
		TTFT:    time.Duration(ttftMs * float64(time.Millisecond)),
		Failed:  failed,
	})
}

func pick(t testing.TB, p *Picker, r balancer.Request) int {
	t.Helper()
	i, err := p.Pick(&r)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func TestPickBest(t *testing.T) {
	req := balancer.Request{Tokens: 1000, OutTokens: 500, Now: t0.Add(time.Second)}
	tests := []struct {
		name  string
		specs []spec
		opts  []Option
		req   *balancer.Request
		want  int
	}{
		{
			name:  "cheaper wins when latency is equal",
			specs: []spec{{in: 3, out: 15, latMs: 800}, {in: 0.15, out: 0.6, latMs: 800}, {in: 1, out: 4, latMs: 800}},
			want:  1,
		},
		{
			name:  "faster wins when prices are equal",
			specs: []spec{{in: 1, out: 2, latMs: 900}, {in: 1, out: 2, latMs: 300}, {in: 1, out: 2, latMs: 600}},
			want:  1,
		},
		{
			name:  "latency only: faster beats much cheaper",
			specs: []spec{{in: 0.1, out: 0.1, latMs: 900}, {in: 10, out: 30, latMs: 300}},
			opts:  []Option{LatencyOnly()},
			want:  1,
		},
		{
			name:  "cost only: cheaper beats much faster",
			specs: []spec{{in: 0.1, out: 0.1, latMs: 900}, {in: 10, out: 30, latMs: 300}},
			opts:  []Option{CostOnly()},
			want:  0,
		},
		{
			// 0.4·(1/2) + 0.3·1 = 0.5 against 0.4·1 + 0.3·0.1 = 0.43.
			name:  "defaults trade cost against latency",
			specs: []spec{{in: 1, out: 1, latMs: 1000}, {in: 2, out: 2, latMs: 100}},
			want:  1,
		},
		{
			name:  "higher quality wins when all else is equal",
			specs: []spec{{in: 1, out: 1, latMs: 500, quality: 0.7}, {in: 1, out: 1, latMs: 500, quality: 0.9}},
			want:  1,
		},
		{
			name:  "output price counts by expected output size",
			specs: []spec{{in: 1, out: 10, latMs: 500}, {in: 3, out: 1, latMs: 500}},
			req:   &balancer.Request{Tokens: 100, OutTokens: 1000, Now: t0},
			want:  1,
		},
		{
			name:  "input price counts by prompt size",
			specs: []spec{{in: 1, out: 10, latMs: 500}, {in: 3, out: 1, latMs: 500}},
			req:   &balancer.Request{Tokens: 100_000, OutTokens: 10, Now: t0},
			want:  0,
		},
		{
			name:  "no size estimate: prices weigh equally",
			specs: []spec{{in: 1, out: 10, latMs: 500}, {in: 3, out: 1, latMs: 500}},
			req:   &balancer.Request{Now: t0},
			want:  1,
		},
		{
			name:  "time to first token counts in the latency term",
			specs: []spec{{latMs: 1000, ttftMs: 900}, {latMs: 1000, ttftMs: 100}},
			opts:  []Option{LatencyOnly()},
			want:  1,
		},
		{
			name:  "all weight on TTFT ignores whole-call latency",
			specs: []spec{{latMs: 100, ttftMs: 90}, {latMs: 5000, ttftMs: 50}},
			opts:  []Option{LatencyOnly(), WithTTFTShare(1)},
			want:  1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, _ := build(t, tc.specs, tc.opts...)
			r := req
			if tc.req != nil {
				r = *tc.req
			}
			for range 100 {
				if got := pick(t, p, r); got != tc.want {
					t.Fatalf("Pick = %d, want %d", got, tc.want)
				}
			}
		})
	}
}

func TestUnknownLatencyIsTheMean(t *testing.T) {
	p, ts, _ := build(t, []spec{{latMs: 100}, {latMs: 300}, {latMs: 500}, {}}, LatencyOnly())
	tests := []struct {
		name    string
		exclude balancer.Mask
		want    []float64 // per target; NaN = excluded
	}{
		// Scaled by the slowest known (500); the new one gets the mean, 300.
		{"all candidates", 0, []float64{0.2, 0.6, 1, 0.6}},
		// Among 300 and 500 only: the mean is 400, the max 500.
		{"fastest excluded", 0b0001, []float64{math.NaN(), 0.6, 1, 0.8}},
		// Among 100 and 300: the max becomes 300, the mean 200.
		{"slowest excluded", 0b0100, []float64{1.0 / 3, 1, math.NaN(), 2.0 / 3}},
		{"only the new one and the slowest", 0b0011, []float64{math.NaN(), math.NaN(), 1, 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			scores := map[string]float64{}
			p.Scores(&balancer.Request{Now: t0, Exclude: tc.exclude}, scores)
			for i, w := range tc.want {
				got, ok := scores[ts[i].ID]
				if math.IsNaN(w) {
					if ok {
						t.Errorf("excluded %s scored %v", ts[i].ID, got)
					}
					continue
				}
				if !ok || math.Abs(got-w) > 1e-9 {
					t.Errorf("score[%s] = %v (present %v), want %v", ts[i].ID, got, ok, w)
				}
			}
		})
	}
	t.Run("a new cheap target is tried", func(t *testing.T) {
		// Costs 1, .2, .2 and latencies 100, 1000, mean 550 (scaled by
		// 1000): 0.43, 0.38 and 0.245 with the default weights.
		p, _, _ := build(t, []spec{{in: 5, out: 5, latMs: 100}, {in: 1, out: 1, latMs: 1000}, {in: 1, out: 1}})
		if got := pick(t, p, balancer.Request{Now: t0}); got != 2 {
			t.Errorf("Pick = %d, want the new target 2", got)
		}
	})
}

func TestViewRefresh(t *testing.T) {
	tests := []struct {
		name    string
		refresh time.Duration
		later   time.Duration // when target 0's slow call is read back
		want    int
	}{
		{"within the interval the view is reused", DefaultRefresh, DefaultRefresh / 2, 0},
		{"after the interval it is refreshed", DefaultRefresh, DefaultRefresh, 1},
		{"refresh 0 reads stats on every pick", 0, 0, 1},
		{"an older request reuses a newer view", DefaultRefresh, -time.Second, 0},
		{"a clock stepped back refreshes", DefaultRefresh, -2 * maxBackstep, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, _, st := build(t, []spec{{latMs: 100}, {latMs: 200}}, LatencyOnly(), WithRefresh(tc.refresh))
			if got := pick(t, p, balancer.Request{Now: t0}); got != 0 {
				t.Fatalf("first Pick = %d, want 0", got)
			}
			observe(st[0], t0, 5000, 0, false) // peak EWMA: 5 s at once
			if got := pick(t, p, balancer.Request{Now: t0.Add(tc.later)}); got != tc.want {
				t.Errorf("Pick = %d, want %d", got, tc.want)
			}
		})
	}
}

func TestStaleLatencyDecays(t *testing.T) {
	p, _, st := build(t, []spec{{latMs: 2000}, {latMs: 500}}, LatencyOnly())
	// Target 1 keeps being used and stays at 500 ms; target 0 was slow once.
	tests := []struct {
		after time.Duration
		want  int
	}{
		{time.Second, 1},
		{10 * time.Second, 1},
		{20 * time.Second, 1}, // 2000·e⁻¹ ≈ 736 ms, still slower
		{time.Minute, 0},      // 2000·e⁻⁵ ≈ 13 ms: worth another try
		{10 * time.Minute, 0},
	}
	for _, tc := range tests {
		t.Run(tc.after.String(), func(t *testing.T) {
			now := t0.Add(tc.after)
			observe(st[1], now, 500, 0, false)
			if got := pick(t, p, balancer.Request{Now: now}); got != tc.want {
				t.Errorf("Pick = %d, want %d (latencies %.0f / %.0f ms)", got, tc.want, st[0].LatencyMs(now), st[1].LatencyMs(now))
			}
		})
	}
}

func TestScoresMatchPick(t *testing.T) {
	p, ts, _ := build(t, []spec{
		{in: 2, out: 8, latMs: 700, quality: 0.8},
		{in: 0.5, out: 1.5, latMs: 1200, quality: 0.6},
		{in: 5, out: 15, latMs: 400, quality: 0.95},
		{in: 1, out: 3, quality: 0.7},
	})
	tests := []struct {
		name    string
		exclude balancer.Mask
	}{
		{"all", 0},
		{"one excluded", balancer.Mask(0).With(1)},
		{"two excluded", balancer.Mask(0).With(0).With(2)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := balancer.Request{Tokens: 2000, OutTokens: 400, Now: t0, Exclude: tc.exclude}
			scores := map[string]float64{}
			p.Scores(&r, scores)
			best, bs := -1, math.Inf(1)
			for i, tg := range ts {
				s, ok := scores[tg.ID]
				if ok == tc.exclude.Has(i) {
					t.Fatalf("score for %s present=%v, excluded=%v", tg.ID, ok, tc.exclude.Has(i))
				}
				if ok && (s < 0 || s > 1) {
					t.Errorf("score[%s] = %v outside [0,1] (weights sum to 1)", tg.ID, s)
				}
				if ok && s < bs {
					best, bs = i, s
				}
			}
			if got := pick(t, p, r); got != best {
				t.Errorf("Pick = %d, lowest score is %d (%v)", got, best, scores)
			}
		})
	}
}

// reference scores candidates straight from the definition in the package
// comment, reading Stats directly.
func reference(ts []balancer.Target, st []*balancer.Stats, w weights, ttft float64, r balancer.Request) map[string]float64 {
	tin, tout := float64(r.Tokens), float64(r.OutTokens)
	if tin == 0 && tout == 0 {
		tin, tout = 1, 1
	}
	var maxCost, maxLat, maxLoad, sum float64
	known := 0
	lat := make([]float64, len(ts))
	for i, t := range ts {
		if r.Exclude.Has(i) {
			continue
		}
		maxCost = max(maxCost, t.InputPrice*tin+t.OutputPrice*tout)
		l, f := st[i].LatencyMs(r.Now), st[i].TTFTMs(r.Now)
		switch {
		case l > 0 && f > 0:
			lat[i] = (1-ttft)*l + ttft*f
		case l > 0:
			lat[i] = l
		default:
			lat[i] = f
		}
		if lat[i] > 0 {
			maxLat = max(maxLat, lat[i])
			sum += lat[i]
			known++
		}
		maxLoad = max(maxLoad, float64(st[i].InFlight())/float64(max(t.Weight, 1)))
	}
	norm := func(v, m float64) float64 {
		if m == 0 {
			return 0
		}
		return v / m
	}
	out := map[string]float64{}
	for i, t := range ts {
		if r.Exclude.Has(i) {
			continue
		}
		l := lat[i]
		if l == 0 && known > 0 {
			l = sum / float64(known)
		}
		out[t.ID] = w.cost*norm(t.InputPrice*tin+t.OutputPrice*tout, maxCost) +
			w.latency*norm(l, maxLat) +
			w.quality*(1-t.Quality) +
			w.errRate*st[i].ErrorRate(r.Now) +
			w.load*norm(float64(st[i].InFlight())/float64(max(t.Weight, 1)), maxLoad)
	}
	return out
}

func TestScoresMatchReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for trial := range 300 {
		n := 2 + rng.IntN(balancer.MaxTargets-1)
		specs := make([]spec, n)
		for i := range specs {
			specs[i] = spec{in: float64(rng.IntN(20)) / 4, out: float64(rng.IntN(40)) / 4, quality: rng.Float64(), weight: 1 + rng.IntN(4)}
			if rng.IntN(4) != 0 {
				specs[i].latMs = 50 + 2000*rng.Float64()
			}
			if rng.IntN(2) == 0 {
				specs[i].ttftMs = 10 + 500*rng.Float64()
			}
		}
		w := weights{rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64(), rng.Float64()}
		if trial%3 == 0 {
			w.load = 0 // the paths without a load term
		}
		share := rng.Float64()
		p, ts, st := build(t, specs, WithWeights(w.cost, w.latency, w.quality, w.errRate, w.load), WithTTFTShare(share))
		for i := range st {
			for range rng.IntN(5) {
				st[i].Begin()
			}
			if rng.IntN(3) == 0 {
				observe(st[i], t0.Add(time.Second), 300, 0, true)
			}
		}
		var excl balancer.Mask
		for range rng.IntN(4) {
			excl = excl.With(rng.IntN(n))
		}
		if trial%5 == 0 {
			excl = 0
		}
		r := balancer.Request{Tokens: rng.IntN(3000), OutTokens: rng.IntN(1000), Now: t0.Add(2 * time.Second), Exclude: excl}
		got := map[string]float64{}
		p.Scores(&r, got)
		want := reference(ts, st, w, share, r)
		if len(got) != len(want) {
			t.Fatalf("trial %d: %d scores, want %d", trial, len(got), len(want))
		}
		if len(want) == 0 {
			if _, err := p.Pick(&r); !errors.Is(err, balancer.ErrNoTarget) {
				t.Fatalf("trial %d: all excluded, err = %v", trial, err)
			}
			continue
		}
		bs := math.Inf(1)
		for id, wv := range want {
			if math.Abs(got[id]-wv) > 1e-9 {
				t.Fatalf("trial %d (exclude %b): score[%s] = %v, want %v", trial, excl, id, got[id], wv)
			}
			bs = min(bs, wv)
		}
		i := pick(t, p, r)
		if math.Abs(want[ts[i].ID]-bs) > 1e-9 {
			t.Fatalf("trial %d: picked %s scoring %v, best is %v", trial, ts[i].ID, want[ts[i].ID], bs)
		}
	}
}

func TestErrorRateAndLoadTerms(t *testing.T) {
	t.Run("error rate steers away when weighted", func(t *testing.T) {
		p, _, st := build(t, []spec{{latMs: 500}, {latMs: 500}}, WithWeights(0, 0.5, 0, 0.5, 0))
		for k := range 5 {
			observe(st[0], t0.Add(time.Duration(k)*time.Millisecond), 500, 0, true)
		}
		if got := pick(t, p, balancer.Request{Now: t0.Add(time.Second)}); got != 1 {
			t.Errorf("Pick = %d, want the target without failures", got)
		}
	})
	t.Run("load per unit of weight", func(t *testing.T) {
		p, _, st := build(t, []spec{{weight: 4}, {weight: 1}}, WithWeights(0, 0, 0, 0, 1))
		for range 8 {
			st[0].Begin() // 8/4 = 2
		}
		for range 3 {
			st[1].Begin() // 3/1 = 3
		}
		if got := pick(t, p, balancer.Request{Now: t0}); got != 0 {
			t.Errorf("Pick = %d, want 0", got)
		}
	})
}

// With all weight on load, shares under a steady in-flight pool follow the
// targets' weights; with everything equal, ties spread evenly.
func TestDistribution(t *testing.T) {
	tests := []struct {
		name    string
		weights []int
		opts    []Option
		slots   int
	}{
		{"ties spread evenly", []int{1, 1, 1, 1, 1}, nil, 0},
		{"load term follows weights", []int{1, 2, 3, 4}, []Option{WithWeights(0, 0, 0, 0, 1)}, 100},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			specs := make([]spec, len(tc.weights))
			total := 0
			for i, w := range tc.weights {
				specs[i] = spec{in: 1, out: 1, weight: w, latMs: 500}
				total += w
			}
			p, _, st := build(t, specs, tc.opts...)
			rng := rand.New(rand.NewPCG(1, 2))
			count := make([]int, len(specs))
			var running []int
			const picks = 100_000
			for range picks {
				if tc.slots > 0 && len(running) == tc.slots {
					k := rng.IntN(len(running))
					st[running[k]].Done(t0, balancer.DoneInfo{Latency: 500 * time.Millisecond})
					running[k] = running[len(running)-1]
					running = running[:len(running)-1]
				}
				i := pick(t, p, balancer.Request{Now: t0})
				count[i]++
				if tc.slots > 0 {
					st[i].Begin()
					running = append(running, i)
				}
			}
			for i, w := range tc.weights {
				want := float64(w) / float64(total)
				if tc.slots == 0 {
					want = 1 / float64(len(tc.weights))
				}
				if got := float64(count[i]) / picks; math.Abs(got-want) > 0.05*want {
					t.Errorf("target %d: share %.4f, want %.4f ±5%%", i, got, want)
				}
			}
		})
	}
}

func TestPickExclusion(t *testing.T) {
	p, _, _ := build(t, []spec{{in: 1, latMs: 100}, {in: 2, latMs: 200}, {in: 3, latMs: 300}})
	tests := []struct {
		name    string
		exclude balancer.Mask
		want    int // -1: ErrNoTarget
	}{
		{"best excluded", 0b001, 1},
		{"two best excluded", 0b011, 2},
		{"all excluded", 0b111, -1},
		{"everything excluded", ^balancer.Mask(0), -1},
		{"bits past the snapshot ignored", ^balancer.Mask(0) &^ 0b111, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			i, err := p.Pick(&balancer.Request{Now: t0, Exclude: tc.exclude})
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

func TestZeroNowUsesClock(t *testing.T) {
	clock := t0
	p, _, st := build(t, []spec{{latMs: 2000}, {latMs: 500}}, LatencyOnly(), WithClock(func() time.Time { return clock }))
	// A minute on, target 0's slow sample has decayed to ~13 ms while
	// target 1 has just been seen at 500 ms.
	clock = t0.Add(time.Minute)
	observe(st[1], clock, 500, 0, false)
	for range 20 {
		if got := pick(t, p, balancer.Request{}); got != 0 {
			t.Fatalf("Pick = %d, want 0 (clock not used?)", got)
		}
	}
}

func TestNewValidates(t *testing.T) {
	ts := []balancer.Target{{ID: "a"}, {ID: "b"}}
	st := []*balancer.Stats{new(balancer.Stats), new(balancer.Stats)}
	tests := []struct {
		name string
		st   []*balancer.Stats
		opts []Option
	}{
		{"length mismatch", st[:1], nil},
		{"negative weight", st, []Option{WithWeights(1, -1, 0, 0, 0)}},
		{"NaN weight", st, []Option{WithWeights(math.NaN(), 1, 0, 0, 0)}},
		{"infinite weight", st, []Option{WithWeights(math.Inf(1), 1, 0, 0, 0)}},
		{"all zero", st, []Option{WithWeights(0, 0, 0, 0, 0)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(ts, tc.st, tc.opts...); !errors.Is(err, balancer.ErrInvalidSnapshot) {
				t.Fatalf("err = %v, want ErrInvalidSnapshot", err)
			}
		})
	}
}

func TestPickDoesNotAllocate(t *testing.T) {
	p, _, _ := build(t, manySpecs(balancer.MaxTargets))
	r := &balancer.Request{Tokens: 100, OutTokens: 100, Now: t0, Exclude: 0b100}
	if a := testing.AllocsPerRun(100, func() { _, _ = p.Pick(r) }); a != 0 {
		t.Errorf("Pick allocates %v times", a)
	}
}

func TestPickConcurrent(t *testing.T) {
	p, _, st := build(t, manySpecs(16), WithWeights(0.3, 0.3, 0.2, 0.1, 0.1))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			excl := balancer.Mask(0).With(g)
			for k := range 2000 {
				now := t0.Add(time.Duration(k) * time.Millisecond)
				i, err := p.Pick(&balancer.Request{Tokens: 10, Now: now, Exclude: excl})
				if err != nil || excl.Has(i) {
					t.Errorf("Pick = %d, %v with %d excluded", i, err, g)
					return
				}
				st[i].Begin()
				st[i].Done(now, balancer.DoneInfo{Latency: time.Duration(100+g) * time.Millisecond, Failed: k%10 == 0})
				p.Scores(&balancer.Request{Now: now}, map[string]float64{})
			}
		}()
	}
	wg.Wait()
}

func manySpecs(n int) []spec {
	specs := make([]spec, n)
	for i := range specs {
		specs[i] = spec{in: float64(1 + i%5), out: float64(2 + i%7), quality: 0.5 + float64(i%4)/10, weight: 1 + i%3}
		if i%4 != 0 {
			specs[i].latMs, specs[i].ttftMs = float64(200+37*i), float64(50+11*i)
		}
	}
	return specs
}

func BenchmarkPick(b *testing.B) {
	for _, n := range []int{8, 64} {
		p, _, st := build(b, manySpecs(n))
		for i, s := range st {
			for range i % 3 {
				s.Begin()
			}
		}
		for _, mode := range []struct {
			name    string
			exclude balancer.Mask
		}{
			{"", 0},
			// A retry or an open breaker: the candidates' maxima are
			// recomputed, two passes instead of one.
			{"/excluded=1", balancer.Mask(0).With(3)},
		} {
			b.Run(fmt.Sprintf("targets=%d%s/serial", n, mode.name), func(b *testing.B) {
				b.ReportAllocs()
				r := &balancer.Request{Tokens: 1500, OutTokens: 300, Now: t0.Add(time.Second), Exclude: mode.exclude}
				for b.Loop() {
					if _, err := p.Pick(r); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("targets=%d%s/parallel", n, mode.name), func(b *testing.B) {
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					r := &balancer.Request{Tokens: 1500, OutTokens: 300, Now: t0.Add(time.Second), Exclude: mode.exclude}
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
}

// BenchmarkRefresh is the cost one pick pays every refresh interval.
func BenchmarkRefresh(b *testing.B) {
	p, _, _ := build(b, manySpecs(balancer.MaxTargets))
	b.ReportAllocs()
	now := t0.UnixNano()
	for b.Loop() {
		now += int64(DefaultRefresh)
		p.maybeRefresh(now)
	}
}

func BenchmarkScores(b *testing.B) {
	p, _, _ := build(b, manySpecs(balancer.MaxTargets))
	dst := make(map[string]float64, balancer.MaxTargets)
	r := &balancer.Request{Tokens: 1500, OutTokens: 300, Now: t0.Add(time.Second)}
	b.ReportAllocs()
	for b.Loop() {
		p.Scores(r, dst)
	}
}
