package store

import (
	"context"
	"fmt"
)

// CheckPostgresURL reports whether rawURL parses as a Postgres URL, without
// connecting (switchyard --check).
func CheckPostgresURL(rawURL string) error {
	db, err := openPostgres(rawURL)
	if err != nil {
		return err
	}
	// The pool dials lazily: closing it unused opens no connection.
	return db.Close()
}

// PingPostgres connects to rawURL and pings it, without migrating or
// writing anything (switchyard --check --connect).
func PingPostgres(ctx context.Context, rawURL string) error {
	db, err := openPostgres(rawURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: connect postgres: %w", err)
	}
	return nil
}
