package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect holds every difference between the two backends. Queries are written once with '?'
// placeholders and portable SQL; DDL uses the {{...}} tokens below.
type dialect struct {
	name string
	// ddl maps schema tokens to this backend's types.
	ddl *strings.Replacer
	// numbered placeholders ($1, $2...) instead of '?'.
	numbered bool
	// bytewise follows a text column in ORDER BY so that both backends sort by bytes (code
	// points). SQLite's default BINARY collation already does; a Postgres database created with
	// a linguistic locale (en_US.UTF-8, ICU) would otherwise order "a" before "B" and ignore
	// punctuation, so listings and usage groups would come back in another order per backend.
	bytewise string
}

var (
	sqliteDialect = dialect{
		name: "sqlite",
		ddl: strings.NewReplacer(
			"{{AUTOID}}", "INTEGER PRIMARY KEY",
			"{{BLOB}}", "BLOB",
			"{{FLOAT}}", "REAL",
		),
	}
	postgresDialect = dialect{
		name: "postgres",
		ddl: strings.NewReplacer(
			"{{AUTOID}}", "BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY",
			"{{BLOB}}", "BYTEA",
			"{{FLOAT}}", "DOUBLE PRECISION",
		),
		numbered: true,
		bytewise: ` COLLATE "C"`,
	}
)

// q rewrites a portable query for this backend. Our SQL never has '?' inside string literals.
func (d dialect) q(query string) string {
	if !d.numbered || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// lockForWrite serialises read-then-write transactions on table (read MAX(version), insert the
// next). SQLite needs nothing: its transactions begin IMMEDIATE, one writer at a time. Postgres's
// default READ COMMITTED lets two transactions read the same state and then collide on the
// insert; SHARE ROW EXCLUSIVE conflicts with itself and with writes but not with plain SELECTs.
// table is always a constant from this package.
func (d dialect) lockForWrite(ctx context.Context, tx *sql.Tx, table string) error {
	if d.name != postgresDialect.name {
		return nil
	}
	_, err := tx.ExecContext(ctx, `LOCK TABLE `+table+` IN SHARE ROW EXCLUSIVE MODE`)
	return err
}

// ErrInvalidText is returned (wrapped) when an id, name or label holds a NUL byte or invalid
// UTF-8. Postgres's TEXT rejects both (SQLSTATE 22021) while SQLite would store them; both
// backends refuse so that data written to one can always move to the other.
var ErrInvalidText = errors.New("store: text must be valid UTF-8 without NUL bytes")

// storable reports whether s can be stored as TEXT on both backends.
func storable(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }

// checkText returns ErrInvalidText for the first of vals that is not storable.
func checkText(what string, vals ...string) error {
	for _, v := range vals {
		if !storable(v) {
			// Not the value itself: it may be a whole routing document.
			return fmt.Errorf("store: %s: %w", what, ErrInvalidText)
		}
	}
	return nil
}

// isSQLiteBusy reports SQLITE_BUSY (any extended code), which SQLite returns without waiting
// out busy_timeout where waiting could deadlock: switching a new file to WAL while another
// process does the same, for one.
func isSQLiteBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY
}

// isUniqueViolation reports a primary-key or unique-constraint failure on either backend.
func isUniqueViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		c := se.Code()
		return c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || c == sqlite3.SQLITE_CONSTRAINT_UNIQUE
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	return false
}
