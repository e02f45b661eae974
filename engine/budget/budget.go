// Package budget enforces spend budgets in USD per client key and calendar
// period (UTC day or month) with reserve-then-settle: a request holds its
// estimated cost before it runs and settles the real cost afterwards, so
// concurrent requests cannot overshoot a budget by more than their
// estimates' error.
//
// Amounts are llm.Money (integer nano-dollars) end to end, so sums are
// exact and Redis can add them atomically.
package budget

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Period is a budget's calendar window, in UTC.
type Period int

// Periods.
const (
	Daily Period = iota
	Monthly
)

func (p Period) String() string {
	if p == Monthly {
		return "month"
	}
	return "day"
}

// ParsePeriod reads "day" or "daily", "month" or "monthly".
func ParsePeriod(s string) (Period, error) {
	switch s {
	case "day", "daily":
		return Daily, nil
	case "month", "monthly":
		return Monthly, nil
	}
	return Daily, fmt.Errorf("unknown budget period %q (want day or month)", s)
}

// Start is the first instant of the UTC period containing t.
func (p Period) Start(t time.Time) time.Time { return windowOf(p, t).start(p) }

// Budget is one key's allowance.
type Budget struct {
	// Name identifies the budget in errors and alerts (e.g. "team-a daily").
	Name   string
	Limit  llm.Money
	Period Period
}

// Budgeter holds and settles spend against budgets.
type Budgeter interface {
	// Reserve holds estimate against key's budget for the current
	// period. It fails with KindRateLimited, code "budget_exceeded", when
	// spent + held already reaches the limit. A request is admitted while
	// any budget is left, so spend can pass the limit by at most one
	// request's cost (estimates are upper bounds: max_tokens at the
	// priciest target); refusing every request whose worst case exceeds
	// what is left would starve a budget long before it is spent.
	Reserve(ctx context.Context, key string, b Budget, estimate llm.Money) (Hold, error)
	// Spent is what key has settled in the current period p.
	Spent(ctx context.Context, key string, p Period) (llm.Money, error)
}

// Hold is an estimate held against a budget.
type Hold interface {
	// Settle releases the hold and charges actual to the period the hold
	// was taken in (a request straddling midnight counts for the day it
	// started). Settle(ctx, 0) releases a failed request's hold. Settle
	// once; later calls do nothing.
	Settle(ctx context.Context, actual llm.Money) error
}

// ThresholdFunc is called once per key, period and threshold when settled
// spend first reaches threshold × limit (e.g. 0.8 for an 80% alert). It is
// called synchronously from Settle, after locks are released: keep it fast
// (hand off to a channel for slow alerting).
type ThresholdFunc func(key string, b Budget, threshold float64, spent llm.Money)

// Option configures a Memory or Redis budgeter.
type Option func(*options)

type options struct {
	seed       SeedFunc
	now        func() time.Time
	thresholds []float64
	onCross    ThresholdFunc
	prefix     string
}

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithThresholds registers fn for the given fractions of the limit (each in
// (0, 1], e.g. 0.5, 0.8, 1).
func WithThresholds(fn ThresholdFunc, fractions ...float64) Option {
	return func(o *options) { o.onCross = fn; o.thresholds = fractions }
}

// SeedFunc reports what key already spent from start (the beginning of the
// current period) until now, e.g. from the usage ledger.
type SeedFunc func(ctx context.Context, key string, start time.Time) (llm.Money, error)

// WithSeed makes the in-process budgeter start each key's account from
// what seed reports, so a restart does not hand out the period's budget
// again. (Redis keeps its counters itself.)
func WithSeed(seed SeedFunc) Option { return func(o *options) { o.seed = seed } }

// WithKeyPrefix sets the Redis key prefix (Redis only).
func WithKeyPrefix(p string) Option { return func(o *options) { o.prefix = p } }

func buildOptions(opts []Option) (options, error) {
	o := options{now: time.Now, prefix: "switchyard:budget:"}
	for _, fn := range opts {
		fn(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	for _, f := range o.thresholds {
		if !(f > 0 && f <= 1) {
			return o, fmt.Errorf("budget: threshold %v outside (0, 1]", f)
		}
	}
	if len(o.thresholds) > 0 && o.onCross == nil {
		return o, fmt.Errorf("budget: thresholds without a callback")
	}
	o.thresholds = slices.Clone(o.thresholds)
	slices.Sort(o.thresholds)
	o.thresholds = slices.Compact(o.thresholds)
	if len(o.thresholds) > 32 {
		return o, fmt.Errorf("budget: at most 32 thresholds")
	}
	return o, nil
}

// window is one calendar period: its id (YYYYMMDD or YYYYMM) and end.
type window struct {
	id  int
	end time.Time
}

// start is the first instant of w.
func (w window) start(p Period) time.Time {
	if p == Monthly {
		return w.end.AddDate(0, -1, 0)
	}
	return w.end.AddDate(0, 0, -1)
}

func windowOf(p Period, t time.Time) window {
	t = t.UTC()
	y, m, d := t.Date()
	if p == Monthly {
		return window{id: y*100 + int(m), end: time.Date(y, m+1, 1, 0, 0, 0, 0, time.UTC)}
	}
	return window{id: y*10000 + int(m)*100 + d, end: time.Date(y, m, d+1, 0, 0, 0, 0, time.UTC)}
}

func validate(key string, b Budget, estimate llm.Money) error {
	switch {
	case key == "":
		return llm.Errorf(llm.KindInternal, "budget: empty key")
	case b.Limit < 0:
		return llm.Errorf(llm.KindInternal, "budget: invalid limit %v", b.Limit)
	case estimate < 0:
		return llm.Errorf(llm.KindInternal, "budget: invalid estimate %v", estimate)
	case b.Period != Daily && b.Period != Monthly:
		return llm.Errorf(llm.KindInternal, "budget: invalid period %d", b.Period)
	}
	return nil
}

func exceeded(b Budget, w window, now time.Time, spent, held, est llm.Money) error {
	name := b.Name
	if name == "" {
		name = "budget"
	}
	return &llm.Error{
		Kind: llm.KindRateLimited,
		Code: "budget_exceeded",
		Message: fmt.Sprintf("%s of $%s per %s exceeded: spent $%s, held $%s, this request needs up to $%s",
			name, b.Limit, b.Period, spent, held, est),
		RetryAfter: w.end.Sub(now),
	}
}

// crossed returns the thresholds passed when spend went from before to
// after against limit.
func crossed(thresholds []float64, limit, before, after llm.Money) []float64 {
	var out []float64
	for _, f := range thresholds {
		at := llm.Money(math.Ceil(f * float64(limit)))
		if before < at && after >= at {
			out = append(out, f)
		}
	}
	return out
}
