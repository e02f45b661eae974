package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ProviderKey describes an upstream API key. The secret itself is only ever held sealed; this
// struct never carries it.
type ProviderKey struct {
	Provider  string
	KeyID     string
	Label     string
	Hint      string // last 4 characters of the secret, for display ("…abcd"); empty for short secrets
	Weight    int
	CreatedAt time.Time
}

// aad binds a ciphertext to its row so that swapping ciphertexts between rows fails to open.
func providerKeyAAD(provider, keyID string) []byte {
	return []byte("switchyard/provider_keys\x00" + provider + "\x00" + keyID)
}

// AddProviderKey seals secret with sl and stores it. Weight defaults to 1, CreatedAt to now.
// An existing (Provider, KeyID) is ErrConflict.
func (s *Store) AddProviderKey(ctx context.Context, sl *Sealer, k ProviderKey, secret string) error {
	if sl == nil {
		return errors.New("store: AddProviderKey needs a Sealer")
	}
	if k.Provider == "" || k.KeyID == "" || secret == "" {
		return errors.New("store: provider key needs Provider, KeyID and a secret")
	}
	if err := checkText("provider key", k.Provider, k.KeyID, k.Label); err != nil {
		return err
	}
	if k.Weight <= 0 {
		k.Weight = 1
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.Hint = ""
	if len(secret) >= 12 { // never reveal a meaningful share of a short secret
		// Four bytes can split a multi-byte character; the hint is only for display.
		k.Hint = strings.ToValidUTF8(strings.ReplaceAll(secret[len(secret)-4:], "\x00", ""), "")
	}
	ct, nonce, err := sl.Seal([]byte(secret), providerKeyAAD(k.Provider, k.KeyID))
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO provider_keys
		(provider, key_id, label, hint, weight, ciphertext, nonce, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
		k.Provider, k.KeyID, k.Label, k.Hint, k.Weight, ct, nonce, toMillis(k.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("store: add provider key %s/%s: %w", k.Provider, k.KeyID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: add provider key %s/%s: %w", k.Provider, k.KeyID, err)
	}
	return nil
}

const providerKeyCols = `provider, key_id, label, hint, weight, created_at`

func scanProviderKey(sc interface{ Scan(...any) error }) (ProviderKey, error) {
	var (
		k       ProviderKey
		created int64
	)
	if err := sc.Scan(&k.Provider, &k.KeyID, &k.Label, &k.Hint, &k.Weight, &created); err != nil {
		return ProviderKey{}, err
	}
	k.CreatedAt = fromMillis(created)
	return k, nil
}

// GetProviderKey returns the key's metadata, or ErrNotFound.
func (s *Store) GetProviderKey(ctx context.Context, provider, keyID string) (ProviderKey, error) {
	if !storable(provider) || !storable(keyID) {
		return ProviderKey{}, fmt.Errorf("store: provider key: %w", ErrNotFound)
	}
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+providerKeyCols+` FROM provider_keys WHERE provider = ? AND key_id = ?`),
		provider, keyID)
	k, err := scanProviderKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ProviderKey{}, fmt.Errorf("store: provider key %s/%s: %w", provider, keyID, ErrNotFound)
	}
	if err != nil {
		return ProviderKey{}, fmt.Errorf("store: get provider key: %w", err)
	}
	return k, nil
}

// ListProviderKeys returns the keys of provider (all providers when ""), by provider then age.
func (s *Store) ListProviderKeys(ctx context.Context, provider string) ([]ProviderKey, error) {
	if !storable(provider) {
		return nil, nil // no key can carry it
	}
	query := `SELECT ` + providerKeyCols + ` FROM provider_keys`
	var args []any
	if provider != "" {
		query += ` WHERE provider = ?`
		args = append(args, provider)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(query+` ORDER BY provider`+s.d.bytewise+`, created_at, key_id`+s.d.bytewise), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list provider keys: %w", err)
	}
	defer rows.Close()
	var out []ProviderKey
	for rows.Next() {
		k, err := scanProviderKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list provider keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list provider keys: %w", err)
	}
	return out, nil
}

// UpdateProviderKey changes a key's Label and Weight (the secret is immutable: add a new key).
func (s *Store) UpdateProviderKey(ctx context.Context, k ProviderKey) error {
	if k.Weight <= 0 {
		k.Weight = 1
	}
	if !storable(k.Provider) || !storable(k.KeyID) {
		return fmt.Errorf("store: update provider key: %w", ErrNotFound)
	}
	if err := checkText("provider key", k.Label); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE provider_keys SET label = ?, weight = ? WHERE provider = ? AND key_id = ?`),
		k.Label, k.Weight, k.Provider, k.KeyID)
	return affectedOne(res, err, "update provider key "+k.Provider+"/"+k.KeyID)
}

// RevealProviderKey decrypts and returns the secret. It is the only way plaintext leaves the
// store; callers hand it to an adapter and must not log it.
func (s *Store) RevealProviderKey(ctx context.Context, sl *Sealer, provider, keyID string) (string, error) {
	if sl == nil {
		return "", errors.New("store: RevealProviderKey needs a Sealer")
	}
	if !storable(provider) || !storable(keyID) {
		return "", fmt.Errorf("store: provider key: %w", ErrNotFound)
	}
	var ct, nonce []byte
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT ciphertext, nonce FROM provider_keys WHERE provider = ? AND key_id = ?`),
		provider, keyID).Scan(&ct, &nonce)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: provider key %s/%s: %w", provider, keyID, ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("store: reveal provider key: %w", err)
	}
	pt, err := sl.Open(ct, nonce, providerKeyAAD(provider, keyID))
	if err != nil {
		return "", fmt.Errorf("store: provider key %s/%s: %w", provider, keyID, err)
	}
	return string(pt), nil
}

// DeleteProviderKey removes the key, or returns ErrNotFound.
func (s *Store) DeleteProviderKey(ctx context.Context, provider, keyID string) error {
	if !storable(provider) || !storable(keyID) {
		return fmt.Errorf("store: delete provider key: %w", ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM provider_keys WHERE provider = ? AND key_id = ?`), provider, keyID)
	return affectedOne(res, err, "delete provider key "+provider+"/"+keyID)
}
