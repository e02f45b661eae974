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

// The routing API may not carry panic_mode: a section arriving without it
// keeps what runs, and a new route inherits the routing default.
func TestWithRoutingKeepsUnsetPanicMode(t *testing.T) {
	c, err := Parse([]byte("routing: {panic_mode: false}\n"+baseProviders+
		"routes: [{model: a, panic_mode: true, targets: [{provider: sim, model: m1}]}, {model: b, targets: [{provider: sim, model: m1}]}]\n"), fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	off := false
	tgt := []Target{{Provider: "sim", Model: "m1"}}
	tests := []struct {
		name        string
		routing     Routing
		routes      []Route
		wantRouting bool
		wantRoutes  map[string]bool
	}{
		{"nothing set: every value kept", Routing{}, []Route{{Model: "a", Targets: tgt}, {Model: "b", Targets: tgt}},
			false, map[string]bool{"a": true, "b": false}},
		{"a new route inherits routing", Routing{}, []Route{{Model: "c", Targets: tgt}},
			false, map[string]bool{"c": false}},
		{"a value given wins", Routing{}, []Route{{Model: "a", PanicMode: &off, Targets: tgt}},
			false, map[string]bool{"a": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := c.WithRouting(tt.routing, tt.routes)
			if err != nil {
				t.Fatal(err)
			}
			if *n.Routing.PanicMode != tt.wantRouting {
				t.Fatalf("routing.panic_mode %v, want %v", *n.Routing.PanicMode, tt.wantRouting)
			}
			for _, rt := range n.Routes {
				if *rt.PanicMode != tt.wantRoutes[rt.Model] {
					t.Fatalf("route %s panic_mode %v, want %v", rt.Model, *rt.PanicMode, tt.wantRoutes[rt.Model])
				}
			}
		})
	}
	if *c.Routes[0].PanicMode != true || *c.Routing.PanicMode != false {
		t.Fatal("WithRouting changed the original")
	}
}
