// Package priority is ordered failover: every request goes to the lowest
// Priority value among the non-excluded targets. Targets sharing that
// priority split the traffic by smooth weighted round robin, so a primary
// tier of several keys is balanced and the next tier only sees traffic
// while the whole primary tier is excluded (breakers open, or tried).
package priority

import (
	"cmp"
	"math/bits"
	"slices"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/balancer/weighted"
)

// Option configures a Picker.
type Option func(*config)

type config struct {
	seed   uint64
	seeded bool
}

// WithSeed fixes the round-robin starting points inside each tier.
func WithSeed(seed uint64) Option { return func(c *config) { c.seed, c.seeded = seed, true } }

// tier is the targets sharing one priority.
type tier struct {
	mask    balancer.Mask
	members []int            // snapshot indexes; tier-local index k is members[k]
	rr      *weighted.Picker // nil when the tier has one member
}

// Picker is an immutable list of tiers, best first.
type Picker struct {
	tiers []tier
	all   balancer.Mask
}

var _ balancer.Picker = (*Picker)(nil)

// New groups targets by priority. Stats are checked but not read.
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
	order := make([]int, len(ts))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(ts[a].Priority, ts[b].Priority) })
	p := &Picker{}
	for k := 0; k < len(order); {
		end := k + 1
		for end < len(order) && ts[order[end]].Priority == ts[order[k]].Priority {
			end++
		}
		t := tier{members: slices.Clone(order[k:end])}
		slices.Sort(t.members) // tier-local order follows the snapshot
		for _, i := range t.members {
			t.mask = t.mask.With(i)
		}
		if len(t.members) > 1 {
			sub := make([]balancer.Target, len(t.members))
			st := make([]*balancer.Stats, len(t.members))
			for j, i := range t.members {
				sub[j], st[j] = ts[i], stats[i]
			}
			t.rr, err = weighted.New(sub, st, weighted.WithSeed(c.seed+uint64(len(p.tiers))))
			if err != nil {
				return nil, err
			}
		}
		p.tiers = append(p.tiers, t)
		p.all |= t.mask
		k = end
	}
	return p, nil
}

// Pick returns a target of the best tier that has a candidate left.
func (p *Picker) Pick(r *balancer.Request) (int, error) {
	for k := range p.tiers {
		t := &p.tiers[k]
		avail := t.mask &^ r.Exclude
		switch {
		case avail == 0:
			continue
		case avail&(avail-1) == 0:
			return bits.TrailingZeros64(uint64(avail)), nil
		}
		// Translate the exclusions into the tier's own indexes.
		var local balancer.Mask
		if t.mask&r.Exclude != 0 {
			for j, i := range t.members {
				if r.Exclude.Has(i) {
					local = local.With(j)
				}
			}
		}
		j, err := t.rr.Pick(&balancer.Request{Exclude: local})
		if err != nil {
			return -1, err
		}
		return t.members[j], nil
	}
	return -1, balancer.ErrNoTarget
}
