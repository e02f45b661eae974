package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ClientKey is an API key clients present to the gateway. Only its SHA-256 hash is stored; the
// secret is shown once, at creation.
type ClientKey struct {
	ID     string
	Name   string
	Prefix string // first characters of the secret, for display ("sy-AbC1")
	Hash   string // SHA-256 hex of the whole secret
	// CreatedAt defaults to now on create. ExpiresAt/RevokedAt: zero means never / not revoked.
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
	// Empty allow-lists mean "any".
	AllowedModels []string
	AllowedRoutes []string
	IPAllowlist   []string // addresses or CIDRs
	// Limits: 0 means unlimited.
	RPM          int64
	TPM          int64
	BudgetUSD    float64
	BudgetPeriod string // e.g. "daily", "monthly"; "" with BudgetUSD 0 means none
	Labels       map[string]string
}

// Active reports whether the key may be used at now.
func (k ClientKey) Active(now time.Time) bool {
	if !k.RevokedAt.IsZero() && !now.Before(k.RevokedAt) {
		return false
	}
	return k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt)
}

// HashClientKey is the stored form of a client key secret.
func HashClientKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// ClientKeyPrefixLen is how many leading characters of a secret are kept as its Prefix.
const ClientKeyPrefixLen = 7

// NewClientKeySecret makes a random secret "sy-" + 43 base64url characters (256 bits), with its
// display prefix and hash.
func NewClientKeySecret() (secret, prefix, hash string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", "", fmt.Errorf("store: client key: %w", err)
	}
	secret = "sy-" + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, secret[:ClientKeyPrefixLen], HashClientKey(secret), nil
}

const clientKeyCols = `id, name, prefix, hash, created_at, expires_at, revoked_at, allowed_models, allowed_routes,
	rpm, tpm, ip_allowlist, budget_usd, budget_period, labels`

func clientKeyArgs(k ClientKey) ([]any, error) {
	models, err1 := jsonList(k.AllowedModels)
	routes, err2 := jsonList(k.AllowedRoutes)
	ips, err3 := jsonList(k.IPAllowlist)
	if k.Labels == nil {
		k.Labels = map[string]string{}
	}
	labels, err4 := json.Marshal(k.Labels)
	if err := errors.Join(err1, err2, err3, err4); err != nil {
		return nil, fmt.Errorf("store: encode client key: %w", err)
	}
	return []any{k.ID, k.Name, k.Prefix, k.Hash, toMillis(k.CreatedAt), nullMillis(k.ExpiresAt), nullMillis(k.RevokedAt),
		models, routes, k.RPM, k.TPM, ips, k.BudgetUSD, k.BudgetPeriod, string(labels)}, nil
}

func jsonList(l []string) (string, error) {
	if l == nil {
		l = []string{}
	}
	b, err := json.Marshal(l)
	return string(b), err
}

func scanClientKey(sc interface{ Scan(...any) error }) (ClientKey, error) {
	var (
		k                        ClientKey
		created                  int64
		expires, revoked         sql.NullInt64
		models, routes, ips, lbl string
	)
	if err := sc.Scan(&k.ID, &k.Name, &k.Prefix, &k.Hash, &created, &expires, &revoked, &models, &routes,
		&k.RPM, &k.TPM, &ips, &k.BudgetUSD, &k.BudgetPeriod, &lbl); err != nil {
		return ClientKey{}, err
	}
	k.CreatedAt, k.ExpiresAt, k.RevokedAt = fromMillis(created), fromNullMillis(expires), fromNullMillis(revoked)
	err := errors.Join(
		json.Unmarshal([]byte(models), &k.AllowedModels),
		json.Unmarshal([]byte(routes), &k.AllowedRoutes),
		json.Unmarshal([]byte(ips), &k.IPAllowlist),
		json.Unmarshal([]byte(lbl), &k.Labels),
	)
	if err != nil {
		return ClientKey{}, fmt.Errorf("decode client key %s: %w", k.ID, err)
	}
	return k, nil
}

// CreateClientKey inserts k. ID and Hash are required; a duplicate ID or hash is ErrConflict.
func (s *Store) CreateClientKey(ctx context.Context, k ClientKey) error {
	if k.ID == "" || k.Hash == "" {
		return errors.New("store: client key needs ID and Hash")
	}
	if err := checkText("client key", k.ID, k.Name, k.Prefix, k.Hash, k.BudgetPeriod); err != nil {
		return err
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	args, err := clientKeyArgs(k)
	if err != nil {
		return err
	}
	_, err = s.db.ExecContext(ctx, s.d.q(`INSERT INTO client_keys (`+clientKeyCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), args...)
	if isUniqueViolation(err) {
		return fmt.Errorf("store: create client key %s: %w", k.ID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("store: create client key %s: %w", k.ID, err)
	}
	return nil
}

// GetClientKey returns the key with id, or ErrNotFound.
func (s *Store) GetClientKey(ctx context.Context, id string) (ClientKey, error) {
	return s.getClientKey(ctx, "id", id)
}

// ClientKeyByHash finds the key whose secret hashes to hash (see HashClientKey), or ErrNotFound.
// The secret a rotation replaced still matches until its grace period ends. This is the
// authentication lookup; it does not check expiry or revocation (see Active).
func (s *Store) ClientKeyByHash(ctx context.Context, hash string) (ClientKey, error) {
	if !storable(hash) {
		return ClientKey{}, fmt.Errorf("store: client key: %w", ErrNotFound)
	}
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+clientKeyCols+` FROM client_keys
		WHERE hash = ? OR (previous_hash = ? AND previous_expires_at > ?)`), hash, hash, toMillis(time.Now()))
	k, err := scanClientKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ClientKey{}, fmt.Errorf("store: client key: %w", ErrNotFound)
	}
	if err != nil {
		return ClientKey{}, fmt.Errorf("store: get client key: %w", err)
	}
	return k, nil
}

// RotateClientKey gives key id a new secret (returned, with the updated key). The old secret
// keeps working for grace (0: not at all), so clients can switch without an outage.
func (s *Store) RotateClientKey(ctx context.Context, id string, grace time.Duration) (string, ClientKey, error) {
	if !storable(id) {
		return "", ClientKey{}, fmt.Errorf("store: rotate client key: %w", ErrNotFound)
	}
	secret, prefix, hash, err := NewClientKeySecret()
	if err != nil {
		return "", ClientKey{}, err
	}
	until := time.Now().Add(max(grace, 0))
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE client_keys SET previous_hash = hash, previous_expires_at = ?,
		hash = ?, prefix = ? WHERE id = ? AND revoked_at IS NULL`), toMillis(until), hash, prefix, id)
	if err := affectedOne(res, err, "rotate client key "+id); err != nil {
		return "", ClientKey{}, err
	}
	k, err := s.GetClientKey(ctx, id)
	return secret, k, err
}

func (s *Store) getClientKey(ctx context.Context, col, v string) (ClientKey, error) {
	if !storable(v) { // could never have been stored; Postgres would fail the query instead
		return ClientKey{}, fmt.Errorf("store: client key: %w", ErrNotFound)
	}
	row := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+clientKeyCols+` FROM client_keys WHERE `+col+` = ?`), v)
	k, err := scanClientKey(row)
	if errors.Is(err, sql.ErrNoRows) {
		return ClientKey{}, fmt.Errorf("store: client key: %w", ErrNotFound)
	}
	if err != nil {
		return ClientKey{}, fmt.Errorf("store: get client key: %w", err)
	}
	return k, nil
}

// HasClientKeys reports whether any client key exists, revoked and expired
// ones included, without reading them.
func (s *Store) HasClientKeys(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT 1 FROM client_keys LIMIT 1`).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: client keys: %w", err)
	}
	return true, nil
}

// ListClientKeys returns every key, oldest first.
func (s *Store) ListClientKeys(ctx context.Context) ([]ClientKey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+clientKeyCols+` FROM client_keys ORDER BY created_at, id`+s.d.bytewise)
	if err != nil {
		return nil, fmt.Errorf("store: list client keys: %w", err)
	}
	defer rows.Close()
	var out []ClientKey
	for rows.Next() {
		k, err := scanClientKey(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list client keys: %w", err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list client keys: %w", err)
	}
	return out, nil
}

// UpdateClientKey replaces every field of the key k.ID except Hash, Prefix and CreatedAt (a key's
// secret never changes; issue a new key instead).
func (s *Store) UpdateClientKey(ctx context.Context, k ClientKey) error {
	if !storable(k.ID) {
		return fmt.Errorf("store: update client key: %w", ErrNotFound)
	}
	if err := checkText("client key", k.Name, k.BudgetPeriod); err != nil {
		return err
	}
	args, err := clientKeyArgs(k)
	if err != nil {
		return err
	}
	// args order: id, name, prefix, hash, created, expires, revoked, models, routes, rpm, tpm, ips, budget, period, labels
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE client_keys SET name = ?, expires_at = ?, revoked_at = ?,
		allowed_models = ?, allowed_routes = ?, rpm = ?, tpm = ?, ip_allowlist = ?, budget_usd = ?,
		budget_period = ?, labels = ? WHERE id = ?`),
		args[1], args[5], args[6], args[7], args[8], args[9], args[10], args[11], args[12], args[13], args[14], args[0])
	return affectedOne(res, err, "update client key "+k.ID)
}

// RevokeClientKey marks the key revoked at at (now if zero). Revoking twice keeps the first time.
func (s *Store) RevokeClientKey(ctx context.Context, id string, at time.Time) error {
	if at.IsZero() {
		at = time.Now()
	}
	if !storable(id) {
		return fmt.Errorf("store: revoke client key: %w", ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE client_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`),
		toMillis(at), id)
	return affectedOne(res, err, "revoke client key "+id)
}

// DeleteClientKey removes the key. Its usage rows stay (they carry the key id as text).
func (s *Store) DeleteClientKey(ctx context.Context, id string) error {
	if !storable(id) {
		return fmt.Errorf("store: delete client key: %w", ErrNotFound)
	}
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM client_keys WHERE id = ?`), id)
	return affectedOne(res, err, "delete client key "+id)
}

// affectedOne turns "no row matched" into ErrNotFound.
func affectedOne(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("store: %s: %w", what, ErrNotFound)
	}
	return nil
}
