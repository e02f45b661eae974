package alerts

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/store"
)

// calls returns n ledger rows for provider ending just before at, each costing costNanos, with
// cache status cache ("" for an uncached route).
func calls(provider, key string, at time.Time, n int, costNanos int64, cache string) []store.UsageRecord {
	out := make([]store.UsageRecord, n)
	for i := range out {
		out[i] = store.UsageRecord{TS: at.Add(-time.Duration(i+1) * time.Second), KeyID: key, Provider: provider,
			CostNanos: costNanos, Cache: cache, Status: store.StatusOK, LatencyMS: 100}
	}
	return out
}

func concat(parts ...[]store.UsageRecord) []store.UsageRecord {
	var out []store.UsageRecord
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func shareRule(threshold float64, measure, provider string) store.Alert {
	cfg := map[string]any{}
	if measure != "" {
		cfg[ConfigMeasure] = measure
	}
	if provider != "" {
		cfg[ConfigProvider] = provider
	}
	return store.Alert{ID: "share", Type: TypeProviderShare, Threshold: threshold, Enabled: true, Config: cfg}
}

func TestShareOf(t *testing.T) {
	traffic := []store.ProviderTraffic{
		{Provider: "anthropic", Calls: 15, CostNanos: 1_500_000_000},
		{Provider: "openai", Calls: 5, CostNanos: 4_500_000_000},
	}
	tests := []struct {
		name, measure, provider string
		traffic                 []store.ProviderTraffic
		wantProvider            string
		wantShare               float64
	}{
		{"requests: the largest", MeasureRequests, "", traffic, "anthropic", 0.75},
		{"cost: the largest", MeasureCost, "", traffic, "openai", 0.75},
		{"watched provider", MeasureRequests, "openai", traffic, "openai", 0.25},
		{"watched provider without traffic", MeasureRequests, "gemini", traffic, "gemini", 0},
		{"tie: first by name, whatever the order", MeasureRequests, "",
			[]store.ProviderTraffic{{Provider: "b", Calls: 3}, {Provider: "a", Calls: 3}}, "a", 0.5},
		{"cost without spend", MeasureCost, "", []store.ProviderTraffic{{Provider: "a", Calls: 30}}, "a", 0},
		{"empty window", MeasureRequests, "", nil, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := shareOf(tt.traffic, tt.measure, tt.provider, time.Minute)
			if ps.Provider != tt.wantProvider || ps.Share != tt.wantShare || ps.Measure != tt.measure || ps.Window != time.Minute {
				t.Fatalf("shareOf = %+v, want provider %q share %v", ps, tt.wantProvider, tt.wantShare)
			}
		})
	}
}

func TestEvaluate_ProviderShare(t *testing.T) {
	tests := []struct {
		name     string
		alert    store.Alert
		ledger   []store.UsageRecord
		fire     bool
		value    float64
		provider string
		message  string
	}{
		{
			name:   "requests: one provider above the threshold fires naming it",
			alert:  shareRule(0.7, "", ""),
			ledger: concat(calls("openai", "k1", now0, 16, 0, ""), calls("anthropic", "k1", now0, 4, 0, "")),
			fire:   true, value: 0.8, provider: "openai",
			message: "gateway provider openai took 80.0% of upstream requests (16 of 20) over 5m0s, above 70.0%",
		},
		{
			name:   "requests: a share equal to the threshold does not fire",
			alert:  shareRule(0.7, MeasureRequests, ""),
			ledger: concat(calls("openai", "k1", now0, 14, 0, ""), calls("anthropic", "k1", now0, 6, 0, "")),
		},
		{
			name:   "watched provider below the threshold while another is above",
			alert:  shareRule(0.7, "", "anthropic"),
			ledger: concat(calls("openai", "k1", now0, 16, 0, ""), calls("anthropic", "k1", now0, 4, 0, "")),
		},
		{
			name:   "watched provider above the threshold",
			alert:  shareRule(0.7, "", "openai"),
			ledger: concat(calls("openai", "k1", now0, 16, 0, ""), calls("anthropic", "k1", now0, 4, 0, "")),
			fire:   true, value: 0.8, provider: "openai",
		},
		{
			name:  "cost: few dear requests take the spend",
			alert: shareRule(0.9, MeasureCost, ""),
			// openai: 5 × $9 = $45; anthropic: 15 × $0.10 = $1.50.
			ledger: concat(calls("openai", "k1", now0, 5, 9_000_000_000, ""), calls("anthropic", "k1", now0, 15, 100_000_000, "")),
			fire:   true, value: 45 / 46.5, provider: "openai",
			message: "gateway provider openai took 96.8% of spend ($45.0000 of $46.5000) over 5m0s, above 90.0%",
		},
		{
			name:   "requests on the same ledger: the cheap provider's 75% is below 90%",
			alert:  shareRule(0.9, MeasureRequests, ""),
			ledger: concat(calls("openai", "k1", now0, 5, 9_000_000_000, ""), calls("anthropic", "k1", now0, 15, 100_000_000, "")),
		},
		{
			name:   "cost measure without spend does not fire",
			alert:  shareRule(0.5, MeasureCost, ""),
			ledger: calls("openai", "k1", now0, 20, 0, ""),
		},
		{
			name:   "below min_samples",
			alert:  shareRule(0.7, "", ""),
			ledger: calls("openai", "k1", now0, 19, 0, ""),
		},
		{
			name:  "cache hits and refusals are not traffic",
			alert: shareRule(0.7, "", ""),
			// Counting the hits under openai, which once produced them, would give it 45 of 55.
			ledger: concat(calls("openai", "k1", now0, 10, 1000, "miss"), calls("anthropic", "k1", now0, 10, 1000, "miss"),
				calls("openai", "k1", now0, 20, 0, "hit"), calls("openai", "k1", now0, 5, 0, "semantic_hit"),
				calls("openai", "k1", now0, 5, 0, "coalesced"), calls("", "k1", now0, 10, 0, "")),
		},
		{
			name:   "cache hits do not make up min_samples",
			alert:  shareRule(0.7, "", ""),
			ledger: concat(calls("openai", "k1", now0, 15, 1000, "miss"), calls("openai", "k1", now0, 10, 0, "hit")),
		},
		{
			name:  "rows outside the window",
			alert: func() store.Alert { a := shareRule(0.7, "", ""); a.Window = time.Minute; return a }(),
			ledger: concat(calls("openai", "k1", now0.Add(-time.Minute), 40, 0, ""),
				calls("openai", "k1", now0, 10, 0, ""), calls("anthropic", "k1", now0, 10, 0, "")),
		},
		{
			name:  "scoped to another key",
			alert: func() store.Alert { a := shareRule(0.7, "", ""); a.KeyID = "k2"; return a }(),
			ledger: concat(calls("openai", "k1", now0, 40, 0, ""),
				calls("openai", "k2", now0, 10, 0, ""), calls("anthropic", "k2", now0, 10, 0, "")),
		},
		{
			name:   "threshold 1 fires when one provider takes everything",
			alert:  shareRule(1, "", ""),
			ledger: concat(calls("anthropic", "k1", now0, 20, 0, ""), calls("", "k1", now0, 5, 0, "")),
			fire:   true, value: 1, provider: "anthropic",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			mustCreate(t, s, tt.alert)
			mustInsert(t, s, tt.ledger...)
			rec := newRecorder()
			e := newTestEvaluator(t, s, rec, &clock{t: now0})
			if err := e.Evaluate(context.Background()); err != nil {
				t.Fatal(err)
			}
			if got := len(rec.events); got != map[bool]int{false: 0, true: 1}[tt.fire] {
				t.Fatalf("fired %d times, want fire=%v", got, tt.fire)
			}
			checkHistory(t, s, rec.sent())
			if !tt.fire {
				return
			}
			ev := rec.events[0]
			if diff := ev.Value - tt.value; diff > 1e-9 || diff < -1e-9 {
				t.Fatalf("value = %v, want %v", ev.Value, tt.value)
			}
			if ev.Share == nil || ev.Share.Provider != tt.provider || ev.Share.Share != ev.Value || ev.Share.Measure != Measure(tt.alert) {
				t.Fatalf("share = %+v, want provider %q", ev.Share, tt.provider)
			}
			if tt.message != "" && ev.Message != tt.message {
				t.Fatalf("message = %q, want %q", ev.Message, tt.message)
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

func TestEvaluate_ProviderShareFiresOncePerIncident(t *testing.T) {
	s := openStore(t)
	a := shareRule(0.7, "", "")
	a.Window = time.Minute
	mustCreate(t, s, a)
	c := &clock{t: now0}
	rec := newRecorder()
	e := newTestEvaluator(t, s, rec, c)
	split := func(at time.Time) []store.UsageRecord {
		return concat(calls("openai", "", at, 10, 0, ""), calls("anthropic", "", at, 10, 0, ""))
	}
	steps := []struct {
		name     string
		at       time.Time
		ledger   []store.UsageRecord
		fired    int    // total so far
		provider string // of the last firing
	}{
		{"openai takes it all: fires", now0, calls("openai", "", now0, 20, 0, ""), 1, "openai"},
		{"still all openai: no refire", now0.Add(30 * time.Second), calls("openai", "", now0.Add(30*time.Second), 20, 0, ""), 1, "openai"},
		{"traffic split: resets", now0.Add(5 * time.Minute), split(now0.Add(5 * time.Minute)), 1, "openai"},
		{"anthropic takes it all: a new incident", now0.Add(10 * time.Minute), calls("anthropic", "", now0.Add(10*time.Minute), 20, 0, ""), 2, "anthropic"},
		{"quiet window, below min_samples: resets", now0.Add(15 * time.Minute), calls("anthropic", "", now0.Add(15*time.Minute), 5, 0, ""), 2, "anthropic"},
		{"openai again: fires", now0.Add(20 * time.Minute), calls("openai", "", now0.Add(20*time.Minute), 20, 0, ""), 3, "openai"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.set(st.at)
			mustInsert(t, s, st.ledger...)
			if err := e.Evaluate(context.Background()); err != nil {
				t.Fatal(err)
			}
			checkHistory(t, s, rec.sent())
			rec.mu.Lock()
			defer rec.mu.Unlock()
			if got := len(rec.events); got != st.fired {
				t.Fatalf("fired %d times, want %d", got, st.fired)
			}
			if last := rec.events[len(rec.events)-1]; last.Share.Provider != st.provider || !strings.Contains(last.Message, st.provider) {
				t.Fatalf("last firing = %+v, want provider %s", last.Share, st.provider)
			}
		})
	}
}

func TestEvaluate_ProviderShareGatewaysAndRestartsFireOnce(t *testing.T) {
	s := openStore(t)
	a := shareRule(0.7, MeasureCost, "")
	a.Window = time.Hour
	mustCreate(t, s, a)
	mustInsert(t, s, concat(calls("openai", "", now0, 20, 1000, ""), calls("anthropic", "", now0, 20, 10, ""))...)
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
	if got := rec.ids(); len(got) != 1 {
		t.Fatalf("four gateways fired %v, want once", got)
	}
	// A gateway restarted ten minutes into the same incident has not seen it clear.
	if err := newTestEvaluator(t, s, rec, &clock{t: now0.Add(10 * time.Minute)}).Evaluate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := rec.ids(); len(got) != 1 {
		t.Fatalf("restarted gateway fired again: %v", got)
	}
	checkHistory(t, s, rec.sent())
}
