package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// NotifyChannel is the Postgres channel gateways sharing a database tell
// each other about changes on (routing, provider keys, client keys).
const NotifyChannel = "switchyard_changes"

// PostgresNotifier carries short messages between the gateways sharing a
// Postgres store over LISTEN/NOTIFY: NOTIFY goes through the store's pool,
// LISTEN holds a connection of its own (one per gateway) for as long as
// Listen runs. A message sent while a listener is disconnected is lost;
// Listen's ready callback tells the caller when to catch up.
type PostgresNotifier struct {
	st  *Store
	cfg *pgx.ConnConfig
}

// NewPostgresNotifier returns a notifier over st, which must be Postgres.
func NewPostgresNotifier(st *Store) (*PostgresNotifier, error) {
	if st == nil || st.pg == nil {
		return nil, errors.New("store: LISTEN/NOTIFY needs a postgres store")
	}
	return &PostgresNotifier{st: st, cfg: st.pg}, nil
}

// Publish sends msg to every listener, this gateway's included.
func (n *PostgresNotifier) Publish(ctx context.Context, msg string) error {
	if _, err := n.st.db.ExecContext(ctx, "SELECT pg_notify($1, $2)", NotifyChannel, msg); err != nil {
		return fmt.Errorf("store: notify: %w", err)
	}
	return nil
}

// Listen connects, LISTENs, calls ready once listening, then fn for each
// message until ctx ends (nil) or the connection fails (the error).
func (n *PostgresNotifier) Listen(ctx context.Context, ready func(), fn func(msg string)) error {
	conn, err := pgx.ConnectConfig(ctx, n.cfg.Copy())
	if err != nil {
		return fmt.Errorf("store: listen: connect: %w", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = conn.Close(cctx)
	}()
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{NotifyChannel}.Sanitize()); err != nil {
		return fmt.Errorf("store: listen: %w", err)
	}
	ready()
	for {
		nt, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("store: listen: %w", err)
		}
		fn(nt.Payload)
	}
}
