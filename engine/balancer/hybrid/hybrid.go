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
// Reading every target's statistics on every pick would cost about a
// microsecond at 64 targets, ten times the rest of the pick, so the
// stats-derived part of each score is kept in a view refreshed at most every
// WithRefresh interval (20 ms by default), by whichever pick first sees it
// expired. The EWMAs move on a scale of seconds, so this loses nothing that
// matters; the load term, which moves per request, is read fresh.
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
	// DefaultRefresh bounds how stale the stats-derived scores may be.
	DefaultRefresh = 20 * time.Millisecond
)

// Option configures a Picker.
type Option func(*config)

type weights struct{ cost, latency, quality, errRate, load float64 }

type config struct {
	w       weights
	ttft    float64
	refresh time.Duration
	seed    uint64
	seeded  bool
	now     func() time.Time
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

// WithRefresh sets how long the stats-derived scores are reused, clamped to
// [0, balancer.Tau]; 0 recomputes them on every pick.
func WithRefresh(d time.Duration) Option { return func(c *config) { c.refresh = d } }

// WithSeed fixes the random stream that breaks ties.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed, c.seeded = seed, true } }

// WithClock sets the clock used when Request.Now is zero (time.Now by default).
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// Picker is an immutable snapshot of targets and term weights, plus a view
// of their stats that picks refresh in place.
type Picker struct {
	n       int
	ids     []string
	inPrice []float64
	outPric []float64
	// frontMask marks the targets on the price Pareto front: with token
	// counts ≥ 0 the most expensive target is always one of them.
	frontMask balancer.Mask
	base      []float64 // the quality term, weighted: constant per target
	invW      []float64 // 1/weight for the load term
	stats     []*balancer.Stats
	all       balancer.Mask
	w         weights
	ttft      float64
	refresh   int64
	now       func() time.Time

	_ [64]byte
	// at is when the view was last refreshed (unix ns; 0 = never). The
	// refreshing pick is elected by CAS on it.
	at  atomic.Int64
	_   [56]byte
	rnd atomic.Uint64 // only touched when scores tie
	_   [56]byte
	// The view, one float64 (as bits) per target. Entries are stored and
	// loaded atomically, so a pick racing a refresh sees each value whole,
	// from one refresh or the next; a mix of the two is off by at most one
	// interval's drift, which a moving average cannot tell from noise.
	lat    [balancer.MaxTargets]atomic.Uint64 // blended latency ms, 0 = unknown
	static [balancer.MaxTargets]atomic.Uint64 // quality+latency+error terms with every target a candidate
	// unknown has bit i set while target i's latency is unknown.
	unknown atomic.Uint64
	// Latency summaries over all targets, to derive the candidates' ones
	// from the few excluded: max, sum and count of the known, and the
	// latency factor and mean that static was computed with.
	maxLat, sumLat, kl, mean atomic.Uint64
	known                    atomic.Int64
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
		w:       weights{cost: DefaultCost, latency: DefaultLatency, quality: DefaultQuality},
		ttft:    DefaultTTFTShare,
		refresh: DefaultRefresh,
		now:     time.Now,
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
		n:       n,
		ids:     make([]string, n),
		inPrice: make([]float64, n),
		outPric: make([]float64, n),
		base:    make([]float64, n),
		invW:    make([]float64, n),
		stats:   append([]*balancer.Stats(nil), stats...),
		all:     balancer.Mask(1<<uint(n) - 1),
		w:       c.w,
		ttft:    min(max(c.ttft, 0), 1),
		refresh: int64(min(max(c.refresh, 0), balancer.Tau)),
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
	for _, i := range paretoFront(p.inPrice, p.outPric) {
		p.frontMask = p.frontMask.With(i)
	}
	p.rnd.Store(c.seed)
	p.maybeRefresh(c.now().UnixNano())
	return p, nil
}

// paretoFront lists the targets no other target is at least as expensive
// as on both prices (of equal ones, the first). There are usually few.
func paretoFront(in, out []float64) []int {
	var front []int
	for i := range in {
		dominated := false
		for j := range in {
			if j != i && in[j] >= in[i] && out[j] >= out[i] && (in[j] > in[i] || out[j] > out[i] || j < i) {
				dominated = true
				break
			}
		}
		if !dominated {
			front = append(front, i)
		}
	}
	return front
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
	var pl plan
	p.plan(r, avail, &pl)
	a := newArgmin()
	// Straight through the snapshot in index order (a predictable skip of
	// the excluded beats walking the mask bit by bit), one loop per shape
	// so the common ones carry nothing they do not need; score is over the
	// inlining budget, hence the copies.
	in := p.inPrice
	out := p.outPric[:len(in)]
	st := p.static[:len(in)]
	switch {
	case pl.kload != 0:
		for m := avail; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(uint64(m))
			if v := p.score(i, &pl); v <= a.hi {
				a.offer(p, i, v)
			}
		}
	case pl.dl == 0 && pl.du == 0:
		// The view holds every term but cost. Locals keep the loop in
		// registers (a and pl live in memory: offer takes a's address).
		ci, co, hi := pl.ci, pl.co, a.hi
		for i := range in {
			v := f64(&st[i]) + ci*in[i] + co*out[i]
			if v <= hi && avail.Has(i) {
				a.offer(p, i, v)
				hi = a.hi
			}
		}
	case pl.dl == 0:
		// Exclusions moved the mean that unknown targets are given.
		du := [2]float64{0, pl.du}
		unk := p.unknown.Load()
		ci, co, hi := pl.ci, pl.co, a.hi
		for i := range in {
			v := f64(&st[i]) + du[unk>>uint(i)&1] + ci*in[i] + co*out[i]
			if v <= hi && avail.Has(i) {
				a.offer(p, i, v)
				hi = a.hi
			}
		}
	default:
		// The slowest target is excluded: the latency scale moved too.
		du := [2]float64{0, pl.du}
		unk := p.unknown.Load()
		lat := p.lat[:len(in)]
		ci, co, dl, hi := pl.ci, pl.co, pl.dl, a.hi
		for i := range in {
			v := f64(&st[i]) + dl*f64(&lat[i]) + du[unk>>uint(i)&1] + ci*in[i] + co*out[i]
			if v <= hi && avail.Has(i) {
				a.offer(p, i, v)
				hi = a.hi
			}
		}
	}
	return a.best, nil
}

// Scores writes each candidate's score by target ID (lower is better);
// excluded targets are left out.
func (p *Picker) Scores(r *balancer.Request, dst map[string]float64) {
	avail := p.all &^ r.Exclude
	if avail == 0 {
		return
	}
	var pl plan
	p.plan(r, avail, &pl)
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		dst[p.ids[i]] = p.score(i, &pl)
	}
}

// plan is what scoring one request's candidates needs beyond each target's
// own numbers: the factors that scale each term to its weighted [0,1].
//
// The view's static score assumes every target is a candidate. Excluding
// some changes the latency scaling kl (if the slowest went) and the mean
// an unknown target is given; both corrections are linear:
//
//	known:   base + kl'·l    = static + (kl' − kl)·l
//	unknown: base + kl'·mean' = static + (kl'·mean' − kl·mean)
//
// so static + dl·lat + du·unknown is exact (lat is 0 for an unknown).
type plan struct {
	ci, co  float64 // cost: weight/max cost × tokens in, out
	dl, du  float64 // latency corrections for the candidate set
	kload   float64 // load: weight/max load
	maxLoad float64
}

// plan fills pl (zero on entry). It writes through a pointer rather than
// returning the struct: the copy of a freshly stored struct stalls on
// store forwarding, a measurable part of a pick.
func (p *Picker) plan(r *balancer.Request, avail balancer.Mask, pl *plan) {
	w := p.w
	if w.latency != 0 || w.errRate != 0 {
		now := r.Now
		if now.IsZero() {
			now = p.now()
		}
		p.maybeRefresh(now.UnixNano())
	}
	if excl := p.all &^ avail; excl != 0 && w.latency != 0 {
		// The candidates' latency summaries are the view's minus the few
		// excluded; the max is rescanned only if an excluded target held it.
		maxLat := f64(&p.maxLat)
		sum, known := f64(&p.sumLat), p.known.Load()
		unknown := int64(p.n) - known
		rescan := false
		for m := excl; m != 0; m &= m - 1 {
			if l := f64(&p.lat[bits.TrailingZeros64(uint64(m))]); l > 0 {
				sum -= l
				known--
				rescan = rescan || l >= maxLat
			} else {
				unknown--
			}
		}
		if rescan {
			maxLat = 0
			for m := avail; m != 0; m &= m - 1 {
				maxLat = max(maxLat, f64(&p.lat[bits.TrailingZeros64(uint64(m))]))
			}
		}
		mean := 0.0
		if known > 0 && sum > 0 {
			mean = sum / float64(known)
		}
		kl, kl0 := scale(w.latency, maxLat), f64(&p.kl)
		pl.dl = kl - kl0
		if unknown > 0 { // else no candidate needs the mean
			pl.du = kl*mean - kl0*f64(&p.mean)
		}
	}
	if w.cost != 0 {
		// Without size estimates, weigh the two prices equally.
		tin, tout := float64(max(r.Tokens, 0)), float64(max(r.OutTokens, 0))
		if tin == 0 && tout == 0 {
			tin, tout = 1, 1
		}
		// The most expensive target is on the price front; if some of the
		// front is excluded, look at every candidate.
		maxCost, set := 0.0, p.frontMask
		if avail&p.frontMask != p.frontMask {
			set = avail
		}
		for m := set; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(uint64(m))
			maxCost = max(maxCost, p.inPrice[i]*tin+p.outPric[i]*tout)
		}
		kc := scale(w.cost, maxCost)
		pl.ci, pl.co = kc*tin, kc*tout
	}
	if w.load != 0 {
		for m := avail; m != 0; m &= m - 1 {
			i := bits.TrailingZeros64(uint64(m))
			pl.maxLoad = max(pl.maxLoad, float64(max(p.stats[i].InFlight(), 0))*p.invW[i])
		}
		pl.kload = scale(w.load, pl.maxLoad)
	}
}

// score is candidate i's score under pl.
func (p *Picker) score(i int, pl *plan) float64 {
	v := f64(&p.static[i]) + pl.dl*f64(&p.lat[i]) + pl.ci*p.inPrice[i] + pl.co*p.outPric[i]
	if balancer.Mask(p.unknown.Load()).Has(i) {
		v += pl.du
	}
	if pl.kload != 0 {
		// Re-read: it may have moved since the plan; clamp to keep [0,1].
		v += pl.kload * min(float64(max(p.stats[i].InFlight(), 0))*p.invW[i], pl.maxLoad)
	}
	return v
}

// argmin tracks the lowest score, choosing uniformly among ties.
type argmin struct {
	best, ties int
	lo, hi     float64 // scores within [lo, hi] tie with the best
	x          uint64
}

const tieEps = 1e-9

func newArgmin() argmin { return argmin{best: -1, hi: math.Inf(1)} }

func (a *argmin) offer(p *Picker, i int, v float64) {
	switch {
	case a.ties == 0 || v < a.lo:
		a.best, a.ties, a.lo, a.hi = i, 1, v-tieEps, v+tieEps
	case v <= a.hi:
		// Reservoir sampling: the k-th tied replaces the choice with odds
		// 1/k. The shared random stream is only touched on a tie.
		if a.ties++; a.ties == 2 {
			a.x = p.rnd.Add(golden)
		}
		if mix(a.x+uint64(a.ties))%uint64(a.ties) == 0 {
			a.best = i
		}
	}
}

// maybeRefresh recomputes the view when it is older than the refresh
// interval. One pick wins the CAS and refreshes; the others go on with the
// current view. A view from the future is kept (a retry carries its
// request's older start time) unless it is far ahead: the wall clock was
// stepped back, and waiting for it to catch up would freeze the view.
func (p *Picker) maybeRefresh(now int64) {
	at := p.at.Load()
	if d := now - at; at != 0 && d < p.refresh && d > -int64(maxBackstep) {
		return
	}
	if !p.at.CompareAndSwap(at, now) {
		return
	}
	t := time.Unix(0, now)
	var maxLat, sumLat float64
	var known int64
	var unknown balancer.Mask
	var lat, errs [balancer.MaxTargets]float64
	for i := range p.n {
		var l float64
		if p.w.latency != 0 {
			l = p.latency(i, t)
		}
		lat[i] = l
		p.lat[i].Store(math.Float64bits(l))
		if l > 0 {
			sumLat += l
			known++
			maxLat = max(maxLat, l)
		} else {
			unknown = unknown.With(i)
		}
		if p.w.errRate != 0 {
			errs[i] = p.stats[i].ErrorRate(t)
		}
	}
	mean := 0.0
	if known > 0 {
		mean = sumLat / float64(known)
	}
	kl := scale(p.w.latency, maxLat)
	p.maxLat.Store(math.Float64bits(maxLat))
	p.sumLat.Store(math.Float64bits(sumLat))
	p.known.Store(known)
	p.unknown.Store(uint64(unknown))
	p.kl.Store(math.Float64bits(kl))
	p.mean.Store(math.Float64bits(mean))
	for i := range p.n {
		l := lat[i]
		if l <= 0 {
			l = mean
		}
		v := p.base[i] + kl*l + p.w.errRate*errs[i]
		p.static[i].Store(math.Float64bits(v))
	}
}

func f64(u *atomic.Uint64) float64 { return math.Float64frombits(u.Load()) }

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

// maxBackstep is how far behind the view a request's clock may be before
// the view is taken for a clock step rather than an old request.
const maxBackstep = time.Minute

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 finalizer over an atomic golden-ratio counter.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
