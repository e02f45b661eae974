package route

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/llm"
)

// Price is a model's price in US dollars per million tokens.
type Price struct {
	Input       float64
	Output      float64
	CachedInput float64 // a prompt-cache read; 0 means Input
	// CacheWrite prices prompt tokens written to the cache with the default
	// (5-minute) lifetime, CacheWrite1h those written for an hour. 0 means
	// Anthropic's multipliers of Input (1.25× and 2×): only providers with
	// explicit caching report writes, and Anthropic is the one that
	// surcharges them; set them to Input for one that does not.
	CacheWrite   float64
	CacheWrite1h float64
}

// Cost prices a usage. The prompt is split once, never counted twice:
// cache reads (CachedTokens) at CachedInput, cache writes
// (CacheCreationTokens, of which CacheCreation1hTokens for an hour) at
// their write prices, the rest at Input; reasoning tokens are inside
// CompletionTokens and priced as output. Negative or inconsistent counts
// (more cached than prompt) are clamped, so a cost is never negative.
// The sum is taken in integer nano-USD per million tokens and rounded once,
// so a request's cost is exact to the nano-dollar and sums never drift.
func (p Price) Cost(u llm.Usage) llm.Money {
	in, out := llm.USD(p.Input), llm.USD(p.Output)
	cached, write, write1h := llm.USD(p.CachedInput), llm.USD(p.CacheWrite), llm.USD(p.CacheWrite1h)
	if p.CachedInput == 0 {
		cached = in
	}
	if p.CacheWrite == 0 {
		write = (in*5 + 2) / 4
	}
	if p.CacheWrite1h == 0 {
		write1h = in * 2
	}
	prompt := max(u.PromptTokens, 0)
	hits := min(max(u.CachedTokens, 0), prompt)
	writes := min(max(u.CacheCreationTokens, 0), prompt-hits)
	writes1h := min(max(u.CacheCreation1hTokens, 0), writes)
	plain := prompt - hits - writes
	perMillion := llm.Money(plain)*in + llm.Money(hits)*cached +
		llm.Money(writes-writes1h)*write + llm.Money(writes1h)*write1h +
		llm.Money(max(u.CompletionTokens, 0))*out
	return (perMillion + 500_000) / 1_000_000
}

// KeySpec is one API key of a provider's pool, already wrapped in its adapter.
type KeySpec struct {
	ID       string // stable, derived from the key; never the key itself
	Masked   string // "****abcd"
	Label    string
	Source   string // config | api
	Weight   int
	Provider Provider
	// Quota is the key's subscription limits; the zero value declares none.
	Quota Quota
}

// ProviderSpec describes one configured provider to the table.
type ProviderSpec struct {
	Name   string
	Type   string
	Keys   []KeySpec
	Models []string
	Prices map[string]Price
	// Priority and Weight rank the provider when a model name (not an alias)
	// is served by several providers; lower priority is tried first.
	Priority int
	Weight   int
}

// TargetSpec is one target of a route (expanded over the provider's keys).
type TargetSpec struct {
	Provider string
	Model    string // upstream model; empty keeps the alias
	Weight   int
	Priority int
	Quality  float64
}

// RetrySpec bounds retries. Zero fields take the defaults.
type RetrySpec struct {
	MaxAttempts    int           // total attempts, default 3
	InitialBackoff time.Duration // default 100ms
	MaxBackoff     time.Duration // default 2s
	PerTryTimeout  time.Duration // 0 = none (for streams: until the first chunk)
	OverallTimeout time.Duration // 0 = the caller's deadline only
}

// HedgeSpec enables hedged requests.
type HedgeSpec struct {
	Enabled bool
	Delay   time.Duration // 0 = the route's observed p95 (min 50ms until known)
}

// HybridSpec weighs the hybrid strategy's terms.
type HybridSpec struct {
	Cost, Latency, Quality, ErrorRate, Load float64
}

// CacheSpec is a route's response-cache policy.
type CacheSpec struct {
	Mode string        // off | deterministic (default) | all
	TTL  time.Duration // 0 = the cache's default
	// Semantic is the route's semantic cache, nil when off (semantic.go).
	Semantic *SemanticSpec
}

// RouteSpec maps one alias to its targets and policies.
type RouteSpec struct {
	Model            string
	Strategy         string
	FallbackStrategy string
	Targets          []TargetSpec
	Fallbacks        []string
	Retry            RetrySpec
	Hedge            HedgeSpec
	Hybrid           HybridSpec
	Cache            CacheSpec
	// NoPanic turns panic mode off: when every target is open the request
	// fails at once with no_healthy_target instead of trying them anyway.
	NoPanic bool
	// FanOutN serves n > 1 on targets without it by n upstream calls,
	// merged and each billed (fanout.go).
	FanOutN bool
	// Probe measures the route's idle targets (probe.go); zero is off.
	Probe ProbeSpec
	// Rules pick targets from request attributes, first match wins (rules.go).
	Rules []RuleSpec
}

// Spec is everything a Table is built from.
type Spec struct {
	Providers []ProviderSpec
	Routes    []RouteSpec
	// DefaultStrategy and DefaultFallback apply to model names that are no alias.
	DefaultStrategy string
	DefaultFallback string
	DefaultRetry    RetrySpec
	DefaultCache    CacheSpec
	// Created is the "created" time reported for models (unix seconds).
	Created int64
	// DefaultNoPanic turns panic mode off for model names that are no alias.
	DefaultNoPanic bool
}

func (r RetrySpec) withDefaults(d RetrySpec) RetrySpec {
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = d.MaxAttempts
	}
	if r.MaxAttempts <= 0 {
		r.MaxAttempts = 3
	}
	r.MaxAttempts = min(r.MaxAttempts, 10)
	if r.InitialBackoff <= 0 {
		r.InitialBackoff = max(d.InitialBackoff, 100*time.Millisecond)
	}
	if r.MaxBackoff <= 0 {
		r.MaxBackoff = max(d.MaxBackoff, 2*time.Second)
	}
	if r.PerTryTimeout <= 0 {
		r.PerTryTimeout = d.PerTryTimeout
	}
	if r.OverallTimeout <= 0 {
		r.OverallTimeout = d.OverallTimeout
	}
	return r
}

// Target is a resolved target: one provider key serving one upstream model.
type Target struct {
	// ID is provider/key/model, stable across table rebuilds.
	ID       string
	Provider string
	KeyID    string
	Model    string
	Price    Price
	impl     Provider
	state    *targetState
	// quota is the key's tiers (quota.go), shared by every target of the
	// key; nil when the key declares none.
	quota *quotaTiers
}

// group is a set of targets picked among by one policy.
type group struct {
	targets []*Target
	bt      []balancer.Target
	stats   []*balancer.Stats
	// pickers holds one policy per strategy whose picks depend on the group
	// alone; hybrid ones carry a route's weights and live on the Route.
	pickers map[string]balancer.Picker
}

// Route is a resolved route.
type Route struct {
	Name     string
	Strategy string
	Failover bool
	Alias    bool
	Retry    RetrySpec
	Hedge    HedgeSpec
	Cache    CacheSpec
	// Panic lets the route try open targets when every target is open,
	// rather than fail at once.
	Panic bool
	// FanOutN: see RouteSpec.
	FanOutN bool
	// Probe: see RouteSpec.
	Probe ProbeSpec
	// sig names the route's target set for cache keys: a change of targets
	// or upstream models is a change of answer.
	sig string
	// groups are tried in order: the route's own targets, then each fallback's.
	groups []*group
	lat    *latencyWindow
	// hybrid is the hybrid picker for each of groups, with this route's
	// weights: a group shared as a fallback by routes with different
	// weights is scored by each route its own way.
	hybrid     []balancer.Picker
	hybridSpec HybridSpec
	// rules are tried in order, each with its variant of the route; a
	// variant names its rule in rule (rules.go).
	rules []*rule
	rule  string
}

// picker is the policy the route uses for strategy over groups[gi].
func (r *Route) picker(gi int, strategy string) balancer.Picker {
	if strategy == balancer.StrategyHybrid {
		return r.hybrid[gi]
	}
	return r.groups[gi].pickers[strategy]
}

// Targets lists the route's own targets.
func (r *Route) Targets() []*Target { return r.groups[0].targets }

// ModelInfo is one entry of the model list.
type ModelInfo struct {
	ID        string
	OwnedBy   string
	Created   int64
	Providers []string
	Alias     bool
}

// Table is an immutable routing table; the Router swaps whole tables.
type Table struct {
	routes    map[string]*Route // by alias and by served model name
	models    []ModelInfo
	providers []ProviderSpec
	targets   []*Target // every target, for status
	variants  []*Route  // routes as their rules serve them (rules.go)
}

// unknownStrategy is the error for a strategy name balancer.Strategies
// does not list, naming the ones it does.
func unknownStrategy(s string) string {
	return fmt.Sprintf("unknown strategy %q (want one of %s)", s, strings.Join(balancer.Strategies(), ", "))
}

// buildTable resolves a spec; reg keeps per-target state across rebuilds.
func buildTable(spec Spec, reg *registry) (*Table, error) {
	t := &Table{routes: make(map[string]*Route)}
	byName := make(map[string]ProviderSpec, len(spec.Providers))
	for _, p := range spec.Providers {
		if _, dup := byName[p.Name]; dup {
			return nil, fmt.Errorf("route: provider %q defined twice", p.Name)
		}
		if len(p.Keys) == 0 {
			return nil, fmt.Errorf("route: provider %q has no keys", p.Name)
		}
		for _, k := range p.Keys {
			if k.Provider == nil {
				return nil, fmt.Errorf("route: provider %q key %q has no implementation", p.Name, k.ID)
			}
		}
		byName[p.Name] = p
		t.providers = append(t.providers, p)
	}
	defStrategy := spec.DefaultStrategy
	if defStrategy == "" {
		defStrategy = balancer.StrategyPriority
	}
	seenTarget := map[string]*Target{}
	expand := func(p ProviderSpec, model string, ts TargetSpec) []*Target {
		var out []*Target
		for _, k := range p.Keys {
			id := p.Name + "/" + k.ID + "/" + model
			if tg, ok := seenTarget[id]; ok {
				out = append(out, tg)
				continue
			}
			tg := &Target{ID: id, Provider: p.Name, KeyID: k.ID, Model: model, Price: p.Prices[model], impl: k.Provider, state: reg.state(id),
				quota: newQuotaTiers(p.Name+"/"+k.ID, k.Quota)}
			seenTarget[id] = tg
			t.targets = append(t.targets, tg)
			out = append(out, tg)
		}
		return out
	}
	newGroup := func(specs []TargetSpec, keyWeights func(p ProviderSpec) []int) (*group, error) {
		g := &group{}
		for _, ts := range specs {
			p := byName[ts.Provider]
			tws := keyWeights(p)
			for i, tg := range expand(p, ts.Model, ts) {
				w := max(ts.Weight, 1) * max(tws[i], 1)
				g.targets = append(g.targets, tg)
				g.bt = append(g.bt, balancer.Target{ID: tg.ID, Weight: w, Priority: ts.Priority, Quality: ts.Quality,
					InputPrice: tg.Price.Input, OutputPrice: tg.Price.Output})
				g.stats = append(g.stats, &tg.state.stats)
			}
		}
		if len(g.targets) > balancer.MaxTargets {
			return nil, fmt.Errorf("%d targets (provider keys × models) exceed the limit of %d", len(g.targets), balancer.MaxTargets)
		}
		return g, nil
	}
	keyWeights := func(p ProviderSpec) []int {
		w := make([]int, len(p.Keys))
		for i, k := range p.Keys {
			w[i] = k.Weight
		}
		return w
	}

	// Routes for plain model names: every provider that lists the model, in
	// provider priority order, then config order.
	served := map[string][]ProviderSpec{}
	var modelOrder []string
	for _, p := range spec.Providers {
		for _, m := range p.Models {
			if _, seen := served[m]; !seen {
				modelOrder = append(modelOrder, m)
			}
			served[m] = append(served[m], p)
		}
	}
	for _, m := range modelOrder {
		ps := served[m]
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Priority < ps[j].Priority })
		var specs []TargetSpec
		owners := make([]string, 0, len(ps))
		for _, p := range ps {
			specs = append(specs, TargetSpec{Provider: p.Name, Model: m, Weight: p.Weight, Priority: p.Priority})
			owners = append(owners, p.Name)
		}
		g, err := newGroup(specs, keyWeights)
		if err != nil {
			return nil, fmt.Errorf("route: model %s: %w", m, err)
		}
		t.routes[m] = &Route{Name: m, Strategy: defStrategy, Failover: spec.DefaultFallback != "none", Panic: !spec.DefaultNoPanic,
			Retry: RetrySpec{}.withDefaults(spec.DefaultRetry), Cache: spec.DefaultCache, groups: []*group{g}, lat: reg.latency(m)}
		t.models = append(t.models, ModelInfo{ID: m, OwnedBy: owners[0], Created: spec.Created, Providers: owners})
	}

	for _, rs := range spec.Routes {
		if rs.Model == "" {
			return nil, fmt.Errorf("route: a route has no model alias")
		}
		if prev, ok := t.routes[rs.Model]; ok && prev.Alias {
			return nil, fmt.Errorf("route: alias %q defined twice", rs.Model)
		}
		r := &Route{Name: rs.Model, Strategy: rs.Strategy, Failover: rs.FallbackStrategy != "none", Alias: true, Panic: !rs.NoPanic,
			hybridSpec: rs.Hybrid, Retry: rs.Retry.withDefaults(spec.DefaultRetry), Hedge: rs.Hedge, Cache: rs.Cache, lat: reg.latency(rs.Model), FanOutN: rs.FanOutN, Probe: rs.Probe}
		if r.Cache.Mode == "" {
			r.Cache.Mode = spec.DefaultCache.Mode
		}
		if r.Cache.TTL == 0 {
			r.Cache.TTL = spec.DefaultCache.TTL
		}
		if r.Strategy == "" {
			r.Strategy = defStrategy
		}
		var owners []string
		specs := make([]TargetSpec, 0, len(rs.Targets))
		for i, ts := range rs.Targets {
			if _, ok := byName[ts.Provider]; !ok {
				return nil, fmt.Errorf("route: %s: target %d: unknown provider %q", rs.Model, i, ts.Provider)
			}
			if ts.Model == "" {
				ts.Model = rs.Model
			}
			specs = append(specs, ts)
			owners = appendUnique(owners, ts.Provider)
		}
		if len(specs) == 0 {
			return nil, fmt.Errorf("route: %s: no targets", rs.Model)
		}
		g, err := newGroup(specs, keyWeights)
		if err != nil {
			return nil, fmt.Errorf("route: %s: %w", rs.Model, err)
		}
		r.groups = []*group{g}
		t.routes[rs.Model] = r
		t.models = append(t.models, ModelInfo{ID: rs.Model, OwnedBy: "switchyard", Created: spec.Created, Providers: owners, Alias: true})
	}
	// Fallbacks share the fallback route's own group.
	for _, rs := range spec.Routes {
		r := t.routes[rs.Model]
		seen := map[string]bool{rs.Model: true}
		for _, fb := range rs.Fallbacks {
			fr, ok := t.routes[fb]
			if !ok {
				return nil, fmt.Errorf("route: %s: fallback %q is neither an alias nor a served model", rs.Model, fb)
			}
			if !seen[fb] {
				seen[fb] = true
				r.groups = append(r.groups, fr.groups[0])
			}
		}
	}
	if err := buildRules(t, spec.Routes, byName, func(ts []TargetSpec) (*group, error) { return newGroup(ts, keyWeights) }); err != nil {
		return nil, err
	}
	if err := buildPickers(t); err != nil {
		return nil, err
	}
	sort.SliceStable(t.models, func(i, j int) bool {
		if t.models[i].Alias != t.models[j].Alias {
			return t.models[i].Alias
		}
		return t.models[i].ID < t.models[j].ID
	})
	return t, nil
}

// buildPickers gives every group one picker per group-only strategy and
// every route a hybrid picker per group with the route's own weights. Routes
// that share a group and weights share the picker, so the result does not
// depend on which route the map walk reaches first.
func buildPickers(t *Table) error {
	type hybridKey struct {
		g *group
		h HybridSpec
	}
	hybrids := map[hybridKey]balancer.Picker{}
	for r := range t.allRoutes() {
		if !balancer.KnownStrategy(r.Strategy) {
			return fmt.Errorf("route: %s: %s", r.Name, unknownStrategy(r.Strategy))
		}
		var sig strings.Builder
		for _, g := range r.groups {
			for _, tg := range g.targets {
				sig.WriteString(tg.Provider)
				sig.WriteByte('/')
				sig.WriteString(tg.Model)
				sig.WriteByte(';')
			}
		}
		r.sig = sig.String()
		r.hybrid = make([]balancer.Picker, len(r.groups))
		for gi, g := range r.groups {
			k := hybridKey{g, r.hybridSpec}
			p, ok := hybrids[k]
			if !ok {
				var err error
				if p, err = newPicker(balancer.StrategyHybrid, g.bt, g.stats, r.hybridSpec); err != nil {
					return fmt.Errorf("route: %s: %s: %w", r.Name, balancer.StrategyHybrid, err)
				}
				hybrids[k] = p
			}
			r.hybrid[gi] = p
			if g.pickers != nil {
				continue
			}
			g.pickers = make(map[string]balancer.Picker)
			for _, s := range balancer.Strategies() {
				if s == balancer.StrategyHybrid {
					continue
				}
				p, err := newPicker(s, g.bt, g.stats, HybridSpec{})
				if err != nil {
					return fmt.Errorf("route: %s: %s: %w", r.Name, s, err)
				}
				g.pickers[s] = p
			}
		}
	}
	return nil
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Resolve finds the route for a model name (or an explicit route hint).
func (t *Table) Resolve(model, hint string) (*Route, error) {
	if hint != "" {
		if r, ok := t.routes[hint]; ok {
			return r, nil
		}
		return nil, &llm.Error{Kind: llm.KindNotFound, Param: "switchyard.route", Code: "model_not_found",
			Message: fmt.Sprintf("The route '%s' does not exist", hint), Err: llm.ErrUnknownModel}
	}
	if r, ok := t.routes[model]; ok {
		return r, nil
	}
	return nil, &llm.Error{Kind: llm.KindNotFound, Param: "model", Code: "model_not_found",
		Message: fmt.Sprintf("The model '%s' does not exist or is not served by any configured provider", model), Err: llm.ErrUnknownModel}
}

// Models lists aliases first, then served model names, each sorted.
func (t *Table) Models() []ModelInfo { return t.models }

// Model finds one model entry.
func (t *Table) Model(id string) (ModelInfo, bool) {
	for _, m := range t.models {
		if m.ID == id {
			return m, true
		}
	}
	return ModelInfo{}, false
}

// Providers lists the providers in config order.
func (t *Table) Providers() []ProviderSpec { return t.providers }

// String summarises the table for logs.
func (t *Table) String() string {
	var aliases []string
	for _, m := range t.models {
		if m.Alias {
			aliases = append(aliases, m.ID)
		}
	}
	return fmt.Sprintf("%d providers, %d models, %d targets, aliases [%s]", len(t.providers), len(t.models), len(t.targets), strings.Join(aliases, " "))
}
