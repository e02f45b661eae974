package telemetry

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"
)

// Annotate adds attrs to the span in ctx (the request's server span under
// Middleware). Without a recording span it returns at once.
func Annotate(ctx context.Context, attrs ...attribute.KeyValue) {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return
	}
	span.SetAttributes(attrs...)
}

// Request is the routing outcome of one chat request, as the chat service
// knows it when the request finishes.
type Request struct {
	Route    string // the alias or model the client asked for
	Provider string
	Target   string
	Model    string // the upstream model
	Status   string // "ok" or the error kind
	Cache    string // hit | miss | coalesced | bypass | ""
	Stream   bool
	// Partial marks a stream that broke after its first chunk.
	Partial          bool
	Attempts         int
	PromptTokens     int
	CompletionTokens int
	CachedTokens     int
	ReasoningTokens  int
	CostUSD          float64
}

// AnnotateRequest records r on the span in ctx as switchyard.* and
// gen_ai.* attributes. It costs one check when the span is not recording,
// so it can be called on every request.
func AnnotateRequest(ctx context.Context, r Request) {
	SpanFrom(ctx).AnnotateRequest(r)
}

// Span is a handle on a request's span for code that finishes after the
// request's context is gone, such as a stream closed by its relay: keep
// the handle, not the context.
type Span struct{ span trace.Span }

// SpanFrom returns the span in ctx (a no-op span when there is none).
func SpanFrom(ctx context.Context) Span { return Span{span: trace.SpanFromContext(ctx)} }

// AnnotateRequest is the package-level AnnotateRequest for a kept span.
// Attributes set after the span ended are dropped.
func (s Span) AnnotateRequest(r Request) {
	span := s.span
	if span == nil || !span.IsRecording() {
		return
	}
	attrs := make([]attribute.KeyValue, 0, 16)
	attrs = appendString(attrs, "switchyard.route", r.Route)
	attrs = appendString(attrs, "switchyard.provider", r.Provider)
	attrs = appendString(attrs, "switchyard.target", r.Target)
	attrs = appendString(attrs, "gen_ai.request.model", r.Route)
	attrs = appendString(attrs, "gen_ai.response.model", r.Model)
	attrs = appendString(attrs, "switchyard.status", r.Status)
	attrs = appendString(attrs, "switchyard.cache", r.Cache)
	attrs = append(attrs,
		attribute.Bool("switchyard.stream", r.Stream),
		attribute.Int("switchyard.attempts", r.Attempts),
		attribute.Int("gen_ai.usage.input_tokens", r.PromptTokens),
		attribute.Int("gen_ai.usage.output_tokens", r.CompletionTokens),
		attribute.Float64("switchyard.cost_usd", r.CostUSD),
	)
	if r.Partial {
		attrs = append(attrs, attribute.Bool("switchyard.partial", true))
	}
	if r.CachedTokens > 0 {
		attrs = append(attrs, attribute.Int("switchyard.usage.cached_tokens", r.CachedTokens))
	}
	if r.ReasoningTokens > 0 {
		attrs = append(attrs, attribute.Int("switchyard.usage.reasoning_tokens", r.ReasoningTokens))
	}
	span.SetAttributes(attrs...)
}

// appendString skips empty values: an absent attribute reads better in a
// trace view than an empty one.
func appendString(attrs []attribute.KeyValue, key, v string) []attribute.KeyValue {
	if v == "" {
		return attrs
	}
	return append(attrs, attribute.String(key, v))
}
