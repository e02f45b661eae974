package route

import (
	"time"

	"github.com/switchyard/switchyard/engine/breaker"
)

// KeyStatus is one provider key's health, summed over its targets (one per
// model it serves).
type KeyStatus struct {
	ID, Masked, Label, Source string
	Weight                    int
	// State is healthy, open, half_open or cooling (the worst of its targets).
	State         string
	InFlight      int64
	LatencyMs     float64 // mean of its targets' EWMA latencies that have data
	ErrorRate     float64 // highest of its targets'
	CooldownUntil time.Time
}

// ProviderStatus is one provider with its key pool.
type ProviderStatus struct {
	Name, Type string
	Models     []string
	Keys       []KeyStatus
	Healthy    bool // at least one key can take traffic
}

var stateRank = map[string]int{"healthy": 0, "half_open": 1, "cooling": 2, "open": 3}

// Status reports every provider's keys as the breakers and stats see them.
func (r *Router) Status() []ProviderStatus {
	t := r.table.Load()
	now := r.now()
	out := make([]ProviderStatus, 0, len(t.providers))
	for _, p := range t.providers {
		ps := ProviderStatus{Name: p.Name, Type: p.Type, Models: p.Models}
		for _, k := range p.Keys {
			ks := KeyStatus{ID: k.ID, Masked: k.Masked, Label: k.Label, Source: k.Source, Weight: max(k.Weight, 1), State: "healthy"}
			var latSum float64
			var latN int
			for _, tg := range t.targets {
				if tg.Provider != p.Name || tg.KeyID != k.ID {
					continue
				}
				snap := tg.state.breaker.Snapshot()
				st := "healthy"
				switch {
				case snap.State == breaker.Open:
					st = "open"
				case snap.Cooling(now):
					st = "cooling"
					if snap.CoolUntil.After(ks.CooldownUntil) {
						ks.CooldownUntil = snap.CoolUntil
					}
				case snap.State == breaker.HalfOpen:
					st = "half_open"
				}
				if stateRank[st] > stateRank[ks.State] {
					ks.State = st
				}
				ks.InFlight += tg.state.stats.InFlight()
				if l := tg.state.stats.LatencyMs(now); l > 0 {
					latSum += l
					latN++
				}
				ks.ErrorRate = max(ks.ErrorRate, tg.state.stats.ErrorRate(now))
			}
			if latN > 0 {
				ks.LatencyMs = latSum / float64(latN)
			}
			if ks.State == "healthy" || ks.State == "half_open" {
				ps.Healthy = true
			}
			ps.Keys = append(ps.Keys, ks)
		}
		out = append(out, ps)
	}
	return out
}
