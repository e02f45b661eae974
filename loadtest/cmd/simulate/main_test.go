package main

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/sim"
)

func TestPickKeepsTheNamedPoliciesInTheOrderGiven(t *testing.T) {
	got, err := pick(sim.Policies(), "hybrid_live, single")
	if err != nil || len(got) != 2 || got[0].Name != "hybrid_live" || got[1].Name != "single" {
		t.Fatalf("pick = %v, %v", got, err)
	}
	if all, _ := pick(sim.Policies(), ""); len(all) != len(sim.Policies()) {
		t.Errorf("no names should mean every policy, got %d", len(all))
	}
	if _, err := pick(sim.Policies(), "single,ghost"); err == nil || !strings.Contains(err.Error(), `"ghost"`) {
		t.Errorf("unknown policy: %v", err)
	}
}

func TestSetWeightsOverridesOnlyHybridPolicies(t *testing.T) {
	ps := sim.Policies()
	if err := setWeights(ps, "cost=0.2,latency=0.8"); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		switch {
		case p.Name == "hybrid_live" && (p.Hybrid == nil || *p.Hybrid != sim.Hybrid{Cost: 0.2, Latency: 0.8}):
			t.Errorf("hybrid_live weights %+v", p.Hybrid)
		case p.Name != "hybrid_live" && p.Hybrid != nil:
			t.Errorf("%s got weights", p.Name)
		}
	}
	for _, bad := range []string{"cost", "cost=x", "speed=1"} {
		if err := setWeights(sim.Policies(), bad); err == nil {
			t.Errorf("setWeights(%q) accepted", bad)
		}
	}
}
