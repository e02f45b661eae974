package store

import (
	"errors"
	"strconv"
	"strings"

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
