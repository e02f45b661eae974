package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// saltKeyIDs names the salt provider key ids of config-file keys are keyed with.
const saltKeyIDs = "provider_key_ids"

// InstallSalt returns this install's random salt for naming provider keys, creating it on first
// use. It lives in the database rather than the data dir so that every gateway sharing one
// Postgres names a config key alike (their ledger rows and breaker states must agree), while
// two installs name the same secret differently.
func (s *Store) InstallSalt(ctx context.Context) ([]byte, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("store: install salt: %w", err)
	}
	// Two gateways starting at once both insert; the first one wins and both read it back.
	_, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO install_secrets (name, value, created_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO NOTHING`), saltKeyIDs, hex.EncodeToString(b[:]), toMillis(time.Now()))
	if err != nil {
		return nil, fmt.Errorf("store: install salt: %w", err)
	}
	var v string
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT value FROM install_secrets WHERE name = ?`), saltKeyIDs).Scan(&v); err != nil {
		return nil, fmt.Errorf("store: install salt: %w", err)
	}
	salt, err := hex.DecodeString(v)
	if err != nil || len(salt) < 16 {
		return nil, fmt.Errorf("store: install salt is corrupt (%d bytes)", len(salt))
	}
	return salt, nil
}
