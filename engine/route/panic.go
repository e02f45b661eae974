package route

import (
	"math"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
)

// PanicPicks counts the picks made in panic mode since the router started.
func (r *Router) PanicPicks() uint64 { return r.panics.Load() }

// panicPick is the pick when no target can take calls. Failing at once
// turns a route whose targets all tripped on a high but survivable error
// rate into a full outage, so the request tries an untried open target,
// the one whose open period ends soonest: the breaker's best guess at which
// recovered first. The call reserves no probe slot and its outcome leaves
// the breaker as it is; the breaker reopens on its own schedule.
func (r *Router) panicPick(a *attempt, now time.Time) *Target {
	gi, cand := panicCandidates(a, now, true)
	if cand == 0 {
		return nil
	}
	a.breq.Exclude = ^cand
	idx, err := a.rt.picker(gi, a.strategy).Pick(&a.breq)
	if err != nil {
		return nil
	}
	a.tried[gi] = a.tried[gi].With(idx)
	a.info.Panic = true
	r.panics.Add(1)
	return a.rt.groups[gi].targets[idx]
}

// panicCandidates finds the targets panic mode may try: open, or half-open
// with every probe slot taken, and not cooling after a 429 (the upstream
// said when to come back, so that wait is honoured even in panic). It
// returns the group and the set of those whose open period ends soonest.
func panicCandidates(a *attempt, now time.Time, untried bool) (int, balancer.Mask) {
	best, bestG := int64(math.MaxInt64), -1
	var set balancer.Mask
	for gi, g := range a.rt.groups {
		if gi > 0 && !a.rt.Failover {
			break
		}
		for i, tg := range g.targets {
			if untried && a.tried[gi].Has(i) {
				continue
			}
			s := tg.state.breaker.Snapshot()
			if s.State == breaker.Closed || s.Cooling(now) {
				continue
			}
			end := now.UnixNano()
			if s.State == breaker.Open && s.OpenUntil.After(now) {
				end = s.OpenUntil.UnixNano()
			}
			switch {
			case end < best:
				best, bestG, set = end, gi, balancer.Mask(0).With(i)
			case end == best && gi == bestG:
				set = set.With(i)
			}
		}
	}
	return bestG, set
}

// panicPossible reports whether the next round could pick in panic mode.
func panicPossible(a *attempt, now time.Time) bool {
	_, set := panicCandidates(a, now, false)
	return set != 0
}
