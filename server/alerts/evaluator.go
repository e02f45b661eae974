package alerts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/store"
)

// Store is what the evaluator reads and writes (store.Store implements it).
type Store interface {
	ListAlerts(ctx context.Context, keyID string) ([]store.Alert, error)
	SpendByKey(ctx context.Context, since time.Time) (map[string]int64, error) // nano-dollars
	WindowStats(ctx context.Context, since time.Time, keyID string) (store.WindowStats, error)
	ProviderTraffic(ctx context.Context, since time.Time, keyID string) ([]store.ProviderTraffic, error)
	// ClaimAlertFiring records f in the firing history if last_fired_at still holds prev.
	ClaimAlertFiring(ctx context.Context, prev time.Time, f store.AlertFiring) (bool, error)
	SetAlertFiringDelivery(ctx context.Context, alertID string, firedAt time.Time, outcome string) error
}

// Sender takes a firing for delivery without blocking (*Notifier implements it).
type Sender interface {
	Send(Event) bool
}

// Evaluator checks every enabled rule each interval and on Trigger.
type Evaluator struct {
	st            Store
	send          Sender
	log           hclog.Logger
	interval      time.Duration
	passTimeout   time.Duration
	minSamples    int64
	restartMemory time.Duration
	now           func() time.Time

	trigger chan struct{}
	ctx     context.Context // cancelled by Close: aborts a running pass
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once

	passMu sync.Mutex // one pass at a time; guards resetAt
	// resetAt is, per rate rule, when this evaluator last saw its condition false. A firing
	// recorded after it (by us or by another gateway) belongs to the current incident.
	resetAt map[string]time.Time
}

// Option configures an Evaluator.
type Option func(*Evaluator)

// WithInterval sets how often rules are evaluated (default 15s, at least 1s).
func WithInterval(d time.Duration) Option { return func(e *Evaluator) { e.interval = d } }

// WithLogger sets the logger for firings (Info) and evaluation errors (Warn).
func WithLogger(l hclog.Logger) Option { return func(e *Evaluator) { e.log = l } }

// WithMinSamples sets how many requests a window needs before error_rate, p95_latency and
// provider_share rules may fire (default 20), so one failure out of two requests does not page.
func WithMinSamples(n int) Option { return func(e *Evaluator) { e.minSamples = int64(n) } }

// WithRestartMemory sets how far back a firing recorded before this evaluator started counts as
// the incident still in progress (default 1h, at least the rule's window): a restart during an
// incident does not page again, yet a new incident long after an old firing does.
func WithRestartMemory(d time.Duration) Option { return func(e *Evaluator) { e.restartMemory = d } }

// WithClock sets the time source (tests).
func WithClock(now func() time.Time) Option { return func(e *Evaluator) { e.now = now } }

// WithoutLoop builds an Evaluator that evaluates only when Evaluate is called (tests, benchmarks,
// and callers with their own scheduler); Trigger is then a no-op.
func WithoutLoop() Option { return func(e *Evaluator) { e.interval = -1 } }

// New returns an evaluator over st delivering through send, and starts its loop (the first pass
// runs at once). Close stops it.
func New(st Store, send Sender, opts ...Option) (*Evaluator, error) {
	if st == nil || send == nil {
		return nil, errors.New("alerts: New needs a store and a sender")
	}
	e := &Evaluator{st: st, send: send, interval: 15 * time.Second, minSamples: 20, restartMemory: time.Hour,
		now: time.Now, trigger: make(chan struct{}, 1), done: make(chan struct{}), resetAt: make(map[string]time.Time)}
	for _, o := range opts {
		o(e)
	}
	if e.log == nil {
		e.log = hclog.NewNullLogger()
	}
	if e.minSamples < 1 {
		e.minSamples = 1
	}
	e.restartMemory = max(e.restartMemory, 0)
	loop := e.interval >= 0
	if e.interval == 0 {
		e.interval = 15 * time.Second
	}
	e.interval = max(e.interval, time.Second)
	// A pass that outlives its interval would only queue the next one behind it.
	e.passTimeout = max(e.interval, 10*time.Second)
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if loop {
		go e.run()
	} else {
		close(e.done)
	}
	return e, nil
}

// Trigger asks for a pass now, without waiting for it. Calls while a pass is pending coalesce
// into one. Safe from any goroutine (e.g. a budget threshold hook on the request path).
func (e *Evaluator) Trigger() {
	select {
	case e.trigger <- struct{}{}:
	default:
	}
}

// Close stops the loop, aborting a running pass, and waits for it. It does not close the Sender.
func (e *Evaluator) Close() error {
	e.once.Do(func() {
		e.cancel()
		<-e.done
	})
	return nil
}

func (e *Evaluator) run() {
	defer close(e.done)
	t := time.NewTicker(e.interval)
	defer t.Stop()
	for {
		if err := e.pass(); err != nil && e.ctx.Err() == nil {
			e.log.Warn("alert evaluation incomplete", "error", err)
		}
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		case <-e.trigger:
		}
	}
}

func (e *Evaluator) pass() error {
	ctx, cancel := context.WithTimeout(e.ctx, e.passTimeout)
	defer cancel()
	return e.Evaluate(ctx)
}

// windowKey identifies one WindowStats query; rules sharing it share the answer within a pass.
type windowKey struct {
	window time.Duration
	keyID  string
}

// passCache holds the ledger answers of one pass.
type passCache struct {
	spend   map[time.Time]map[string]int64 // nano-dollars by period start
	stats   map[windowKey]store.WindowStats
	traffic map[windowKey][]store.ProviderTraffic
}

// Evaluate runs one pass over all enabled rules: it measures each, claims and sends firings,
// and returns the errors of rules it could not evaluate (the others are still evaluated).
func (e *Evaluator) Evaluate(ctx context.Context) error {
	e.passMu.Lock()
	defer e.passMu.Unlock()
	rules, err := e.st.ListAlerts(ctx, "")
	if err != nil {
		return fmt.Errorf("alerts: list: %w", err)
	}
	now := e.now()
	pc := passCache{spend: make(map[time.Time]map[string]int64), stats: make(map[windowKey]store.WindowStats),
		traffic: make(map[windowKey][]store.ProviderTraffic)}
	seen := make(map[string]bool, len(rules))
	var errs []error
	for _, a := range rules {
		if !a.Enabled || !KnownType(a.Type) {
			continue
		}
		seen[a.ID] = true
		if err := e.evaluate(ctx, a, now, &pc); err != nil {
			errs = append(errs, fmt.Errorf("alert %s: %w", a.ID, err))
			if ctx.Err() != nil {
				break
			}
		}
	}
	for id := range e.resetAt { // deleted or disabled rules
		if !seen[id] {
			delete(e.resetAt, id)
		}
	}
	return errors.Join(errs...)
}

// reading is what one rule measured in a pass.
type reading struct {
	value   float64
	holds   bool
	message string
	share   *ProviderShare // provider_share only
}

func (e *Evaluator) evaluate(ctx context.Context, a store.Alert, now time.Time, pc *passCache) error {
	var (
		r   reading
		err error
	)
	switch a.Type {
	case TypeBudget:
		if r, err = e.readBudget(ctx, a, now, pc); err != nil {
			return err
		}
		// Spend only grows within a period: once per period is once per crossing.
		if !r.holds || !a.LastFiredAt.Before(PeriodStart(Period(a), now)) {
			return nil
		}
	case TypeErrorRate, TypeP95Latency, TypeProviderShare:
		if a.Type == TypeProviderShare {
			r, err = e.readShare(ctx, a, now, pc)
		} else {
			r, err = e.readRate(ctx, a, now, pc)
		}
		if err != nil {
			return err
		}
		if !e.newIncident(a, now, r.holds) {
			return nil
		}
	}
	delivery := store.DeliveryNone
	if a.WebhookURL != "" {
		delivery = store.DeliveryPending
	}
	won, err := e.st.ClaimAlertFiring(ctx, a.LastFiredAt, store.AlertFiring{AlertID: a.ID, Type: a.Type, KeyID: a.KeyID,
		FiredAt: now, Value: r.value, Threshold: a.Threshold, Message: r.message, Delivery: delivery})
	if err != nil {
		if errors.Is(err, store.ErrNotFound) { // deleted during the pass
			return nil
		}
		return err
	}
	if !won {
		return nil // another gateway fired it first
	}
	e.log.Info("alert fired", "alert_id", a.ID, "name", a.Name, "type", a.Type, "key_id", a.KeyID,
		"value", r.value, "threshold", a.Threshold, "message", r.message)
	ev := Event{Alert: a, Value: r.value, Threshold: a.Threshold, FiredAt: now, Message: r.message, Share: r.share}
	ev.Alert.LastFiredAt = now
	ev.report = func(outcome string) { e.recordDelivery(a.ID, now, outcome) }
	e.send.Send(ev) // a full queue logs and drops there
	return nil
}

// recordDelivery keeps a webhook's outcome in the firing history. It runs on the notifier's
// goroutine after the pass is over, hence its own context.
func (e *Evaluator) recordDelivery(alertID string, firedAt time.Time, outcome string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.st.SetAlertFiringDelivery(ctx, alertID, firedAt, outcome)
	if err != nil && !errors.Is(err, store.ErrNotFound) { // not found: deleted with its alert
		e.log.Warn("alert delivery outcome not recorded", "alert_id", alertID, "error", err)
	}
}

// newIncident reports whether a rate rule whose condition holds is to fire now: not when this
// incident already fired, here or on another gateway. A false condition ends the incident.
func (e *Evaluator) newIncident(a store.Alert, now time.Time, holds bool) bool {
	reset, known := e.resetAt[a.ID]
	if !holds {
		e.resetAt[a.ID] = now
		return false
	}
	if !known { // first sight since start: only a recent firing is the current incident
		reset = now.Add(-max(e.restartMemory, Window(a)))
		e.resetAt[a.ID] = reset
	}
	return a.LastFiredAt.IsZero() || a.LastFiredAt.Before(reset)
}

func (e *Evaluator) readBudget(ctx context.Context, a store.Alert, now time.Time, pc *passCache) (reading, error) {
	start := PeriodStart(Period(a), now)
	spend, ok := pc.spend[start]
	if !ok {
		var err error
		if spend, err = e.st.SpendByKey(ctx, start); err != nil {
			return reading{}, err
		}
		pc.spend[start] = spend
	}
	// Summed in nano-dollars, compared in dollars (the threshold's unit).
	var nanos int64
	if a.KeyID != "" {
		nanos = spend[a.KeyID]
	} else {
		for _, v := range spend {
			nanos += v
		}
	}
	value := float64(nanos) / 1e9
	frac := FireAt(a)
	r := reading{value: value, holds: a.Threshold > 0 && value >= frac*a.Threshold}
	if !r.holds {
		return r, nil
	}
	when := "this month"
	if Period(a) == PeriodDay {
		when = "today"
	}
	r.message = fmt.Sprintf("%s spend $%.2f %s reached %.0f%% of the $%.2f %s budget (alert at %.0f%%)",
		scope(a.KeyID), value, when, 100*value/a.Threshold, a.Threshold, PeriodName(Period(a)), 100*frac)
	return r, nil
}

func (e *Evaluator) readRate(ctx context.Context, a store.Alert, now time.Time, pc *passCache) (reading, error) {
	w := Window(a)
	k := windowKey{w, a.KeyID}
	ws, ok := pc.stats[k]
	if !ok {
		var err error
		if ws, err = e.st.WindowStats(ctx, now.Add(-w), a.KeyID); err != nil {
			return reading{}, err
		}
		pc.stats[k] = ws
	}
	var r reading
	if a.Type == TypeErrorRate {
		if ws.Requests > 0 {
			r.value = float64(ws.Failures) / float64(ws.Requests)
		}
		r.message = fmt.Sprintf("%s error rate %.1f%% (%d of %d requests) over %s exceeds %.1f%%",
			scope(a.KeyID), 100*r.value, ws.Failures, ws.Requests, w, 100*a.Threshold)
	} else {
		r.value = float64(ws.P95LatencyMS)
		r.message = fmt.Sprintf("%s p95 latency %.0f ms over %s (%d requests) exceeds %.0f ms",
			scope(a.KeyID), r.value, w, ws.Requests, a.Threshold)
	}
	r.holds = ws.Requests >= e.minSamples && r.value > a.Threshold
	return r, nil
}

// readShare measures a provider_share rule. min_samples counts upstream calls whatever the
// measure: a share of spend over two calls is as noisy as a share of two requests.
func (e *Evaluator) readShare(ctx context.Context, a store.Alert, now time.Time, pc *passCache) (reading, error) {
	w := Window(a)
	k := windowKey{w, a.KeyID}
	traffic, ok := pc.traffic[k]
	if !ok {
		var err error
		if traffic, err = e.st.ProviderTraffic(ctx, now.Add(-w), a.KeyID); err != nil {
			return reading{}, err
		}
		pc.traffic[k] = traffic
	}
	ps := shareOf(traffic, Measure(a), WatchedProvider(a), w)
	return reading{value: ps.Share, holds: ps.Calls >= e.minSamples && ps.exceeds(a.Threshold),
		message: ps.message(a.KeyID, a.Threshold), share: &ps}, nil
}

func scope(keyID string) string {
	if keyID == "" {
		return "gateway"
	}
	return "key " + keyID
}
