package alerts

import (
	"fmt"
	"time"

	"github.com/switchyard/switchyard/store"
)

// ProviderShare is what a provider_share rule measured over its window.
type ProviderShare struct {
	// Provider is the watched provider, or, for a rule watching each, the one with the largest
	// share (the first by name on a tie, so that every gateway names the same one).
	Provider string
	Measure  string  // MeasureRequests or MeasureCost
	Share    float64 // of Measure, 0..1
	Window   time.Duration
	// Calls and ProviderCalls are the window's upstream calls: all providers', and Provider's.
	Calls, ProviderCalls int64
	// CostNanos and ProviderCostNanos are the window's spend, likewise (nano-dollars).
	CostNanos, ProviderCostNanos int64
}

// shareOf measures provider's share of traffic by measure; provider "" picks the largest.
// traffic holds only rows that reached a provider (store.ProviderTraffic): a cache hit or an
// admission refusal is no load on any provider, and counting hits under the provider that once
// answered would make a well-cached provider look dominant while it is idle.
func shareOf(traffic []store.ProviderTraffic, measure, provider string, window time.Duration) ProviderShare {
	ps := ProviderShare{Provider: provider, Measure: measure, Window: window}
	for _, t := range traffic {
		ps.Calls += t.Calls
		ps.CostNanos += t.CostNanos
	}
	part := func(t store.ProviderTraffic) int64 {
		if measure == MeasureCost {
			return t.CostNanos
		}
		return t.Calls
	}
	var best store.ProviderTraffic
	found := false
	for _, t := range traffic {
		if provider != "" {
			if t.Provider == provider {
				best, found = t, true
			}
			continue
		}
		if !found || part(t) > part(best) || part(t) == part(best) && t.Provider < best.Provider {
			best, found = t, true
		}
	}
	if found {
		ps.Provider, ps.ProviderCalls, ps.ProviderCostNanos = best.Provider, best.Calls, best.CostNanos
	}
	if total := ps.total(); total > 0 {
		ps.Share = float64(part(best)) / float64(total)
	}
	return ps
}

func (ps ProviderShare) total() int64 {
	if ps.Measure == MeasureCost {
		return ps.CostNanos
	}
	return ps.Calls
}

// exceeds reports whether the share is above threshold. A threshold of 1, which validation
// accepts, could never be exceeded: it is read as "all of it", so a rule can page when every
// call goes to one provider (the others are down or routed away).
func (ps ProviderShare) exceeds(threshold float64) bool {
	if ps.total() <= 0 {
		return false
	}
	return ps.Share > threshold || threshold >= 1 && ps.Share >= 1
}

func (ps ProviderShare) message(keyID string, threshold float64) string {
	if ps.Measure == MeasureCost {
		return fmt.Sprintf("%s provider %s took %.1f%% of spend ($%.4f of $%.4f) over %s, above %.1f%%",
			scope(keyID), ps.Provider, 100*ps.Share, float64(ps.ProviderCostNanos)/1e9, float64(ps.CostNanos)/1e9,
			ps.Window, 100*threshold)
	}
	return fmt.Sprintf("%s provider %s took %.1f%% of upstream requests (%d of %d) over %s, above %.1f%%",
		scope(keyID), ps.Provider, 100*ps.Share, ps.ProviderCalls, ps.Calls, ps.Window, 100*threshold)
}
