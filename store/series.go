package store

import (
	"context"
	"fmt"
	"time"
)

// MaxSeriesBuckets caps SeriesQuery's (To-From)/Step so that a chart's query cannot ask for
// millions of buckets.
const MaxSeriesBuckets = 2000

// SeriesQuery asks for the ledger in fixed steps over [From, To), optionally split by one
// Group* dimension (not GroupDay: the step is the time axis) and limited to one key.
type SeriesQuery struct {
	From, To time.Time
	Step     time.Duration
	GroupBy  string
	KeyID    string
}

// SeriesBucket is one step of one series; steps without requests are not returned.
type SeriesBucket struct {
	Start            time.Time
	Group            string // the group's value; "" when not grouped
	Requests         int64
	Errors           int64
	P50LatencyMS     int64 // nearest rank, as Metrics.P95LatencyMS
	P95LatencyMS     int64
	CostNanos        int64
	CacheHits        int64
	PromptTokens     int64
	CompletionTokens int64
}

// UsageSeries buckets the window's rows by step (and group), ordered by bucket then group.
// Percentiles need every latency, so the rows of the window are read (in latency order per
// bucket) rather than summed in SQL; the ts index bounds that to the window, and the console
// asks for hours, not years. BenchmarkUsageSeries: an hour at 10 requests/s (36k rows) takes
// about 70 ms on SQLite, so a gateway far busier than that wants histogram buckets instead.
// Both backends run the same integer arithmetic, so they agree.
func (s *Store) UsageSeries(ctx context.Context, q SeriesQuery) ([]SeriesBucket, error) {
	if q.Step <= 0 || !q.From.Before(q.To) {
		return nil, fmt.Errorf("store: usage series: want From < To and a positive step")
	}
	stepMS := q.Step.Milliseconds()
	if stepMS <= 0 {
		return nil, fmt.Errorf("store: usage series: step %s is under a millisecond", q.Step)
	}
	fromMS := toMillis(q.From)
	if n := (toMillis(q.To) - fromMS + stepMS - 1) / stepMS; n > MaxSeriesBuckets {
		return nil, fmt.Errorf("store: usage series: %d buckets asked for, at most %d", n, MaxSeriesBuckets)
	}
	group, order := "''", ""
	if q.GroupBy != "" {
		col, ok := groupCols[q.GroupBy]
		if !ok || q.GroupBy == GroupDay {
			return nil, fmt.Errorf("store: usage series: unknown group-by %q (want key, provider, model, route or dialect)", q.GroupBy)
		}
		group, order = col, ", "+col+s.d.bytewise
	}
	where, args := UsageQuery{From: q.From, To: q.To, KeyID: q.KeyID}.where()
	// Positions (ORDER BY 2) would not do: Postgres reads "2 COLLATE" as a constant.
	// Both numbers are ours (int64), never client text, so they go into the SQL as literals:
	// a bound parameter in an arithmetic expression has no type Postgres can infer.
	bucket := fmt.Sprintf("((ts - %d) / %d)", fromMS, stepMS)
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT `+bucket+`, `+group+`, latency_ms,
		CASE WHEN status <> 'ok' THEN 1 ELSE 0 END, cost_nanos, CASE WHEN cache = 'hit' THEN 1 ELSE 0 END,
		prompt_tokens, completion_tokens FROM usage`+where+
		` ORDER BY `+bucket+order+`, latency_ms`), args...)
	if err != nil {
		return nil, fmt.Errorf("store: usage series: %w", err)
	}
	defer rows.Close()
	var (
		out  []SeriesBucket
		lats []int64
		cur  *SeriesBucket
		curB int64
	)
	flush := func() {
		if cur == nil {
			return
		}
		cur.P50LatencyMS, cur.P95LatencyMS = nearestRank(lats, 50), nearestRank(lats, 95)
		out = append(out, *cur)
	}
	for rows.Next() {
		var (
			b, lat, isErr, cost, hit, pt, ct int64
			g                                string
		)
		if err := rows.Scan(&b, &g, &lat, &isErr, &cost, &hit, &pt, &ct); err != nil {
			return nil, fmt.Errorf("store: usage series: %w", err)
		}
		if cur == nil || b != curB || g != cur.Group {
			flush()
			cur, curB, lats = &SeriesBucket{Start: time.UnixMilli(fromMS + b*stepMS).UTC(), Group: g}, b, lats[:0]
		}
		cur.Requests++
		cur.Errors += isErr
		cur.CostNanos += cost
		cur.CacheHits += hit
		cur.PromptTokens += pt
		cur.CompletionTokens += ct
		lats = append(lats, lat)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: usage series: %w", err)
	}
	flush()
	return out, nil
}

// nearestRank is the ceil(p/100*N)-th smallest of sorted (1-based); 0 for none.
func nearestRank(sorted []int64, p int64) int64 {
	n := int64(len(sorted))
	if n == 0 {
		return 0
	}
	return sorted[(p*n+99)/100-1]
}
