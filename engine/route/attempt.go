package route

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/switchyard/switchyard/engine/backoff"
	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// attempt is one request's walk over its route's targets.
type attempt struct {
	rt       *Route
	strategy string
	breq     balancer.Request
	tried    []balancer.Mask  // per group
	triedBuf [2]balancer.Mask // tried's storage for routes of up to two groups (most)
	info     Info
	lastErr  error
	hint     time.Duration // largest Retry-After seen
	// spent bills the lanes of fanned-out unary calls that failed
	// (fanout.go); a field, not a local, to cost no allocation.
	spent legs
}

func (r *Router) newAttempt(rt *Route, req *llm.ChatRequest, hints llm.Hints) (*attempt, error) {
	a := &attempt{rt: rt, strategy: rt.Strategy}
	if len(rt.groups) <= len(a.triedBuf) {
		a.tried = a.triedBuf[:len(rt.groups)]
	} else {
		a.tried = make([]balancer.Mask, len(rt.groups))
	}
	if hints.Strategy != "" {
		if !balancer.KnownStrategy(hints.Strategy) {
			return nil, llm.InvalidParam("switchyard.strategy", "%s", unknownStrategy(hints.Strategy))
		}
		a.strategy = hints.Strategy
	}
	a.breq.Now = r.now()
	if req != nil {
		a.breq.Tokens, a.breq.OutTokens = estimateTokens(req)
		if a.strategy == balancer.StrategyConsistentHash {
			a.breq.Key = affinityKey(req)
		}
	}
	a.info = Info{Route: rt.Name, Rule: rt.rule, Strategy: a.strategy, Cache: llm.CacheBypass}
	return a, nil
}

// estimateTokens is a cheap size estimate (about 4 bytes a token) for the
// cost term; exact counts come back in the usage.
func estimateTokens(req *llm.ChatRequest) (in, out int) {
	n := 0
	for i := range req.Messages {
		m := &req.Messages[i]
		n += len(m.Content) + 4
		for _, p := range m.Parts {
			n += len(p.Text)
		}
	}
	out = 256
	if req.MaxTokens != nil {
		out = *req.MaxTokens
	}
	return n/4 + 1, out
}

// affinityKey hashes the session key, else the user, else the system prompt
// and first user message, so one conversation keeps hitting one key.
func affinityKey(req *llm.ChatRequest) uint64 {
	h := fnv.New64a()
	switch {
	case req.Hints.AffinityKey != "":
		h.Write([]byte(req.Hints.AffinityKey))
	case req.User != "":
		h.Write([]byte{1})
		h.Write([]byte(req.User))
	default:
		h.Write([]byte{2})
		var sys, user bool
		for i := range req.Messages {
			m := &req.Messages[i]
			if (m.Role == llm.RoleSystem || m.Role == llm.RoleDeveloper) && !sys {
				sys = true
				h.Write([]byte(m.Content))
			}
			if m.Role == llm.RoleUser && !user {
				user = true
				h.Write([]byte{0})
				h.Write([]byte(m.Content))
				for _, p := range m.Parts {
					h.Write([]byte(p.Text))
				}
			}
		}
	}
	k := h.Sum64()
	if k == 0 {
		k = 1 // 0 means "no affinity" to the picker
	}
	return k
}

// pick chooses the next target: the route's own group first, then each
// fallback's. Targets already tried in this request, breaker-open and
// cooling ones are excluded; the breaker reserves the call (probe slots).
// Within a group, keys at their quota's headroom are passed over while
// another key has room, and their reserve is drawn on only after (quota.go).
// When every target is out, panic mode tries an open one anyway.
func (r *Router) pick(ctx context.Context, a *attempt) (*Target, bool, error) {
	now := r.now()
	a.breq.Now = now
	up, quotaFull, quotaWait := false, false, time.Duration(0)
	for gi, g := range a.rt.groups {
		if gi > 0 && !a.rt.Failover {
			break
		}
		avail := a.tried[gi]
		for i, tg := range g.targets {
			if tg.state.breaker.Available(now) {
				up = true
			} else {
				avail = avail.With(i)
			}
		}
		p := a.rt.picker(gi, a.strategy)
		for tier := tierMain; tier < tiers; tier++ {
			excl, metered := avail, false
			for {
				a.breq.Exclude = excl
				idx, err := p.Pick(&a.breq)
				if err != nil {
					break
				}
				tg := g.targets[idx]
				if tg.quota != nil {
					metered = true
					if ok, wait := r.takeQuota(ctx, a, tg, tier); !ok {
						excl = excl.With(idx)
						quotaFull = true
						if wait > 0 && (quotaWait == 0 || wait < quotaWait) {
							quotaWait = wait
						}
						continue
					}
				}
				ok, probe := tg.state.breaker.Allow()
				if !ok {
					excl = excl.With(idx)
					continue
				}
				a.tried[gi] = a.tried[gi].With(idx)
				if a.info.Attempts == 0 {
					if sc, ok := p.(balancer.Scorer); ok {
						a.info.Scores = make(map[string]float64, len(g.targets))
						sc.Scores(&a.breq, a.info.Scores)
					}
				}
				return tg, probe, nil
			}
			if !metered {
				break // no key here declares a quota: no reserve to walk
			}
		}
	}
	if !up && a.rt.Panic {
		if tg := r.panicPick(a, now); tg != nil {
			return tg, false, nil
		}
	}
	if quotaFull {
		r.quota.refused.Add(1)
		return nil, false, quotaRefusal(a, quotaWait)
	}
	return nil, false, llm.ErrNoHealthyTarget
}

// exclude marks tg as tried in every group that holds it (hedging's second
// lane must not pick the first lane's target).
func (a *attempt) exclude(tg *Target) {
	for gi, g := range a.rt.groups {
		for i, t := range g.targets {
			if t == tg {
				a.tried[gi] = a.tried[gi].With(i)
			}
		}
	}
}

// classify turns a call's error into a breaker outcome and a retry decision.
func classify(parent context.Context, err error) (o breaker.Outcome, retryAfter time.Duration, retry bool) {
	if err == nil {
		return breaker.Success, 0, false
	}
	if parent.Err() != nil {
		return breaker.Neutral, 0, false // the client gave up; not the target's fault
	}
	var ue *llm.UpstreamError
	switch {
	case errors.As(err, &ue) && ue.Status == 429:
		return breaker.RateLimited, ue.RetryAfter, true
	case errors.As(err, &ue) && ue.AuthFailed():
		// Our key is bad (any provider's way of saying so): take it out at
		// once and let another key or provider answer.
		return breaker.Rejected, 0, true
	case errors.As(err, &ue) && ue.Retryable():
		return breaker.Failure, ue.RetryAfter, true
	case errors.As(err, &ue):
		return breaker.Neutral, 0, false
	case errors.Is(err, context.DeadlineExceeded):
		return breaker.Failure, 0, true // the per-try timeout fired
	}
	return breaker.Neutral, 0, false
}

// backoff waits before another round over targets already tried: full
// jitter over an exponential cap, at least the largest Retry-After, and no
// later than when a target becomes available again. It fails when the wait
// would pass the deadline.
func (r *Router) backoff(ctx context.Context, a *attempt, round int) error {
	rt := a.rt
	wait := backoff.Policy{Base: rt.Retry.InitialBackoff, Max: rt.Retry.MaxBackoff}.Full(round, r.rnd, a.hint)
	now := r.now()
	// Waiting for a breaker to reopen is pointless when panic mode will try
	// an open target anyway.
	if soonest := r.soonestAvailable(a, now); soonest > wait && !(a.rt.Panic && panicPossible(a, now)) {
		wait = soonest
	}
	if dl, ok := ctx.Deadline(); ok && now.Add(wait).After(dl) {
		return fmt.Errorf("retry in %v would pass the deadline", wait.Round(time.Millisecond))
	}
	// Honour Retry-After up to the route's max backoff; past that the
	// client is better served by the error (and its Retry-After) than by a
	// long silence.
	if wait > rt.Retry.MaxBackoff {
		return fmt.Errorf("no target available for %v", wait.Round(time.Millisecond))
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
	}
	for i := range a.tried {
		a.tried[i] = 0
	}
	a.hint = 0
	return nil
}

// soonestAvailable is how long until the first unavailable target of the
// route's usable groups can take calls again (0 if one can now).
func (r *Router) soonestAvailable(a *attempt, now time.Time) time.Duration {
	best := time.Duration(-1)
	for gi, g := range a.rt.groups {
		if gi > 0 && !a.rt.Failover {
			break
		}
		for _, tg := range g.targets {
			if tg.state.breaker.Available(now) {
				return 0
			}
			s := tg.state.breaker.Snapshot()
			until := s.CoolUntil
			if s.OpenUntil.After(until) {
				until = s.OpenUntil
			}
			if d := until.Sub(now); d > 0 && (best < 0 || d < best) {
				best = d
			}
		}
	}
	return max(best, 0)
}

// allCooling reports whether every usable target is out only because of a
// 429 cooldown, and how long until the first comes back: the client then
// gets a 429 with that Retry-After instead of a 503.
func (r *Router) allCooling(a *attempt, now time.Time) (time.Duration, bool) {
	soonest := time.Duration(-1)
	for gi, g := range a.rt.groups {
		if gi > 0 && !a.rt.Failover {
			break
		}
		for _, tg := range g.targets {
			s := tg.state.breaker.Snapshot()
			if !s.Cooling(now) || s.State == breaker.Open {
				return 0, false
			}
			if d := s.CoolUntil.Sub(now); soonest < 0 || d < soonest {
				soonest = d
			}
		}
	}
	return soonest, soonest > 0
}

func (r *Router) resolve(req *llm.ChatRequest) (*attempt, error) {
	t := r.table.Load()
	rt, err := t.Resolve(req.Model, req.Hints.Route)
	if err != nil {
		return nil, err
	}
	return r.newAttempt(rt.match(req, r.now), req, req.Hints)
}

func withOverall(ctx context.Context, rt *Route) (context.Context, context.CancelFunc) {
	if rt.Retry.OverallTimeout > 0 {
		return context.WithTimeout(ctx, rt.Retry.OverallTimeout)
	}
	return context.WithCancel(ctx)
}

// run drives attempts: pick, call, record, and on a retryable failure try
// the next target (immediately) or, once every target was tried, back off
// and go round again, until MaxAttempts or the deadline.
func run[T any](ctx context.Context, r *Router, a *attempt, call func(ctx context.Context, tg *Target) (T, error), onPicked func(*Target)) (T, error) {
	var zero T
	for round := 0; a.info.Attempts < a.rt.Retry.MaxAttempts; {
		tg, probe, err := r.pick(ctx, a)
		if err != nil {
			if errors.Is(err, errQuotaExhausted) {
				// Waiting would not help within a request: the keys refill
				// over seconds. The client gets the 429 (or the last real
				// error) now.
				if a.lastErr != nil {
					return zero, a.lastErr
				}
				return zero, err
			}
			// Every usable target was tried or is unavailable: back off and
			// go round again, or give up.
			if round > a.rt.Retry.MaxAttempts || (a.lastErr != nil && !a.rt.Failover) {
				break
			}
			if berr := r.backoff(ctx, a, round); berr != nil {
				if a.lastErr != nil {
					return zero, a.lastErr
				}
				if d, ok := r.allCooling(a, r.now()); ok {
					return zero, &llm.Error{Kind: llm.KindRateLimited, RetryAfter: d, Code: "upstream_rate_limited",
						Message: fmt.Sprintf("every target of '%s' is rate-limited upstream; retry after %v", a.rt.Name, d.Round(time.Second))}
				}
				return zero, &llm.Error{Kind: llm.KindUnavailable, RetryAfter: r.soonestAvailable(a, r.now()), Code: "no_healthy_target",
					Message: fmt.Sprintf("no healthy target for '%s': %v", a.rt.Name, berr), Err: llm.ErrNoHealthyTarget}
			}
			round++
			continue
		}
		if onPicked != nil {
			onPicked(tg)
			onPicked = nil
		}
		a.info.Attempts++
		a.info.Provider, a.info.Target, a.info.UpstreamModel = tg.Provider, tg.ID, tg.Model
		out, err := call(ctx, tg)
		o, ra, retry := classify(ctx, err)
		tg.state.breaker.Record(probe, o, ra)
		tg.state.streak.record(o, r.now)
		if err == nil {
			return out, nil
		}
		a.lastErr = err
		if ra > a.hint {
			a.hint = ra
		}
		if !retry || !a.rt.Failover {
			return zero, err
		}
	}
	if a.lastErr == nil {
		return zero, llm.ErrNoHealthyTarget
	}
	return zero, a.lastErr
}
