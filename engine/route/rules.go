package route

import (
	"fmt"
	"iter"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// RuleSpec is one attribute rule of a route: a request that meets every
// condition of When is served by Targets first, then by the route's own
// targets and fallbacks, so a rule adds targets in front and never takes
// one away.
type RuleSpec struct {
	// Name shows in Info.Rule; empty names the rule by its place, rules[i].
	Name    string
	When    Condition
	Targets []TargetSpec
}

// Condition is what a request must meet; zero fields are not checked.
type Condition struct {
	// Region is llm.Hints.Region, compared without regard to case.
	Region string
	// KeyLabels must each equal the client key's label (llm.Hints.Labels).
	KeyLabels map[string]string
	// Metadata must each equal the request's metadata.
	Metadata map[string]string
	// EstimatedCostAbove holds when the request's estimated cost at the
	// route's first own target is above this many USD.
	EstimatedCostAbove float64
	// ConsecutiveFailures holds when every own target of the route failed
	// at least this many calls in a row, the latest within RuleRecovery.
	ConsecutiveFailures int
}

func (c *Condition) empty() bool {
	return c.Region == "" && len(c.KeyLabels) == 0 && len(c.Metadata) == 0 && c.EstimatedCostAbove == 0 && c.ConsecutiveFailures == 0
}

// RuleRecovery is how long a consecutive-failures rule keeps a route's
// traffic off its failing targets after their latest failure. The rule
// itself sends them nothing, so without an end they could never show they
// recovered: once it passes, one request tries them again, and either
// succeeds (the streak ends) or fails (the rule holds for another period).
const RuleRecovery = 30 * time.Second

// rule is a RuleSpec resolved against a table: the variant is the route
// it belongs to with the rule's targets as a first group.
type rule struct {
	when      Condition
	costAbove llm.Money
	variant   *Route
}

// match returns the variant of the first rule req meets, or rt itself. It
// allocates nothing, and reads the clock only for failure rules.
func (rt *Route) match(req *llm.ChatRequest, now func() time.Time) *Route {
	for _, ru := range rt.rules {
		if ru.holds(rt, req, now) {
			return ru.variant
		}
	}
	return rt
}

// holds checks the cheap conditions first: most requests miss on region
// or a label before any arithmetic or atomic load.
func (ru *rule) holds(rt *Route, req *llm.ChatRequest, now func() time.Time) bool {
	w := &ru.when
	if w.Region != "" && !strings.EqualFold(w.Region, req.Hints.Region) {
		return false
	}
	if !subset(w.KeyLabels, req.Hints.Labels) || !subset(w.Metadata, req.Metadata) {
		return false
	}
	own := rt.groups[0].targets
	if ru.costAbove > 0 {
		in, out := estimateTokens(req)
		if own[0].Price.Cost(llm.Usage{PromptTokens: in, CompletionTokens: out}) <= ru.costAbove {
			return false
		}
	}
	if w.ConsecutiveFailures > 0 {
		t := now()
		for _, tg := range own {
			if !tg.state.streak.failing(w.ConsecutiveFailures, t) {
				return false
			}
		}
	}
	return true
}

// subset reports whether every entry of want is in have with its value.
func subset(want, have map[string]string) bool {
	for k, v := range want {
		if got, ok := have[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// streak counts a target's calls that failed in a row. It lives in the
// target's state, so it outlives table rebuilds like the breaker does.
type streak struct {
	n    atomic.Int64
	last atomic.Int64 // unix ns of the latest failure
}

// record counts what the breaker counts against the target (a failure or
// a refused key); a success ends the streak, and anything else (a 429, the
// client's own error or cancellation) leaves it as it was.
func (s *streak) record(o breaker.Outcome, now func() time.Time) {
	switch o {
	case breaker.Success:
		if s.n.Load() != 0 { // no store on the common path: it stays in every core's cache
			s.n.Store(0)
		}
	case breaker.Failure, breaker.Rejected:
		s.last.Store(now().UnixNano())
		s.n.Add(1)
	}
}

func (s *streak) failing(n int, now time.Time) bool {
	return s.n.Load() >= int64(n) && now.UnixNano()-s.last.Load() < int64(RuleRecovery)
}

// buildRules makes each rule of each route a variant of it: the same
// policies, the rule's targets as group 0, then the route's groups without
// the rule's targets (a target the rule tried and saw fail is not tried
// again as a failover). Pickers are built with the routes' (buildPickers),
// and the new group gives the variant its own cache signature.
func buildRules(t *Table, routes []RouteSpec, known map[string]ProviderSpec, newGroup func([]TargetSpec) (*group, error)) error {
	for _, rs := range routes {
		r := t.routes[rs.Model]
		for i, spec := range rs.Rules {
			name := spec.Name
			if name == "" {
				name = fmt.Sprintf("rules[%d]", i)
			}
			if spec.When.empty() {
				return fmt.Errorf("route: %s: %s: no condition", rs.Model, name)
			}
			if spec.When.EstimatedCostAbove < 0 || spec.When.ConsecutiveFailures < 0 {
				return fmt.Errorf("route: %s: %s: negative condition", rs.Model, name)
			}
			if len(spec.Targets) == 0 {
				return fmt.Errorf("route: %s: %s: no targets", rs.Model, name)
			}
			specs := make([]TargetSpec, len(spec.Targets))
			for j, ts := range spec.Targets {
				if _, ok := known[ts.Provider]; !ok {
					return fmt.Errorf("route: %s: %s: target %d: unknown provider %q", rs.Model, name, j, ts.Provider)
				}
				if ts.Model == "" {
					ts.Model = rs.Model
				}
				specs[j] = ts
			}
			g, err := newGroup(specs)
			if err != nil {
				return fmt.Errorf("route: %s: %s: %w", rs.Model, name, err)
			}
			v := *r
			v.rules, v.rule, v.hybrid = nil, name, nil
			v.groups = append([]*group{g}, without(r.groups, g)...)
			t.variants = append(t.variants, &v)
			r.rules = append(r.rules, &rule{when: spec.When, costAbove: llm.USD(spec.When.EstimatedCostAbove), variant: &v})
		}
	}
	return nil
}

// without returns gs with the targets of g left out: a group that holds
// none of them as it is (sharing its pickers), one that holds some as a
// new group of the rest, one that holds only them not at all.
func without(gs []*group, g *group) []*group {
	in := make(map[*Target]bool, len(g.targets))
	for _, tg := range g.targets {
		in[tg] = true
	}
	out := make([]*group, 0, len(gs))
	for _, og := range gs {
		keep := &group{}
		for i, tg := range og.targets {
			if !in[tg] {
				keep.targets = append(keep.targets, tg)
				keep.bt = append(keep.bt, og.bt[i])
				keep.stats = append(keep.stats, og.stats[i])
			}
		}
		switch len(keep.targets) {
		case len(og.targets):
			out = append(out, og)
		case 0:
		default:
			out = append(out, keep)
		}
	}
	return out
}

// allRoutes walks the table's routes and their rules' variants.
func (t *Table) allRoutes() iter.Seq[*Route] {
	return func(yield func(*Route) bool) {
		for _, r := range t.routes {
			if !yield(r) {
				return
			}
		}
		for _, v := range t.variants {
			if !yield(v) {
				return
			}
		}
	}
}
