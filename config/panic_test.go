package config

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/balancer"
)

func TestPanicModeDefaultsOnAndRoutesInherit(t *testing.T) {
	tests := []struct {
		name        string
		routing     string
		route       string
		wantRouting bool
		wantRoute   bool
	}{
		{"unset everywhere: on", "", "", true, true},
		{"routing off: routes inherit off", "routing: {panic_mode: false}\n", "", false, false},
		{"route overrides routing", "routing: {panic_mode: false}\n", "panic_mode: true, ", false, true},
		{"route off alone", "", "panic_mode: false, ", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.routing + baseProviders + "routes: [{model: a, " + tt.route + "targets: [{provider: sim, model: m1}]}]\n"
			c, err := Parse([]byte(src), fakeEnv(nil))
			if err != nil {
				t.Fatal(err)
			}
			if c.Routing.PanicMode == nil || *c.Routing.PanicMode != tt.wantRouting {
				t.Fatalf("routing.panic_mode = %v, want %v", c.Routing.PanicMode, tt.wantRouting)
			}
			if p := c.Routes[0].PanicMode; p == nil || *p != tt.wantRoute {
				t.Fatalf("routes[0].panic_mode = %v, want %v", p, tt.wantRoute)
			}
		})
	}
}

func TestStrategyErrorsListTheEngineStrategies(t *testing.T) {
	_, err := Parse([]byte(baseProviders+"routes: [{model: a, strategy: fastest, targets: [{provider: sim, model: m1}]}]\n"), fakeEnv(nil))
	if err == nil {
		t.Fatal("unknown strategy accepted")
	}
	want := `routes[0].strategy: unknown value "fastest" (want one of ` + strings.Join(balancer.Strategies(), ", ") + ")"
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want it to contain %s", err, want)
	}
	for _, s := range balancer.Strategies() {
		if _, err := Parse([]byte(baseProviders+"routes: [{model: a, strategy: "+s+", targets: [{provider: sim, model: m1}]}]\n"), fakeEnv(nil)); err != nil {
			t.Fatalf("strategy %s refused: %v", s, err)
		}
	}
}
