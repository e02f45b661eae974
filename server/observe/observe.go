// Package observe fans each finished request's lifecycle record out to its
// sinks: the request's trace span, Prometheus and the usage ledger. It is
// the gateway's Observer, kept out of main so main only wires.
package observe

import (
	"context"

	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/server/metrics"
	"github.com/switchyard/switchyard/server/telemetry"
	"github.com/switchyard/switchyard/store"
)

// Observer is a gateway.Observer over metrics and an optional ledger.
type Observer struct {
	m      *metrics.Metrics
	ledger *store.Ledger // nil without storage (tests)
	tail   *Tail         // nil: no live view
}

// ObserverOption configures an Observer.
type ObserverOption func(*Observer)

// WithTail also publishes every finished request to t (the console's live view).
func WithTail(t *Tail) ObserverOption { return func(o *Observer) { o.tail = t } }

// New returns the observer; ledger may be nil.
func New(m *metrics.Metrics, ledger *store.Ledger, opts ...ObserverOption) *Observer {
	o := &Observer{m: m, ledger: ledger}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

var _ gateway.Observer = (*Observer)(nil)

// RequestStarted counts a request in flight.
func (o *Observer) RequestStarted() { o.m.RequestStarted() }

// RequestFinished counts it out.
func (o *Observer) RequestFinished() { o.m.RequestFinished() }

// Observe records one finished request in every sink.
func (o *Observer) Observe(ctx context.Context, r gateway.Record) {
	telemetry.SpanFrom(ctx).AnnotateRequest(telemetry.Request{Route: r.Route, Provider: r.Provider, Target: r.Target, Model: r.Model,
		Status: r.Status, Cache: r.Cache, Stream: r.Stream, Partial: r.Partial, Attempts: r.Attempts,
		PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens,
		CachedTokens: r.Usage.CachedTokens, ReasoningTokens: r.Usage.ReasoningTokens, CostUSD: r.Cost.Dollars()})
	o.m.Observe(metrics.RequestMetric{
		Provider: r.Provider, Model: r.Model, Route: r.Route, Status: r.Status, Cache: r.Cache,
		Latency: r.Latency, TTFT: r.TTFT, PromptTokens: r.Usage.PromptTokens, CompletionTokens: r.Usage.CompletionTokens,
		CachedTokens: r.Usage.CachedTokens, ReasoningTokens: r.Usage.ReasoningTokens, CostUSD: r.Cost.Dollars(),
	})
	if o.tail != nil {
		o.tail.Publish(r)
	}
	if o.ledger == nil {
		return
	}
	o.ledger.Record(store.UsageRecord{
		RequestID: r.RequestID, KeyID: r.Client, Route: r.Route, Dialect: r.Dialect, Provider: r.Provider, Model: r.Model, Target: r.Target,
		PromptTokens: int64(r.Usage.PromptTokens), CompletionTokens: int64(r.Usage.CompletionTokens),
		CachedTokens: int64(r.Usage.CachedTokens), ReasoningTokens: int64(r.Usage.ReasoningTokens), CostNanos: int64(r.Cost),
		LatencyMS: r.Latency.Milliseconds(), TTFTMS: r.TTFT.Milliseconds(), Status: r.Status, Cache: r.Cache,
		Attempts: r.Attempts, Stream: r.Stream, Partial: r.Partial, Estimated: r.Estimated,
	})
}
