package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateRouteRules(t *testing.T) {
	route := func(rules string) string {
		return baseProviders + "routes:\n  - model: smart\n    targets: [{provider: sim, model: m1}]\n    rules:\n" + rules
	}
	tests := []struct {
		name  string
		rules string
		field string // empty: valid
		msg   string
	}{
		{"every condition is valid", `
      - name: asia
        when: {region: asia, key_label: {tier: free}, metadata: {team: research}, estimated_cost_above: 0.05, consecutive_failures: 3}
        targets: [{provider: sim, model: m2}]
`, "", ""},
		{"unnamed rules are valid", `
      - {when: {region: us}, targets: [{provider: oai, model: gpt-x}]}
      - {when: {region: eu}, targets: [{provider: oai, model: gpt-x}]}
`, "", ""},
		{"empty when", `
      - {when: {}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when", "at least one condition"},
		{"when left out", `
      - {targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when", "at least one condition"},
		{"zero cost and zero failures set nothing", `
      - {when: {estimated_cost_above: 0, consecutive_failures: 0}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when", "at least one condition"},
		{"negative cost", `
      - {when: {estimated_cost_above: -0.01}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when.estimated_cost_above", "must not be negative"},
		{"negative failures", `
      - {when: {consecutive_failures: -1}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when.consecutive_failures", "must not be negative"},
		{"unknown provider", `
      - {when: {region: asia}, targets: [{provider: ghost, model: m2}]}
`, "routes[0].rules[0].targets[0].provider", `unknown provider "ghost"`},
		{"model the provider does not list", `
      - {when: {region: asia}, targets: [{provider: sim, model: m9}]}
`, "routes[0].rules[0].targets[0].model", `does not list model "m9"`},
		{"second rule's second target", `
      - {when: {region: asia}, targets: [{provider: sim, model: m2}]}
      - {when: {region: us}, targets: [{provider: sim, model: m2}, {provider: sim, model: m1, weight: -1}]}
`, "routes[0].rules[1].targets[1].weight", "must not be negative"},
		{"no targets", `
      - {when: {region: asia}}
`, "routes[0].rules[0].targets", "at least one target"},
		{"empty label value would match keys without it", `
      - {when: {key_label: {tier: ""}}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when.key_label.tier", "must not be empty"},
		{"empty metadata value", `
      - {when: {metadata: {team: ""}}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when.metadata.team", "must not be empty"},
		{"region with spaces never matches a header", `
      - {when: {region: " asia"}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].when.region", "spaces"},
		{"duplicate name", `
      - {name: a, when: {region: asia}, targets: [{provider: sim, model: m2}]}
      - {name: a, when: {region: us}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[1].name", `duplicate rule name "a"`},
		{"bad name", `
      - {name: "Asia Rule", when: {region: asia}, targets: [{provider: sim, model: m2}]}
`, "routes[0].rules[0].name", "may only contain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(route(tt.rules)), fakeEnv(nil))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %T: %v", err, err)
			}
			for _, fe := range ve.Errors {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.msg) {
					return
				}
			}
			t.Fatalf("no error at %s containing %q; got:\n%v", tt.field, tt.msg, err)
		})
	}
}

func TestUnknownRuleConditionIsRefusedWithItsLine(t *testing.T) {
	src := baseProviders + `
routes:
  - model: smart
    targets: [{provider: sim, model: m1}]
    rules:
      - when: {country: jp}
        targets: [{provider: sim, model: m2}]
`
	_, err := Parse([]byte(src), fakeEnv(nil))
	if err == nil || !strings.Contains(err.Error(), "country") || !strings.Contains(err.Error(), "line") {
		t.Fatalf("got %v, want an error naming the unknown field and its line", err)
	}
}

func TestWithRoutingCopiesRulesDeeply(t *testing.T) {
	c, err := Parse([]byte(baseProviders+baseRoute), fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	routes := []Route{{Model: "smart", Targets: []Target{{Provider: "sim", Model: "m1"}},
		Rules: []Rule{{When: When{KeyLabel: map[string]string{"tier": "free"}}, Targets: []Target{{Provider: "sim", Model: "m2"}}}}}}
	n, err := c.WithRouting(c.Routing, routes)
	if err != nil {
		t.Fatal(err)
	}
	routes[0].Rules[0].When.KeyLabel["tier"] = "paid"
	routes[0].Rules[0].Targets[0].Model = "m1"
	got := n.Routes[0].Rules[0]
	if got.When.KeyLabel["tier"] != "free" || got.Targets[0].Model != "m2" {
		t.Fatalf("the new config shares the caller's rules: %+v", got)
	}
}
