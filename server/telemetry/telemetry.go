// Package telemetry exports OpenTelemetry traces over OTLP/HTTP: one
// server span per request (continuing a caller's W3C traceparent), one
// client span per upstream provider call, and the routing outcome as
// attributes of the server span.
//
// With no endpoint configured everything here is a no-op that costs
// nothing: Middleware and Transport return what they were given, and
// Annotate stops at a non-recording span. Nothing is registered globally
// (no otel.SetTracerProvider): the provider and propagator live in Tracing.
package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// DefaultServiceName is the service.name resource attribute when Options
// leaves it empty.
const DefaultServiceName = "switchyard"

// tracesPath is the OTLP/HTTP traces path, appended to an endpoint given
// as a bare base URL (as OTEL_EXPORTER_OTLP_ENDPOINT is).
const tracesPath = "/v1/traces"

// instrumentationName names the tracer, so backends can tell our spans
// from those of other libraries.
const instrumentationName = "github.com/switchyard/switchyard/server/telemetry"

// Options configure Tracing.
type Options struct {
	// Endpoint is the collector: a URL such as http://collector:4318 (the
	// path defaults to /v1/traces; https uses TLS) or a bare host:port.
	// Empty disables tracing.
	Endpoint string
	// Headers are sent with every export (e.g. an API key for a hosted
	// backend).
	Headers map[string]string
	// ServiceName is the service.name resource attribute (default
	// "switchyard"); ServiceVersion, when set, is service.version.
	ServiceName    string
	ServiceVersion string
	// SampleRatio is the fraction, in [0,1], of traces started here that are
	// recorded; out-of-range values are capped. A request whose caller sent
	// a traceparent follows the caller's decision instead, so 0 records only
	// traces a caller sampled. The config section defaults it to 1.
	SampleRatio float64
	// Insecure sends plain HTTP to a bare host:port Endpoint; a URL
	// endpoint's scheme decides by itself.
	Insecure bool
	// ExportTimeout bounds one export request (default 10s).
	ExportTimeout time.Duration
}

// Tracing owns the tracer provider and its batch exporter. The zero value
// and a Tracing built without an endpoint are disabled no-ops.
type Tracing struct {
	tp     *sdktrace.TracerProvider // nil when disabled
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
}

// New builds Tracing. With an empty Endpoint it returns a disabled Tracing
// and starts nothing; otherwise it starts a batch span processor that
// exports in the background until Shutdown. log receives export failures
// (once per outage, not once per batch); nil discards.
func New(ctx context.Context, opts Options, log hclog.Logger) (*Tracing, error) {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	if strings.TrimSpace(opts.Endpoint) == "" {
		return &Tracing{}, nil
	}
	eopts, shown, err := exporterOptions(opts)
	if err != nil {
		return nil, err
	}
	exp, err := otlptracehttp.New(ctx, eopts...)
	if err != nil {
		return nil, fmt.Errorf("telemetry: otlp exporter: %w", err)
	}
	name := opts.ServiceName
	if name == "" {
		name = DefaultServiceName
	}
	attrs := []attribute.KeyValue{attribute.String("service.name", name)}
	if opts.ServiceVersion != "" {
		attrs = append(attrs, attribute.String("service.version", opts.ServiceVersion))
	}
	// Default carries telemetry.sdk.* and OTEL_RESOURCE_ATTRIBUTES; ours
	// is merged last so the configured service name wins.
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(attrs...))
	if err != nil {
		return nil, fmt.Errorf("telemetry: resource: %w", err)
	}
	ratio := min(max(opts.SampleRatio, 0), 1)
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(&loggingExporter{SpanExporter: exp, log: log}),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(ratio))),
	)
	log.Info("exporting traces over OTLP/HTTP", "endpoint", shown, "service", name, "sample_ratio", ratio)
	return &Tracing{
		tp:     tp,
		tracer: tp.Tracer(instrumentationName),
		prop:   propagation.TraceContext{},
	}, nil
}

// exporterOptions turns Options into exporter options and the endpoint as
// it may be logged (no credentials, no query).
func exporterOptions(opts Options) ([]otlptracehttp.Option, string, error) {
	ep := strings.TrimSpace(opts.Endpoint)
	timeout := opts.ExportTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	out := []otlptracehttp.Option{
		otlptracehttp.WithCompression(otlptracehttp.GzipCompression),
		otlptracehttp.WithTimeout(timeout),
	}
	if len(opts.Headers) > 0 {
		out = append(out, otlptracehttp.WithHeaders(opts.Headers))
	}
	if !strings.Contains(ep, "://") {
		if _, _, err := net.SplitHostPort(ep); err != nil {
			return nil, "", fmt.Errorf("telemetry: endpoint %q: want http(s)://host:port[/path] or host:port", ep)
		}
		out = append(out, otlptracehttp.WithEndpoint(ep), otlptracehttp.WithURLPath(tracesPath))
		if opts.Insecure {
			out = append(out, otlptracehttp.WithInsecure())
		}
		return out, ep, nil
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, "", fmt.Errorf("telemetry: endpoint %q: want http(s)://host:port[/path] or host:port", redactEndpoint(ep))
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, "", errors.New("telemetry: endpoint must not carry credentials or a query; use headers")
	}
	// A bare base URL means the standard path, as OTEL_EXPORTER_OTLP_ENDPOINT
	// does; the exporter itself would post to "/".
	if u.Path == "" || u.Path == "/" {
		u.Path = tracesPath
	}
	out = append(out, otlptracehttp.WithEndpointURL(u.String()))
	return out, u.String(), nil
}

func redactEndpoint(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

// Enabled reports whether spans are recorded and exported.
func (t *Tracing) Enabled() bool { return t != nil && t.tp != nil }

// Shutdown exports every span still queued and stops the exporter; spans
// started afterwards are dropped. ctx bounds the flush.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if !t.Enabled() {
		return nil
	}
	if err := t.tp.Shutdown(ctx); err != nil {
		return fmt.Errorf("telemetry: shutdown: %w", err)
	}
	return nil
}

// Close is Shutdown with a 5-second bound, for defer.
func (t *Tracing) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return t.Shutdown(ctx)
}

// loggingExporter reports export failures through the injected logger
// rather than otel's global error handler (which writes to the standard
// logger): a warning when an outage starts, debug while it lasts, info
// when exports succeed again.
type loggingExporter struct {
	sdktrace.SpanExporter
	log     hclog.Logger
	failing atomic.Bool
}

func (e *loggingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		if !e.failing.Swap(true) {
			e.log.Warn("exporting traces failed; spans are dropped until the collector answers", "error", err, "spans", len(spans))
		} else {
			e.log.Debug("exporting traces failed", "error", err, "spans", len(spans))
		}
		// Already reported; returning it would log it again globally.
		return nil
	}
	if e.failing.Swap(false) {
		e.log.Info("exporting traces again")
	}
	return nil
}
