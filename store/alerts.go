package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Alert is a billing or health alert rule. Type names what Threshold is compared with, for example
// "budget_usd" (spend in Window), "error_rate" (0..1), "p95_latency_ms"; the evaluator owns the
// vocabulary, the store keeps it as text.
type Alert struct {
	ID         string
	Name       string
	Type       string
	Threshold  float64
	Window     time.Duration // evaluation window; 0 = the key's budget period / evaluator default
	Cooldown   time.Duration // minimum gap between two firings
	KeyID      string        // "" = gateway-wide
	WebhookURL string
	Enabled    bool
	Config     map[string]any // extra evaluator/channel settings (headers, channels...)
	CreatedAt  time.Time
	// LastFiredAt is zero until the alert first fires.
	LastFiredAt time.Time
}

const alertCols = `id, name, type, threshold, window_ms, cooldown_ms, key_id, webhook_url, enabled, config, created_at, last_fired_at`

func scanAlert(sc interface{ Scan(...any) error }) (Alert, error) {
	var (
		a                Alert
		window, cooldown int64
		enabled          int64
		cfg              string
		created          int64
		fired            sql.NullInt64
	)
	if err := sc.Scan(&a.ID, &a.Name, &a.Type, &a.Threshold, &window, &cooldown, &a.KeyID, &a.WebhookURL,
		&enabled, &cfg, &created, &fired); err != nil {
		return Alert{}, err
	}
	a.Window, a.Cooldown = time.Duration(window)*time.Millisecond, time.Duration(cooldown)*time.Millisecond
	a.Enabled = enabled != 0
	a.CreatedAt, a.LastFiredAt = fromMillis(created), fromNullMillis(fired)
	if err := json.Unmarshal([]byte(cfg), &a.Config); err != nil {
		return Alert{}, fmt.Errorf("decode alert %s config: %w", a.ID, err)
	}
	return a, nil
}

func alertConfig(a Alert) (string, error) {
	if a.Config == nil {
		return "{}", nil
	}
	b, err := json.Marshal(a.Config)
	if err != nil {
		return "", fmt.Errorf("store: encode alert %s config: %w", a.ID, err)
	}
	return string(b), nil
}

// CreateAlert inserts a. ID and Type are required; CreatedAt defaults to now.
func (s *Store) CreateAlert(ctx context.Context, a Alert) error {
	if a.ID == "" || a.Type == "" {
		return errors.New("store: alert needs ID and Type")
	}
	if err := checkText("alert", a.ID, a.Name, a.Type, a.KeyID, a.WebhookURL); err != nil {
		return err
	}
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	cfg, err := alertConfig(a)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO alerts (`+alertCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		a.ID, a.Name, a.Type, a.Threshold, a.Window.Milliseconds(), a.Cooldown.Milliseconds(), a.KeyID, a.WebhookURL,
		boolInt(a.Enabled), cfg, toMillis(a.CreatedAt), nullMillis(a.LastFiredAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create alert %s: %w", a.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create alert %s: %w", a.ID, err)
	}
	return nil
}

// GetAlert returns the alert, or ErrNotFound.
func (s *Store) GetAlert(ctx context.Context, id string) (Alert, error) {
	if !storable(id) {
		return Alert{}, fmt.Errorf("store: alert: %w", ErrNotFound)
	}
	a, err := scanAlert(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+alertCols+` FROM alerts WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, fmt.Errorf("store: alert %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return Alert{}, fmt.Errorf("store: get alert: %w", err)
	}
	return a, nil
}

// ListAlerts returns all alerts, or only those for keyID when it is not "".
func (s *Store) ListAlerts(ctx context.Context, keyID string) ([]Alert, error) {
	if !storable(keyID) {
		return nil, nil // no alert can carry it
	}
	query := `SELECT ` + alertCols + ` FROM alerts`
	var args []any
	if keyID != "" {
		query += ` WHERE key_id = ?`
		args = append(args, keyID)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(query+` ORDER BY created_at, id`+s.d.bytewise), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list alerts: %w", err)
	}
	defer rows.Close()
	var out []Alert
	for rows.Next() {
		a, err := scanAlert(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list alerts: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list alerts: %w", err)
	}
	return out, nil
}

// UpdateAlert replaces the rule's settings (not CreatedAt or LastFiredAt).
func (s *Store) UpdateAlert(ctx context.Context, a Alert) error {
	if !storable(a.ID) {
		return fmt.Errorf("store: update alert: %w", ErrNotFound)
	}
	if err := checkText("alert", a.Name, a.Type, a.KeyID, a.WebhookURL); err != nil {
		return err
	}
	cfg, err := alertConfig(a)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE alerts SET name = ?, type = ?, threshold = ?, window_ms = ?,
		cooldown_ms = ?, key_id = ?, webhook_url = ?, enabled = ?, config = ? WHERE id = ?`),
		a.Name, a.Type, a.Threshold, a.Window.Milliseconds(), a.Cooldown.Milliseconds(), a.KeyID, a.WebhookURL,
		boolInt(a.Enabled), cfg, a.ID)
	return affectedOne(res, err, "update alert "+a.ID)
}

// MarkAlertFired records a firing at at, only if the cooldown since the last firing has passed.
// It reports whether this caller won, so several gateways sharing a database fire once.
func (s *Store) MarkAlertFired(ctx context.Context, id string, at time.Time) (bool, error) {
	if !storable(id) {
		return false, fmt.Errorf("store: mark alert fired: %w", ErrNotFound)
	}
	ms := toMillis(at)
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE alerts SET last_fired_at = ?
		WHERE id = ? AND (last_fired_at IS NULL OR last_fired_at + cooldown_ms <= ?)`), ms, id, ms)
	if err != nil {
		return false, fmt.Errorf("store: mark alert %s fired: %w", id, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: mark alert %s fired: %w", id, err)
	}
	if n == 0 {
		if _, err := s.GetAlert(ctx, id); err != nil {
			return false, err
		}
	}
	return n == 1, nil
}

// DeleteAlert removes the alert and its firing history, or returns ErrNotFound.
func (s *Store) DeleteAlert(ctx context.Context, id string) error {
	if !storable(id) {
		return fmt.Errorf("store: delete alert: %w", ErrNotFound)
	}
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM alerts WHERE id = ?`), id)
		if err := affectedOne(res, err, "delete alert "+id); err != nil {
			return err
		}
		// A new alert may reuse the id: it must not inherit the old one's history.
		if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM alert_firings WHERE alert_id = ?`), id); err != nil {
			return fmt.Errorf("store: delete alert %s firings: %w", id, err)
		}
		return nil
	})
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
