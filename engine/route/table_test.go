package route

import (
	"context"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// priced is a one-key provider serving models at one price.
func priced(name string, price float64, models ...string) ProviderSpec {
	p := ProviderSpec{Name: name, Models: models, Prices: map[string]Price{},
		Keys: []KeySpec{{ID: "k0", Weight: 1, Provider: &fake{name: name}}}}
	for _, m := range models {
		p.Prices[m] = Price{Input: price, Output: price}
	}
	return p
}

// Two routes fall back to each other, so each group is shared by a route
// that weighs only cost and one that weighs only quality. Whatever order
// the table's map walk takes, each route must score both groups its own
// way: the cheap target for "thrifty", the good one for "picky".
func TestSharedGroupsUseEachRoutesHybridWeights(t *testing.T) {
	clk := newClock()
	spec := Spec{
		Providers: []ProviderSpec{priced("cheap", 1, "m1", "m2"), priced("dear", 10, "m1", "m2")},
		Routes: []RouteSpec{
			{Model: "thrifty", Strategy: "hybrid", Hybrid: HybridSpec{Cost: 1}, Fallbacks: []string{"picky"},
				Targets: []TargetSpec{{Provider: "cheap", Model: "m1", Quality: 0}, {Provider: "dear", Model: "m1", Quality: 1}}},
			{Model: "picky", Strategy: "hybrid", Hybrid: HybridSpec{Quality: 1}, Fallbacks: []string{"thrifty"},
				Targets: []TargetSpec{{Provider: "cheap", Model: "m2", Quality: 0}, {Provider: "dear", Model: "m2", Quality: 1}}},
		},
	}
	want := map[string]string{"thrifty": "cheap", "picky": "dear"}
	const builds = 200
	wrong := 0
	for range builds {
		tbl, err := buildTable(spec, newRegistry(breaker.Config{}, clk.now))
		if err != nil {
			t.Fatal(err)
		}
		bad := false
		for name, provider := range want {
			rt := tbl.routes[name]
			if len(rt.groups) != 2 {
				t.Fatalf("%s has %d groups, want its own and its fallback's", name, len(rt.groups))
			}
			for gi, g := range rt.groups {
				idx, err := rt.picker(gi, balancer.StrategyHybrid).Pick(&balancer.Request{Tokens: 1000, OutTokens: 256, Now: clk.now()})
				if err != nil {
					t.Fatal(err)
				}
				if got := g.targets[idx].Provider; got != provider {
					bad = true
					t.Logf("%s group %d picked %s, want %s", name, gi, got, provider)
				}
			}
		}
		if bad {
			wrong++
		}
	}
	if wrong > 0 {
		t.Fatalf("%d of %d builds gave a route another route's hybrid weights", wrong, builds)
	}
}

// A rebuilt table scores the targets it now has: a cheaper provider added
// to a cost-only hybrid route takes its traffic at once.
func TestHybridPickersFollowTableRebuilds(t *testing.T) {
	route := func(providers ...string) RouteSpec {
		rs := RouteSpec{Model: "r", Strategy: "hybrid", Hybrid: HybridSpec{Cost: 1}}
		for _, p := range providers {
			rs.Targets = append(rs.Targets, TargetSpec{Provider: p, Model: "m"})
		}
		return rs
	}
	provs := []ProviderSpec{priced("dear", 10, "m"), priced("mid", 5, "m"), priced("cheap", 1, "m")}
	r, err := New(Spec{Providers: provs, Routes: []RouteSpec{route("dear", "mid")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	steps := []struct {
		targets []string
		want    string
	}{
		{[]string{"dear", "mid"}, "mid"},
		{[]string{"dear", "mid", "cheap"}, "cheap"},
		{[]string{"dear"}, "dear"},
	}
	for _, st := range steps {
		if err := r.Update(Spec{Providers: provs, Routes: []RouteSpec{route(st.targets...)}}); err != nil {
			t.Fatal(err)
		}
		_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "r"})
		if err != nil || info.Provider != st.want {
			t.Fatalf("targets %v: picked %q (%v), want %q", st.targets, info.Provider, err, st.want)
		}
	}
}

func TestStrategyNamesComeFromTheBalancerList(t *testing.T) {
	provs := []ProviderSpec{priced("p", 1, "m")}
	_, berr := New(Spec{Providers: provs, Routes: []RouteSpec{{Model: "r", Strategy: "fastest", Targets: []TargetSpec{{Provider: "p", Model: "m"}}}}})
	if berr == nil {
		t.Fatal("unknown route strategy accepted")
	}
	r, err := New(Spec{Providers: provs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	_, _, herr := r.Chat(context.Background(), &llm.ChatRequest{Model: "m", Hints: llm.Hints{Strategy: "fastest"}})
	if llm.KindOf(herr) != llm.KindInvalidRequest {
		t.Fatalf("unknown strategy hint: %v", herr)
	}
	for _, e := range []error{berr, herr} {
		for _, s := range balancer.Strategies() {
			if !strings.Contains(e.Error(), s) {
				t.Fatalf("%q does not name %s", e, s)
			}
		}
	}
	// Every listed strategy has a policy and serves a request.
	for _, s := range balancer.Strategies() {
		if _, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "m", Hints: llm.Hints{Strategy: s}}); err != nil || info.Strategy != s {
			t.Fatalf("strategy %s: %+v %v", s, info, err)
		}
	}
}
