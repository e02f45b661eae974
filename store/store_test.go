package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// postgresEnv holds a Postgres URL; the Postgres variants of the tests run only when it is set.
const postgresEnv = "SWITCHYARD_TEST_POSTGRES"

type backend struct {
	name string
	open func(t *testing.T) *Store
}

// backends is SQLite always, plus Postgres when SWITCHYARD_TEST_POSTGRES is set.
func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{{name: "sqlite", open: openSQLiteStore}}
	if os.Getenv(postgresEnv) != "" {
		bs = append(bs, backend{name: "postgres", open: openPostgresStore})
	} else {
		t.Logf("%s not set: Postgres variant skipped", postgresEnv)
	}
	return bs
}

func openSQLiteStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openPostgresStore gives each test a fresh schema through search_path, dropped afterwards.
func openPostgresStore(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{PostgresURL: freshPostgresSchema(t)})
	if err != nil {
		t.Fatalf("Open postgres: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// freshPostgresSchema creates an empty schema and returns a URL whose search_path selects it.
func freshPostgresSchema(t testing.TB) string {
	t.Helper()
	raw := os.Getenv(postgresEnv)
	if raw == "" {
		t.Skipf("%s not set", postgresEnv)
	}
	ctx := context.Background()
	var b [6]byte
	rand.Read(b[:])
	schema := "sy_test_" + hex.EncodeToString(b[:])

	admin, err := openPostgres(raw)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() { admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE") })

	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func TestOpen_RequiresABackend(t *testing.T) {
	if _, err := Open(context.Background(), Options{}); err == nil {
		t.Fatal("Open with no DataDir or PostgresURL succeeded")
	}
}

func TestOpen_InvalidPostgresURLDoesNotEchoPassword(t *testing.T) {
	_, err := Open(context.Background(), Options{PostgresURL: "postgres://u:s3cret@host:notaport/db"})
	if err == nil {
		t.Fatal("bad URL accepted")
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("error leaks password: %v", err)
	}
}

func TestOpen_SQLiteFileIsPrivateAndInWALMode(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s, err := Open(context.Background(), Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Dialect() != "sqlite" {
		t.Fatalf("dialect %q", s.Dialect())
	}
	// Write something so the WAL file exists.
	if err := s.CreateAlert(context.Background(), Alert{ID: "a", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	checkMode := func(path string, want os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got != want {
			t.Errorf("%s mode %o, want %o", filepath.Base(path), got, want)
		}
	}
	checkMode(dir, 0o700)
	checkMode(filepath.Join(dir, DBFileName), 0o600)
	checkMode(filepath.Join(dir, DBFileName+"-wal"), 0o600)

	var mode string
	if err := s.db.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal_mode %q, want wal", mode)
	}
	var busy int
	if err := s.db.QueryRow("PRAGMA busy_timeout").Scan(&busy); err != nil {
		t.Fatal(err)
	}
	if busy != int(DefaultBusyTimeout.Milliseconds()) {
		t.Fatalf("busy_timeout %d", busy)
	}
}

func TestMigrations_ReopenDoesNotReapply(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	v, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := migrations[len(migrations)-1].version; v != want {
		t.Fatalf("version %d, want %d", v, want)
	}
	applied := func(s *Store) map[int]int64 {
		rows, err := s.db.Query(`SELECT version, applied_at FROM schema_migrations`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[int]int64{}
		for rows.Next() {
			var v int
			var at int64
			rows.Scan(&v, &at)
			m[v] = at
		}
		return m
	}
	before := applied(s)
	if err := s.CreateAlert(ctx, Alert{ID: "kept", Type: "t"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	time.Sleep(5 * time.Millisecond) // a re-applied step would get a later applied_at
	s, err = Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s.Close()
	after := applied(s)
	if len(after) != len(migrations) || len(before) != len(after) {
		t.Fatalf("migration rows before %v after %v", before, after)
	}
	for v, at := range before {
		if after[v] != at {
			t.Errorf("migration %d re-applied (%d -> %d)", v, at, after[v])
		}
	}
	if _, err := s.GetAlert(ctx, "kept"); err != nil {
		t.Fatalf("data lost on reopen: %v", err)
	}
}

func TestMigrations_StepsRunOnceAndInOrder(t *testing.T) {
	ctx := context.Background()
	migs := []migration{
		{version: 1, name: "a", stmts: []string{`CREATE TABLE t_mig (n INTEGER)`}},
		{version: 2, name: "b", stmts: []string{`INSERT INTO t_mig (n) VALUES (2)`}},
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range 3 {
		if err := migrate(ctx, db, sqliteDialect, migs); err != nil {
			t.Fatal(err)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM t_mig`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("step 2 ran %d times", n)
	}
	// A new step appended later is applied on the next start.
	migs = append(migs, migration{version: 3, name: "c", stmts: []string{`INSERT INTO t_mig (n) VALUES (3)`}})
	if err := migrate(ctx, db, sqliteDialect, migs); err != nil {
		t.Fatal(err)
	}
	db.QueryRow(`SELECT COUNT(*) FROM t_mig`).Scan(&n)
	if n != 2 {
		t.Fatalf("rows after step 3: %d", n)
	}
}

func TestMigrations_FailedStepRollsBackWholeStep(t *testing.T) {
	ctx := context.Background()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	migs := []migration{{version: 1, name: "bad", stmts: []string{`CREATE TABLE half (n INTEGER)`, `NOT SQL`}}}
	if err := migrate(ctx, db, sqliteDialect, migs); err == nil {
		t.Fatal("broken migration succeeded")
	}
	var n int
	db.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'half'`).Scan(&n)
	if n != 0 {
		t.Fatal("first statement of a failed step was committed")
	}
	v, _ := schemaVersion(ctx, db)
	if v != 0 {
		t.Fatalf("version %d after failed step", v)
	}
}

func TestMigrations_NewerDatabaseRefused(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			// A future binary applied step 999.
			if _, err := s.db.ExecContext(ctx, s.d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				999, "future", time.Now().UnixMilli()); err != nil {
				t.Fatal(err)
			}
			err := migrate(ctx, s.db, s.d, migrations)
			if !errors.Is(err, ErrSchemaTooNew) {
				t.Fatalf("err = %v, want ErrSchemaTooNew", err)
			}
			if !strings.Contains(err.Error(), "999") {
				t.Fatalf("error does not name the version: %v", err)
			}
		})
	}
}

func TestOpen_NewerSQLiteFileRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (42, 'future', 0)`)
	s.Close()
	if _, err := Open(ctx, Options{DataDir: dir}); !errors.Is(err, ErrSchemaTooNew) {
		t.Fatalf("Open = %v, want ErrSchemaTooNew", err)
	}
}

func TestDialect_NumbersPlaceholdersForPostgres(t *testing.T) {
	tests := []struct{ in, sqlite, pg string }{
		{"SELECT 1", "SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = ? AND b = ?", "a = $1 AND b = $2"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := sqliteDialect.q(tt.in); got != tt.sqlite {
				t.Errorf("sqlite %q", got)
			}
			if got := postgresDialect.q(tt.in); got != tt.pg {
				t.Errorf("postgres %q", got)
			}
		})
	}
}

func TestOpen_ConcurrentStartsMigrateOnce(t *testing.T) {
	opts := map[string]func(t *testing.T) Options{
		"sqlite": func(t *testing.T) Options { return Options{DataDir: t.TempDir()} },
	}
	if os.Getenv(postgresEnv) != "" {
		opts["postgres"] = func(t *testing.T) Options { return Options{PostgresURL: freshPostgresSchema(t)} }
	} else {
		t.Logf("%s not set: Postgres variant skipped", postgresEnv)
	}
	for name, mk := range opts {
		t.Run(name, func(t *testing.T) {
			o := mk(t)
			const n = 4
			stores := make([]*Store, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { stores[i], errs[i] = Open(context.Background(), o) })
			}
			wg.Wait()
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("gateway %d: %v", i, errs[i])
				}
				defer stores[i].Close()
			}
			var rows int
			stores[0].db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&rows)
			if rows != len(migrations) {
				t.Fatalf("%d migration rows, want %d", rows, len(migrations))
			}
		})
	}
}
