package route

import (
	"fmt"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// Price is a model's price in US dollars per million tokens.
type Price struct {
	Input       float64
	Output      float64
	CachedInput float64
}

// Cost prices a usage. Cached prompt tokens are billed at CachedInput (or
// Input when no cached price is set), the rest of the prompt at Input.
func (p Price) Cost(u llm.Usage) float64 {
	cached := p.CachedInput
	if cached == 0 {
		cached = p.Input
	}
	uncached := u.PromptTokens - u.CachedTokens
	if uncached < 0 {
		uncached = 0
	}
	return (float64(uncached)*p.Input + float64(u.CachedTokens)*cached + float64(u.CompletionTokens)*p.Output) / 1e6
}

// ProviderSpec describes one configured provider to the table.
type ProviderSpec struct {
	Name     string
	Type     string
	Provider Provider
	Models   []string
	Prices   map[string]Price
	// Priority and Weight rank the provider when a model name (not an alias)
	// is served by several providers; lower priority is tried first.
	Priority int
	Weight   int
}

// TargetSpec is one target of a route.
type TargetSpec struct {
	Provider string
	Model    string // upstream model; empty keeps the alias
	Weight   int
	Priority int
	Quality  float64
}

// RouteSpec maps one alias to its targets.
type RouteSpec struct {
	Model            string
	Strategy         string
	FallbackStrategy string
	Targets          []TargetSpec
	Fallbacks        []string
}

// Spec is everything a Table is built from.
type Spec struct {
	Providers []ProviderSpec
	Routes    []RouteSpec
	// DefaultStrategy and DefaultFallback apply to model names that are no alias.
	DefaultStrategy string
	DefaultFallback string
	// Created is the "created" time reported for models (unix seconds).
	Created int64
}

// Target is a resolved route target.
type Target struct {
	// ID is provider/model, stable across table rebuilds.
	ID       string
	Provider string
	Model    string
	Weight   int
	Priority int
	Quality  float64
	Price    Price
	impl     Provider
}

// Route is a resolved route.
type Route struct {
	Name     string
	Strategy string
	Failover bool
	// Targets in the order they are tried.
	Targets   []*Target
	Fallbacks []string
	Alias     bool
}

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
	providers map[string]ProviderSpec
	order     []string // provider names in config order
}

// NewTable resolves a spec. It checks references only; field-level
// validation belongs to the config package.
func NewTable(spec Spec) (*Table, error) {
	t := &Table{
		routes:    make(map[string]*Route),
		providers: make(map[string]ProviderSpec, len(spec.Providers)),
	}
	for _, p := range spec.Providers {
		if p.Provider == nil {
			return nil, fmt.Errorf("route: provider %q has no implementation", p.Name)
		}
		if _, dup := t.providers[p.Name]; dup {
			return nil, fmt.Errorf("route: provider %q defined twice", p.Name)
		}
		t.providers[p.Name] = p
		t.order = append(t.order, p.Name)
	}
	strategy := spec.DefaultStrategy
	if strategy == "" {
		strategy = "priority"
	}
	failover := spec.DefaultFallback != "none"

	// Routes for plain model names: every provider that lists the model, in
	// provider priority order, then config order.
	served := map[string][]ProviderSpec{}
	var modelOrder []string
	for _, name := range t.order {
		p := t.providers[name]
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
		r := &Route{Name: m, Strategy: strategy, Failover: failover}
		owners := make([]string, 0, len(ps))
		for _, p := range ps {
			r.Targets = append(r.Targets, newTarget(p, m, p.Weight, p.Priority, 0))
			owners = append(owners, p.Name)
		}
		t.routes[m] = r
		t.models = append(t.models, ModelInfo{ID: m, OwnedBy: owners[0], Created: spec.Created, Providers: owners})
	}

	for _, rs := range spec.Routes {
		if rs.Model == "" {
			return nil, fmt.Errorf("route: a route has no model alias")
		}
		r := &Route{Name: rs.Model, Strategy: rs.Strategy, Failover: rs.FallbackStrategy != "none", Fallbacks: rs.Fallbacks, Alias: true}
		if r.Strategy == "" {
			r.Strategy = strategy
		}
		var owners []string
		for i, ts := range rs.Targets {
			p, ok := t.providers[ts.Provider]
			if !ok {
				return nil, fmt.Errorf("route: %s: target %d: unknown provider %q", rs.Model, i, ts.Provider)
			}
			model := ts.Model
			if model == "" {
				model = rs.Model
			}
			r.Targets = append(r.Targets, newTarget(p, model, ts.Weight, ts.Priority, ts.Quality))
			owners = appendUnique(owners, p.Name)
		}
		if len(r.Targets) == 0 {
			return nil, fmt.Errorf("route: %s: no targets", rs.Model)
		}
		// Priority order; declaration order breaks ties.
		sort.SliceStable(r.Targets, func(i, j int) bool { return r.Targets[i].Priority < r.Targets[j].Priority })
		if prev, ok := t.routes[rs.Model]; ok && prev.Alias {
			return nil, fmt.Errorf("route: alias %q defined twice", rs.Model)
		}
		t.routes[rs.Model] = r
		t.models = append(t.models, ModelInfo{ID: rs.Model, OwnedBy: "switchyard", Created: spec.Created, Providers: owners, Alias: true})
	}
	for _, r := range t.routes {
		for _, fb := range r.Fallbacks {
			if _, ok := t.routes[fb]; !ok {
				return nil, fmt.Errorf("route: %s: fallback %q is neither an alias nor a served model", r.Name, fb)
			}
		}
	}
	sort.SliceStable(t.models, func(i, j int) bool {
		if t.models[i].Alias != t.models[j].Alias {
			return t.models[i].Alias
		}
		return t.models[i].ID < t.models[j].ID
	})
	return t, nil
}

func newTarget(p ProviderSpec, model string, weight, priority int, quality float64) *Target {
	if weight <= 0 {
		weight = 1
	}
	return &Target{
		ID:       p.Name + "/" + model,
		Provider: p.Name,
		Model:    model,
		Weight:   weight,
		Priority: priority,
		Quality:  quality,
		Price:    p.Prices[model],
		impl:     p.Provider,
	}
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
func (t *Table) Providers() []ProviderSpec {
	out := make([]ProviderSpec, 0, len(t.order))
	for _, n := range t.order {
		out = append(out, t.providers[n])
	}
	return out
}

// String summarises the table for logs.
func (t *Table) String() string {
	var aliases []string
	for _, m := range t.models {
		if m.Alias {
			aliases = append(aliases, m.ID)
		}
	}
	return fmt.Sprintf("%d providers, %d models, aliases [%s]", len(t.order), len(t.models), strings.Join(aliases, " "))
}
