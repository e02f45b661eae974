package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RoutingConfig is one saved version of the routing section replaced through the API. Versions
// are kept (history and rollback); the highest is current.
type RoutingConfig struct {
	Version   int64
	Doc       json.RawMessage
	UpdatedAt time.Time
	UpdatedBy string // client key id or "" (audit)
}

// AnyVersion makes PutRoutingConfig unconditional.
const AnyVersion int64 = -1

// PutRoutingConfig saves doc as the next version, made by updatedBy at at (the caller's clock;
// zero: now). With ifVersion >= 0 it succeeds only if the current version is ifVersion (0: none
// saved yet), else ErrConflict — an optimistic lock for read-modify-write through the API.
func (s *Store) PutRoutingConfig(ctx context.Context, doc json.RawMessage, updatedBy string, at time.Time, ifVersion int64) (RoutingConfig, error) {
	if !json.Valid(doc) {
		return RoutingConfig{}, errors.New("store: routing config is not valid JSON")
	}
	// json.Valid lets invalid UTF-8 inside strings through.
	if err := checkText("routing config", string(doc), updatedBy); err != nil {
		return RoutingConfig{}, err
	}
	if at.IsZero() {
		at = time.Now()
	}
	rc := RoutingConfig{Doc: append(json.RawMessage(nil), doc...), UpdatedAt: at.UTC().Truncate(time.Millisecond), UpdatedBy: updatedBy}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		// Without it, concurrent unconditional puts on Postgres fail with ErrConflict.
		if err := s.d.lockForWrite(ctx, tx, "routing_config"); err != nil {
			return err
		}
		var cur int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM routing_config`).Scan(&cur); err != nil {
			return err
		}
		if ifVersion >= 0 && cur != ifVersion {
			return fmt.Errorf("current version is %d, not %d: %w", cur, ifVersion, ErrConflict)
		}
		rc.Version = cur + 1
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO routing_config (version, doc, updated_at, updated_by) VALUES (?, ?, ?, ?)`),
			rc.Version, string(rc.Doc), toMillis(rc.UpdatedAt), rc.UpdatedBy)
		if isUniqueViolation(err) {
			return fmt.Errorf("version %d written concurrently: %w", rc.Version, ErrConflict)
		}
		return err
	})
	if err != nil {
		return RoutingConfig{}, fmt.Errorf("store: put routing config: %w", err)
	}
	return rc, nil
}

// LatestRoutingConfig returns the current version, or ErrNotFound if none was ever saved.
func (s *Store) LatestRoutingConfig(ctx context.Context) (RoutingConfig, error) {
	return s.routingConfig(ctx, `SELECT version, doc, updated_at, updated_by FROM routing_config ORDER BY version DESC LIMIT 1`)
}

// GetRoutingConfig returns one version, or ErrNotFound.
func (s *Store) GetRoutingConfig(ctx context.Context, version int64) (RoutingConfig, error) {
	return s.routingConfig(ctx, `SELECT version, doc, updated_at, updated_by FROM routing_config WHERE version = ?`, version)
}

func (s *Store) routingConfig(ctx context.Context, query string, args ...any) (RoutingConfig, error) {
	var (
		rc  RoutingConfig
		doc string
		ts  int64
	)
	err := s.db.QueryRowContext(ctx, s.d.q(query), args...).Scan(&rc.Version, &doc, &ts, &rc.UpdatedBy)
	if errors.Is(err, sql.ErrNoRows) {
		return RoutingConfig{}, fmt.Errorf("store: routing config: %w", ErrNotFound)
	}
	if err != nil {
		return RoutingConfig{}, fmt.Errorf("store: routing config: %w", err)
	}
	rc.Doc, rc.UpdatedAt = json.RawMessage(doc), fromMillis(ts)
	return rc, nil
}

// ListRoutingConfigs returns the newest limit versions (all when limit <= 0), newest first.
func (s *Store) ListRoutingConfigs(ctx context.Context, limit int) ([]RoutingConfig, error) {
	query := `SELECT version, doc, updated_at, updated_by FROM routing_config ORDER BY version DESC`
	if limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("store: list routing configs: %w", err)
	}
	defer rows.Close()
	var out []RoutingConfig
	for rows.Next() {
		var (
			rc  RoutingConfig
			doc string
			ts  int64
		)
		if err := rows.Scan(&rc.Version, &doc, &ts, &rc.UpdatedBy); err != nil {
			return nil, fmt.Errorf("store: list routing configs: %w", err)
		}
		rc.Doc, rc.UpdatedAt = json.RawMessage(doc), fromMillis(ts)
		out = append(out, rc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list routing configs: %w", err)
	}
	return out, nil
}

// PruneRoutingConfigs deletes all but the newest keep versions and returns how many went.
func (s *Store) PruneRoutingConfigs(ctx context.Context, keep int) (int64, error) {
	if keep < 1 {
		keep = 1
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM routing_config WHERE version <= (SELECT COALESCE(MAX(version), 0) FROM routing_config) - ?`), keep)
	if err != nil {
		return 0, fmt.Errorf("store: prune routing configs: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// RoutesServedSince returns the distinct model names clients sent (the ledger's route column)
// in requests recorded at or after since, sorted. Requests still queued in the ledger's batch
// are not counted.
func (s *Store) RoutesServedSince(ctx context.Context, since time.Time) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT DISTINCT route FROM usage WHERE ts >= ? AND route <> '' ORDER BY route`), toMillis(since))
	if err != nil {
		return nil, fmt.Errorf("store: routes served: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var r string
		if err := rows.Scan(&r); err != nil {
			return nil, fmt.Errorf("store: routes served: %w", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: routes served: %w", err)
	}
	return out, nil
}
