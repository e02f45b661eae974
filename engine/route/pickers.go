package route

import (
	"fmt"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/balancer/chash"
	"github.com/switchyard/switchyard/engine/balancer/hybrid"
	"github.com/switchyard/switchyard/engine/balancer/leastconn"
	"github.com/switchyard/switchyard/engine/balancer/priority"
	"github.com/switchyard/switchyard/engine/balancer/weighted"
)

// newPicker builds the policy for a strategy over one group's snapshot.
func newPicker(strategy string, ts []balancer.Target, st []*balancer.Stats, h HybridSpec) (balancer.Picker, error) {
	switch strategy {
	case "priority":
		return priority.New(ts, st)
	case "weighted":
		return weighted.New(ts, st)
	case "least_connections":
		return leastconn.New(ts, st)
	case "consistent_hash":
		return chash.New(ts, st)
	case "hybrid":
		if h == (HybridSpec{}) {
			return hybrid.New(ts, st)
		}
		return hybrid.New(ts, st, hybrid.WithWeights(h.Cost, h.Latency, h.Quality, h.ErrorRate, h.Load))
	case "latency_priority":
		return hybrid.New(ts, st, hybrid.LatencyOnly())
	case "cost_priority":
		return hybrid.New(ts, st, hybrid.CostOnly())
	}
	return nil, fmt.Errorf("unknown strategy %q", strategy)
}
