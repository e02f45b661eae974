package config

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Rule picks a route's targets from who is asking. Rules are tried in
// order and the first whose every condition holds wins; its targets are
// tried before the route's own, which (with the route's fallbacks) stay
// behind them as failover, so a rule never fails a request the route alone
// would have served.
type Rule struct {
	// Name shows in X-Switchyard-Rule and the routing log; empty names the
	// rule by its place, rules[i].
	Name    string   `yaml:"name"`
	When    When     `yaml:"when"`
	Targets []Target `yaml:"targets"`
}

// When is a rule's conditions; the ones set must all hold, and at least
// one must be set.
type When struct {
	// Region is the client's X-Switchyard-Region header (gRPC and Connect:
	// x-switchyard-region metadata), compared without regard to case. The
	// client asserts it: route on key_label for what must be enforced.
	Region string `yaml:"region"`
	// KeyLabel lists labels the client key must carry, each with this value.
	KeyLabel map[string]string `yaml:"key_label"`
	// Metadata lists request metadata (Chat Completions, Responses and
	// gRPC metadata) that must each have this value.
	Metadata map[string]string `yaml:"metadata"`
	// EstimatedCostAbove holds when the request's estimated cost on the
	// route's first own target is above this many USD (0 = not checked).
	EstimatedCostAbove float64 `yaml:"estimated_cost_above"`
	// ConsecutiveFailures holds when every own target of the route failed
	// at least this many calls in a row (0 = not checked). It holds for
	// 30 s after the latest failure (route.RuleRecovery); then a request
	// tries the own targets again, and a success there ends it.
	ConsecutiveFailures int `yaml:"consecutive_failures"`
}

func (w When) empty() bool {
	return w.Region == "" && len(w.KeyLabel) == 0 && len(w.Metadata) == 0 && w.EstimatedCostAbove == 0 && w.ConsecutiveFailures == 0
}

// validateRules checks routes[i].rules (f is the route's field path).
func validateRules(k *checker, f string, rt Route, models map[string]map[string]bool) {
	names := map[string]bool{}
	for i, r := range rt.Rules {
		rf := fmt.Sprintf("%s.rules[%d]", f, i)
		if r.Name != "" {
			switch {
			case !validName(r.Name):
				k.add(rf+".name", "%q may only contain a-z, 0-9, _ and -", r.Name)
			case names[r.Name]:
				k.add(rf+".name", "duplicate rule name %q", r.Name)
			}
			names[r.Name] = true
		}
		w := r.When
		if w.empty() {
			k.add(rf+".when", "must set at least one condition (region, key_label, metadata, estimated_cost_above, consecutive_failures)")
		}
		if w.Region != "" && strings.TrimSpace(w.Region) != w.Region {
			k.add(rf+".when.region", "%q has leading or trailing spaces", w.Region)
		}
		checkPairs(k, rf+".when.key_label", w.KeyLabel)
		checkPairs(k, rf+".when.metadata", w.Metadata)
		if w.EstimatedCostAbove < 0 {
			k.add(rf+".when.estimated_cost_above", "must not be negative (got %g)", w.EstimatedCostAbove)
		}
		if w.ConsecutiveFailures < 0 {
			k.add(rf+".when.consecutive_failures", "must not be negative (got %d)", w.ConsecutiveFailures)
		}
		if len(r.Targets) == 0 {
			k.add(rf+".targets", "at least one target is required")
		}
		for j, t := range r.Targets {
			validateTarget(k, fmt.Sprintf("%s.targets[%d]", rf, j), rt.Model, t, models)
		}
	}
}

// checkPairs refuses empty names and values: a label or metadata entry
// that is absent reads as "", so an empty value would match everyone.
func checkPairs(k *checker, f string, m map[string]string) {
	for _, name := range sortedKeys(m) {
		switch {
		case strings.TrimSpace(name) == "":
			k.add(f, "a name must not be empty")
		case m[name] == "":
			k.add(f+"."+name, "must not be empty")
		}
	}
}

// cloneRules deep-copies rules so a config copy shares no maps with c.
func cloneRules(rules []Rule) []Rule {
	out := slices.Clone(rules)
	for i := range out {
		out[i].Targets = slices.Clone(out[i].Targets)
		out[i].When.KeyLabel = maps.Clone(out[i].When.KeyLabel)
		out[i].When.Metadata = maps.Clone(out[i].When.Metadata)
	}
	return out
}
