package metrics

import (
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestObserveCountsRequestsTokensCostAndCache(t *testing.T) {
	m := New()
	base := RequestMetric{Provider: "openai", Model: "gpt-4o-mini", Route: "auto", Status: "ok", Cache: "miss",
		Latency: 800 * time.Millisecond, TTFT: 120 * time.Millisecond,
		PromptTokens: 100, CompletionTokens: 40, CachedTokens: 20, ReasoningTokens: 5, CostUSD: 0.0012}
	m.Observe(base)
	m.Observe(base)
	hit := base
	hit.Cache, hit.CostUSD, hit.TTFT, hit.Latency = "hit", 0, 0, 3*time.Millisecond
	m.Observe(hit)
	failed := RequestMetric{Provider: "anthropic", Model: "claude", Route: "auto", Status: "unavailable", Latency: time.Second}
	m.Observe(failed)

	tests := []struct {
		name string
		got  float64
		want float64
	}{
		{"ok misses", testutil.ToFloat64(m.requests.WithLabelValues("openai", "gpt-4o-mini", "auto", "ok", "miss")), 2},
		{"ok hits", testutil.ToFloat64(m.requests.WithLabelValues("openai", "gpt-4o-mini", "auto", "ok", "hit")), 1},
		{"failures", testutil.ToFloat64(m.requests.WithLabelValues("anthropic", "claude", "auto", "unavailable", "")), 1},
		{"prompt tokens", testutil.ToFloat64(m.tokens.WithLabelValues("openai", "gpt-4o-mini", "prompt")), 300},
		{"completion tokens", testutil.ToFloat64(m.tokens.WithLabelValues("openai", "gpt-4o-mini", "completion")), 120},
		{"cached tokens", testutil.ToFloat64(m.tokens.WithLabelValues("openai", "gpt-4o-mini", "cached")), 60},
		{"reasoning tokens", testutil.ToFloat64(m.tokens.WithLabelValues("openai", "gpt-4o-mini", "reasoning")), 15},
		{"cost", testutil.ToFloat64(m.cost.WithLabelValues("openai", "gpt-4o-mini")), 0.0024},
		{"cache misses", testutil.ToFloat64(m.cacheResults.WithLabelValues("miss")), 2},
		{"cache hits", testutil.ToFloat64(m.cacheResults.WithLabelValues("hit")), 1},
		{"series of requests_total", float64(testutil.CollectAndCount(m.requests)), 3},
		{"series of cache_results_total (empty cache label not counted)", float64(testutil.CollectAndCount(m.cacheResults)), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := tt.got - tt.want; diff > 1e-12 || diff < -1e-12 {
				t.Fatalf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

func TestHistogramsUseLLMBuckets(t *testing.T) {
	m := New()
	m.Observe(RequestMetric{Provider: "p", Model: "m", Route: "r", Status: "ok", Latency: 7 * time.Millisecond, TTFT: 30 * time.Second})
	m.Observe(RequestMetric{Provider: "p", Model: "m", Route: "r", Status: "ok", Latency: 2 * time.Second})
	want := `
# HELP switchyard_request_duration_seconds Request latency, receipt to last byte.
# TYPE switchyard_request_duration_seconds histogram
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.005"} 0
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.01"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.025"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.05"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.1"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.25"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="0.5"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="1"} 1
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="2.5"} 2
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="5"} 2
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="10"} 2
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="20"} 2
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="30"} 2
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="60"} 2
switchyard_request_duration_seconds_bucket{model="m",provider="p",route="r",le="+Inf"} 2
switchyard_request_duration_seconds_sum{model="m",provider="p",route="r"} 2.007
switchyard_request_duration_seconds_count{model="m",provider="p",route="r"} 2
# HELP switchyard_time_to_first_token_seconds Streaming requests: receipt to first token.
# TYPE switchyard_time_to_first_token_seconds histogram
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.005"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.01"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.025"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.05"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.1"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.25"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="0.5"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="1"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="2.5"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="5"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="10"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="20"} 0
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="30"} 1
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="60"} 1
switchyard_time_to_first_token_seconds_bucket{model="m",provider="p",route="r",le="+Inf"} 1
switchyard_time_to_first_token_seconds_sum{model="m",provider="p",route="r"} 30
switchyard_time_to_first_token_seconds_count{model="m",provider="p",route="r"} 1
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"switchyard_request_duration_seconds", "switchyard_time_to_first_token_seconds"); err != nil {
		t.Fatal(err)
	}
}

func TestBreakerStateReadAtScrapeTime(t *testing.T) {
	var mu sync.Mutex
	states := []TargetState{{"openai", "openai/gpt-4o", Closed}, {"anthropic", "anthropic/claude", Open}}
	m := New(WithBreakerStates(func() []TargetState {
		mu.Lock()
		defer mu.Unlock()
		return states
	}))
	want := func(body string) string {
		return "# HELP switchyard_breaker_state Circuit state per target: 0 closed, 1 half-open, 2 open, 3 cooling.\n" +
			"# TYPE switchyard_breaker_state gauge\n" + body
	}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want(
		`switchyard_breaker_state{provider="anthropic",target="anthropic/claude"} 2
switchyard_breaker_state{provider="openai",target="openai/gpt-4o"} 0
`)), "switchyard_breaker_state"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	states = []TargetState{{"openai", "openai/gpt-4o", HalfOpen}, {"gemini", "gemini/flash", Cooling}}
	mu.Unlock()
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want(
		`switchyard_breaker_state{provider="gemini",target="gemini/flash"} 3
switchyard_breaker_state{provider="openai",target="openai/gpt-4o"} 1
`)), "switchyard_breaker_state"); err != nil {
		t.Fatal(err)
	}
}

func TestInFlightGauge(t *testing.T) {
	m := New()
	m.RequestStarted()
	m.RequestStarted()
	m.RequestFinished()
	if got := testutil.ToFloat64(m.inFlight); got != 1 {
		t.Fatalf("in flight = %v, want 1", got)
	}
}

func TestHandlerServesTextExposition(t *testing.T) {
	m := New(WithBreakerStates(func() []TargetState { return []TargetState{{"sim", "sim/small", Closed}} }))
	m.Observe(RequestMetric{Provider: "sim", Model: "sim-small", Route: "auto", Status: "ok", Cache: "miss",
		Latency: 50 * time.Millisecond, PromptTokens: 4, CompletionTokens: 24, CostUSD: 0.5})
	m.RequestStarted()

	srv := httptest.NewServer(m.Handler())
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, line := range []string{
		`switchyard_requests_total{cache="miss",model="sim-small",provider="sim",route="auto",status="ok"} 1`,
		`switchyard_tokens_total{kind="completion",model="sim-small",provider="sim"} 24`,
		`switchyard_tokens_total{kind="prompt",model="sim-small",provider="sim"} 4`,
		`switchyard_cost_usd_total{model="sim-small",provider="sim"} 0.5`,
		`switchyard_cache_results_total{result="miss"} 1`,
		`switchyard_breaker_state{provider="sim",target="sim/small"} 0`,
		`switchyard_in_flight_requests 1`,
		`switchyard_request_duration_seconds_count{model="sim-small",provider="sim",route="auto"} 1`,
	} {
		if !strings.Contains(string(body), line+"\n") {
			t.Errorf("scrape lacks %q", line)
		}
	}
	if t.Failed() {
		t.Logf("scrape:\n%s", body)
	}
}

func TestRegistryIsPrivate(t *testing.T) {
	a, b := New(), New() // would panic on duplicate registration with a shared registry
	a.Observe(RequestMetric{Provider: "p", Model: "m", Route: "r", Status: "ok"})
	if n := testutil.CollectAndCount(b.requests); n != 0 {
		t.Fatalf("second Metrics sees %d series of the first", n)
	}
}

func BenchmarkObserve(b *testing.B) {
	m := New()
	r := RequestMetric{Provider: "openai", Model: "gpt-4o-mini", Route: "auto", Status: "ok", Cache: "miss",
		Latency: 800 * time.Millisecond, TTFT: 120 * time.Millisecond,
		PromptTokens: 100, CompletionTokens: 40, CachedTokens: 20, ReasoningTokens: 5, CostUSD: 0.0012}
	m.Observe(r)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe(r)
		}
	})
}

func TestLedgerDroppedExportedAsCounter(t *testing.T) {
	tests := []struct {
		name    string
		dropped uint64
		want    string
	}{
		{"none", 0, "switchyard_ledger_dropped_total 0\n"},
		{"some", 7, "switchyard_ledger_dropped_total 7\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := New(WithLedgerDropped(func() uint64 { return tt.dropped }))
			rec := httptest.NewRecorder()
			m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
			body := rec.Body.String()
			if !strings.Contains(body, "# TYPE switchyard_ledger_dropped_total counter\n") || !strings.Contains(body, tt.want) {
				t.Fatalf("missing ledger counter in:\n%s", body)
			}
		})
	}
}

func TestPanicPicksExportedAsCounter(t *testing.T) {
	var n atomic.Uint64
	m := New(WithPanicPicks(n.Load))
	for _, want := range []uint64{0, 3} {
		n.Store(want)
		body := scrapeOf(m)
		if !strings.Contains(body, "# TYPE switchyard_panic_picks_total counter\n") ||
			!strings.Contains(body, fmt.Sprintf("switchyard_panic_picks_total %d\n", want)) {
			t.Fatalf("want panic_picks_total %d in:\n%s", want, body)
		}
	}
	if strings.Contains(scrapeOf(New()), "panic_picks_total") {
		t.Fatal("panic counter exported without a source")
	}
}

func scrapeOf(m *Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
