// Package metrics exposes the gateway's Prometheus metrics on a private
// registry: one Observe call per finished request feeds the request,
// latency, token, cost and cache series; breaker states are read at scrape
// time from a callback so they can never go stale.
package metrics

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// latencyBuckets (seconds) span a cached answer (ms) to a long reasoning
// completion (a minute).
func latencyBuckets() []float64 {
	return []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60}
}

// RequestMetric describes one finished request. Labels should be bounded
// sets: pass the resolved route and the provider's model, not whatever the
// client typed, or each typo becomes a series.
type RequestMetric struct {
	Provider string
	Model    string
	Route    string
	// Status is the outcome class: "ok" or an error kind such as
	// "rate_limited", "unavailable", "timeout", "canceled".
	Status string
	// Cache is "hit", "miss", "coalesced", "bypass" or "" when the cache
	// was not consulted; non-empty values also count in cache_results_total.
	Cache   string
	Latency time.Duration
	// TTFT is the time to the first streamed byte; 0 for unary requests
	// (not observed).
	TTFT             time.Duration
	PromptTokens     int
	CompletionTokens int
	CachedTokens     int
	ReasoningTokens  int
	CostUSD          float64
}

// BreakerState is a target's circuit state as the breaker_state gauge
// encodes it.
type BreakerState int

// Breaker states.
const (
	Closed BreakerState = iota
	HalfOpen
	Open
	Cooling
)

// TargetState is one provider target's breaker state at scrape time.
type TargetState struct {
	Provider string
	Target   string
	State    BreakerState
}

// Option configures Metrics.
type Option func(*config)

type config struct {
	namespace string
	states    func() []TargetState
	runtime   bool
	dropped   func() uint64
	panics    func() uint64
	quotas    func() (reserve, refused, errs uint64)
	semantic  func() SemanticCounts
}

// WithNamespace prefixes every metric name (default "switchyard").
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithBreakerStates sets the callback read on every scrape for the
// breaker_state gauge. It must be safe for concurrent use and fast, and
// list each (provider, target) once: duplicates fail the scrape.
func WithBreakerStates(fn func() []TargetState) Option {
	return func(c *config) { c.states = fn }
}

// WithLedgerDropped exports fn, read on every scrape, as the ledger_dropped_total counter:
// usage records the ledger dropped because its queue stayed full or it was closed.
func WithLedgerDropped(fn func() uint64) Option { return func(c *config) { c.dropped = fn } }

// WithPanicPicks exports fn, read on every scrape, as the panic_picks_total
// counter: targets tried although every target of their route was
// breaker-open (route panic mode).
func WithPanicPicks(fn func() uint64) Option { return func(c *config) { c.panics = fn } }

// WithQuotaCounts exports fn, read on every scrape, as
// provider_quota_total{outcome}: picks that drew on a key's reserve,
// requests refused because every key was at its quota, and meter errors.
func WithQuotaCounts(fn func() (reserve, refused, errs uint64)) Option {
	return func(c *config) { c.quotas = fn }
}

// SemanticCounts are the semantic cache's counters (semantic.Stats).
type SemanticCounts struct {
	Hits, Misses, FalseHitReports, EmbedErrors, Stale uint64
	Entries                                           int
}

// WithSemanticCache exports fn, read on every scrape, as
// semantic_cache_total{outcome="hit"|"miss"|"false_hit_report"|"embed_error"|"stale"}
// and the semantic_cache_entries gauge.
func WithSemanticCache(fn func() SemanticCounts) Option { return func(c *config) { c.semantic = fn } }

// WithRuntimeMetrics adds the Go runtime and process collectors.
func WithRuntimeMetrics() Option { return func(c *config) { c.runtime = true } }

// Metrics holds the collectors and a cache of their labelled children so
// Observe does no label hashing after a label set's first request.
type Metrics struct {
	reg *prometheus.Registry

	requests     *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	ttft         *prometheus.HistogramVec
	tokens       *prometheus.CounterVec
	cost         *prometheus.CounterVec
	cacheResults *prometheus.CounterVec
	inFlight     prometheus.Gauge

	mu       sync.RWMutex
	children map[childKey]*children
	cacheRes map[string]prometheus.Counter
}

type childKey struct{ provider, model, route, status, cache string }

type children struct {
	requests  prometheus.Counter
	latency   prometheus.Observer
	ttft      prometheus.Observer
	prompt    prometheus.Counter
	compl     prometheus.Counter
	cached    prometheus.Counter
	reasoning prometheus.Counter
	cost      prometheus.Counter
	cacheRes  prometheus.Counter // nil when cache == ""
}

// New registers the gateway's collectors on a fresh registry.
func New(opts ...Option) *Metrics {
	c := config{namespace: "switchyard"}
	for _, o := range opts {
		o(&c)
	}
	ns := c.namespace
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "requests_total", Help: "Finished requests.",
		}, []string{"provider", "model", "route", "status", "cache"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "request_duration_seconds", Help: "Request latency, receipt to last byte.",
			Buckets: latencyBuckets(),
		}, []string{"provider", "model", "route"}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: ns, Name: "time_to_first_token_seconds", Help: "Streaming requests: receipt to first token.",
			Buckets: latencyBuckets(),
		}, []string{"provider", "model", "route"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "tokens_total", Help: "Tokens by kind (cached and reasoning are subsets of prompt and completion).",
		}, []string{"provider", "model", "kind"}),
		cost: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cost_usd_total", Help: "Upstream cost in USD.",
		}, []string{"provider", "model"}),
		cacheResults: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: ns, Name: "cache_results_total", Help: "Response cache outcomes.",
		}, []string{"result"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: ns, Name: "in_flight_requests", Help: "Requests being served.",
		}),
		children: make(map[childKey]*children),
		cacheRes: make(map[string]prometheus.Counter),
	}
	m.reg.MustRegister(m.requests, m.latency, m.ttft, m.tokens, m.cost, m.cacheResults, m.inFlight)
	if c.states != nil {
		m.reg.MustRegister(&breakerCollector{
			desc: prometheus.NewDesc(prometheus.BuildFQName(ns, "", "breaker_state"),
				"Circuit state per target: 0 closed, 1 half-open, 2 open, 3 cooling.",
				[]string{"provider", "target"}, nil),
			states: c.states,
		})
	}
	if c.dropped != nil {
		fn := c.dropped
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: ns, Name: "ledger_dropped_total",
			Help: "Usage records dropped by the ledger (queue full after the enqueue wait, or closed).",
		}, func() float64 { return float64(fn()) }))
	}
	if c.panics != nil {
		fn := c.panics
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: ns, Name: "panic_picks_total",
			Help: "Targets tried in panic mode: every target of the route was breaker-open.",
		}, func() float64 { return float64(fn()) }))
	}
	if c.quotas != nil {
		fn := c.quotas
		for i, outcome := range []string{"reserve", "refused", "meter_error"} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: ns, Name: "provider_quota_total", ConstLabels: prometheus.Labels{"outcome": outcome},
				Help: "Quota-aware routing: picks that drew on a provider key's reserve, requests refused with every key at its quota, meter errors.",
			}, func() float64 {
				v := [3]uint64{}
				v[0], v[1], v[2] = fn()
				return float64(v[i])
			}))
		}
	}
	if c.semantic != nil {
		fn := c.semantic
		for _, o := range []struct {
			outcome string
			get     func(SemanticCounts) uint64
		}{
			{"hit", func(s SemanticCounts) uint64 { return s.Hits }},
			{"miss", func(s SemanticCounts) uint64 { return s.Misses }},
			{"false_hit_report", func(s SemanticCounts) uint64 { return s.FalseHitReports }},
			{"embed_error", func(s SemanticCounts) uint64 { return s.EmbedErrors }},
			{"stale", func(s SemanticCounts) uint64 { return s.Stale }},
		} {
			m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
				Namespace: ns, Name: "semantic_cache_total", ConstLabels: prometheus.Labels{"outcome": o.outcome},
				Help: "Semantic cache lookups by outcome, and false-hit reports.",
			}, func() float64 { return float64(o.get(fn())) }))
		}
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: ns, Name: "semantic_cache_entries", Help: "Entries in the semantic cache's index.",
		}, func() float64 { return float64(fn().Entries) }))
	}
	if c.runtime {
		m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	return m
}

// Observe records one finished request.
func (m *Metrics) Observe(r RequestMetric) {
	k := childKey{r.Provider, r.Model, r.Route, r.Status, r.Cache}
	m.mu.RLock()
	ch := m.children[k]
	m.mu.RUnlock()
	if ch == nil {
		ch = m.newChildren(k)
	}
	ch.requests.Inc()
	ch.latency.Observe(r.Latency.Seconds())
	if r.TTFT > 0 {
		ch.ttft.Observe(r.TTFT.Seconds())
	}
	addTokens(ch.prompt, r.PromptTokens)
	addTokens(ch.compl, r.CompletionTokens)
	addTokens(ch.cached, r.CachedTokens)
	addTokens(ch.reasoning, r.ReasoningTokens)
	if r.CostUSD > 0 {
		ch.cost.Add(r.CostUSD)
	}
	if ch.cacheRes != nil {
		ch.cacheRes.Inc()
	}
}

func addTokens(c prometheus.Counter, n int) {
	if n > 0 {
		c.Add(float64(n))
	}
}

// newChildren resolves the label children for k once; Observe reuses them.
func (m *Metrics) newChildren(k childKey) *children {
	m.mu.Lock()
	defer m.mu.Unlock()
	if ch := m.children[k]; ch != nil {
		return ch
	}
	ch := &children{
		requests:  m.requests.WithLabelValues(k.provider, k.model, k.route, k.status, k.cache),
		latency:   m.latency.WithLabelValues(k.provider, k.model, k.route),
		ttft:      m.ttft.WithLabelValues(k.provider, k.model, k.route),
		prompt:    m.tokens.WithLabelValues(k.provider, k.model, "prompt"),
		compl:     m.tokens.WithLabelValues(k.provider, k.model, "completion"),
		cached:    m.tokens.WithLabelValues(k.provider, k.model, "cached"),
		reasoning: m.tokens.WithLabelValues(k.provider, k.model, "reasoning"),
		cost:      m.cost.WithLabelValues(k.provider, k.model),
	}
	if k.cache != "" {
		ch.cacheRes = m.cacheResultLocked(k.cache)
	}
	m.children[k] = ch
	return ch
}

func (m *Metrics) cacheResultLocked(result string) prometheus.Counter {
	c := m.cacheRes[result]
	if c == nil {
		c = m.cacheResults.WithLabelValues(result)
		m.cacheRes[result] = c
	}
	return c
}

// RequestStarted and RequestFinished bracket a request for the in-flight
// gauge (call Finished in a defer).
func (m *Metrics) RequestStarted() { m.inFlight.Inc() }

// RequestFinished: see RequestStarted.
func (m *Metrics) RequestFinished() { m.inFlight.Dec() }

// Registry is the private registry, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus text (or negotiated
// OpenMetrics/protobuf) format for GET /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// breakerCollector reads breaker states at scrape time, so a removed target
// simply stops being reported instead of leaving a stale series.
type breakerCollector struct {
	desc   *prometheus.Desc
	states func() []TargetState
}

func (b *breakerCollector) Describe(ch chan<- *prometheus.Desc) { ch <- b.desc }

func (b *breakerCollector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range b.states() {
		ch <- prometheus.MustNewConstMetric(b.desc, prometheus.GaugeValue, float64(s.State), s.Provider, s.Target)
	}
}
