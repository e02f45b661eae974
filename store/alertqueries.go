package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// WindowStats summarises the ledger rows of one time window for the alert evaluator.
type WindowStats struct {
	Requests int64
	// Failures counts requests the gateway or its upstreams failed. Outcomes caused by the client
	// (invalid_request, unauthenticated, permission_denied, not_found, canceled) and refusals by
	// the admission gate (rate_limited with no provider: the key's own RPM/TPM/budget) are not
	// failures: a client sending bad requests must not page the operator.
	Failures int64
	// P95LatencyMS is the nearest-rank 95th percentile over all requests of the window, the
	// same definition as Metrics.P95LatencyMS; 0 without requests.
	P95LatencyMS int64
}

// alertFailure is the SQL predicate for WindowStats.Failures. Constant text: no user input.
const alertFailure = `status <> 'ok'
	AND status NOT IN ('invalid_request', 'unauthenticated', 'permission_denied', 'not_found', 'canceled')
	AND NOT (status = 'rate_limited' AND provider = '')`

// WindowStats returns request, failure and p95 figures over ts >= since, for keyID or, when it is
// "", the whole gateway.
func (s *Store) WindowStats(ctx context.Context, since time.Time, keyID string) (WindowStats, error) {
	where, args := UsageQuery{From: since, KeyID: keyID}.where()
	var ws WindowStats
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN `+alertFailure+` THEN 1 ELSE 0 END), 0)
		FROM usage`+where), args...).Scan(&ws.Requests, &ws.Failures)
	if err != nil {
		return WindowStats{}, fmt.Errorf("store: window stats: %w", err)
	}
	if ws.Requests == 0 {
		return ws, nil
	}
	rank := (95*ws.Requests + 99) / 100 // ceil(0.95*N) without float rounding
	err = s.db.QueryRowContext(ctx, s.d.q(`SELECT latency_ms FROM usage`+where+
		fmt.Sprintf(` ORDER BY latency_ms LIMIT 1 OFFSET %d`, rank-1)), args...).Scan(&ws.P95LatencyMS)
	if err != nil && !errors.Is(err, sql.ErrNoRows) { // rows pruned between the two queries: leave 0
		return WindowStats{}, fmt.Errorf("store: window stats p95: %w", err)
	}
	return ws, nil
}

// SpendByKey returns the cost in nano-dollars recorded since since, per client key id ("" holds requests made
// without a key). One query serves every budget alert of a period, however many keys they watch.
func (s *Store) SpendByKey(ctx context.Context, since time.Time) (map[string]int64, error) {
	where, args := UsageQuery{From: since}.where()
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT key_id, COALESCE(SUM(cost_nanos), 0) FROM usage`+where+
		` GROUP BY key_id`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: spend by key: %w", err)
	}
	defer rows.Close()
	out := make(map[string]int64)
	for rows.Next() {
		var (
			key  string
			cost int64
		)
		if err := rows.Scan(&key, &cost); err != nil {
			return nil, fmt.Errorf("store: spend by key: %w", err)
		}
		out[key] = cost
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: spend by key: %w", err)
	}
	return out, nil
}
