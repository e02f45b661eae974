package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
)

// A minimal database/sql driver over pgx.Conn. pgx's own stdlib package imports pgxpool, whose
// dependency (jackc/puddle) is not in go.sum; this covers what the store uses: Exec, Query,
// Prepare, transactions, Ping. Values come back as int64, float64, string, []byte, bool or time.

type pgConnector struct{ cfg *pgx.ConnConfig }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, c.cfg.Copy())
	if err != nil {
		return nil, err
	}
	return &pgConn{c: conn}, nil
}

func (c pgConnector) Driver() driver.Driver { return pgDriver{} }

type pgDriver struct{}

func (pgDriver) Open(string) (driver.Conn, error) {
	return nil, errors.New("store: the postgres driver is only used through its connector")
}

type pgConn struct{ c *pgx.Conn }

var (
	_ driver.ConnBeginTx        = (*pgConn)(nil)
	_ driver.ConnPrepareContext = (*pgConn)(nil)
	_ driver.ExecerContext      = (*pgConn)(nil)
	_ driver.QueryerContext     = (*pgConn)(nil)
	_ driver.Pinger             = (*pgConn)(nil)
	_ driver.SessionResetter    = (*pgConn)(nil)
	_ driver.Validator          = (*pgConn)(nil)
	_ driver.NamedValueChecker  = (*pgConn)(nil)
)

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

// PrepareContext prepares on the server, so a bad query fails here as it does on SQLite and
// database/sql can check the argument count. pgx keys the statement by its SQL text: Exec and
// Query with that text use it.
func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	sd, err := c.c.Prepare(ctx, query, query)
	if err != nil {
		return nil, err
	}
	return &pgStmt{c: c, query: query, numInput: len(sd.ParamOIDs)}, nil
}

func (c *pgConn) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.c.Close(ctx)
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly || opts.Isolation != 0 {
		return nil, errors.New("store: postgres driver supports only default transactions")
	}
	tx, err := c.c.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return pgTx{tx: tx}, nil
}

func (c *pgConn) Ping(ctx context.Context) error {
	if c.c.IsClosed() {
		return driver.ErrBadConn
	}
	return c.c.Ping(ctx)
}

func (c *pgConn) ResetSession(context.Context) error {
	if c.c.IsClosed() {
		return driver.ErrBadConn
	}
	return nil
}

func (c *pgConn) IsValid() bool { return !c.c.IsClosed() }

// CheckNamedValue lets database/sql's default conversions stand (Valuers, int -> int64).
func (c *pgConn) CheckNamedValue(*driver.NamedValue) error { return driver.ErrSkip }

func pgArgs(named []driver.NamedValue) []any {
	args := make([]any, len(named))
	for i, nv := range named {
		args[i] = nv.Value
	}
	return args
}

func (c *pgConn) ExecContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Result, error) {
	tag, err := c.c.Exec(ctx, query, pgArgs(named)...)
	if err != nil {
		return nil, err
	}
	return driver.RowsAffected(tag.RowsAffected()), nil
}

func (c *pgConn) QueryContext(ctx context.Context, query string, named []driver.NamedValue) (driver.Rows, error) {
	rows, err := c.c.Query(ctx, query, pgArgs(named)...)
	if err != nil {
		return nil, err
	}
	fds := rows.FieldDescriptions()
	cols := make([]string, len(fds))
	for i, fd := range fds {
		cols[i] = fd.Name
	}
	return &pgRows{rows: rows, cols: cols}, nil
}

type pgStmt struct {
	c        *pgConn
	query    string
	numInput int
}

var (
	_ driver.StmtExecContext  = (*pgStmt)(nil)
	_ driver.StmtQueryContext = (*pgStmt)(nil)
)

// Close deallocates the server-side statement. Another Stmt with the same text on this connection
// shares it; after this it runs through pgx's statement cache instead, which gives the same results.
func (s *pgStmt) Close() error {
	if s.c.c.IsClosed() {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return s.c.c.Deallocate(ctx, s.query)
}

func (s *pgStmt) NumInput() int { return s.numInput }

func (s *pgStmt) ExecContext(ctx context.Context, named []driver.NamedValue) (driver.Result, error) {
	return s.c.ExecContext(ctx, s.query, named)
}

func (s *pgStmt) QueryContext(ctx context.Context, named []driver.NamedValue) (driver.Rows, error) {
	return s.c.QueryContext(ctx, s.query, named)
}

// Exec and Query are the pre-context interface; database/sql calls the Context forms above.
func (s *pgStmt) Exec(args []driver.Value) (driver.Result, error) {
	return s.ExecContext(context.Background(), namedValues(args))
}

func (s *pgStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.QueryContext(context.Background(), namedValues(args))
}

func namedValues(args []driver.Value) []driver.NamedValue {
	named := make([]driver.NamedValue, len(args))
	for i, v := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: v}
	}
	return named
}

type pgTx struct{ tx pgx.Tx }

func (t pgTx) Commit() error   { return t.tx.Commit(context.Background()) }
func (t pgTx) Rollback() error { return t.tx.Rollback(context.Background()) }

type pgRows struct {
	rows pgx.Rows
	cols []string
}

func (r *pgRows) Columns() []string { return r.cols }

func (r *pgRows) Close() error {
	r.rows.Close()
	return r.rows.Err()
}

func (r *pgRows) Next(dest []driver.Value) error {
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return io.EOF
	}
	vals, err := r.rows.Values()
	if err != nil {
		return err
	}
	for i, v := range vals {
		dv, err := pgValue(v)
		if err != nil {
			return fmt.Errorf("column %s: %w", r.cols[i], err)
		}
		dest[i] = dv
	}
	return nil
}

// pgValue narrows pgx's decoded values to driver.Value types.
func pgValue(v any) (driver.Value, error) {
	switch x := v.(type) {
	case nil, int64, float64, bool, []byte, string, time.Time:
		return x, nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case pgtype.Numeric: // SUM over BIGINT is NUMERIC in Postgres
		if !x.Valid {
			return nil, nil
		}
		if x.Exp >= 0 && !x.NaN && x.InfinityModifier == pgtype.Finite {
			// Integral: keep it an int64 so it scans into int64 without float formatting.
			if n, err := x.Int64Value(); err == nil {
				return n.Int64, nil
			}
		}
		f, err := x.Float64Value()
		if err != nil {
			return nil, err
		}
		return f.Float64, nil
	case driver.Valuer:
		return x.Value()
	}
	return nil, fmt.Errorf("unsupported postgres value type %T", v)
}
