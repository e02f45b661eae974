package rpc

import (
	"github.com/switchyard/switchyard/config"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

func rulesToProto(rules []config.Rule) []*pb.RouteRule {
	var out []*pb.RouteRule
	for _, r := range rules {
		pr := &pb.RouteRule{Name: r.Name, When: &pb.RuleConditions{
			Region: r.When.Region, KeyLabel: r.When.KeyLabel, Metadata: r.When.Metadata,
			EstimatedCostAbove: r.When.EstimatedCostAbove, ConsecutiveFailures: int32(r.When.ConsecutiveFailures),
		}}
		for _, t := range r.Targets {
			pr.Targets = append(pr.Targets, targetToProto(t))
		}
		out = append(out, pr)
	}
	return out
}

// rulesFromProto keeps what arrives as it is; the config's validation
// names what is wrong with it (an empty when, a negative value).
func rulesFromProto(in []*pb.RouteRule) []config.Rule {
	var out []config.Rule
	for _, pr := range in {
		w := pr.GetWhen()
		r := config.Rule{Name: pr.GetName(), When: config.When{
			Region: w.GetRegion(), KeyLabel: w.GetKeyLabel(), Metadata: w.GetMetadata(),
			EstimatedCostAbove: w.GetEstimatedCostAbove(), ConsecutiveFailures: int(w.GetConsecutiveFailures()),
		}}
		for _, t := range pr.GetTargets() {
			r.Targets = append(r.Targets, targetFromProto(t))
		}
		out = append(out, r)
	}
	return out
}

func targetToProto(t config.Target) *pb.RouteTarget {
	return &pb.RouteTarget{Provider: t.Provider, Model: t.Model, Weight: int32(t.Weight), Priority: int32(t.Priority), Quality: t.Quality}
}

func targetFromProto(t *pb.RouteTarget) config.Target {
	return config.Target{Provider: t.GetProvider(), Model: t.GetModel(), Weight: int(t.GetWeight()), Priority: int(t.GetPriority()), Quality: t.GetQuality()}
}
