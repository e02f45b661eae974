// Package hybrid scores every candidate on cost, latency, quality, error
// rate and load, and picks the lowest score. The latency_priority and
// cost_priority strategies are this policy with all weight on one term
// (LatencyOnly, CostOnly).
//
// Each term is scaled to [0,1] across the candidates of the pick:
//   - cost, latency and load are divided by their largest value among the
//     candidates, so ratios survive (a target twice as expensive scores
//     twice as high) and a tiny absolute gap is not blown up to the full
//     range the way min-max scaling would;
//   - error rate and 1 − quality are already fractions on an absolute
//     scale and are used as they are.
//
// Latency is the target's peak-EWMA latency blended with its time to first
// token; a target with no observation yet is given the candidates' mean, so
// new targets are tried rather than starved or flooded. Stale observations
// decay (see balancer.Stats), so a target that was slow long ago is
// eventually tried again.
//
// The error-rate term is 0 by default: failing targets are normally removed
// by the circuit breakers (Request.Exclude) long before a soft penalty
// would matter. Give it weight to also steer away from flaky-but-open ones.
package hybrid

import (
	"fmt"
	"math"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
)

// Default term weights.
const (
	DefaultCost    = 0.4
	DefaultLatency = 0.3
	DefaultQuality = 0.3
	// DefaultTTFTShare is how much of the latency term is time to first token
	// when both are known: what a streaming user waits for before anything
	// shows, versus the whole call.
	DefaultTTFTShare = 0.5
)

// Option configures a Picker.
type Option func(*config)

type weights struct{ cost, latency, quality, errRate, load float64 }

type config struct {
	w      weights
	ttft   float64
	seed   uint64
	seeded bool
	now    func() time.Time
}

// WithWeights sets the weight of each term. Weights must be ≥ 0, finite and
// not all zero; only their ratios matter.
func WithWeights(cost, latency, quality, errorRate, load float64) Option {
	return func(c *config) { c.w = weights{cost, latency, quality, errorRate, load} }
}

// LatencyOnly is the latency_priority strategy: the fastest target wins.
func LatencyOnly() Option { return WithWeights(0, 1, 0, 0, 0) }

// CostOnly is the cost_priority strategy: the cheapest target wins.
func CostOnly() Option { return WithWeights(1, 0, 0, 0, 0) }

// WithTTFTShare sets the share of time to first token in the latency term,
// clamped to [0,1].
func WithTTFTShare(f float64) Option { return func(c *config) { c.ttft = f } }

// WithSeed fixes the random stream that breaks ties.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed, c.seeded = seed, true } }

// WithClock sets the clock used when Request.Now is zero (time.Now by default).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Picker is an immutable snapshot of targets and term weights.
type Picker struct {
	ids     []string
	inPrice []float64
	outPric []float64
	base    []float64 // the quality term, weighted: constant per target
	invW    []float64 // 1/weight for the load term
	stats   []*balancer.Stats
	all     balancer.Mask
	w       weights
	ttft    float64
	now     func() time.Time
	_       [64]byte
	rnd     atomic.Uint64 // only touched when scores tie
	_       [56]byte
}

var (
	_ balancer.Picker = (*Picker)(nil)
	_ balancer.Scorer = (*Picker)(nil)
)

// New builds a picker over targets, stats[i] being targets[i]'s live stats.
func New(targets []balancer.Target, stats []*balancer.Stats, opts ...Option) (*Picker, error) {
	ts, err := balancer.Snapshot(targets, stats)
	if err != nil {
		return nil, err
	}
	c := config{
		w:    weights{cost: DefaultCost, latency: DefaultLatency, quality: DefaultQuality},
		ttft: DefaultTTFTShare,
		now:  time.Now,
	}
	for _, o := range opts {
		o(&c)
	}
	sum := 0.0
	for _, v := range []float64{c.w.cost, c.w.latency, c.w.quality, c.w.errRate, c.w.load} {
		if !(v >= 0) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: hybrid weight %v, want finite and ≥ 0", balancer.ErrInvalidSnapshot, v)
		}
		sum += v
	}
	if sum == 0 {
		return nil, fmt.Errorf("%w: hybrid weights are all zero", balancer.ErrInvalidSnapshot)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if !c.seeded {
		c.seed = uint64(time.Now().UnixNano())
	}
	if math.IsNaN(c.ttft) {
		c.ttft = DefaultTTFTShare
	}
	n := len(ts)
	p := &Picker{
		ids:     make([]string, n),
		inPrice: make([]float64, n),
		outPric: make([]float64, n),
		base:    make([]float64, n),
		invW:    make([]float64, n),
		stats:   append([]*balancer.Stats(nil), stats...),
		all:     balancer.Mask(1<<uint(n) - 1),
		w:       c.w,
		ttft:    min(max(c.ttft, 0), 1),
		now:     c.now,
	}
	if n == balancer.MaxTargets {
		p.all = ^balancer.Mask(0)
	}
	for i, t := range ts {
		p.ids[i] = t.ID
		p.inPrice[i], p.outPric[i] = t.InputPrice, t.OutputPrice
		p.base[i] = c.w.quality * (1 - t.Quality)
		p.invW[i] = 1 / float64(t.Weight)
	}
	p.rnd.Store(c.seed)
	return p, nil
}

// Pick returns the candidate with the lowest score; equal scores are
// broken at random so equal targets share the traffic.
func (p *Picker) Pick(r *balancer.Request) (int, error) {
	avail := p.all &^ r.Exclude
	if avail == 0 {
		return -1, balancer.ErrNoTarget
	}
	if avail&(avail-1) == 0 {
		return bits.TrailingZeros64(uint64(avail)), nil
	}
	var s [balancer.MaxTargets]float64
	p.score(r, avail, &s)
	best, ties := -1, 0
	var bs float64
	var x uint64
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		switch {
		case best < 0 || s[i] < bs-tieEps:
			best, bs, ties = i, s[i], 1
		case s[i] <= bs+tieEps:
			// Reservoir sampling over the tied: the k-th replaces the
			// choice with odds 1/k. The random stream is only touched here.
			if ties++; ties == 2 {
				x = p.rnd.Add(golden)
			}
			if mix(x+uint64(ties))%uint64(ties) == 0 {
				best = i
			}
			bs = min(bs, s[i])
		}
	}
	return best, nil
}

const tieEps = 1e-9

// Scores writes each candidate's score by target ID (lower is better);
// excluded targets are left out.
func (p *Picker) Scores(r *balancer.Request, dst map[string]float64) {
	avail := p.all &^ r.Exclude
	var s [balancer.MaxTargets]float64
	p.score(r, avail, &s)
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		dst[p.ids[i]] = s[i]
	}
}

// score fills s[i] for every candidate i in avail.
func (p *Picker) score(r *balancer.Request, avail balancer.Mask, s *[balancer.MaxTargets]float64) {
	now := r.Now
	if now.IsZero() {
		now = p.now()
	}
	// Without size estimates, weigh the two prices equally.
	tin, tout := float64(r.Tokens), float64(r.OutTokens)
	if r.Tokens <= 0 && r.OutTokens <= 0 {
		tin, tout = 1, 1
	}
	w := p.w
	// Pass 1: raw terms into s (latency) and the maxima for scaling.
	var maxCost, maxLat, maxLoad, sumLat float64
	known := 0
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		if w.cost != 0 {
			maxCost = max(maxCost, p.inPrice[i]*tin+p.outPric[i]*tout)
		}
		if w.latency != 0 {
			l := p.latency(i, now)
			s[i] = l
			if l > 0 {
				sumLat += l
				known++
				maxLat = max(maxLat, l)
			}
		}
		if w.load != 0 {
			maxLoad = max(maxLoad, float64(p.stats[i].InFlight())*p.invW[i])
		}
	}
	mean := 0.0
	if known > 0 {
		mean = sumLat / float64(known)
	}
	kc, kl, kload := scale(w.cost, maxCost), scale(w.latency, maxLat), scale(w.load, maxLoad)
	// Pass 2: the weighted sum.
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		v := p.base[i]
		if kc != 0 {
			v += kc * (p.inPrice[i]*tin + p.outPric[i]*tout)
		}
		if kl != 0 {
			l := s[i]
			if l <= 0 {
				l = mean
			}
			v += kl * l
		}
		if kload != 0 {
			v += kload * min(float64(p.stats[i].InFlight())*p.invW[i], maxLoad)
		}
		if w.errRate != 0 {
			v += w.errRate * p.stats[i].ErrorRate(now)
		}
		s[i] = v
	}
}

// latency blends whole-call latency with time to first token; 0 = unknown.
func (p *Picker) latency(i int, now time.Time) float64 {
	l, t := p.stats[i].LatencyMs(now), p.stats[i].TTFTMs(now)
	switch {
	case t <= 0:
		return l
	case l <= 0:
		return t
	}
	return (1-p.ttft)*l + p.ttft*t
}

// scale is the factor turning a raw term into its weighted [0,1] share.
func scale(weight, maxRaw float64) float64 {
	if weight == 0 || maxRaw <= 0 {
		return 0
	}
	return weight / maxRaw
}

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 finalizer over an atomic golden-ratio counter.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
