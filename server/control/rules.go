package control

import (
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/route"
)

// ruleSpecs turns a route's attribute rules into the router's.
func ruleSpecs(rules []config.Rule) []route.RuleSpec {
	if len(rules) == 0 {
		return nil
	}
	out := make([]route.RuleSpec, 0, len(rules))
	for _, r := range rules {
		rs := route.RuleSpec{Name: r.Name, When: route.Condition{
			Region: r.When.Region, KeyLabels: r.When.KeyLabel, Metadata: r.When.Metadata,
			EstimatedCostAbove: r.When.EstimatedCostAbove, ConsecutiveFailures: r.When.ConsecutiveFailures,
		}}
		for _, t := range r.Targets {
			rs.Targets = append(rs.Targets, route.TargetSpec{Provider: t.Provider, Model: t.Model, Weight: t.Weight, Priority: t.Priority, Quality: t.Quality})
		}
		out = append(out, rs)
	}
	return out
}
