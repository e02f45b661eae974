package balancer

import "slices"

// Strategy names. The router maps each to a policy; config validation, the
// API and the router's per-request override all check names against
// Strategies, so a strategy added here is accepted everywhere at once.
const (
	StrategyConsistentHash   = "consistent_hash"
	StrategyLeastConnections = "least_connections"
	StrategyHybrid           = "hybrid"
	StrategyWeighted         = "weighted"
	StrategyPriority         = "priority"
	StrategyLatencyPriority  = "latency_priority"
	StrategyCostPriority     = "cost_priority"
)

// Strategies lists every strategy a route may use, in the order error
// messages and docs show them. The slice is the caller's.
func Strategies() []string {
	return []string{StrategyConsistentHash, StrategyLeastConnections, StrategyHybrid, StrategyWeighted,
		StrategyPriority, StrategyLatencyPriority, StrategyCostPriority}
}

// KnownStrategy reports whether s names a strategy.
func KnownStrategy(s string) bool { return slices.Contains(Strategies(), s) }
