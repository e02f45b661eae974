package config

import (
	"maps"
	"math"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// telemetryFrom decodes a telemetry section, resolves it against env and
// validates it, as Parse does for a whole file.
func telemetryFrom(t *testing.T, src string, env map[string]string) (Telemetry, []FieldError) {
	t.Helper()
	var tel Telemetry
	if err := yaml.Unmarshal([]byte(src), &tel); err != nil {
		t.Fatal(err)
	}
	tel.resolve(fakeEnv(env))
	k := &checker{}
	tel.validate(k)
	return tel, k.errs
}

func TestTelemetryResolve(t *testing.T) {
	tests := []struct {
		name        string
		src         string
		env         map[string]string
		wantEnd     string
		wantHeaders map[string]string
		wantService string
		wantRatio   float64
	}{
		{
			name: "empty section is off with defaults", src: "{}",
			wantService: "switchyard", wantRatio: 1,
		},
		{
			name: "file values", src: "{otlp_endpoint: 'https://otel.example.com', otlp_headers: {x-team: a}, service_name: gw, sample_ratio: 0.5}",
			wantEnd: "https://otel.example.com", wantHeaders: map[string]string{"x-team": "a"}, wantService: "gw", wantRatio: 0.5,
		},
		{
			name: "explicit zero ratio is kept", src: "{sample_ratio: 0}",
			wantService: "switchyard", wantRatio: 0,
		},
		{
			name: "file wins over the environment", src: "{otlp_endpoint: 'http://file:4318'}",
			env:     map[string]string{"SWITCHYARD_OTLP_ENDPOINT": "http://env:4318"},
			wantEnd: "http://file:4318", wantService: "switchyard", wantRatio: 1,
		},
		{
			name: "switchyard variable before the standard ones", src: "{}",
			env: map[string]string{"SWITCHYARD_OTLP_ENDPOINT": "http://sy:4318", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://std:4318",
				"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/v1/traces"},
			wantEnd: "http://sy:4318", wantService: "switchyard", wantRatio: 1,
		},
		{
			name: "traces endpoint before the generic one", src: "{}",
			env:     map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://std:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://traces:4318/v1/traces"},
			wantEnd: "http://traces:4318/v1/traces", wantService: "switchyard", wantRatio: 1,
		},
		{
			name: "standard variables", src: "{}",
			env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": " http://std:4318 ", "OTEL_SERVICE_NAME": "gw-eu",
				"OTEL_EXPORTER_OTLP_HEADERS": "api-key=s%20ecret, x-team = core ,broken,=novalue"},
			wantEnd: "http://std:4318", wantHeaders: map[string]string{"api-key": "s ecret", "x-team": "core"},
			wantService: "gw-eu", wantRatio: 1,
		},
		{
			name: "env expansion in endpoint and headers", src: "{otlp_endpoint: 'https://${COLLECTOR}:4318', otlp_headers: {x-honeycomb-team: '${HC_KEY}'}}",
			env:     map[string]string{"COLLECTOR": "otel.internal", "HC_KEY": "hc-123456789", "OTEL_EXPORTER_OTLP_HEADERS": "ignored=1"},
			wantEnd: "https://otel.internal:4318", wantHeaders: map[string]string{"x-honeycomb-team": "hc-123456789"},
			wantService: "switchyard", wantRatio: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tel, errs := telemetryFrom(t, tt.src, tt.env)
			if len(errs) > 0 {
				t.Fatalf("unexpected errors %v", errs)
			}
			if tel.OTLPEndpoint != tt.wantEnd || tel.Enabled() != (tt.wantEnd != "") {
				t.Errorf("endpoint %q enabled %v, want %q", tel.OTLPEndpoint, tel.Enabled(), tt.wantEnd)
			}
			if !maps.Equal(tel.OTLPHeaders, tt.wantHeaders) {
				t.Errorf("headers %v, want %v", tel.OTLPHeaders, tt.wantHeaders)
			}
			if tel.ServiceName != tt.wantService {
				t.Errorf("service %q, want %q", tel.ServiceName, tt.wantService)
			}
			if tel.Ratio() != tt.wantRatio {
				t.Errorf("ratio %v, want %v", tel.Ratio(), tt.wantRatio)
			}
		})
	}
}

func TestTelemetryValidate(t *testing.T) {
	tests := []struct {
		name, src string
		want      []string // substrings, one per expected error, in order
	}{
		{"valid", "{otlp_endpoint: 'http://127.0.0.1:4318/v1/traces', sample_ratio: 1}", nil},
		{"unknown scheme", "{otlp_endpoint: 'grpc://collector:4317'}", []string{"telemetry.otlp_endpoint: want an http(s) URL"}},
		{"bare host:port", "{otlp_endpoint: 'collector:4318'}", []string{"telemetry.otlp_endpoint: want an http(s) URL"}},
		{"credentials in url", "{otlp_endpoint: 'https://u:pw@collector'}", []string{"telemetry.otlp_endpoint: must not carry credentials"}},
		{"unset variable", "{otlp_endpoint: 'http://${NOPE}:4318'}", []string{"telemetry.otlp_endpoint: environment variable NOPE is not set"}},
		{"bad header", "{otlp_headers: {'bad name': x, ok: '${MISSING}'}}", []string{
			"telemetry.otlp_headers: invalid header name \"bad name\"",
			"telemetry.otlp_headers.ok: environment variable MISSING is not set",
		}},
		{"blank service", "{service_name: '  '}", []string{"telemetry.service_name: must not be blank"}},
		{"ratio above one", "{sample_ratio: 1.5}", []string{"telemetry.sample_ratio: must be between 0 and 1 (got 1.5)"}},
		{"negative ratio", "{sample_ratio: -0.1}", []string{"telemetry.sample_ratio: must be between 0 and 1"}},
		{"NaN ratio", "{sample_ratio: .nan}", []string{"telemetry.sample_ratio: must be between 0 and 1 (got NaN)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := telemetryFrom(t, tt.src, nil)
			if len(errs) != len(tt.want) {
				t.Fatalf("got %d errors %v, want %d", len(errs), errs, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(errs[i].Error(), w) {
					t.Errorf("error %d = %q, want %q", i, errs[i].Error(), w)
				}
				if strings.Contains(errs[i].Error(), "pw@") {
					t.Errorf("error leaks a password: %q", errs[i].Error())
				}
			}
		})
	}
}

func TestZeroTelemetryIsValid(t *testing.T) {
	// A Config built in code never ran resolve; its zero section is "off".
	k := &checker{}
	Telemetry{}.validate(k)
	if len(k.errs) > 0 || (Telemetry{}).Enabled() || (Telemetry{}).Ratio() != DefaultSampleRatio {
		t.Fatalf("zero section: errors %v", k.errs)
	}
}

func TestTelemetryRedactedAndClone(t *testing.T) {
	tel, _ := telemetryFrom(t, "{otlp_endpoint: 'http://collector:4318', otlp_headers: {x-honeycomb-team: hc-secret-value-1234}, sample_ratio: 0.5}", nil)
	r := tel.redacted()
	if got := r.OTLPHeaders["x-honeycomb-team"]; got != "****1234" {
		t.Errorf("redacted header %q", got)
	}
	if tel.OTLPHeaders["x-honeycomb-team"] != "hc-secret-value-1234" {
		t.Error("redacted modified the original")
	}
	c := tel.clone()
	*c.SampleRatio = 0.9
	c.OTLPHeaders["x"] = "y"
	if tel.Ratio() != 0.5 || len(tel.OTLPHeaders) != 1 {
		t.Error("clone shares state with the original")
	}
}

func TestExampleTelemetrySection(t *testing.T) {
	c := loadExample(t)
	tel := c.Telemetry
	// Idempotent: whether or not Parse already resolved the section.
	tel.resolve(fakeEnv(exampleEnv))
	k := &checker{}
	tel.validate(k)
	if len(k.errs) > 0 {
		t.Fatal(k.errs)
	}
	if tel.OTLPEndpoint != "http://127.0.0.1:4318" || tel.ServiceName != "switchyard" || math.Abs(tel.Ratio()-0.25) > 1e-12 {
		t.Errorf("example telemetry = %+v ratio %v", tel, tel.Ratio())
	}
}

func TestParseResolvesAndValidatesTelemetry(t *testing.T) {
	const base = "providers: [{name: sim, type: simulator, models: [m]}]\n"
	env := fakeEnv(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
	c, err := Parse([]byte(base), env)
	if err != nil {
		t.Fatal(err)
	}
	if c.Telemetry.OTLPEndpoint == "" || !c.Telemetry.Enabled() || c.Telemetry.ServiceName != DefaultServiceName {
		t.Fatalf("env endpoint not resolved through Parse: %+v", c.Telemetry)
	}
	if _, err := Parse([]byte(base+"telemetry: {otlp_endpoint: 'ftp://x', sample_ratio: 2}\n"), fakeEnv(nil)); err == nil ||
		!strings.Contains(err.Error(), "telemetry.") {
		t.Fatalf("invalid telemetry section accepted through Parse: %v", err)
	}
}
