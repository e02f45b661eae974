package route

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

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
