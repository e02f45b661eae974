package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// UsageRecord is one request's line in the ledger.
type UsageRecord struct {
	RequestID string
	TS        time.Time // when the request finished; Ledger.Record fills now when zero
	KeyID     string    // client key id, "" when auth is off
	Route     string
	// Dialect is the wire format the request came in: grpc, openai, …
	Dialect  string
	Provider string
	Model    string // upstream model
	Target   string

	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	ReasoningTokens  int64
	// CostNanos is the cost in nano-dollars (1e-9 USD): integers, so a
	// ledger of millions of rows sums exactly.
	CostNanos int64

	LatencyMS int64
	TTFTMS    int64 // time to first token (streams); 0 when not measured
	// Status is "ok", or the error code that ended the request (e.g. "rate_limited", "upstream_503").
	Status   string
	Cache    string // llm.CacheStatus.String(): "hit", "miss", "coalesced", "bypass" or ""
	Attempts int
	Stream   bool
	Partial  bool // a stream that failed after its first byte; billed for what was sent
	// Estimated marks usage the provider did not report (aborted or failed
	// streams): prompt counted from the request, completion from what was relayed.
	Estimated bool
}

// StatusOK is UsageRecord.Status for a successful request.
const StatusOK = "ok"

const usageCols = `request_id, ts, key_id, route, provider, model, target, prompt_tokens, completion_tokens,
	cached_tokens, reasoning_tokens, cost_nanos, latency_ms, ttft_ms, status, cache, attempts, stream, partial, estimated, dialect`

const usageNumCols = 21

// usageChunk bounds rows per INSERT: 100*21 parameters stays far below SQLite's 32766 and
// Postgres's 65535.
const usageChunk = 100

// InsertUsage writes recs in one transaction (the Ledger's batch write; also handy for imports).
func (s *Store) InsertUsage(ctx context.Context, recs []UsageRecord) error {
	if len(recs) == 0 {
		return nil
	}
	full := s.d.q(usageInsertSQL(usageChunk))
	args := make([]any, 0, usageChunk*usageNumCols)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(recs); start += usageChunk {
			part := recs[start:min(start+usageChunk, len(recs))]
			query := full
			if len(part) != usageChunk {
				query = s.d.q(usageInsertSQL(len(part)))
			}
			args = args[:0]
			for i := range part {
				r := &part[i]
				status := r.Status
				if status == "" {
					status = StatusOK
				}
				args = append(args, ledgerText(r.RequestID), toMillis(r.TS), ledgerText(r.KeyID), ledgerText(r.Route),
					ledgerText(r.Provider), ledgerText(r.Model), ledgerText(r.Target),
					r.PromptTokens, r.CompletionTokens, r.CachedTokens, r.ReasoningTokens, r.CostNanos,
					r.LatencyMS, r.TTFTMS, ledgerText(status), ledgerText(r.Cache), int64(r.Attempts),
					boolInt(r.Stream), boolInt(r.Partial), boolInt(r.Estimated), ledgerText(r.Dialect))
			}
			var err error
			if len(part) == usageChunk && s.usageInsert != nil {
				_, err = tx.StmtContext(ctx, s.usageInsert).ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, query, args...)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: insert %d usage rows: %w", len(recs), err)
	}
	return nil
}

// ledgerText makes s storable as TEXT on both backends. Postgres rejects NUL and invalid UTF-8
// (SQLSTATE 22021) and the whole batch would fail with it; request ids come from client headers
// and model names from request bodies, so one odd request must not cost the other rows of its
// batch. Both backends store the same replacement so that queries agree.
func ledgerText(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

func usageInsertSQL(rows int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO usage (` + usageCols + `) VALUES `)
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", usageNumCols), ", ") + ")"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
	}
	return b.String()
}

// Group-by dimensions for UsageQuery.
const (
	GroupKey      = "key"
	GroupProvider = "provider"
	GroupModel    = "model"
	GroupDay      = "day" // UTC calendar day
	GroupRoute    = "route"
	GroupDialect  = "dialect" // the ingress wire format
)

// groupCols maps a dimension to its SQL expression. Only these strings ever reach the SQL text.
var groupCols = map[string]string{
	GroupKey:      "key_id",
	GroupProvider: "provider",
	GroupModel:    "model",
	GroupRoute:    "route",
	GroupDialect:  "dialect",
	GroupDay:      "(ts / 86400000)", // integer division on BIGINT in both dialects
}

// UsageQuery selects ledger rows by time ([From, To); zero means unbounded) and key, and groups
// them by any of the Group* dimensions in the given order.
type UsageQuery struct {
	From, To time.Time
	GroupBy  []string
	KeyID    string
}

// UsageRow is one aggregate. Only the grouped dimensions are set.
type UsageRow struct {
	KeyID    string
	Provider string
	Model    string
	Route    string
	Dialect  string
	Day      string // YYYY-MM-DD (UTC)

	Requests         int64
	Errors           int64
	PromptTokens     int64
	CompletionTokens int64
	CachedTokens     int64
	ReasoningTokens  int64
	CostNanos        int64 // nano-dollars
	Estimated        int64 // requests whose usage was partly estimated
	// CacheHits counts requests answered from the response cache (cache "hit"). Coalesced
	// requests are counted apart: they did wait for a live upstream call (shared with an
	// identical request in flight), so folding them into hits would overstate what the cache
	// saves in latency, though neither is billed.
	CacheHits int64
	Coalesced int64 // cache "coalesced"
}

const usageAggCols = `COUNT(*), COALESCE(SUM(CASE WHEN status <> 'ok' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0), COALESCE(SUM(cached_tokens), 0),
	COALESCE(SUM(reasoning_tokens), 0), COALESCE(SUM(cost_nanos), 0), COALESCE(SUM(estimated), 0),
	COALESCE(SUM(CASE WHEN cache = 'hit' THEN 1 ELSE 0 END), 0),
	COALESCE(SUM(CASE WHEN cache = 'coalesced' THEN 1 ELSE 0 END), 0)`

func (q UsageQuery) where() (string, []any) {
	var (
		conds []string
		args  []any
	)
	if !q.From.IsZero() {
		conds, args = append(conds, "ts >= ?"), append(args, toMillis(q.From))
	}
	if !q.To.IsZero() {
		conds, args = append(conds, "ts < ?"), append(args, toMillis(q.To))
	}
	if q.KeyID != "" {
		// As the ledger stored it, so the filter means the same on both backends.
		conds, args = append(conds, "key_id = ?"), append(args, ledgerText(q.KeyID))
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Usage aggregates the ledger. It returns one row per group (ordered by the group columns) and the
// total over everything matched; with no GroupBy, rows is empty.
func (s *Store) Usage(ctx context.Context, q UsageQuery) (rows []UsageRow, total UsageRow, err error) {
	var dims, exprs, order []string
	for _, g := range q.GroupBy {
		col, ok := groupCols[g]
		if !ok {
			return nil, UsageRow{}, fmt.Errorf("store: usage: unknown group-by %q (want key, provider, model, route, dialect or day)", g)
		}
		if !slices.Contains(dims, g) {
			dims, exprs, order = append(dims, g), append(exprs, col), append(order, col)
			if g != GroupDay { // the day is an integer: COLLATE applies to text only
				order[len(order)-1] += s.d.bytewise
			}
		}
	}
	where, args := q.where()

	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT `+usageAggCols+` FROM usage`+where), args...).
		Scan(usageAggDest(&total)...); err != nil {
		return nil, UsageRow{}, fmt.Errorf("store: usage total: %w", err)
	}
	if len(exprs) == 0 {
		return nil, total, nil
	}
	groups := strings.Join(exprs, ", ")
	r, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+groups+`, `+usageAggCols+` FROM usage`+where+
		` GROUP BY `+groups+` ORDER BY `+strings.Join(order, ", ")), args...)
	if err != nil {
		return nil, UsageRow{}, fmt.Errorf("store: usage: %w", err)
	}
	defer r.Close()
	for r.Next() {
		var (
			row  UsageRow
			day  int64
			dest []any
		)
		for _, g := range dims {
			switch g {
			case GroupKey:
				dest = append(dest, &row.KeyID)
			case GroupProvider:
				dest = append(dest, &row.Provider)
			case GroupModel:
				dest = append(dest, &row.Model)
			case GroupRoute:
				dest = append(dest, &row.Route)
			case GroupDialect:
				dest = append(dest, &row.Dialect)
			case GroupDay:
				dest = append(dest, &day)
			}
		}
		if err := r.Scan(append(dest, usageAggDest(&row)...)...); err != nil {
			return nil, UsageRow{}, fmt.Errorf("store: usage: %w", err)
		}
		if slices.Contains(dims, GroupDay) {
			row.Day = time.UnixMilli(day * 86400000).UTC().Format(time.DateOnly)
		}
		rows = append(rows, row)
	}
	if err := r.Err(); err != nil {
		return nil, UsageRow{}, fmt.Errorf("store: usage: %w", err)
	}
	return rows, total, nil
}

func usageAggDest(r *UsageRow) []any {
	return []any{&r.Requests, &r.Errors, &r.PromptTokens, &r.CompletionTokens, &r.CachedTokens, &r.ReasoningTokens, &r.CostNanos, &r.Estimated,
		&r.CacheHits, &r.Coalesced}
}

// Metrics summarises the ledger since a point in time.
type Metrics struct {
	RequestsTotal int64
	SuccessRate   float64 // status "ok" / requests; 0 when there are none
	ErrorRate     float64 // 1 - SuccessRate when there are requests
	AvgLatencyMS  float64
	// P95LatencyMS is the nearest-rank 95th percentile: the ceil(0.95*N)-th smallest latency
	// (1-based). For latencies 1..100 it is 95. Same definition on both backends.
	P95LatencyMS float64
	AvgTTFTMS    float64 // over rows that measured a first token (ttft_ms > 0)
	CostNanos    int64   // nano-dollars
	CacheHitRate float64 // cache "hit" / requests
}

// Metrics computes request, latency, cost and cache figures over rows with ts >= since (all rows
// when since is zero).
func (s *Store) Metrics(ctx context.Context, since time.Time) (Metrics, error) {
	where, args := UsageQuery{From: since}.where()
	var (
		m               Metrics
		ok, hits        int64
		avgLat, avgTTFT sql.NullFloat64
	)
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*),
		COALESCE(SUM(CASE WHEN status = 'ok' THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN cache = 'hit' THEN 1 ELSE 0 END), 0),
		AVG(CAST(latency_ms AS DOUBLE PRECISION)),
		AVG(CASE WHEN ttft_ms > 0 THEN CAST(ttft_ms AS DOUBLE PRECISION) END),
		COALESCE(SUM(cost_nanos), 0)
		FROM usage`+where), args...).Scan(&m.RequestsTotal, &ok, &hits, &avgLat, &avgTTFT, &m.CostNanos)
	if err != nil {
		return Metrics{}, fmt.Errorf("store: metrics: %w", err)
	}
	if m.RequestsTotal == 0 {
		return m, nil
	}
	n := float64(m.RequestsTotal)
	m.SuccessRate = float64(ok) / n
	m.ErrorRate = float64(m.RequestsTotal-ok) / n
	m.CacheHitRate = float64(hits) / n
	m.AvgLatencyMS, m.AvgTTFTMS = avgLat.Float64, avgTTFT.Float64

	// Nearest rank with an index-free sort of the window: portable, exact, and the ledger window
	// asked for by dashboards is small. percentile_cont would interpolate on Postgres only.
	rank := (95*m.RequestsTotal + 99) / 100 // ceil(0.95*N) in integers: no float rounding at the edges
	var p95 int64
	if err := s.db.QueryRowContext(ctx, s.d.q(`SELECT latency_ms FROM usage`+where+
		fmt.Sprintf(` ORDER BY latency_ms LIMIT 1 OFFSET %d`, rank-1)), args...).Scan(&p95); err != nil &&
		!errors.Is(err, sql.ErrNoRows) { // rows pruned between the two queries: leave 0
		return Metrics{}, fmt.Errorf("store: metrics p95: %w", err)
	}
	m.P95LatencyMS = float64(p95)
	return m, nil
}

// DeleteUsageBefore removes ledger rows older than t (retention) and returns how many went.
func (s *Store) DeleteUsageBefore(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, s.d.q(`DELETE FROM usage WHERE ts < ?`), toMillis(t))
	if err != nil {
		return 0, fmt.Errorf("store: delete usage: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}
