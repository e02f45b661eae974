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

// newPicker builds the policy for a strategy over one group's snapshot; h
// matters to hybrid only.
func newPicker(strategy string, ts []balancer.Target, st []*balancer.Stats, h HybridSpec) (balancer.Picker, error) {
	switch strategy {
	case balancer.StrategyPriority:
		return priority.New(ts, st)
	case balancer.StrategyWeighted:
		return weighted.New(ts, st)
	case balancer.StrategyLeastConnections:
		return leastconn.New(ts, st)
	case balancer.StrategyConsistentHash:
		return chash.New(ts, st)
	case balancer.StrategyHybrid:
		if h == (HybridSpec{}) {
			return hybrid.New(ts, st)
		}
		return hybrid.New(ts, st, hybrid.WithWeights(h.Cost, h.Latency, h.Quality, h.ErrorRate, h.Load))
	case balancer.StrategyLatencyPriority:
		return hybrid.New(ts, st, hybrid.LatencyOnly())
	case balancer.StrategyCostPriority:
		return hybrid.New(ts, st, hybrid.CostOnly())
	}
	return nil, fmt.Errorf("unknown strategy %q", strategy)
}
