// Package leastconn picks by the power of two choices: two distinct random
// candidates, the one with fewer in-flight calls per unit of weight wins.
// Sampling two instead of scanning all keeps a burst of concurrent picks
// from stampeding onto the single least-loaded target, which is what a
// full scan does when every picker reads the same stale minimum.
package leastconn

import (
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
	stats   []*balancer.Stats
	all     balancer.Mask
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
	}
	p.rnd.Store(c.seed)
	return p, nil
}

// Pick returns the less loaded of two random non-excluded targets.
func (p *Picker) Pick(r *balancer.Request) (int, error) {
	avail := p.all &^ r.Exclude
	n := bits.OnesCount64(uint64(avail))
	switch n {
	case 0:
		return -1, balancer.ErrNoTarget
	case 1:
		return bits.TrailingZeros64(uint64(avail)), nil
	}
	x := mix(p.rnd.Add(golden))
	var a, b int
	if n == 2 {
		a = bits.TrailingZeros64(uint64(avail))
		b = bits.TrailingZeros64(uint64(avail & (avail - 1)))
	} else {
		// Two distinct ranks from the two halves of one draw.
		i := int((x >> 32) * uint64(n) >> 32)
		j := int((x & 0xffffffff) * uint64(n-1) >> 32)
		if j >= i {
			j++
		}
		a, b = nth(avail, i), nth(avail, j)
	}
	return p.better(a, b, mix(x)), nil
}

// better compares in-flight/weight by cross-multiplying (exact, no floats);
// a tie goes to either side with odds proportional to weight, so idle
// targets still fill in weight order.
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
	if int64(x%uint64(wa+wb)) < wa {
		return a
	}
	return b
}

// nth returns the index of the k-th (0-based) set bit of m.
func nth(m balancer.Mask, k int) int {
	if m&(m+1) == 0 {
		return k // the low bits, all set: nothing excluded below the top
	}
	for ; k > 0; k-- {
		m &= m - 1
	}
	return bits.TrailingZeros64(uint64(m))
}

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 finalizer: an atomic counter stepped by the golden
// ratio and run through it is a cheap, concurrency-safe random stream.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
