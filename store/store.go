// Package store is Switchyard's persistent state: client keys, provider keys (sealed), the routing
// config changed through the API, alert rules and the per-request usage ledger.
//
// One schema serves two backends: an embedded SQLite file (the default, pure Go, no server) and
// Postgres when a URL is given. Everything dialect-specific lives in dialect.go; every timestamp is
// stored as unix milliseconds (BIGINT) so that date maths ("group by day") is plain integer
// arithmetic on both.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned (wrapped) when a conditional write lost to a concurrent one, or a row
// with the same identity already exists.
var ErrConflict = errors.New("store: conflict")

// ErrSchemaTooNew is returned by Open when the database was migrated by a newer Switchyard than
// this binary: running old code against a newer schema could corrupt it.
var ErrSchemaTooNew = errors.New("store: database schema is newer than this binary supports")

// DBFileName is the SQLite file created inside Options.DataDir.
const DBFileName = "switchyard.db"

// Defaults and caps for Options.
const (
	DefaultBusyTimeout = 5 * time.Second
	defaultMaxConns    = 8
	maxMaxConns        = 256
)

// Options selects and tunes the backend. PostgresURL wins when set; otherwise DataDir is used.
type Options struct {
	// DataDir holds the SQLite file; created 0700 if missing. Required without PostgresURL.
	DataDir string
	// PostgresURL (postgres://user:pass@host/db?sslmode=...) selects Postgres.
	PostgresURL string
	// BusyTimeout is how long SQLite waits on a locked database before failing (default 5s).
	BusyTimeout time.Duration
	// MaxOpenConns caps the connection pool (default 8, max 256).
	MaxOpenConns int
}

// Store is the state store. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	d  dialect
	// usageInsert is the full-chunk ledger INSERT prepared once (SQLite only: parsing the
	// 1900-parameter statement was a third of a batch's cost; pgx caches statements itself).
	usageInsert *sql.Stmt
	// pg is the Postgres connection config (nil on SQLite): LISTEN needs
	// a connection outside the pool (notify.go).
	pg *pgx.ConnConfig
}

// Open connects to (and creates, for SQLite) the database, then applies pending migrations.
func Open(ctx context.Context, opts Options) (*Store, error) {
	if opts.BusyTimeout <= 0 {
		opts.BusyTimeout = DefaultBusyTimeout
	}
	if opts.MaxOpenConns <= 0 {
		opts.MaxOpenConns = defaultMaxConns
	}
	opts.MaxOpenConns = min(opts.MaxOpenConns, maxMaxConns)

	var (
		db  *sql.DB
		d   dialect
		err error
	)
	switch {
	case opts.PostgresURL != "":
		db, err = openPostgres(opts.PostgresURL)
		d = postgresDialect
	case opts.DataDir != "":
		db, err = openSQLite(opts.DataDir, opts.BusyTimeout)
		d = sqliteDialect
	default:
		return nil, errors.New("store: Options needs DataDir or PostgresURL")
	}
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxOpenConns)
	db.SetConnMaxIdleTime(5 * time.Minute)

	if err := ping(ctx, db, d); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect %s: %w", d.name, err)
	}
	s := &Store{db: db, d: d}
	if opts.PostgresURL != "" {
		s.pg, _ = pgx.ParseConfig(opts.PostgresURL) // openPostgres parsed it already
	}
	if err := migrate(ctx, db, d, migrations); err != nil {
		db.Close()
		return nil, err
	}
	if d.name == sqliteDialect.name {
		if s.usageInsert, err = db.PrepareContext(ctx, usageInsertSQL(usageChunk)); err != nil {
			db.Close()
			return nil, fmt.Errorf("store: prepare usage insert: %w", err)
		}
	}
	return s, nil
}

// Close releases the connection pool. Close a Ledger on the store first.
func (s *Store) Close() error {
	if s.usageInsert != nil {
		s.usageInsert.Close()
	}
	return s.db.Close()
}

// Dialect names the backend in use: "sqlite" or "postgres".
func (s *Store) Dialect() string { return s.d.name }

func openSQLite(dir string, busy time.Duration) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: create data dir: %w", err)
	}
	// MkdirAll leaves an existing directory's mode alone; state holds key hashes and sealed
	// secrets, so tighten it anyway.
	if err := os.Chmod(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: chmod data dir: %w", err)
	}
	path := filepath.Join(dir, DBFileName)
	// Create the file ourselves so it is 0600 from the first byte; SQLite gives its -wal and
	// -shm files the database file's permissions.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: create database file: %w", err)
	}
	f.Close()
	if err := os.Chmod(path, 0o600); err != nil {
		return nil, fmt.Errorf("store: chmod database file: %w", err)
	}

	q := url.Values{}
	q.Set("_busy_timeout", fmt.Sprint(busy.Milliseconds()))
	q.Set("_journal_mode", "WAL")
	q.Set("_synchronous", "NORMAL") // WAL + NORMAL is durable across app crashes, fast on commit
	q.Set("_foreign_keys", "1")
	// Take the write lock at BEGIN: a deferred transaction that upgrades from read to write
	// fails with SQLITE_BUSY immediately instead of waiting out busy_timeout.
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	return db, nil
}

func openPostgres(rawURL string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		// pgx's message can echo the URL, password included.
		return nil, errors.New("store: invalid postgres URL")
	}
	return stdlib.OpenDB(*cfg), nil
}

// ping opens the first connection. Gateways starting together on one new SQLite file can
// meet SQLITE_BUSY there (the switch to WAL does not wait out busy_timeout): try again a few
// times, briefly, before giving up.
func ping(ctx context.Context, db *sql.DB, d dialect) error {
	var err error
	for attempt := range 10 {
		if err = db.PingContext(ctx); err == nil || d.name != sqliteDialect.name || !isSQLiteBusy(err) {
			return err
		}
		t := time.NewTimer(time.Duration(attempt+1) * 20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
	return err
}

// inTx runs fn in a transaction, committing on nil and rolling back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	return inTx(ctx, s.db, fn)
}

func inTx(ctx context.Context, db *sql.DB, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// Time helpers: rows keep unix milliseconds; the zero time.Time means "unset" and maps to NULL.

func toMillis(t time.Time) int64 { return t.UnixMilli() }

func nullMillis(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func fromNullMillis(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromMillis(n.Int64)
}
