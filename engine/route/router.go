package route

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/backoff"
	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

// Info tells how a request was served.
type Info struct {
	Route         string
	Strategy      string
	Provider      string
	Target        string
	UpstreamModel string
	Attempts      int
	Hedged        bool
	Cache         llm.CacheStatus
	// Cost is what the request is billed: its own usage at its target's
	// price plus, for a hedged request, the lanes that lost (Extra).
	Cost llm.Money
	// Extra is usage billed beyond the answer's own: hedge lanes that lost,
	// or the prompt of a call the client gave up on. They reached a
	// provider, so their tokens are billed with this request.
	Extra llm.Usage
	// Estimated marks a cost that is partly an estimate: a lane cancelled
	// before it answered is billed for its prompt, counted from the request.
	Estimated bool
	Scores    map[string]float64

	// Panic is set when every target was out and one was tried anyway.
	Panic bool
	// Semantic reports the semantic lookup, when one was made (semantic.go).
	Semantic *SemanticInfo
	// Rule names the route's attribute rule whose targets were tried first
	// (rules.go); empty when none matched. Route stays the alias.
	Rule string
}

// Router routes requests over the current Table. Tables are immutable and
// swapped atomically; requests in flight finish on the table (and adapters)
// they started with.
type Router struct {
	table atomic.Pointer[Table]
	reg   *registry
	now   func() time.Time
	rnd   func() float64 // [0,1) for backoff jitter; goroutine-safe

	mu   sync.Mutex // serialises rebuilds
	spec Spec

	cache       ResponseCache
	scopePerKey bool
	sem         SemanticCache
	calls       *cache.Group[chatResult]
	streams     *cache.StreamGroup

	panics atomic.Uint64 // picks made in panic mode, for metrics
	quota  quotaMeter
}

// ResponseCache stores whole answers (engine/cache.Tiered implements it).
type ResponseCache interface {
	Get(ctx context.Context, key cache.Key) (*cache.Entry, bool)
	Set(ctx context.Context, key cache.Key, e *cache.Entry, ttl time.Duration)
}

type chatResult struct {
	resp *llm.ChatResponse
	info Info
	// paid is taken by the first caller to receive the answer: it pays for
	// it, the others share it for free. A leader that left before the
	// answer came does not pay, so the answer is not free to the rest.
	paid *atomic.Bool
}

// WithCache enables the response cache and the coalescing of identical
// in-flight requests; perKey scopes entries to the calling client key.
func WithCache(c ResponseCache, perKey bool) Option {
	return func(r *Router) { r.cache, r.scopePerKey = c, perKey }
}

// Option configures a Router.
type Option func(*Router)

// WithClock injects the clock used by breakers, stats and backoff.
func WithClock(now func() time.Time) Option { return func(r *Router) { r.now = now } }

// WithBreaker sets the breaker configuration of every target.
func WithBreaker(cfg breaker.Config) Option { return func(r *Router) { r.reg.cfg = cfg } }

// WithQuotaMeter meters provider-key quotas with m instead of in process.
func WithQuotaMeter(m QuotaMeter) Option { return func(r *Router) { r.SetQuotaMeter(m) } }

// WithJitter injects the backoff jitter source (tests).
func WithJitter(f func() float64) Option { return func(r *Router) { r.rnd = f } }

// New builds a Router serving spec.
func New(spec Spec, opts ...Option) (*Router, error) {
	r := &Router{now: time.Now, rnd: rand.Float64, reg: newRegistry(breaker.Config{}, nil)}
	for _, o := range opts {
		o(r)
	}
	r.reg.now = r.now
	if r.quota.m.Load() == nil {
		r.SetQuotaMeter(limits.NewMemory(limits.WithClock(r.now)))
	}
	r.calls = cache.NewGroup[chatResult](0)
	r.streams = cache.NewStreamGroup(0)
	if err := r.Update(spec); err != nil {
		return nil, err
	}
	return r, nil
}

// Close stops the coalescing groups' shared upstream calls.
func (r *Router) Close() error {
	r.calls.Close()
	r.streams.Close()
	return nil
}

// cacheKey returns the request's cache key, and whether to read and write,
// or ok=false when the route's policy leaves this request uncached.
func (r *Router) cacheKey(rt *Route, req *llm.ChatRequest) (key cache.Key, read, write, ok bool) {
	if r.cache == nil || !cache.Cacheable(rt.Cache.Mode, req) {
		return key, false, false, false
	}
	scope := ""
	if r.scopePerKey {
		scope = req.Hints.Client
	}
	read, write = cache.Directive(req.Hints.CacheControl)
	return cache.NewKey(req, rt.Name, rt.sig, scope), read, write, true
}

func cacheTTL(rt *Route, req *llm.ChatRequest) time.Duration {
	if req.Hints.CacheTTL > 0 {
		return req.Hints.CacheTTL
	}
	return rt.Cache.TTL
}

func hitInfo(a *attempt, e *cache.Entry) Info {
	info := a.info
	info.Provider, info.Target, info.UpstreamModel = e.Provider, e.Target, e.UpstreamModel
	info.Cache = llm.CacheHit
	return info
}

// Table returns the table in force.
func (r *Router) Table() *Table { return r.table.Load() }

// Spec returns the spec in force.
func (r *Router) Spec() Spec {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.spec
}

// Update validates and installs a new spec; on error the old table stays.
func (r *Router) Update(spec Spec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.updateLocked(spec)
}

func (r *Router) updateLocked(spec Spec) error {
	t, err := buildTable(spec, r.reg)
	if err != nil {
		return err
	}
	r.spec = spec
	r.table.Store(t)
	return nil
}

// AddKey adds a key to a provider's pool, taking effect at once.
func (r *Router) AddKey(provider string, k KeySpec) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	spec := r.spec
	spec.Providers = append([]ProviderSpec(nil), spec.Providers...)
	for i := range spec.Providers {
		p := &spec.Providers[i]
		if p.Name != provider {
			continue
		}
		for _, have := range p.Keys {
			if have.ID == k.ID {
				return llm.Errorf(llm.KindInvalidRequest, "provider %q already has key %s", provider, k.ID)
			}
		}
		p.Keys = append(append([]KeySpec(nil), p.Keys...), k)
		return r.updateLocked(spec)
	}
	return &llm.Error{Kind: llm.KindNotFound, Param: "provider", Message: fmt.Sprintf("provider %q does not exist", provider)}
}

// RemoveKey removes a key from a provider's pool. Requests already using
// it finish; new ones no longer pick it. The last key cannot be removed.
func (r *Router) RemoveKey(provider, keyID string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	spec := r.spec
	spec.Providers = append([]ProviderSpec(nil), spec.Providers...)
	for i := range spec.Providers {
		p := &spec.Providers[i]
		if p.Name != provider {
			continue
		}
		for j, have := range p.Keys {
			if have.ID != keyID {
				continue
			}
			if len(p.Keys) == 1 {
				return llm.Errorf(llm.KindInvalidRequest, "key %s is provider %q's last key; add another first", keyID, provider)
			}
			p.Keys = append(append([]KeySpec(nil), p.Keys[:j]...), p.Keys[j+1:]...)
			return r.updateLocked(spec)
		}
		return &llm.Error{Kind: llm.KindNotFound, Param: "key_id", Message: fmt.Sprintf("provider %q has no key %s", provider, keyID)}
	}
	return &llm.Error{Kind: llm.KindNotFound, Param: "provider", Message: fmt.Sprintf("provider %q does not exist", provider)}
}

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

// Chat serves a unary request: from the cache when it may, else shared
// with identical requests in flight, else routed with retries, failover and
// (when the route enables it) hedging.
func (r *Router) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, Info, error) {
	a, err := r.resolve(req)
	if err != nil {
		return nil, Info{}, err
	}
	key, read, write, cached := r.cacheKey(a.rt, req)
	if !cached {
		return r.chatRouted(ctx, a, req)
	}
	var sem *semLookup
	if read {
		if e, ok := r.cache.Get(ctx, key); ok {
			return e.ChatResponse(), hitInfo(a, e), nil
		}
		// The exact cache first: a semantic lookup costs an embedding.
		if sem = r.semanticLookup(ctx, a.rt, req); sem != nil && sem.hit != nil {
			return sem.hit.ChatResponse(), semanticHitInfo(a, sem), nil
		}
	}
	res, shared, err := r.calls.Do(ctx, key, func(ctx context.Context) (chatResult, error) {
		resp, info, err := r.chatRouted(ctx, a, req)
		if err == nil && write {
			r.cache.Set(ctx, key, &cache.Entry{Response: resp, Provider: info.Provider, Target: info.Target, UpstreamModel: info.UpstreamModel}, cacheTTL(a.rt, req))
			sem.store(ctx, r, a.rt, req, key)
		}
		info.Cache = llm.CacheMiss
		return chatResult{resp, info, new(atomic.Bool)}, err
	})
	res.info.Semantic = sem.report()
	if err != nil {
		return nil, res.info, err
	}
	if shared {
		res.info.Cache = llm.CacheCoalesced
	}
	if !res.paid.CompareAndSwap(false, true) {
		// One upstream call served everyone; the first to get it paid.
		res.info.Cost, res.info.Extra, res.info.Estimated = 0, llm.Usage{}, false
	}
	return res.resp, res.info, nil
}

func (r *Router) chatRouted(ctx context.Context, a *attempt, req *llm.ChatRequest) (resp *llm.ChatResponse, info Info, err error) {
	// A unary call leaves nothing running when it returns (hedge cancels
	// its own lanes), so without an overall timeout the caller's ctx is
	// enough: a cancel context here cost four allocations a request.
	if a.rt.Retry.OverallTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, a.rt.Retry.OverallTimeout)
		defer cancel()
	}
	defer func() { a.spent.wait().fold(&info) }()
	call := func(ctx context.Context, tg *Target) (*llm.ChatResponse, error) {
		up := *req
		up.Model = tg.Model
		impl, _, err := a.rt.serve(tg, &up, &a.spent, a.breq.Tokens)
		if err != nil {
			return nil, err
		}
		tctx, tcancel := ctx, context.CancelFunc(func() {})
		if a.rt.Retry.PerTryTimeout > 0 {
			tctx, tcancel = context.WithTimeout(ctx, a.rt.Retry.PerTryTimeout)
		}
		defer tcancel()
		start := r.now()
		tg.state.used.Store(start.UnixNano())
		tg.state.stats.Begin()
		resp, err := impl.Chat(tctx, &up)
		lat := r.now().Sub(start)
		o, _, _ := classify(ctx, err)
		tg.state.stats.Done(r.now(), balancer.DoneInfo{Latency: lat, Failed: o == breaker.Failure || o == breaker.Rejected})
		if err == nil {
			a.rt.lat.observe(lat)
		}
		return resp, err
	}
	if a.rt.Hedge.Enabled {
		// A losing lane that answered anyway is billed its real usage; one
		// cancelled in flight, its prompt.
		loser := func(resp *llm.ChatResponse, info Info, err error) legCost {
			if err != nil {
				return cancelledLeg(a, info, err)
			}
			return legCost{usage: resp.Usage, cost: priceOf(info, a.rt).Cost(resp.Usage)}
		}
		resp, info, done, side, err := hedge(ctx, r, a, req, call, loser)
		if err != nil {
			return nil, info, err
		}
		done()
		info.Cost = priceOf(info, a.rt).Cost(resp.Usage)
		side.wait().fold(&info)
		return resp, info, nil
	}
	resp, err = run(ctx, r, a, call, nil)
	if err != nil {
		// A call the client gave up on had reached a provider: its prompt
		// is billed, as an estimate.
		cancelledLeg(a, a.info, err).fold(&a.info)
		return nil, a.info, err
	}
	a.info.Cost = priceOf(a.info, a.rt).Cost(resp.Usage)
	return resp, a.info, nil
}

func priceOf(info Info, rt *Route) Price {
	for _, g := range rt.groups {
		for _, tg := range g.targets {
			if tg.ID == info.Target {
				return tg.Price
			}
		}
	}
	return Price{}
}

// hedge runs a second lane on another target when the first has not
// answered within the hedge delay. The first success wins and the other
// lane is cancelled; a losing lane reached a provider too, so loser prices
// it (whether it failed, was cancelled or answered late) in the background
// and side collects the sum for the winner's bill. done releases the
// winning lane's context: call it once finished with the result (a stream
// reads on it until it ends).
func hedge[T any](ctx context.Context, r *Router, a *attempt, req *llm.ChatRequest, call func(context.Context, *Target) (T, error),
	loser func(v T, info Info, err error) legCost) (v T, info Info, done context.CancelFunc, side *legs, err error) {
	type result struct {
		v    T
		info Info
		err  error
		lane int
	}
	delay := a.rt.Hedge.Delay
	if delay <= 0 {
		if delay = a.rt.lat.P95(); delay <= 0 {
			delay = 500 * time.Millisecond
		}
	}
	results := make(chan result, 2)
	firstTarget := make(chan *Target, 1)
	var cancels [2]context.CancelFunc
	var finished [2]bool
	ctx1, cancel1 := context.WithCancel(ctx)
	cancels[0] = cancel1
	go func() {
		v, err := run(ctx1, r, a, call, func(tg *Target) { firstTarget <- tg })
		results <- result{v, a.info, err, 0}
	}()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	launched, running := 1, 1
	for {
		select {
		case res := <-results:
			running--
			finished[res.lane] = true
			if res.err == nil {
				side = &legs{}
				for i := 0; i < launched; i++ {
					if i != res.lane && !finished[i] {
						cancels[i]()
					}
				}
				if running > 0 {
					side.wg.Add(running)
					go func(n int) {
						for range n {
							late := <-results
							side.add(loser(late.v, late.info, late.err))
							cancels[late.lane]()
							side.wg.Done()
						}
					}(running)
				}
				res.info.Hedged = launched > 1 || res.info.Hedged
				return res.v, res.info, cancels[res.lane], side, nil
			}
			cancels[res.lane]()
			if running == 0 {
				return res.v, res.info, func() {}, nil, res.err
			}
		case <-timer.C:
			if launched == len(cancels) {
				continue
			}
			b, err := r.newAttempt(a.rt, req, req.Hints)
			if err != nil {
				continue
			}
			select {
			case tg := <-firstTarget:
				b.exclude(tg)
				firstTarget <- tg
			default:
			}
			ctx2, cancel2 := context.WithCancel(ctx)
			cancels[1] = cancel2
			launched++
			running++
			go func() {
				v, err := run(ctx2, r, b, call, nil)
				b.info.Hedged = true
				results <- result{v, b.info, err, 1}
			}()
		}
	}
}

// ChatStream opens a stream. A target that fails before its first chunk is
// replaced (retries and failover as for unary); after the first chunk
// nothing is retried: a failure then is the stream's error.
func (r *Router) ChatStream(ctx context.Context, req *llm.ChatRequest) (*Stream, error) {
	a, err := r.resolve(req)
	if err != nil {
		return nil, err
	}
	key, read, write, cached := r.cacheKey(a.rt, req)
	if !cached {
		return r.streamRouted(ctx, a, req)
	}
	var sem *semLookup
	if read {
		if e, ok := r.cache.Get(ctx, key); ok {
			return &Stream{up: e.Stream(), r: r, info: hitInfo(a, e)}, nil
		}
		if sem = r.semanticLookup(ctx, a.rt, req); sem != nil && sem.hit != nil {
			return &Stream{up: sem.hit.Stream(), r: r, info: semanticHitInfo(a, sem)}, nil
		}
	}
	var leader *Stream
	sub, shared, err := r.streams.Join(ctx, key,
		func(ctx context.Context) (llm.Stream, error) {
			s, err := r.streamRouted(ctx, a, req)
			if err != nil {
				return nil, err
			}
			s.info.Cache = llm.CacheMiss
			s.shared = &tab{}
			leader = s
			return s, nil
		},
		func(chunks []llm.Chunk) {
			if write && leader != nil {
				info := leader.Info()
				e := cache.FromChunks(chunks)
				e.Provider, e.Target, e.UpstreamModel = info.Provider, info.Target, info.UpstreamModel
				r.cache.Set(context.WithoutCancel(ctx), key, e, cacheTTL(a.rt, req))
				sem.store(context.WithoutCancel(ctx), r, a.rt, req, key)
			}
		})
	if err != nil {
		return nil, err
	}
	out := &Stream{up: sub, r: r}
	src, _ := sub.Source().(*Stream)
	if src == nil {
		return nil, fmt.Errorf("route: shared stream of '%s' has no routed source", a.rt.Name)
	}
	// Everyone reading the shared upstream is billed through its tab: the
	// first to end pays for the prompt and what it received (the upstream's
	// usage, or an estimate from what it relayed), a later one only for what
	// it received beyond that. Usually the leader pays all and followers
	// nothing; a leader that leaves early leaves the rest to whoever stayed.
	out.info = src.Info()
	out.info.Semantic = sem.report()
	out.price, out.promptEstimate, out.tab, out.billed = src.price, src.promptEstimate, src.shared, true
	if shared {
		out.info.Cache, out.info.Cost, out.info.Extra, out.info.Estimated = llm.CacheCoalesced, 0, llm.Usage{}, false
		return out, nil
	}
	out.info.Cache = llm.CacheMiss
	out.side = src.side
	return out, nil
}

func (r *Router) streamRouted(ctx context.Context, a *attempt, req *llm.ChatRequest) (*Stream, error) {
	ctx, cancel := withOverall(ctx, a.rt)
	call := func(ctx context.Context, tg *Target) (*Stream, error) {
		up := *req
		up.Model = tg.Model
		impl, calls, err := a.rt.serve(tg, &up, nil, 0)
		if err != nil {
			return nil, err
		}
		sctx, scancel := context.WithCancel(ctx)
		var timer *time.Timer
		if a.rt.Retry.PerTryTimeout > 0 {
			timer = time.AfterFunc(a.rt.Retry.PerTryTimeout, func() { scancel() })
		}
		start := r.now()
		tg.state.used.Store(start.UnixNano())
		tg.state.stats.Begin()
		fail := func(err error) (*Stream, error) {
			if timer != nil && !timer.Stop() && ctx.Err() == nil {
				err = fmt.Errorf("%w: no first chunk within %v", context.DeadlineExceeded, a.rt.Retry.PerTryTimeout)
			}
			scancel()
			o, _, _ := classify(ctx, err)
			tg.state.stats.Done(r.now(), balancer.DoneInfo{Latency: r.now().Sub(start), Failed: o == breaker.Failure || o == breaker.Rejected})
			return nil, err
		}
		st, err := impl.ChatStream(sctx, &up)
		if err != nil {
			return fail(err)
		}
		first, ferr := st.Recv()
		if ferr != nil {
			_ = st.Close()
			if errors.Is(ferr, io.EOF) {
				ferr = &llm.UpstreamError{Provider: tg.Provider, Status: 502, Message: "upstream stream ended before any data", Err: io.ErrUnexpectedEOF}
			}
			return fail(ferr)
		}
		if timer != nil {
			timer.Stop()
		}
		ttft := r.now().Sub(start)
		a.rt.lat.observe(ttft)
		return &Stream{up: st, r: r, tg: tg, price: tg.Price, first: first, hasFirst: true, start: start, ttft: ttft, cancel: scancel,
			promptEstimate: a.breq.Tokens * calls, billed: true}, nil
	}
	if !a.rt.Hedge.Enabled {
		s, err := run(ctx, r, a, call, nil)
		if err != nil {
			cancel()
			return nil, err
		}
		s.info, s.overall = a.info, cancel
		return s, nil
	}
	// A lane that opened a stream and lost is closed here, and billed its
	// prompt and what it had produced; one cancelled before its first chunk,
	// its prompt.
	loser := func(ls *Stream, info Info, err error) legCost {
		if err != nil {
			return cancelledLeg(a, info, err)
		}
		_ = ls.Close()
		u, partial := ls.Usage()
		return legCost{usage: u, cost: ls.Info().Cost, estimated: partial}
	}
	s, info, done, side, err := hedge(ctx, r, a, req, call, loser)
	if err != nil {
		cancel()
		return nil, err
	}
	s.info, s.side = info, side
	s.overall = func() { done(); cancel() }
	return s, nil
}

// Embed serves an embeddings request on the route's targets that embed.
func (r *Router) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, Info, error) {
	t := r.table.Load()
	rt, err := t.Resolve(req.Model, req.Hints.Route)
	if err != nil {
		return nil, Info{}, err
	}
	a, err := r.newAttempt(rt, nil, req.Hints)
	if err != nil {
		return nil, Info{}, err
	}
	if rt.Retry.OverallTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, rt.Retry.OverallTimeout)
		defer cancel()
	}
	resp, err := run(ctx, r, a, func(ctx context.Context, tg *Target) (*llm.EmbeddingResponse, error) {
		e, ok := tg.impl.(Embedder)
		if !ok {
			return nil, llm.Errorf(llm.KindInvalidRequest, "model '%s' (provider %s) does not serve embeddings", req.Model, tg.Provider)
		}
		up := *req
		up.Model = tg.Model
		return e.Embed(ctx, &up)
	}, nil)
	if err != nil {
		return nil, a.info, err
	}
	a.info.Cost = priceOf(a.info, rt).Cost(resp.Usage)
	return resp, a.info, nil
}
