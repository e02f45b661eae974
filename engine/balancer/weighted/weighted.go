// Package weighted is smooth weighted round robin (nginx): over a cycle of
// sum-of-weights picks each target gets exactly its weight, spread out
// rather than in runs (weights 5,1,1 give a a b a c a a, not a a a a a b c).
//
// The cycle is computed once at construction and indexed by an atomic
// counter, so Pick takes no lock and never writes shared state beyond that
// one counter.
package weighted

import (
	"math/bits"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
)

// MaxCycle caps the precomputed cycle. Larger weight sums (after dividing
// by their GCD) are apportioned onto MaxCycle slots, which keeps every
// target's share within 1/MaxCycle of exact.
const MaxCycle = 1 << 14

// Option configures a Picker.
type Option func(*config)

type config struct {
	seed   uint64
	seeded bool
}

// WithSeed fixes where in the cycle the picker starts and the random stream
// used when a slot's target is excluded. By default it comes from the
// construction time, so pickers built together do not all open with the
// same target.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed, c.seeded = seed, true } }

// Picker is an immutable cycle plus a position in it.
type Picker struct {
	seq     []uint8 // one cycle of target indexes
	cum     []int64 // cumulative weights, for redistributing excluded slots
	all     balancer.Mask
	seed    uint64
	_       [64]byte
	counter atomic.Uint64
	_       [56]byte
}

var _ balancer.Picker = (*Picker)(nil)

// New builds the cycle over targets. Stats are accepted for the common
// constructor shape and checked, but round robin does not read them.
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
	w := make([]int64, len(ts))
	for i, t := range ts {
		w[i] = int64(t.Weight)
	}
	p := &Picker{
		seq:  cycle(w),
		cum:  make([]int64, len(ts)),
		all:  balancer.Mask(1<<uint(len(ts)) - 1),
		seed: mix(c.seed),
	}
	if len(ts) == balancer.MaxTargets {
		p.all = ^balancer.Mask(0)
	}
	var sum int64
	for i, v := range w {
		sum += v
		p.cum[i] = sum
	}
	p.counter.Store(p.seed % uint64(len(p.seq)))
	return p, nil
}

// Pick returns the next slot of the cycle. A slot whose target is excluded
// goes to a random candidate drawn by weight, so the candidates keep their
// relative shares while a target is out.
func (p *Picker) Pick(r *balancer.Request) (int, error) {
	avail := p.all &^ r.Exclude
	if avail == 0 {
		return -1, balancer.ErrNoTarget
	}
	c := p.counter.Add(1)
	i := int(p.seq[c%uint64(len(p.seq))])
	if avail.Has(i) {
		return i, nil
	}
	return p.redistribute(avail, mix(c^p.seed)), nil
}

func (p *Picker) redistribute(avail balancer.Mask, x uint64) int {
	if avail&(avail-1) == 0 {
		return bits.TrailingZeros64(uint64(avail))
	}
	var total int64
	for m := avail; m != 0; m &= m - 1 {
		total += p.weight(bits.TrailingZeros64(uint64(m)))
	}
	hi, _ := bits.Mul64(x, uint64(total))
	at := int64(hi)
	for m := avail; ; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		if at -= p.weight(i); at < 0 || m&(m-1) == 0 {
			return i
		}
	}
}

func (p *Picker) weight(i int) int64 {
	if i == 0 {
		return p.cum[0]
	}
	return p.cum[i] - p.cum[i-1]
}

// cycle returns one smooth-weighted-round-robin cycle over weights (each
// ≥ 1): index i appears weights[i]/g times, g being the weights' GCD. Sums
// over MaxCycle are apportioned onto MaxCycle slots first (largest
// remainder, every target keeping at least one slot).
func cycle(weights []int64) []uint8 {
	w := append([]int64(nil), weights...)
	g := int64(0)
	for _, v := range w {
		g = gcd(g, v)
	}
	var sum int64
	for i := range w {
		w[i] /= g
		sum += w[i]
	}
	if sum > MaxCycle {
		w, sum = apportion(w, sum, MaxCycle), MaxCycle
	}
	seq := make([]uint8, sum)
	cur := make([]int64, len(w))
	for k := range seq {
		best := 0
		for i, v := range w {
			cur[i] += v
			if cur[i] > cur[best] {
				best = i
			}
		}
		cur[best] -= sum
		seq[k] = uint8(best)
	}
	return seq
}

// apportion scales w (summing to sum) onto n slots by largest remainder,
// with a floor of one slot each.
func apportion(w []int64, sum, n int64) []int64 {
	out := make([]int64, len(w))
	rem := make([]int64, len(w))
	left := n
	for i, v := range w {
		q := v * n // v ≤ MaxWeight·MaxTargets/g and n = MaxCycle: no overflow
		out[i], rem[i] = max(q/sum, 1), q%sum
		left -= out[i]
	}
	for left > 0 {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		out[best]++
		rem[best] = -1
		left--
	}
	for left < 0 { // the floor of one slot overshot: take from the largest
		best := 0
		for i := range out {
			if out[i] > out[best] {
				best = i
			}
		}
		out[best]--
		left++
	}
	return out
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// mix is the splitmix64 finalizer: it turns the slot counter into the
// random draw for a redistributed slot, with no second atomic.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
