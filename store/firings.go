package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// AlertFiring is one recorded firing of an alert: what crossed what, and when.
type AlertFiring struct {
	ID        int64 // assigned by the store
	AlertID   string
	Type      string
	KeyID     string
	FiredAt   time.Time
	Value     float64
	Threshold float64
	Message   string
	// Delivery is what became of the webhook POST: DeliveryNone, DeliveryPending, DeliveryDelivered,
	// or "failed: …" / "dropped: …" with the reason.
	Delivery string
}

// Delivery outcomes with no reason attached.
const (
	DeliveryNone      = "none" // the alert has no webhook
	DeliveryPending   = "pending"
	DeliveryDelivered = "delivered"
)

// FiringQuery selects firings for ListAlertFirings.
type FiringQuery struct {
	AlertID string // "" = every alert
	Limit   int    // 0 = DefaultFiringLimit; capped at MaxFiringLimit
}

const (
	// DefaultFiringLimit is how many firings ListAlertFirings returns when asked for none in particular.
	DefaultFiringLimit = 50
	// MaxFiringLimit caps one ListAlertFirings answer.
	MaxFiringLimit = 500
)

// ClaimAlertFiring records f as the alert's firing only if last_fired_at still holds prev (the
// zero time for "never fired") and the alert's cooldown since prev has passed: it sets
// last_fired_at to f.FiredAt and adds f to the firing history in one transaction. It reports
// whether this caller won: of several gateways sharing the database that saw the same state,
// exactly one fires, and the history has one row for it. Unlike MarkAlertFired it also works for
// alerts without a cooldown. ErrNotFound when the alert is gone.
func (s *Store) ClaimAlertFiring(ctx context.Context, prev time.Time, f AlertFiring) (bool, error) {
	id := f.AlertID
	if !storable(id) {
		return false, fmt.Errorf("store: claim alert firing: %w", ErrNotFound)
	}
	prevMS := int64(-1)
	if !prev.IsZero() {
		prevMS = toMillis(prev)
	}
	ms := toMillis(f.FiredAt)
	won := false
	err := inTx(ctx, s.db, func(tx *sql.Tx) error {
		// The UPDATE takes the row lock (Postgres) or the write lock (SQLite) first, so a
		// concurrent claim re-checks last_fired_at after this one commits and loses.
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE alerts SET last_fired_at = ?
			WHERE id = ? AND COALESCE(last_fired_at, -1) = ?
			AND (last_fired_at IS NULL OR last_fired_at + cooldown_ms <= ?)`), ms, id, prevMS, ms)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil || n == 0 {
			return err
		}
		won = true
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO alert_firings
			(alert_id, type, key_id, fired_at, value, threshold, message, delivery) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
			id, cleanText(f.Type), cleanText(f.KeyID), ms, f.Value, f.Threshold, cleanText(f.Message), cleanText(f.Delivery))
		return err
	})
	if err != nil {
		return false, fmt.Errorf("store: claim alert %s firing: %w", id, err)
	}
	if !won {
		if _, err := s.GetAlert(ctx, id); err != nil {
			return false, err
		}
	}
	return won, nil
}

// ListAlertFirings returns recorded firings, newest first. A deleted alert's firings are deleted
// with it, so every row names an alert that exists.
func (s *Store) ListAlertFirings(ctx context.Context, q FiringQuery) ([]AlertFiring, error) {
	if !storable(q.AlertID) {
		return nil, nil // no alert can carry it
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultFiringLimit
	}
	limit = min(limit, MaxFiringLimit)
	query := `SELECT id, alert_id, type, key_id, fired_at, value, threshold, message, delivery FROM alert_firings`
	var args []any
	if q.AlertID != "" {
		query += ` WHERE alert_id = ?`
		args = append(args, q.AlertID)
	}
	query += fmt.Sprintf(` ORDER BY fired_at DESC, id DESC LIMIT %d`, limit)
	rows, err := s.db.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list alert firings: %w", err)
	}
	defer rows.Close()
	var out []AlertFiring
	for rows.Next() {
		var (
			f  AlertFiring
			at int64
		)
		if err := rows.Scan(&f.ID, &f.AlertID, &f.Type, &f.KeyID, &at, &f.Value, &f.Threshold, &f.Message, &f.Delivery); err != nil {
			return nil, fmt.Errorf("store: list alert firings: %w", err)
		}
		f.FiredAt = fromMillis(at)
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list alert firings: %w", err)
	}
	return out, nil
}

// SetAlertFiringDelivery records what became of the webhook POST of the alert's firing at
// firedAt (its claim makes that pair unique). ErrNotFound when the firing is gone with its alert.
func (s *Store) SetAlertFiringDelivery(ctx context.Context, alertID string, firedAt time.Time, outcome string) error {
	if !storable(alertID) {
		return fmt.Errorf("store: set alert firing delivery: %w", ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE alert_firings SET delivery = ? WHERE alert_id = ? AND fired_at = ?`),
		cleanText(outcome), alertID, toMillis(firedAt))
	return affectedOne(res, err, "set alert "+alertID+" firing delivery")
}

// cleanText makes evaluator-written text storable: a firing is not to be lost to a provider
// name with a stray invalid byte in it.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}
