package config

import "testing"

// fan_out_n is off unless a route sets it, and a routing-API update (which
// does not carry it) keeps what runs unless it says otherwise.
func TestFanOutNIsOffByDefaultAndSurvivesRoutingUpdates(t *testing.T) {
	c, err := Parse([]byte(baseProviders+
		"routes: [{model: a, fan_out_n: true, targets: [{provider: sim, model: m1}]}, {model: b, targets: [{provider: sim, model: m1}]}]\n"), fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Routes[0].FanOutN; p == nil || !*p {
		t.Fatalf("routes[0].fan_out_n = %v, want true", p)
	}
	if p := c.Routes[1].FanOutN; p != nil && *p {
		t.Fatalf("routes[1].fan_out_n = %v, want off", *p)
	}
	off := false
	tgt := []Target{{Provider: "sim", Model: "m1"}}
	tests := []struct {
		name   string
		routes []Route
		want   map[string]bool
	}{
		{"unset: the running value kept", []Route{{Model: "a", Targets: tgt}, {Model: "b", Targets: tgt}}, map[string]bool{"a": true, "b": false}},
		{"a value given wins", []Route{{Model: "a", FanOutN: &off, Targets: tgt}}, map[string]bool{"a": false}},
		{"a new route is off", []Route{{Model: "c", Targets: tgt}}, map[string]bool{"c": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := c.WithRouting(Routing{}, tt.routes)
			if err != nil {
				t.Fatal(err)
			}
			for _, rt := range n.Routes {
				if got := rt.FanOutN != nil && *rt.FanOutN; got != tt.want[rt.Model] {
					t.Fatalf("route %s fan_out_n %v, want %v", rt.Model, got, tt.want[rt.Model])
				}
			}
		})
	}
	if !*c.Routes[0].FanOutN {
		t.Fatal("WithRouting changed the original")
	}
	if _, err := Parse([]byte(baseProviders+"routes: [{model: a, fan_out_n: sometimes, targets: [{provider: sim, model: m1}]}]\n"), fakeEnv(nil)); err == nil {
		t.Fatal("fan_out_n: sometimes accepted")
	}
}
