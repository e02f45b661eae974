// Package chash is consistent hashing with bounded loads (Mirrokni, Thorup
// and Zadimoghaddam, "Consistent Hashing with Bounded Loads", 2017).
//
// Request.Key lands on a ring of virtual nodes; the first target clockwise
// takes the request unless it is excluded or already carries its share of
// the load, ceil(c × (total in-flight + 1) × weight / total weight), in
// which case the walk goes on clockwise. A key therefore stays on one
// target while that target is healthy and not overloaded, and a hot key
// spills to its ring neighbours instead of melting one target.
//
// Ring positions depend only on target IDs, so adding or removing a target
// moves only the keys it gains or owned, and excluding a target gives the
// same answers as a ring built without it.
package chash

import (
	"cmp"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/balancer/leastconn"
)

const (
	// DefaultLoadFactor is c: a target may run 25% above the mean.
	DefaultLoadFactor = 1.25
	// DefaultReplicas is virtual nodes per unit of weight: enough for each
	// target's share of the ring to be within a few percent of its weight.
	DefaultReplicas = 160
	// maxPoints caps the ring; heavy weights are scaled down to fit.
	maxPoints = 1 << 16
	// maxLoadFactor: beyond this the bound never binds in practice.
	maxLoadFactor = 100
)

// Option configures a Picker.
type Option func(*config)

type config struct {
	load     float64
	replicas int
	lc       []leastconn.Option
}

// WithLoadFactor sets c (≥ 1; capped at 100). Smaller keeps loads tighter
// and moves more keys off their home under bursts.
func WithLoadFactor(c float64) Option { return func(cf *config) { cf.load = c } }

// WithReplicas sets the virtual nodes per unit of weight (capped to 1..1000).
func WithReplicas(n int) Option { return func(cf *config) { cf.replicas = n } }

// WithSeed fixes the random stream used for requests without a key.
func WithSeed(seed uint64) Option {
	return func(cf *config) { cf.lc = append(cf.lc, leastconn.WithSeed(seed)) }
}

// Picker is an immutable ring over a snapshot of targets.
type Picker struct {
	points  []uint64 // sorted ring positions
	owners  []uint8  // owners[i] is the target at points[i]
	weights []int64
	stats   []*balancer.Stats
	all     balancer.Mask
	total   int64 // sum of weights
	load    float64
	noKey   *leastconn.Picker
}

var _ balancer.Picker = (*Picker)(nil)

// New builds the ring over targets, stats[i] being targets[i]'s live stats.
func New(targets []balancer.Target, stats []*balancer.Stats, opts ...Option) (*Picker, error) {
	ts, err := balancer.Snapshot(targets, stats)
	if err != nil {
		return nil, err
	}
	cf := config{load: DefaultLoadFactor, replicas: DefaultReplicas}
	for _, o := range opts {
		o(&cf)
	}
	if !(cf.load >= 1) {
		return nil, fmt.Errorf("%w: load factor %v, want ≥ 1", balancer.ErrInvalidSnapshot, cf.load)
	}
	cf.load = min(cf.load, maxLoadFactor)
	cf.replicas = min(max(cf.replicas, 1), 1000)
	noKey, err := leastconn.New(ts, stats, cf.lc...)
	if err != nil {
		return nil, err
	}
	p := &Picker{
		weights: make([]int64, len(ts)),
		stats:   append([]*balancer.Stats(nil), stats...),
		all:     balancer.Mask(1<<uint(len(ts)) - 1),
		load:    cf.load,
		noKey:   noKey,
	}
	if len(ts) == balancer.MaxTargets {
		p.all = ^balancer.Mask(0)
	}
	total := 0
	for i, t := range ts {
		p.weights[i] = int64(t.Weight)
		p.total += int64(t.Weight)
		total += t.Weight * cf.replicas
	}
	scale := min(1, float64(maxPoints)/float64(total))
	type vnode struct {
		at    uint64
		owner uint8
	}
	ring := make([]vnode, 0, min(total, maxPoints+len(ts)))
	for i, t := range ts {
		n := max(1, int(float64(t.Weight*cf.replicas)*scale))
		h := hashID(t.ID)
		for j := range n {
			ring = append(ring, vnode{at: mix(h + uint64(j+1)*golden), owner: uint8(i)})
		}
	}
	// Ties (two IDs hashing alike) are broken by ID, then index, so the ring
	// does not depend on the order targets are listed in.
	slices.SortFunc(ring, func(a, b vnode) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		if c := strings.Compare(ts[a.owner].ID, ts[b.owner].ID); c != 0 {
			return c
		}
		return cmp.Compare(a.owner, b.owner)
	})
	p.points = make([]uint64, len(ring))
	p.owners = make([]uint8, len(ring))
	for i, v := range ring {
		p.points[i], p.owners[i] = v.at, v.owner
	}
	return p, nil
}

// Pick walks the ring clockwise from the key to the first target that is
// neither excluded nor at its load bound. Key 0 has no affinity and gets the
// less loaded of two random targets.
func (p *Picker) Pick(r *balancer.Request) (int, error) {
	avail := p.all &^ r.Exclude
	if avail == 0 {
		return -1, balancer.ErrNoTarget
	}
	if r.Key == 0 {
		return p.noKey.Pick(r)
	}
	pos := p.search(mix(r.Key))
	// The bound needs the total in flight over the candidates. Summing 64
	// targets' counters is most of a pick's cost, so the sum is built only
	// as far as needed: the bound grows with the total, and once a partial
	// sum already clears the candidate, the rest cannot change the answer.
	var sum int64
	next, weight := 0, p.total
	if avail != p.all {
		sum, weight = p.totals(avail)
		next = len(p.stats)
	}
	var tried balancer.Mask
	for range p.points {
		o := int(p.owners[pos])
		if pos++; pos == len(p.points) {
			pos = 0
		}
		if !avail.Has(o) || tried.Has(o) {
			continue
		}
		load := p.stats[o].InFlight()
		if load <= 0 {
			return o, nil // the bound is at least 1
		}
		// load < ceil(c·(sum+1)·w/W)  ⟺  sum > load·W/(c·w) − 1
		// ⟺  sum > need, with need that real number rounded down.
		need := int64(math.Floor(float64(load)*float64(weight)/(p.load*float64(p.weights[o])) - 1))
		for ; sum <= need && next < len(p.stats); next++ {
			sum += max(p.stats[next].InFlight(), 0)
		}
		if sum > need {
			return o, nil
		}
		if tried = tried.With(o); tried == avail {
			break
		}
	}
	// Every candidate at its bound cannot happen with consistent counts (the
	// bounds add up to more than the total); racing updates can fake it.
	return p.leastLoaded(avail), nil
}

// search returns the index of the first point ≥ h, wrapping to 0.
func (p *Picker) search(h uint64) int {
	i, j := 0, len(p.points)
	for i < j {
		m := int(uint(i+j) >> 1)
		if p.points[m] < h {
			i = m + 1
		} else {
			j = m
		}
	}
	if i == len(p.points) {
		return 0
	}
	return i
}

// totals sums in-flight calls and weights over the candidates: the bound
// shares the load of the targets that can take it among themselves.
func (p *Picker) totals(avail balancer.Mask) (load, weight int64) {
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		load += max(p.stats[i].InFlight(), 0)
		weight += p.weights[i]
	}
	return load, weight
}

func (p *Picker) leastLoaded(avail balancer.Mask) int {
	best := -1
	var bl, bw int64
	for m := avail; m != 0; m &= m - 1 {
		i := bits.TrailingZeros64(uint64(m))
		l, w := p.stats[i].InFlight(), p.weights[i]
		if best < 0 || l*bw < bl*w {
			best, bl, bw = i, l, w
		}
	}
	return best
}

// hashID is FNV-1a; mix spreads it and the replica number over the ring.
func hashID(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix(h)
}

const golden = 0x9e3779b97f4a7c15

// mix is the splitmix64 finalizer. Keys are mixed too: callers may pass
// small or sequential numbers, which would otherwise crowd one arc.
func mix(z uint64) uint64 {
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}
