package store

import (
	"context"
	"fmt"
	"time"
)

// ProviderTraffic is one provider's part of a ledger window, for provider_share alerts.
type ProviderTraffic struct {
	Provider string
	// Calls counts the rows that made an upstream call to Provider, failed ones included.
	// Answers from the response or semantic cache name the provider that once produced them,
	// and a coalesced request rode on another's call: neither made a call of its own, so
	// counting them would credit a provider with traffic it never saw.
	Calls int64
	// CostNanos is every nano-dollar the ledger bills to Provider in the window, probes aside.
	// Cache hits bill nothing; a coalesced reader bills what it received beyond its leader,
	// which that provider did charge for.
	CostNanos int64
}

// providerCall is the SQL predicate for ProviderTraffic.Calls. Constant text: no user input.
const providerCall = `cache NOT IN ('hit', 'semantic_hit', 'coalesced')`

// probeDialect marks the rows of the gateway's own active probes (server/control bills them so).
// Probes go to idle targets only: counting them would dilute the very concentration a
// provider_share rule watches for, and let probes alone make up its min_samples.
const probeDialect = "probe"

// ProviderTraffic returns, per provider, the upstream calls and cost recorded since since, for
// keyID or, when it is "", the whole gateway; ordered by provider. Rows without a provider
// (refused by admission, or failed before routing) are left out: they reached no provider; so
// are active probes, which are not clients' traffic.
func (s *Store) ProviderTraffic(ctx context.Context, since time.Time, keyID string) ([]ProviderTraffic, error) {
	where, args := UsageQuery{From: since, KeyID: keyID}.where()
	if where == "" {
		where = " WHERE provider <> '' AND dialect <> ?"
	} else {
		where += " AND provider <> '' AND dialect <> ?"
	}
	args = append(args, probeDialect)
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT provider,
		COALESCE(SUM(CASE WHEN `+providerCall+` THEN 1 ELSE 0 END), 0), COALESCE(SUM(cost_nanos), 0)
		FROM usage`+where+` GROUP BY provider ORDER BY provider`+s.d.bytewise), args...)
	if err != nil {
		return nil, fmt.Errorf("store: provider traffic: %w", err)
	}
	defer rows.Close()
	var out []ProviderTraffic
	for rows.Next() {
		var p ProviderTraffic
		if err := rows.Scan(&p.Provider, &p.Calls, &p.CostNanos); err != nil {
			return nil, fmt.Errorf("store: provider traffic: %w", err)
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: provider traffic: %w", err)
	}
	return out, nil
}
