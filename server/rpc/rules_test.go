package rpc

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"connectrpc.com/connect"

	"github.com/switchyard/switchyard/config"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

func TestRoutingProtoCarriesRouteRules(t *testing.T) {
	rules := []config.Rule{
		{Name: "asia", When: config.When{Region: "asia"}, Targets: []config.Target{{Provider: "gemini", Model: "gemini-2.0-flash", Weight: 2, Priority: 1, Quality: 0.5}}},
		{When: config.When{KeyLabel: map[string]string{"tier": "free"}, Metadata: map[string]string{"team": "research"},
			EstimatedCostAbove: 0.05, ConsecutiveFailures: 3}, Targets: []config.Target{{Provider: "openai", Model: "gpt-4o-mini"}}},
	}
	_, routes := routingFromProto(routingToProto(config.Routing{}, []config.Route{{Model: "smart", Rules: rules}}))
	if !reflect.DeepEqual(routes[0].Rules, rules) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", routes[0].Rules, rules)
	}
	_, routes = routingFromProto(routingToProto(config.Routing{}, []config.Route{{Model: "smart"}}))
	if routes[0].Rules != nil {
		t.Fatalf("a route without rules came back with %+v", routes[0].Rules)
	}
}

func TestUpdateRoutingConfigSetsAndShowsRules(t *testing.T) {
	withRule := func(when *pb.RuleConditions) *pb.RoutingConfig {
		return &pb.RoutingConfig{Routes: []*pb.Route{
			{Model: "auto", Targets: []*pb.RouteTarget{{Provider: "openai", Model: "gpt-4o-mini"}},
				Rules: []*pb.RouteRule{{Name: "asia", When: when, Targets: []*pb.RouteTarget{{Provider: "anthropic", Model: "claude-3-5-haiku-20241022"}}}}},
			{Model: "faq", Targets: []*pb.RouteTarget{{Provider: "openai", Model: "gpt-4o-mini"}}},
		}}
	}
	ctl := newFakeRouting(t)
	svc := NewRoutingConfig(ctl)
	if _, err := svc.UpdateRoutingConfig(context.Background(), &pb.UpdateRoutingConfigRequest{Config: withRule(&pb.RuleConditions{Region: "asia"})}); err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetRoutingConfig(context.Background(), &pb.GetRoutingConfigRequest{})
	if err != nil {
		t.Fatal(err)
	}
	rs := got.GetConfig().GetRoutes()[0].GetRules()
	if len(rs) != 1 || rs[0].GetName() != "asia" || rs[0].GetWhen().GetRegion() != "asia" || rs[0].GetTargets()[0].GetProvider() != "anthropic" {
		t.Fatalf("GET shows rules %v", rs)
	}

	for name, tc := range map[string]struct {
		when  *pb.RuleConditions
		field string
	}{
		"no when":          {nil, "routes[0].rules[0].when"},
		"negative failure": {&pb.RuleConditions{ConsecutiveFailures: -1}, "routes[0].rules[0].when.consecutive_failures"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := svc.UpdateRoutingConfig(context.Background(), &pb.UpdateRoutingConfigRequest{Config: withRule(tc.when)})
			if err == nil || Code(err) != connect.CodeInvalidArgument || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("err %v, want invalid argument naming %s", err, tc.field)
			}
		})
	}
	if len(ctl.versions) != 2 {
		t.Fatalf("%d versions, want the one accepted change", len(ctl.versions)-1)
	}
}
