package alerts

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/store"
)

// now0 is mid-day, mid-month, so that day and month periods differ.
var now0 = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

func openStore(tb testing.TB) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), store.Options{DataDir: tb.TempDir()})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

type recorder struct {
	mu     sync.Mutex
	events []Event
	fired  chan struct{}
}

func newRecorder() *recorder { return &recorder{fired: make(chan struct{}, 100)} }

func (r *recorder) Send(ev Event) bool {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.fired <- struct{}{}
	return true
}

func (r *recorder) ids() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, ev := range r.events {
		out = append(out, ev.Alert.ID)
	}
	return out
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

func mustInsert(tb testing.TB, s *store.Store, recs ...store.UsageRecord) {
	tb.Helper()
	if err := s.InsertUsage(context.Background(), recs); err != nil {
		tb.Fatal(err)
	}
}

func mustCreate(tb testing.TB, s *store.Store, as ...store.Alert) {
	tb.Helper()
	for _, a := range as {
		if a.ID == "" {
			a.ID = a.Type
		}
		if err := s.CreateAlert(context.Background(), a); err != nil {
			tb.Fatal(err)
		}
	}
}

// requests returns n ledger rows ending just before at, the first failed of them failing with
// status "unavailable", each with latency ms.
func requests(key string, at time.Time, n, failed int, latencyMS int64) []store.UsageRecord {
	out := make([]store.UsageRecord, n)
	for i := range out {
		out[i] = store.UsageRecord{TS: at.Add(-time.Duration(i+1) * time.Second), KeyID: key, Provider: "openai",
			LatencyMS: latencyMS, Status: store.StatusOK}
		if i < failed {
			out[i].Status = "unavailable"
		}
	}
	return out
}

func newTestEvaluator(tb testing.TB, s Store, send Sender, c *clock, opts ...Option) *Evaluator {
	tb.Helper()
	e, err := New(s, send, append([]Option{WithoutLoop(), WithClock(c.now)}, opts...)...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { e.Close() })
	return e
}

func budget(key string, threshold float64, period string, frac float64) store.Alert {
	cfg := map[string]any{ConfigPeriod: period}
	if frac != 0 {
		cfg[ConfigFireAtFraction] = frac
	}
	return store.Alert{ID: "budget", Type: TypeBudget, Threshold: threshold, KeyID: key, Enabled: true, Config: cfg}
}

func TestEvaluate_FiresWhenConditionHolds(t *testing.T) {
	dayStart := PeriodStart(PeriodDay, now0)
	tests := []struct {
		name   string
		alert  store.Alert
		ledger []store.UsageRecord
		fire   bool
		value  float64
	}{
		{
			name:  "budget below 80% of the key's monthly budget",
			alert: budget("k1", 100, "monthly", 0),
			ledger: []store.UsageRecord{{TS: now0.Add(-time.Hour), KeyID: "k1", CostNanos: 79990000000},
				{TS: now0.Add(-time.Hour), KeyID: "k2", CostNanos: 50000000000}},
		},
		{
			name:   "budget at 80% of the key's monthly budget",
			alert:  budget("k1", 100, "monthly", 0),
			ledger: []store.UsageRecord{{TS: now0.Add(-time.Hour), KeyID: "k1", CostNanos: 40000000000}, {TS: now0.Add(-48 * time.Hour), KeyID: "k1", CostNanos: 40000000000}},
			fire:   true, value: 80,
		},
		{
			name:   "daily budget ignores yesterday's spend",
			alert:  budget("k1", 100, "daily", 0),
			ledger: []store.UsageRecord{{TS: dayStart.Add(-time.Second), KeyID: "k1", CostNanos: 90000000000}, {TS: dayStart, KeyID: "k1", CostNanos: 10000000000}},
		},
		{
			name:   "gateway-wide budget sums every key",
			alert:  budget("", 10, "day", 0),
			ledger: []store.UsageRecord{{TS: dayStart, KeyID: "k1", CostNanos: 5000000000}, {TS: dayStart, KeyID: "k2", CostNanos: 3000000000}, {TS: dayStart, CostNanos: 500000000}},
			fire:   true, value: 8.5,
		},
		{
			name:   "custom fire_at_fraction",
			alert:  budget("k1", 10, "day", 0.5),
			ledger: []store.UsageRecord{{TS: dayStart, KeyID: "k1", CostNanos: 5000000000}},
			fire:   true, value: 5,
		},
		{
			name:   "disabled rule never fires",
			alert:  func() store.Alert { a := budget("k1", 10, "day", 0); a.Enabled = false; return a }(),
			ledger: []store.UsageRecord{{TS: dayStart, KeyID: "k1", CostNanos: 50000000000}},
		},
		{
			name:   "error rate above threshold",
			alert:  store.Alert{Type: TypeErrorRate, Threshold: 0.05, Enabled: true},
			ledger: requests("k1", now0, 20, 2, 100),
			fire:   true, value: 0.1,
		},
		{
			name:   "error rate equal to threshold does not fire",
			alert:  store.Alert{Type: TypeErrorRate, Threshold: 0.05, Enabled: true},
			ledger: requests("k1", now0, 20, 1, 100),
		},
		{
			name:   "error rate below the minimum sample count",
			alert:  store.Alert{Type: TypeErrorRate, Threshold: 0.05, Enabled: true},
			ledger: requests("k1", now0, 19, 19, 100),
		},
		{
			name:   "failures outside the window",
			alert:  store.Alert{Type: TypeErrorRate, Threshold: 0.05, Window: time.Minute, Enabled: true},
			ledger: append(requests("k1", now0.Add(-time.Minute), 20, 20, 100), requests("k1", now0, 20, 0, 100)...),
		},
		{
			name:  "client errors are not failures",
			alert: store.Alert{Type: TypeErrorRate, Threshold: 0.05, Enabled: true},
			ledger: func() []store.UsageRecord {
				r := requests("k1", now0, 20, 0, 100)
				r[0].Status, r[1].Status = "invalid_request", "unauthenticated"
				return r
			}(),
		},
		{
			name:   "error rate scoped to another key",
			alert:  store.Alert{Type: TypeErrorRate, Threshold: 0.05, KeyID: "k2", Enabled: true},
			ledger: append(requests("k1", now0, 20, 20, 100), requests("k2", now0, 20, 0, 100)...),
		},
		{
			name:   "p95 latency above threshold",
			alert:  store.Alert{Type: TypeP95Latency, Threshold: 2000, Enabled: true},
			ledger: append(requests("k1", now0, 18, 0, 100), requests("k1", now0, 2, 0, 2500)...),
			fire:   true, value: 2500,
		},
		{
			name:  "p95 latency with one slow outlier in twenty",
			alert: store.Alert{Type: TypeP95Latency, Threshold: 2000, Enabled: true},
			// 95th of 20 is the 19th smallest: 100.
			ledger: append(requests("k1", now0, 19, 0, 100), requests("k1", now0, 1, 0, 9000)...),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			mustCreate(t, s, tt.alert)
			mustInsert(t, s, tt.ledger...)
			rec := newRecorder()
			var logs logBuffer
			e := newTestEvaluator(t, s, rec, &clock{t: now0}, WithLogger(hclog.New(&hclog.LoggerOptions{Output: &logs})))
			if err := e.Evaluate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := len(rec.events); got != map[bool]int{false: 0, true: 1}[tt.fire] {
				t.Fatalf("fired %d times, want fire=%v", got, tt.fire)
			}
			checkHistory(t, s, rec.sent())
			id := tt.alert.ID
			if id == "" {
				id = tt.alert.Type
			}
			if logged := strings.Contains(logs.String(), "[INFO]  alert fired: alert_id="+id+" "); logged != tt.fire {
				t.Fatalf("firing logged=%v, want %v: %q", logged, tt.fire, logs.String())
			}
			if !tt.fire {
				return
			}
			ev := rec.events[0]
			if diff := ev.Value - tt.value; diff > 1e-9 || diff < -1e-9 {
				t.Fatalf("value = %v, want %v", ev.Value, tt.value)
			}
			if !ev.FiredAt.Equal(now0) || ev.Threshold != tt.alert.Threshold || ev.Message == "" {
				t.Fatalf("event = %+v", ev)
			}
			a, err := s.GetAlert(context.Background(), ev.Alert.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !a.LastFiredAt.Equal(now0) {
				t.Fatalf("last_fired_at = %v, want %v persisted", a.LastFiredAt, now0)
			}
		})
	}
}

func TestEvaluate_RateAlertFiresOncePerIncident(t *testing.T) {
	s := openStore(t)
	mustCreate(t, s, store.Alert{ID: "err", Type: TypeErrorRate, Threshold: 0.05, Window: time.Minute, Enabled: true})
	c := &clock{t: now0}
	rec := newRecorder()
	e := newTestEvaluator(t, s, rec, c)
	ctx := context.Background()

	steps := []struct {
		name   string
		at     time.Time
		ledger []store.UsageRecord
		fired  int // total so far
	}{
		{"incident starts: fires", now0, requests("", now0, 20, 10, 10), 1},
		{"still failing: no refire", now0.Add(30 * time.Second), requests("", now0.Add(30*time.Second), 20, 10, 10), 1},
		{"window quiet: resets", now0.Add(5 * time.Minute), nil, 1},
		{"new incident: fires again", now0.Add(10 * time.Minute), requests("", now0.Add(10*time.Minute), 20, 10, 10), 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.set(st.at)
			if len(st.ledger) > 0 {
				mustInsert(t, s, st.ledger...)
			}
			if err := e.Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(rec.ids()); got != st.fired {
				t.Fatalf("fired %d times, want %d", got, st.fired)
			}
			checkHistory(t, s, rec.sent())
		})
	}
}

func TestEvaluate_RestartDoesNotRefire(t *testing.T) {
	tests := []struct {
		name      string
		alert     store.Alert
		ledger    []store.UsageRecord
		firstAt   time.Time
		restartAt time.Time
		refire    bool
	}{
		{
			name:      "error rate still failing minutes after the firing",
			alert:     store.Alert{ID: "err", Type: TypeErrorRate, Threshold: 0.05, Window: time.Hour, Enabled: true},
			ledger:    requests("", now0, 40, 40, 10),
			firstAt:   now0,
			restartAt: now0.Add(10 * time.Minute),
		},
		{
			name:      "error rate failing long after an old firing is a new incident",
			alert:     store.Alert{ID: "err", Type: TypeErrorRate, Threshold: 0.05, Window: time.Minute, Enabled: true},
			ledger:    append(requests("", now0, 20, 20, 10), requests("", now0.Add(3*time.Hour), 20, 20, 10)...),
			firstAt:   now0,
			restartAt: now0.Add(3 * time.Hour),
			refire:    true,
		},
		{
			name:      "budget later in the same month",
			alert:     budget("", 10, "monthly", 0),
			ledger:    []store.UsageRecord{{TS: now0.Add(-time.Hour), CostNanos: 9000000000}},
			firstAt:   now0,
			restartAt: now0.Add(5 * 24 * time.Hour),
		},
		{
			name:      "budget in the next day",
			alert:     budget("", 10, "daily", 0),
			ledger:    []store.UsageRecord{{TS: now0.Add(-time.Hour), CostNanos: 9000000000}, {TS: now0.Add(24 * time.Hour), CostNanos: 9000000000}},
			firstAt:   now0,
			restartAt: now0.Add(24*time.Hour + time.Minute),
			refire:    true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			mustCreate(t, s, tt.alert)
			mustInsert(t, s, tt.ledger...)
			ctx := context.Background()
			first := newRecorder()
			if err := newTestEvaluator(t, s, first, &clock{t: tt.firstAt}).Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			if len(first.ids()) != 1 {
				t.Fatalf("first gateway fired %d times, want 1", len(first.ids()))
			}
			second := newRecorder()
			if err := newTestEvaluator(t, s, second, &clock{t: tt.restartAt}).Evaluate(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(second.ids()) == 1; got != tt.refire {
				t.Fatalf("restarted gateway fired %d times, want refire=%v", len(second.ids()), tt.refire)
			}
			checkHistory(t, s, append(first.sent(), second.sent()...))
		})
	}
}

func TestEvaluate_GatewaysSharingAStoreFireOnce(t *testing.T) {
	s := openStore(t)
	mustCreate(t, s, store.Alert{ID: "err", Type: TypeErrorRate, Threshold: 0.05, Enabled: true}, budget("", 1, "day", 0))
	mustInsert(t, s, requests("", now0, 20, 20, 10)...)
	mustInsert(t, s, store.UsageRecord{TS: now0.Add(-time.Second), CostNanos: 2000000000})
	rec := newRecorder()
	var wg sync.WaitGroup
	for range 4 {
		e := newTestEvaluator(t, s, rec, &clock{t: now0})
		wg.Go(func() {
			if err := e.Evaluate(context.Background()); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := rec.ids(); len(got) != 2 {
		t.Fatalf("fired %v, want each of the two rules once", got)
	}
	if got, err := s.ListAlertFirings(context.Background(), store.FiringQuery{}); err != nil || len(got) != 2 || got[0].AlertID == got[1].AlertID {
		t.Fatalf("history = %+v, %v; want one row for each of the two rules", got, err)
	}
}

func TestEvaluator_TriggerRunsAPassNow(t *testing.T) {
	s := openStore(t)
	mustCreate(t, s, budget("k", 1, "day", 0))
	rec := newRecorder()
	c := &clock{t: now0}
	e, err := New(s, rec, WithInterval(time.Hour), WithClock(c.now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	mustInsert(t, s, store.UsageRecord{TS: now0.Add(-time.Second), KeyID: "k", CostNanos: 5000000000})
	// The first pass runs at start and may or may not see the row; either way the next pass,
	// triggered without waiting for the hourly tick, must have fired it.
	deadline := time.After(5 * time.Second)
	for len(rec.ids()) == 0 {
		e.Trigger()
		select {
		case <-rec.fired:
		case <-time.After(20 * time.Millisecond):
		case <-deadline:
			t.Fatal("Trigger did not run a pass")
		}
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	e.Trigger() // after Close: no pass, no panic
	if got := rec.ids(); len(got) != 1 {
		t.Fatalf("fired %v, want once", got)
	}
}

func TestNew_Validates(t *testing.T) {
	if _, err := New(nil, newRecorder()); err == nil {
		t.Fatal("New without a store: want error")
	}
	s := openStore(t)
	if _, err := New(s, nil); err == nil {
		t.Fatal("New without a sender: want error")
	}
	e, err := New(s, newRecorder(), WithInterval(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if e.interval != time.Second {
		t.Fatalf("interval = %v, want the 1s minimum", e.interval)
	}
}

func BenchmarkEvaluate100Alerts(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	for i := range 10 {
		key := fmt.Sprintf("k%d", i)
		mustInsert(b, s, requests(key, now0, 500, i, int64(100+i))...)
	}
	for i := range 100 {
		key := fmt.Sprintf("k%d", i%10)
		a := store.Alert{ID: fmt.Sprintf("a%03d", i), KeyID: key, Enabled: true}
		switch i % 4 {
		case 0:
			a.Type, a.Threshold, a.Config = TypeBudget, 1e6, map[string]any{ConfigPeriod: []string{"day", "month"}[i%2]}
		case 1:
			a.Type, a.Threshold, a.Window = TypeErrorRate, 0.5, 5*time.Minute
		case 2:
			a.Type, a.Threshold, a.Window = TypeP95Latency, 5000, 10*time.Minute
		default:
			a.Type, a.Threshold, a.Window, a.Config = TypeProviderShare, 1, 5*time.Minute, map[string]any{ConfigMeasure: MeasureCost}
		}
		mustCreate(b, s, a)
	}
	e := newTestEvaluator(b, s, newRecorder(), &clock{t: now0})
	b.ReportAllocs()
	for b.Loop() {
		if err := e.Evaluate(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

// countingStore counts passes and can hold one open.
type countingStore struct {
	Store
	mu     sync.Mutex
	passes int
	hold   chan struct{}
}

func (c *countingStore) ListAlerts(ctx context.Context, key string) ([]store.Alert, error) {
	c.mu.Lock()
	c.passes++
	n := c.passes
	c.mu.Unlock()
	if n == 2 { // the first triggered pass blocks until released
		<-c.hold
	}
	return nil, nil
}

func (c *countingStore) count() int { c.mu.Lock(); defer c.mu.Unlock(); return c.passes }

func TestEvaluator_TriggersCoalesce(t *testing.T) {
	cs := &countingStore{hold: make(chan struct{})}
	e, err := New(cs, newRecorder(), WithInterval(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	waitFor := func(n int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for cs.count() < n {
			if time.Now().After(deadline) {
				t.Fatalf("passes = %d, want %d", cs.count(), n)
			}
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(1) // the pass at start
	e.Trigger()
	waitFor(2) // now held inside the triggered pass
	for range 100 {
		e.Trigger() // must not block; all coalesce into one pending pass
	}
	close(cs.hold)
	waitFor(3)
	time.Sleep(50 * time.Millisecond)
	if got := cs.count(); got != 3 {
		t.Fatalf("passes = %d, want 3: 100 triggers during a pass coalesce into one", got)
	}
}
