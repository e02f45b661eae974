package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// migration is one numbered schema step. Steps are append-only: never edit a released one, add
// the next number instead. Each runs in its own transaction together with its bookkeeping row, so
// a crash leaves the schema at a whole version.
type migration struct {
	version int
	name    string
	stmts   []string // DDL with {{...}} dialect tokens
}

// migrations is the schema history, designed up front for keys, limits, budgets, alerts, the
// routing config and the usage ledger.
var migrations = []migration{
	{
		version: 1,
		name:    "initial schema",
		stmts: []string{
			`CREATE TABLE client_keys (
				id             TEXT PRIMARY KEY,
				name           TEXT NOT NULL DEFAULT '',
				prefix         TEXT NOT NULL,
				hash           TEXT NOT NULL UNIQUE,
				created_at     BIGINT NOT NULL,
				expires_at     BIGINT,
				revoked_at     BIGINT,
				allowed_models TEXT NOT NULL DEFAULT '[]',
				allowed_routes TEXT NOT NULL DEFAULT '[]',
				rpm            BIGINT NOT NULL DEFAULT 0,
				tpm            BIGINT NOT NULL DEFAULT 0,
				ip_allowlist   TEXT NOT NULL DEFAULT '[]',
				budget_usd     {{FLOAT}} NOT NULL DEFAULT 0,
				budget_period  TEXT NOT NULL DEFAULT '',
				labels         TEXT NOT NULL DEFAULT '{}'
			)`,
			`CREATE TABLE provider_keys (
				provider   TEXT NOT NULL,
				key_id     TEXT NOT NULL,
				label      TEXT NOT NULL DEFAULT '',
				hint       TEXT NOT NULL DEFAULT '',
				weight     BIGINT NOT NULL DEFAULT 1,
				ciphertext {{BLOB}} NOT NULL,
				nonce      {{BLOB}} NOT NULL,
				created_at BIGINT NOT NULL,
				PRIMARY KEY (provider, key_id)
			)`,
			`CREATE TABLE routing_config (
				version    BIGINT PRIMARY KEY,
				doc        TEXT NOT NULL,
				updated_at BIGINT NOT NULL,
				updated_by TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE TABLE alerts (
				id            TEXT PRIMARY KEY,
				name          TEXT NOT NULL DEFAULT '',
				type          TEXT NOT NULL,
				threshold     {{FLOAT}} NOT NULL,
				window_ms     BIGINT NOT NULL DEFAULT 0,
				cooldown_ms   BIGINT NOT NULL DEFAULT 0,
				key_id        TEXT NOT NULL DEFAULT '',
				webhook_url   TEXT NOT NULL DEFAULT '',
				enabled       INTEGER NOT NULL DEFAULT 1,
				config        TEXT NOT NULL DEFAULT '{}',
				created_at    BIGINT NOT NULL,
				last_fired_at BIGINT
			)`,
			`CREATE TABLE usage (
				id                {{AUTOID}},
				request_id        TEXT NOT NULL DEFAULT '',
				ts                BIGINT NOT NULL,
				key_id            TEXT NOT NULL DEFAULT '',
				route             TEXT NOT NULL DEFAULT '',
				provider          TEXT NOT NULL DEFAULT '',
				model             TEXT NOT NULL DEFAULT '',
				target            TEXT NOT NULL DEFAULT '',
				prompt_tokens     BIGINT NOT NULL DEFAULT 0,
				completion_tokens BIGINT NOT NULL DEFAULT 0,
				cached_tokens     BIGINT NOT NULL DEFAULT 0,
				reasoning_tokens  BIGINT NOT NULL DEFAULT 0,
				cost_usd          {{FLOAT}} NOT NULL DEFAULT 0,
				latency_ms        BIGINT NOT NULL DEFAULT 0,
				ttft_ms           BIGINT NOT NULL DEFAULT 0,
				status            TEXT NOT NULL DEFAULT 'ok',
				cache             TEXT NOT NULL DEFAULT '',
				attempts          INTEGER NOT NULL DEFAULT 0,
				stream            INTEGER NOT NULL DEFAULT 0,
				partial           INTEGER NOT NULL DEFAULT 0
			)`,
			`CREATE INDEX usage_ts ON usage (ts)`,
			`CREATE INDEX usage_key_ts ON usage (key_id, ts)`,
		},
	},
	{
		version: 2,
		name:    "client key rotation grace",
		stmts: []string{
			`ALTER TABLE client_keys ADD COLUMN previous_hash TEXT`,
			`ALTER TABLE client_keys ADD COLUMN previous_expires_at BIGINT`,
			`CREATE INDEX client_keys_previous_hash ON client_keys (previous_hash)`,
		},
	},
	{
		version: 3,
		name:    "integer nano-dollar costs and estimated usage",
		stmts: []string{
			// cost_usd (a float) is kept for rows written before and no longer written: sums of
			// floats drift, sums of integers do not.
			`ALTER TABLE usage ADD COLUMN cost_nanos BIGINT NOT NULL DEFAULT 0`,
			`ALTER TABLE usage ADD COLUMN estimated INTEGER NOT NULL DEFAULT 0`,
			`UPDATE usage SET cost_nanos = CAST(ROUND(cost_usd * 1000000000) AS BIGINT)`,
		},
	},
	{
		version: 4,
		name:    "per-install secrets",
		stmts: []string{
			`CREATE TABLE install_secrets (
				name       TEXT PRIMARY KEY,
				value      TEXT NOT NULL,
				created_at BIGINT NOT NULL
			)`,
		},
	},
	{
		version: 5,
		name:    "the ingress dialect of each request",
		stmts: []string{
			`ALTER TABLE usage ADD COLUMN dialect TEXT NOT NULL DEFAULT ''`,
		},
	},
	{
		version: 6,
		name:    "stored Responses API responses",
		stmts: []string{
			// owner is the client key's id ("" when the gateway runs keyless): a response is
			// only ever read back by the key that created it.
			`CREATE TABLE responses (
				id         TEXT PRIMARY KEY,
				owner      TEXT NOT NULL DEFAULT '',
				created_at BIGINT NOT NULL,
				expires_at BIGINT,
				response   TEXT NOT NULL,
				input      TEXT NOT NULL
			)`,
			`CREATE INDEX responses_expires ON responses (expires_at)`,
		},
	},
	{
		version: 7,
		name:    "the last good price feed",
		stmts: []string{
			// One row per feed source (pricing.feed_url), so a changed feed_url never serves
			// another feed's prices.
			`CREATE TABLE price_feeds (
				source     TEXT PRIMARY KEY,
				body       TEXT NOT NULL,
				fetched_at BIGINT NOT NULL
			)`,
		},
	},
	{
		version: 8,
		name:    "alert firing history",
		stmts: []string{
			// One row per firing, written in the claim that sets alerts.last_fired_at, so
			// several gateways sharing the database record an incident once. type and key_id
			// are copied: the history reads as the rule was when it fired.
			`CREATE TABLE alert_firings (
				id         {{AUTOID}},
				alert_id   TEXT NOT NULL,
				type       TEXT NOT NULL DEFAULT '',
				key_id     TEXT NOT NULL DEFAULT '',
				fired_at   BIGINT NOT NULL,
				value      {{FLOAT}} NOT NULL DEFAULT 0,
				threshold  {{FLOAT}} NOT NULL DEFAULT 0,
				message    TEXT NOT NULL DEFAULT ''
			)`,
			`CREATE INDEX alert_firings_fired ON alert_firings (fired_at)`,
			`CREATE INDEX alert_firings_alert_fired ON alert_firings (alert_id, fired_at)`,
		},
	},
	{
		version: 9,
		name:    "alert firing delivery outcome",
		stmts: []string{
			`ALTER TABLE alert_firings ADD COLUMN delivery TEXT NOT NULL DEFAULT ''`,
		},
	},
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    BIGINT PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at BIGINT NOT NULL
)`

// migrate brings db up to the last of migs. It refuses a database already past them.
func migrate(ctx context.Context, db *sql.DB, d dialect, migs []migration) error {
	err := inTx(ctx, db, func(tx *sql.Tx) error {
		// Postgres's CREATE TABLE IF NOT EXISTS is not safe against a concurrent one.
		if err := migrationLock(ctx, tx, d); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, createMigrationsTable)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	latest := 0
	if len(migs) > 0 {
		latest = migs[len(migs)-1].version
	}
	current, err := schemaVersion(ctx, db)
	if err != nil {
		return err
	}
	if current > latest {
		return fmt.Errorf("%w: database is at version %d, this binary knows up to %d; upgrade Switchyard or use another database",
			ErrSchemaTooNew, current, latest)
	}
	for _, m := range migs {
		if m.version <= current {
			continue
		}
		err := inTx(ctx, db, func(tx *sql.Tx) error {
			// Two gateways starting against one database: the second waits here, then sees
			// the version already applied and skips it.
			if err := migrationLock(ctx, tx, d); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, d.q(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`), m.version).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil // applied concurrently by another process
			}
			for _, stmt := range m.stmts {
				if _, err := tx.ExecContext(ctx, d.ddl.Replace(stmt)); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, d.q(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`),
				m.version, m.name, time.Now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("store: migration %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// migrationLock serialises migrating transactions across processes. SQLite needs nothing more:
// its transactions begin IMMEDIATE (a database-wide write lock).
func migrationLock(ctx context.Context, tx *sql.Tx, d dialect) error {
	if d.name != postgresDialect.name {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7353)`)
	return err
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MAX(version) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("store: read schema version: %w", err)
	}
	return int(v.Int64), nil
}

// SchemaVersion reports the database's applied schema version.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.db)
}
