package config

import (
	"fmt"
	"maps"
	"math"
	"net/url"
	"strings"
)

// Telemetry configures OpenTelemetry tracing over OTLP/HTTP. Tracing is off
// unless an endpoint is set here or in the environment.
type Telemetry struct {
	// OTLPEndpoint is the collector's OTLP/HTTP URL: a base such as
	// http://collector:4318 (the traces path /v1/traces is added) or a full
	// URL with its path; https uses TLS. Literal or ${ENV}. Left empty, the
	// first set of SWITCHYARD_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT
	// and OTEL_EXPORTER_OTLP_ENDPOINT is used.
	OTLPEndpoint string `yaml:"otlp_endpoint"`
	// OTLPHeaders are sent with every export, usually a hosted backend's
	// API key; values may be ${ENV}. Left empty, OTEL_EXPORTER_OTLP_HEADERS
	// (k=v,k2=v2) is used.
	OTLPHeaders map[string]string `yaml:"otlp_headers"`
	// ServiceName is the service.name of every span (default
	// OTEL_SERVICE_NAME, else "switchyard").
	ServiceName string `yaml:"service_name"`
	// SampleRatio is the fraction, 0 to 1, of traces started by the
	// gateway that are recorded (default 1). A request whose caller sent a
	// traceparent follows the caller's sampling decision. A pointer so an
	// explicit 0 (record only traces callers sampled) differs from unset.
	SampleRatio *float64 `yaml:"sample_ratio"`
}

// Telemetry defaults.
const (
	DefaultServiceName = "switchyard"
	DefaultSampleRatio = 1.0
)

// endpointEnv lists, in precedence order, the variables that supply an
// endpoint the file leaves empty.
func endpointEnv() []string {
	return []string{"SWITCHYARD_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT"}
}

// Enabled reports whether traces are exported.
func (t Telemetry) Enabled() bool { return t.OTLPEndpoint != "" }

// Ratio is SampleRatio with its default applied.
func (t Telemetry) Ratio() float64 {
	if t.SampleRatio == nil {
		return DefaultSampleRatio
	}
	return *t.SampleRatio
}

// resolve expands ${NAME}, fills what the file leaves empty from the
// standard OpenTelemetry variables, and applies defaults. The file wins
// over the environment, as everywhere else in the config.
func (t *Telemetry) resolve(getenv func(string) (string, bool)) {
	if getenv == nil {
		getenv = noEnv
	}
	t.OTLPEndpoint, _ = expand(strings.TrimSpace(t.OTLPEndpoint), getenv)
	if t.OTLPEndpoint == "" {
		for _, name := range endpointEnv() {
			if v, ok := getenv(name); ok && strings.TrimSpace(v) != "" {
				t.OTLPEndpoint = strings.TrimSpace(v)
				break
			}
		}
	}
	for h, v := range t.OTLPHeaders {
		t.OTLPHeaders[h], _ = expand(v, getenv)
	}
	if len(t.OTLPHeaders) == 0 {
		if v, ok := getenv("OTEL_EXPORTER_OTLP_HEADERS"); ok {
			t.OTLPHeaders = parseOTLPHeaders(v)
		}
	}
	if t.ServiceName == "" {
		if v, ok := getenv("OTEL_SERVICE_NAME"); ok && strings.TrimSpace(v) != "" {
			t.ServiceName = strings.TrimSpace(v)
		} else {
			t.ServiceName = DefaultServiceName
		}
	}
	if t.SampleRatio == nil {
		r := DefaultSampleRatio
		t.SampleRatio = &r
	}
}

// parseOTLPHeaders reads the OTEL_EXPORTER_OTLP_HEADERS format: comma
// separated key=value pairs, values URL-encoded. Malformed pairs are
// skipped, as the OpenTelemetry SDKs do.
func parseOTLPHeaders(s string) map[string]string {
	var out map[string]string
	for pair := range strings.SplitSeq(s, ",") {
		k, v, ok := strings.Cut(pair, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			continue
		}
		dv, err := url.PathUnescape(strings.TrimSpace(v))
		if err != nil {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[k] = dv
	}
	return out
}

// validate checks the resolved section.
func (t Telemetry) validate(k *checker) {
	const f = "telemetry"
	if ep := t.OTLPEndpoint; ep != "" {
		if unset := unsetVars(ep); len(unset) > 0 {
			k.add(f+".otlp_endpoint", "environment variable %s is not set", unset[0])
		} else if u, err := url.Parse(ep); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			k.add(f+".otlp_endpoint", "want an http(s) URL such as http://collector:4318, got %q", redactURL(ep))
		} else if u.User != nil || u.RawQuery != "" {
			k.add(f+".otlp_endpoint", "must not carry credentials or a query; put them in otlp_headers")
		}
	}
	for _, h := range sortedKeys(t.OTLPHeaders) {
		if h == "" || strings.ContainsAny(h, " \t\r\n:") {
			k.add(f+".otlp_headers", "invalid header name %q", h)
		}
		for _, name := range unsetVars(t.OTLPHeaders[h]) {
			k.add(f+".otlp_headers."+h, "environment variable %s is not set", name)
		}
	}
	// "" is a Config built in code without resolve; the exporter defaults it.
	if t.ServiceName != "" && strings.TrimSpace(t.ServiceName) == "" {
		k.add(f+".service_name", "must not be blank")
	}
	if r := t.Ratio(); math.IsNaN(r) || r < 0 || r > 1 {
		k.add(f+".sample_ratio", "must be between 0 and 1 (got %s)", fmt.Sprint(r))
	}
}

// clone deep-copies the section so copies share no map or pointer.
func (t Telemetry) clone() Telemetry {
	t.OTLPHeaders = maps.Clone(t.OTLPHeaders)
	if t.SampleRatio != nil {
		r := *t.SampleRatio
		t.SampleRatio = &r
	}
	return t
}

// redacted masks every export header value, not only those whose names
// look secret: collector credentials hide behind names like
// x-honeycomb-team.
func (t Telemetry) redacted() Telemetry {
	t = t.clone()
	for h, v := range t.OTLPHeaders {
		t.OTLPHeaders[h] = MaskSecret(v)
	}
	t.OTLPEndpoint = redactURL(t.OTLPEndpoint)
	return t
}
