// Package leastconn picks by the power of two choices: two distinct random
// candidates, the one with fewer in-flight calls per unit of weight wins.
// Sampling two instead of scanning all keeps a burst of concurrent picks
// from stampeding onto the single least-loaded target, which is what a
// full scan does when every picker reads the same stale minimum.
//
// Candidates are sampled in proportion to weight (an alias table, O(1)):
// with uniform sampling a target holding a third of the weight among eight
// would take part in only a quarter of the duels and could never reach its
// share however idle it was.
package leastconn

import (
	"math"
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
)

// Option configures a Picker.
type Option func(*config)

type config struct {
	seed   uint64
	seeded bool
}

// WithSeed fixes the random stream, for reproducible tests. By default the
// seed comes from the construction time.
func WithSeed(seed uint64) Option {
	return func(c *config) { c.seed, c.seeded = seed, true }
}

// Picker is an immutable snapshot; only its random stream moves.
type Picker struct {
	weights []int64
	// Vose alias table over all targets: slot i keeps i with odds
	// prob[i]/2^32, else gives alias[i].
	prob  []uint32
	alias []uint8
	total int64
	stats []*balancer.Stats
	all   balancer.Mask
	// The random state is written by every pick: keep it off the cache line
	// of the read-only fields above so readers on other cores do not miss.
	_   [64]byte
	rnd atomic.Uint64
	_   [56]byte
}

var _ balancer.Picker = (*Picker)(nil)

// New builds a picker over targets, stats[i] being targets[i]'s live stats.
func New(targets []balancer.Target, stats []*balancer.Stats, opts ...Option) (*Picker, error) {
	ts, err := balancer.Snapshot(targets, stats)
	if err != nil {
		return nil, err
	}
	var c config
	for _, o := range opts {
		o(&c)
	}
	if !c.seeded {
		c.seed = uint64(time.Now().UnixNano())
	}
	p := &Picker{
		weights: make([]int64, len(ts)),
		stats:   append([]*balancer.Stats(nil), stats...),
		all:     balancer.Mask(1<<uint(len(ts)) - 1),
	}
	if len(ts) == balancer.MaxTargets {
		p.all = ^balancer.Mask(0)
	}
	for i, t := range ts {
		p.weights[i] = int64(t.Weight)
		p.total += int64(t.Weight)
	}
	p.prob, p.alias = aliasTable(p.weights, p.total)
	p.rnd.Store(c.seed)
	return p, nil
}

// Pick returns the less loaded of two random non-excluded targets.
func (p *Picker) Pick(r *balancer.Request) (int, error) {
	avail := p.all &^ r.Exclude
	if avail == 0 {
		return -1, balancer.ErrNoTarget
	}
	if avail&(avail-1) == 0 {
		return bits.TrailingZeros64(uint64(avail)), nil
	}
	x := mix(p.rnd.Add(golden))
	var a, b int
	if bits.OnesCount64(uint64(avail)) == 2 {
		a = bits.TrailingZeros64(uint64(avail))
		b = bits.TrailingZeros64(uint64(avail & (avail - 1)))
	} else {
		a, x = p.sample(avail, x)
		b, x = p.sample(avail&^(1<<uint(a)), x)
	}
	return p.better(a, b, mix(x)), nil
}

// sample draws a candidate from avail with odds proportional to weight. It
// rejects excluded draws from the alias table a few times, which is exact
// and O(1) while exclusions are a small part of the weight, then falls back
// to a scan over the candidates.
func (p *Picker) sample(avail balancer.Mask, x uint64) (int, uint64) {
	n := uint64(len(p.prob))
	for range 4 {
		x = mix(x + golden)
		i := int((x >> 32) * n >> 32)
		if uint32(x) >= p.prob[i] {
			i = int(p.alias[i])
		}
		if avail.Has(i) {
			return i, x
		}
	}
	var total int64
	for m := avail; m != 0; m &= m - 1 {
		total += p.weights[bits.TrailingZeros64(uint64(m))]
	}
	hi, _ := bits.Mul64(x, uint64(total))
	at := int64(hi)
	for m := avail; ; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		if at -= p.weights[i]; at < 0 || m&(m-1) == 0 {
			return i, x
		}
	}
}

// aliasTable builds Vose's alias table for sampling by weight.
func aliasTable(w []int64, total int64) ([]uint32, []uint8) {
	n := len(w)
	prob := make([]uint32, n)
	alias := make([]uint8, n)
	scaled := make([]float64, n)
	var small, large []int
	for i, v := range w {
		scaled[i] = float64(v) * float64(n) / float64(total)
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		prob[s] = uint32(min(scaled[s]*(1<<32), math.MaxUint32))
		alias[s] = uint8(l)
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	// What is left is 1 up to rounding: always keep it.
	for _, i := range append(small, large...) {
		prob[i], alias[i] = math.MaxUint32, uint8(i)
	}
	return prob, alias
}

// better compares in-flight/weight by cross-multiplying (exact, no floats).
// A tie is a coin flip: weight already shaped the sampling.
func (p *Picker) better(a, b int, x uint64) int {
	wa, wb := p.weights[a], p.weights[b]
	la := p.stats[a].InFlight() * wb
	lb := p.stats[b].InFlight() * wa
	switch {
	case la < lb:
		return a
	case lb < la:
		return b
	}
	if x>>63 == 0 {
		return a
	}
	return b
}

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 finalizer: an atomic counter stepped by the golden
// ratio and run through it is a cheap, concurrency-safe random stream.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
