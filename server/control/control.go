// Package control is the gateway's live configuration: it builds providers
// (through the Registry of adapter types) and the routing table from the
// config, swaps them on reload and through the routing API, persists API
// changes in the store and brings them back at start.
package control

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/adapters/openai"
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/cache/semantic"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/keydir"
	"github.com/switchyard/switchyard/server/metrics"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/server/telemetry"
	"github.com/switchyard/switchyard/store"
)

// Control owns the live configuration: it builds provider adapters and
// routing tables and swaps them atomically on SIGHUP or UpdateRoutingConfig.
// A config that fails validation or building is refused whole.
//
// The Set methods attach what main opens after New (storage, the key
// directory, alerts); they are called before serving, never concurrently
// with requests.
type Control struct {
	log       hclog.Logger
	path      string
	registry  *Registry
	router    *route.Router
	auth      *middleware.Auth
	redis     *cache.Redis
	semantic  *semantic.Cache
	semShared *semantic.Shared
	semIndex  *semantic.Index
	store     *store.Store
	ledger    *store.Ledger
	sealer    *store.Sealer // nil without SWITCHYARD_MASTER_KEY: API-added provider keys last until restart
	keys      *keydir.Directory
	gate      *access.Gate
	closeGate func()
	alerts    func() // triggers an alert evaluation
	// tracing wraps the provider transports (client spans, traceparent).
	tracing *telemetry.Tracing
	// baseHash names the config file's routing section; apiRouted says the
	// routing in force came through the API over that base.
	baseHash  string
	apiRouted bool
	// names gives provider keys their ids (see keyNamer).
	names keyNamer

	mu        sync.Mutex // serialises changes; reads of the table are lock-free
	cfg       *config.Config
	clients   map[string]*http.Client // one keep-alive pool per provider
	apiKeys   map[string][]apiKey     // keys added through the API, kept across reloads
	version   int64                   // of the routing in force; the store's when there is one
	updatedAt time.Time
	now       func() time.Time // dates routing versions made at start and on SIGHUP, and feed fetches
	quotaNow  func() time.Time // meters provider-key quotas

	// The price feed (prices.go): the last good feed and when it was
	// fetched, under mu; priceTick replaces the refresh ticker in tests.
	feed       *feedPrices
	feedAt     time.Time
	priceTick  <-chan time.Time
	feedClient *http.Client
	stopFeed   func()
	// stopProbes ends the probe loop (probe.go); probeTick replaces its
	// timer in tests.
	stopProbes func()
	probeTick  <-chan time.Time
	// sync follows changes made on other gateways (sync.go); skipped is
	// the last stored routing version it could not follow (logged once).
	sync    *syncer
	skipped int64
}

type apiKey struct {
	id, key, label string
	weight         int
}

// Option configures a Control.
type Option func(*Control)

// WithClock dates the routing versions made at start and on reload (tests
// pin it).
func WithClock(now func() time.Time) Option { return func(c *Control) { c.now = now } }

// WithQuotaClock injects the clock provider-key quotas refill on (tests
// pin it to the fake upstream's, which enforces the same quotas).
func WithQuotaClock(now func() time.Time) Option { return func(c *Control) { c.quotaNow = now } }

// WithRegistry replaces the built-in provider types.
func WithRegistry(r *Registry) Option { return func(c *Control) { c.registry = r } }

// New builds the providers and router of cfg. path is the config file
// Reload re-reads ("" for the embedded default); tracing may be nil.
func New(log hclog.Logger, path string, cfg *config.Config, tracing *telemetry.Tracing, opts ...Option) (*Control, error) {
	c := &Control{log: log, path: path, auth: middleware.NewAuth(cfg.Auth.APIKeys), apiKeys: map[string][]apiKey{}, tracing: tracing, now: time.Now, quotaNow: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.registry == nil {
		c.registry = Builtin()
	}
	var err error
	if c.names, err = newKeyNamer(nil); err != nil {
		return nil, err
	}
	providers, clients, err := buildProviders(c.registry, cfg, nil, c.names, tracing)
	if err != nil {
		return nil, err
	}
	rc, err := c.buildCache(cfg.ResponseCache)
	if err != nil {
		return nil, err
	}
	if err := c.buildSemantic(cfg.ResponseCache); err != nil {
		c.Close()
		return nil, err
	}
	c.router, err = route.New(buildSpec(cfg, providers), route.WithCache(rc, cfg.ResponseCache.Scope == "key"), route.WithSemanticCache(c.semantic),
		route.WithQuotaMeter(limits.NewMemory(limits.WithClock(c.quotaNow))))
	if err != nil {
		c.Close()
		return nil, err
	}
	c.followSemantic(cfg)
	c.cfg, c.clients, c.version, c.updatedAt = cfg, clients, 1, c.now()
	c.baseHash = routingHash(cfg)
	return c, nil
}

// buildCache makes the tiered response cache: L1 in process, Redis as L2
// when configured. An unreachable Redis is a warning, never a startup
// failure: the cache degrades to L1 and probes Redis again later.
func (c *Control) buildCache(rc config.ResponseCache) (*cache.Tiered, error) {
	l1 := cache.NewL1(cache.WithMaxEntries(rc.MaxEntries), cache.WithMaxBytes(rc.MaxBytes), cache.WithDefaultTTL(rc.TTL.D()))
	var l2 cache.Store
	if rc.RedisURL != "" {
		r, err := cache.NewRedis(rc.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("cache.redis_url: %w", err)
		}
		c.redis = r
		l2 = r
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := r.Ping(ctx); err != nil {
			c.log.Warn("redis cache unreachable at start; serving from the in-process cache until it answers", "error", err)
		} else {
			c.log.Info("response cache shared through redis", "url", config.RedactURL(rc.RedisURL))
		}
	}
	return cache.NewTiered(l1, l2, cache.WithStateFunc(func(up bool, err error) {
		if up {
			c.log.Info("redis cache reachable again")
		} else {
			c.log.Warn("redis cache unreachable; serving from the in-process cache only", "error", err)
		}
	}))
}

// Close releases the cache's and the gate's Redis connections and the
// coalescing groups.
func (c *Control) Close() {
	c.stopSync()
	if c.stopFeed != nil {
		c.stopFeed()
	}
	if c.stopProbes != nil {
		c.stopProbes()
	}
	if c.closeGate != nil {
		c.closeGate()
	}
	if c.router != nil {
		_ = c.router.Close()
	}
	if c.redis != nil {
		_ = c.redis.Close()
	}
	if c.semShared != nil {
		_ = c.semShared.Close()
	}
}

// Reload re-reads the config file (SIGHUP). Providers are rebuilt; requests
// in flight finish on the adapters they started with.
func (c *Control) Reload(ctx context.Context) error {
	if c.path == "" {
		return fmt.Errorf("no --config file to reload (running on the embedded default)")
	}
	cfg, err := config.Load(c.path, os.LookupEnv)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	base := routingHash(cfg)
	if c.apiRouted && base == c.baseHash {
		// The file's routing is unchanged: the change made through the API
		// stays in force.
		n, err := cfg.WithRouting(c.cfg.Routing, c.cfg.Routes)
		if err != nil {
			return fmt.Errorf("the routing set through the API does not fit the reloaded file: %w", err)
		}
		cfg = n
	} else {
		c.apiRouted = false
	}
	providers, clients, err := buildProviders(c.registry, cfg, c.apiKeys, c.names, c.tracing)
	if err != nil {
		return err
	}
	providers = c.withFeed(cfg, providers)
	if err := c.router.Update(buildSpec(cfg, providers)); err != nil {
		return err
	}
	routingChanged := routingHash(cfg) != routingHash(c.cfg)
	if cfg.Listen != c.cfg.Listen {
		c.log.Warn("listen address changes need a restart; keeping the current one", "current", c.cfg.Listen, "new", cfg.Listen)
		cfg.Listen = c.cfg.Listen
	}
	if cfg.Pricing != c.cfg.Pricing {
		// The feed goroutine was started with the old settings.
		c.log.Warn("pricing changes need a restart; keeping the current feed", "feed", config.RedactURL(c.cfg.Pricing.FeedURL), "refresh", c.cfg.Pricing.Refresh)
		cfg.Pricing = c.cfg.Pricing
	}
	c.auth.SetKeys(cfg.Auth.APIKeys)
	c.followSemantic(cfg)
	c.cfg, c.clients, c.baseHash = cfg, clients, base
	if routingChanged {
		if err := c.recordFileRouting(ctx); err != nil {
			// The new table serves already; only its history entry is missing.
			c.log.Error("the reloaded routing is in force but could not be saved as a version", "error", err)
		}
	}
	c.log.Info("config reloaded", "file", c.path, "version", c.version, "routing", c.router.Table().String())
	return nil
}

func (c *Control) Routing() rpc.RoutingState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return rpc.RoutingState{Routing: c.cfg.Routing, Routes: c.cfg.Routes, Version: c.version, UpdatedAt: c.updatedAt, Served: servedModels(c.cfg)}
}

func (c *Control) ValidateRouting(r config.Routing, routes []config.Route) error {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	_, err := cfg.WithRouting(r, routes)
	return err
}

func (c *Control) UpdateRouting(ctx context.Context, ch rpc.RoutingChange) (rpc.RoutingState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch.IfVersion != c.version {
		return rpc.RoutingState{}, fmt.Errorf("%w (version %d is in force now, not %d)", rpc.ErrRoutingConflict, c.version, ch.IfVersion)
	}
	next, err := c.cfg.WithRouting(ch.Routing, ch.Routes)
	if err != nil {
		return rpc.RoutingState{}, err
	}
	// Saved first: a change that would not survive a restart is refused.
	// Over the version in force here: a change saved meanwhile on another
	// replica (not yet followed here) is a conflict, not overwritten.
	version, err := c.saveRouting(ctx, next, ch, c.version)
	if errors.Is(err, store.ErrConflict) {
		return rpc.RoutingState{}, fmt.Errorf("%w (another gateway saved a newer version than %d; read it and retry)", rpc.ErrRoutingConflict, c.version)
	}
	if err != nil {
		return rpc.RoutingState{}, &llm.Error{Kind: llm.KindUnavailable, Message: "saving the routing config failed: " + err.Error(), Err: err}
	}
	// The router's providers include keys added through the API since the
	// last build.
	if err := c.router.Update(buildSpec(next, c.router.Spec().Providers)); err != nil {
		return rpc.RoutingState{}, llm.InvalidParam("config", "%v", err)
	}
	c.cfg, c.apiRouted = next, true
	c.version, c.updatedAt = version, ch.At
	c.announce(topicRouting)
	c.log.Info("routing config updated through the API", "version", c.version, "by", ch.By, "rollback_of", ch.RollbackOf, "routing", c.router.Table().String())
	return rpc.RoutingState{Routing: next.Routing, Routes: next.Routes, Version: c.version, UpdatedAt: c.updatedAt, Served: servedModels(next)}, nil
}

func buildSpec(cfg *config.Config, providers []route.ProviderSpec) route.Spec {
	rank := map[string]config.ProviderWeight{}
	for _, pw := range cfg.Routing.Providers {
		rank[pw.Name] = pw
	}
	spec := route.Spec{
		DefaultStrategy: cfg.Routing.Strategy,
		DefaultFallback: cfg.Routing.FallbackStrategy,
		DefaultNoPanic:  off(cfg.Routing.PanicMode),
		DefaultCache:    route.CacheSpec{Mode: cfg.ResponseCache.Mode, TTL: cfg.ResponseCache.TTL.D()},
		Created:         time.Now().Unix(),
	}
	for _, p := range providers {
		p.Priority, p.Weight = rank[p.Name].Priority, rank[p.Name].Weight
		spec.Providers = append(spec.Providers, p)
	}
	for _, r := range cfg.Routes {
		rs := route.RouteSpec{
			Model: r.Model, Strategy: r.Strategy, FallbackStrategy: r.FallbackStrategy, Fallbacks: r.Fallbacks,
			Retry: route.RetrySpec{
				MaxAttempts: r.Retry.MaxAttempts, InitialBackoff: r.Retry.InitialBackoff.D(), MaxBackoff: r.Retry.MaxBackoff.D(),
				PerTryTimeout: r.Retry.PerTryTimeout.D(), OverallTimeout: r.Retry.OverallTimeout.D(),
			},
			Hedge:  route.HedgeSpec{Enabled: r.Hedge.Enabled, Delay: r.Hedge.Delay.D()},
			Cache:  route.CacheSpec{Mode: r.Cache.Mode, TTL: r.Cache.TTL.D(), Semantic: semanticSpec(r.Cache.Semantic)},
			Hybrid: route.HybridSpec{Cost: r.Hybrid.Cost, Latency: r.Hybrid.Latency, Quality: r.Hybrid.Quality, ErrorRate: r.Hybrid.ErrorRate, Load: r.Hybrid.Load},
		}
		rs.NoPanic = off(r.PanicMode)
		rs.FanOutN = r.FanOutN != nil && *r.FanOutN
		rs.Rules = ruleSpecs(r.Rules)
		rs.Probe = probeSpec(r.Probe)
		for _, t := range r.Targets {
			rs.Targets = append(rs.Targets, route.TargetSpec{Provider: t.Provider, Model: t.Model, Weight: t.Weight, Priority: t.Priority, Quality: t.Quality})
		}
		spec.Routes = append(spec.Routes, rs)
	}
	return spec
}

// routePrice is a configured price as the router bills it.
func routePrice(pr config.Price) route.Price {
	return route.Price{Input: pr.Input, Output: pr.Output, CachedInput: pr.CachedInput, CacheWrite: pr.CacheWrite, CacheWrite1h: pr.CacheWrite1h}
}

// off reports whether an on-by-default switch was set false.
func off(b *bool) bool { return b != nil && !*b }

// buildProviders makes one adapter per provider key, all keys of a provider
// sharing one HTTP transport (one keep-alive pool per upstream). extra are
// keys added through the API; names names the config file's keys.
func buildProviders(reg *Registry, cfg *config.Config, extra map[string][]apiKey, names keyNamer, tracing *telemetry.Tracing) ([]route.ProviderSpec, map[string]*http.Client, error) {
	var out []route.ProviderSpec
	clients := map[string]*http.Client{}
	for _, p := range cfg.Providers {
		a, ok := reg.Lookup(p.Type)
		if !ok {
			return nil, nil, fmt.Errorf("provider %q: unknown provider type %q", p.Name, p.Type)
		}
		prices := make(map[string]route.Price, len(p.Prices))
		for m, pr := range p.EffectivePrices() {
			prices[m] = routePrice(pr)
		}
		spec := route.ProviderSpec{Name: p.Name, Type: p.Type, Models: p.Models, Prices: prices}
		var quota route.Quota
		if q := p.Quota; q != nil {
			quota = route.Quota{RPM: q.RPM, TPM: q.TPM, Headroom: q.Headroom}
		}
		var hc *http.Client
		if a.Local {
			// Without configured keys a local type is one keyless target;
			// keys added through the API join it. With keys it is a pool
			// like any provider's.
			if len(p.APIKeys) == 0 {
				impl, err := reg.build(p, "", nil)
				if err != nil {
					return nil, nil, fmt.Errorf("provider %q: %w", p.Name, err)
				}
				spec.Keys = []route.KeySpec{{ID: "sim", Masked: "(none)", Source: "config", Weight: 1, Provider: impl, Quota: quota}}
			}
		} else {
			hc = openai.NewHTTPClient(p.MaxIdleConnsPerHost, time.Duration(p.Timeout))
			hc.Transport = tracing.Transport(hc.Transport)
			clients[p.Name] = hc
		}
		add := func(id, key, label, source string, weight int) error {
			impl, err := reg.build(p, key, hc)
			if err != nil {
				return fmt.Errorf("provider %q: %w", p.Name, err)
			}
			spec.Keys = append(spec.Keys, route.KeySpec{ID: id, Masked: config.MaskSecret(key), Label: label, Source: source, Weight: weight, Provider: impl, Quota: quota})
			return nil
		}
		for _, key := range p.APIKeys {
			if err := add(names.configID(key), key, "", "config", 1); err != nil {
				return nil, nil, err
			}
		}
		for _, k := range extra[p.Name] {
			if err := add(k.id, k.key, k.label, "api", k.weight); err != nil {
				return nil, nil, err
			}
		}
		out = append(out, spec)
	}
	return out, clients, nil
}

// BreakerStates reports each provider key's worst target state for the
// switchyard_breaker_state gauge.
func (c *Control) BreakerStates() []metrics.TargetState {
	var out []metrics.TargetState
	for _, p := range c.router.Status() {
		for _, k := range p.Keys {
			st := metrics.Closed
			switch k.State {
			case "half_open":
				st = metrics.HalfOpen
			case "open":
				st = metrics.Open
			case "cooling":
				st = metrics.Cooling
			}
			out = append(out, metrics.TargetState{Provider: p.Name, Target: p.Name + "/" + k.ID, State: st})
		}
	}
	return out
}

// Status, AddKey and RemoveKey implement rpc.ProviderControl.
func (c *Control) Status() []route.ProviderStatus { return c.router.Status() }

func (c *Control) AddKey(ctx context.Context, provider, key, label string, weight int) (route.KeyStatus, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var pc *config.Provider
	for i := range c.cfg.Providers {
		if c.cfg.Providers[i].Name == provider {
			pc = &c.cfg.Providers[i]
		}
	}
	if pc == nil {
		return route.KeyStatus{}, &llm.Error{Kind: llm.KindNotFound, Param: "provider", Message: fmt.Sprintf("provider %q does not exist", provider)}
	}
	if len(strings.TrimSpace(key)) < 8 {
		return route.KeyStatus{}, llm.InvalidParam("api_key", "api_key is missing or too short")
	}
	impl, err := c.registry.build(*pc, key, c.clients[provider])
	if err != nil {
		return route.KeyStatus{}, llm.InvalidParam("api_key", "%v", err)
	}
	if c.hasSecret(provider, key) {
		return route.KeyStatus{}, llm.InvalidParam("api_key", "provider %q already has this key", provider)
	}
	id, err := randomKeyID()
	if err != nil {
		return route.KeyStatus{}, err
	}
	ks := route.KeySpec{ID: id, Masked: config.MaskSecret(key), Label: label, Source: "api", Weight: max(weight, 1), Provider: impl}
	if err := c.router.AddKey(provider, ks); err != nil {
		return route.KeyStatus{}, err
	}
	if c.store != nil && c.sealer != nil {
		err := c.store.AddProviderKey(ctx, c.sealer, store.ProviderKey{Provider: provider, KeyID: ks.ID, Label: label, Weight: ks.Weight}, key)
		if err != nil && !errors.Is(err, store.ErrConflict) {
			_ = c.router.RemoveKey(provider, ks.ID)
			return route.KeyStatus{}, &llm.Error{Kind: llm.KindUnavailable, Message: "saving the provider key failed", Err: err}
		}
	}
	c.apiKeys[provider] = append(c.apiKeys[provider], apiKey{id: ks.ID, key: key, label: label, weight: ks.Weight})
	c.announce(topicProviderKeys)
	c.log.Info("provider key added", "provider", provider, "key_id", ks.ID, "key", ks.Masked)
	return route.KeyStatus{ID: ks.ID, Masked: ks.Masked, Label: label, Source: "api", Weight: ks.Weight, State: "healthy"}, nil
}

func (c *Control) RemoveKey(ctx context.Context, provider, id string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.router.RemoveKey(provider, id); err != nil {
		return err
	}
	if c.store != nil {
		if err := c.store.DeleteProviderKey(ctx, provider, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			c.log.Error("removing the stored provider key failed; it comes back on restart", "provider", provider, "key_id", id, "error", err)
		}
	}
	keys := c.apiKeys[provider][:0:0]
	for _, k := range c.apiKeys[provider] {
		if k.id != id {
			keys = append(keys, k)
		}
	}
	c.apiKeys[provider] = keys
	c.announce(topicProviderKeys)
	c.log.Info("provider key removed", "provider", provider, "key_id", id)
	return nil
}

// hasSecret reports whether provider's pool already holds secret. Ids no
// longer follow from secrets, so a key added twice is found by its secret.
func (c *Control) hasSecret(provider, secret string) bool {
	for _, k := range c.apiKeys[provider] {
		if k.key == secret {
			return true
		}
	}
	// A config key counts while it is in the pool (one removed through the
	// API may come back through it).
	id := c.names.configID(secret)
	for _, p := range c.router.Spec().Providers {
		if p.Name != provider {
			continue
		}
		for _, k := range p.Keys {
			if k.ID == id && k.Source == "config" {
				return true
			}
		}
	}
	return false
}

// keysChanged is KeyService's change hook: this instance forgets cached
// key resolutions at once, and the others when StartSync's message
// reaches them (within the directory's TTL without one).
func (c *Control) keysChanged(string) {
	c.announce(topicClientKeys)
	if c.keys != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c.keys.Invalidate(ctx)
	}
}

// budgetCrossed runs the alert evaluation early when a budget threshold is
// crossed (no-op until alerts are wired).
func (c *Control) budgetCrossed() {
	if c.alerts != nil {
		c.alerts()
	}
}
