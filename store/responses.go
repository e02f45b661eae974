package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// StoredResponse is one OpenAI Responses API response kept for
// previous_response_id chains and GET /v1/responses/{id}. The store keeps
// its JSON as given: the Responses dialect owns the wire format.
type StoredResponse struct {
	ID    string
	Owner string // client key id; "" when the gateway runs keyless
	// Response is the response object's JSON.
	Response []byte
	// Input is the JSON array of every input item the response was made
	// from: the chain before it, then its own input.
	Input     []byte
	CreatedAt time.Time
	ExpiresAt time.Time // zero: kept until deleted
}

// PutResponse stores r, replacing a response with the same id and owner.
func (s *Store) PutResponse(ctx context.Context, r StoredResponse) error {
	if r.ID == "" {
		return errors.New("store: response needs an ID")
	}
	if err := checkText("response", r.ID, r.Owner, string(r.Response), string(r.Input)); err != nil {
		return err
	}
	return inTx(ctx, s.db, func(tx *sql.Tx) error {
		// A different owner's row under the same id is left alone: ids are
		// random, so this is a clash, not an update.
		res, err := tx.ExecContext(ctx, s.d.q(`UPDATE responses SET created_at = ?, expires_at = ?, response = ?, input = ? WHERE id = ? AND owner = ?`),
			toMillis(r.CreatedAt), nullMillis(r.ExpiresAt), string(r.Response), string(r.Input), r.ID, r.Owner)
		if err != nil {
			return fmt.Errorf("store: put response: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO responses (id, owner, created_at, expires_at, response, input) VALUES (?, ?, ?, ?, ?, ?)`),
			r.ID, r.Owner, toMillis(r.CreatedAt), nullMillis(r.ExpiresAt), string(r.Response), string(r.Input))
		if isUniqueViolation(err) {
			return fmt.Errorf("store: put response %s: %w", r.ID, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("store: put response: %w", err)
		}
		return nil
	})
}

// GetResponse returns owner's response id as of now, or ErrNotFound when
// there is none, it expired, or another key owns it.
func (s *Store) GetResponse(ctx context.Context, owner, id string, now time.Time) (StoredResponse, error) {
	if !storable(id) || !storable(owner) {
		return StoredResponse{}, fmt.Errorf("store: response: %w", ErrNotFound)
	}
	var (
		r           StoredResponse
		created     int64
		expires     sql.NullInt64
		resp, input string
	)
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT id, owner, created_at, expires_at, response, input FROM responses WHERE id = ? AND owner = ?`), id, owner).
		Scan(&r.ID, &r.Owner, &created, &expires, &resp, &input)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredResponse{}, fmt.Errorf("store: response %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return StoredResponse{}, fmt.Errorf("store: get response: %w", err)
	}
	r.CreatedAt, r.ExpiresAt = fromMillis(created), fromNullMillis(expires)
	if !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt) {
		return StoredResponse{}, fmt.Errorf("store: response %s expired: %w", id, ErrNotFound)
	}
	r.Response, r.Input = []byte(resp), []byte(input)
	return r, nil
}

// DeleteResponse removes owner's response id, or reports ErrNotFound.
func (s *Store) DeleteResponse(ctx context.Context, owner, id string) error {
	if !storable(id) || !storable(owner) {
		return fmt.Errorf("store: response: %w", ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM responses WHERE id = ? AND owner = ?`), id, owner)
	return affectedOne(res, err, "response "+id)
}

// PruneResponses deletes responses expired at now and reports how many.
func (s *Store) PruneResponses(ctx context.Context, now time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM responses WHERE expires_at IS NOT NULL AND expires_at <= ?`), toMillis(now))
	if err != nil {
		return 0, fmt.Errorf("store: prune responses: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
