package telemetry

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/go-hclog"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"

	"github.com/switchyard/switchyard/server/middleware"
)

// gateway is a miniature of the real handler tree: request ids outside,
// tracing inside, a ServeMux with one REST pattern whose handler calls an
// upstream through the traced transport and annotates the span.
func gateway(tr *Tracing, upstream string) http.Handler {
	client := &http.Client{Transport: tr.Transport(http.DefaultTransport.(*http.Transport).Clone())}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		req, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, upstream+"/v1/chat/completions?key=upstream-secret", strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer sk-upstream")
		resp, err := client.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		AnnotateRequest(r.Context(), Request{Route: "chat", Provider: "openai", Target: "openai/gpt-4o-mini", Model: "gpt-4o-mini",
			Status: "ok", Cache: "miss", Attempts: 1, PromptTokens: 12, CompletionTokens: 34, CostUSD: 0.0025})
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(body)
	})
	return middleware.Wrap(hclog.NewNullLogger(), 0, tr.Middleware(mux))
}

// upstream answers like a provider and records the traceparent it got.
type upstream struct {
	srv *httptest.Server

	mu          sync.Mutex
	traceparent string
	status      int
}

func newUpstream(t *testing.T, status int) *upstream {
	u := &upstream{status: status}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.traceparent = r.Header.Get("Traceparent")
		u.mu.Unlock()
		w.WriteHeader(u.status)
		_, _ = w.Write([]byte(`{"id":"x"}`))
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) gotTraceparent() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.traceparent
}

func byKind(t *testing.T, spans []exported, kind tracepb.Span_SpanKind) exported {
	t.Helper()
	var found []exported
	for _, s := range spans {
		if s.span.GetKind() == kind {
			found = append(found, s)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one %v span, got %d of %d", kind, len(found), len(spans))
	}
	return found[0]
}

func TestRequestProducesServerSpanWithChildClientSpan(t *testing.T) {
	rc := newReceiver(t)
	up := newUpstream(t, http.StatusOK)
	tr := newTracing(t, rc.srv.URL, 1)
	gw := httptest.NewServer(gateway(tr, up.srv.URL))
	t.Cleanup(gw.Close)

	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", strings.NewReader(`{"model":"chat"}`))
	req.Header.Set(middleware.RequestIDHeader, "req_trace_test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	flush(t, tr)

	spans := rc.spans(t)
	if len(spans) != 2 {
		t.Fatalf("got %d spans, want 2", len(spans))
	}
	server := byKind(t, spans, tracepb.Span_SPAN_KIND_SERVER)
	client := byKind(t, spans, tracepb.Span_SPAN_KIND_CLIENT)

	t.Run("server span", func(t *testing.T) {
		s := server.span
		if s.GetName() != "POST /v1/chat/completions" {
			t.Errorf("name %q", s.GetName())
		}
		if server.service != "switchyard-test" {
			t.Errorf("service.name %q", server.service)
		}
		if len(s.GetParentSpanId()) != 0 {
			t.Errorf("a request without traceparent must start a root span, parent %x", s.GetParentSpanId())
		}
		want := map[string]any{
			"http.request.method": "POST", "url.path": "/v1/chat/completions", "http.route": "/v1/chat/completions",
			"http.response.status_code": int64(200), "switchyard.request_id": "req_trace_test",
			"switchyard.route": "chat", "switchyard.provider": "openai", "switchyard.target": "openai/gpt-4o-mini",
			"gen_ai.response.model": "gpt-4o-mini", "switchyard.cache": "miss", "switchyard.status": "ok",
			"switchyard.attempts": int64(1), "gen_ai.usage.input_tokens": int64(12),
			"gen_ai.usage.output_tokens": int64(34), "switchyard.cost_usd": 0.0025, "switchyard.stream": false,
		}
		checkAttrs(t, attrs(s.GetAttributes()), want)
		if _, ok := attrs(s.GetAttributes())["rpc.system"]; ok {
			t.Error("a REST request must not carry rpc.system")
		}
		if s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR {
			t.Error("a 200 must not be an error")
		}
	})
	t.Run("client span is a child in the same trace", func(t *testing.T) {
		c := client.span
		if !bytes.Equal(c.GetTraceId(), server.span.GetTraceId()) {
			t.Errorf("trace ids differ: client %x server %x", c.GetTraceId(), server.span.GetTraceId())
		}
		if !bytes.Equal(c.GetParentSpanId(), server.span.GetSpanId()) {
			t.Errorf("client parent %x, want server span %x", c.GetParentSpanId(), server.span.GetSpanId())
		}
		if c.GetName() != "POST /v1/chat/completions" {
			t.Errorf("name %q", c.GetName())
		}
		a := attrs(c.GetAttributes())
		checkAttrs(t, a, map[string]any{
			"http.request.method": "POST", "http.response.status_code": int64(200),
			"url.full": up.srv.URL + "/v1/chat/completions", "server.address": "127.0.0.1",
		})
		for k, v := range a {
			if s, ok := v.(string); ok && (strings.Contains(s, "upstream-secret") || strings.Contains(s, "sk-upstream")) {
				t.Errorf("attribute %s leaks a credential: %q", k, s)
			}
		}
	})
	t.Run("upstream got the client span as parent", func(t *testing.T) {
		want := "00-" + hexID(client.span.GetTraceId()) + "-" + hexID(client.span.GetSpanId()) + "-01"
		if got := up.gotTraceparent(); got != want {
			t.Errorf("upstream traceparent %q, want %q", got, want)
		}
	})
	t.Run("exporter sent the configured headers", func(t *testing.T) {
		if got := rc.lastHeaders().Get("X-Collector-Key"); got != "collector-secret" {
			t.Errorf("collector header %q", got)
		}
	})
}

func checkAttrs(t *testing.T, got, want map[string]any) {
	t.Helper()
	for k, w := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("attribute %s missing (have %v)", k, got)
		} else if g != w {
			t.Errorf("attribute %s = %#v, want %#v", k, g, w)
		}
	}
}

func TestIncomingTraceparent(t *testing.T) {
	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	const parentID = "00f067aa0ba902b7"
	tests := []struct {
		name        string
		traceparent string
		ratio       float64
		wantSpans   int
		wantTrace   string // "" = a new trace
	}{
		{"sampled caller is continued", "00-" + traceID + "-" + parentID + "-01", 1, 1, traceID},
		{"sampled caller wins over ratio 0", "00-" + traceID + "-" + parentID + "-01", 0, 1, traceID},
		{"unsampled caller is respected", "00-" + traceID + "-" + parentID + "-00", 1, 0, ""},
		{"malformed traceparent starts a new trace", "00-zz-" + parentID + "-01", 1, 1, ""},
		{"ratio 0 without a caller records nothing", "", 0, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			tr := newTracing(t, rc.srv.URL, tt.ratio)
			h := tr.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
			req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
			if tt.traceparent != "" {
				req.Header.Set("Traceparent", tt.traceparent)
			}
			h.ServeHTTP(httptest.NewRecorder(), req)
			flush(t, tr)

			spans := rc.spans(t)
			if len(spans) != tt.wantSpans {
				t.Fatalf("got %d spans, want %d", len(spans), tt.wantSpans)
			}
			if tt.wantSpans == 0 {
				return
			}
			s := spans[0].span
			if tt.wantTrace != "" {
				if hexID(s.GetTraceId()) != tt.wantTrace || hexID(s.GetParentSpanId()) != parentID {
					t.Errorf("trace %x parent %x, want %s %s", s.GetTraceId(), s.GetParentSpanId(), tt.wantTrace, parentID)
				}
			} else if hexID(s.GetTraceId()) == traceID || len(s.GetParentSpanId()) != 0 {
				t.Errorf("want a new root span, got trace %x parent %x", s.GetTraceId(), s.GetParentSpanId())
			}
		})
	}
}

func TestServerSpanNamesStatusesAndRPC(t *testing.T) {
	const procedure = "/switchyard.v1.ChatService/CreateChatCompletion"
	tests := []struct {
		name        string
		path        string
		contentType string
		connectVer  string
		handler     http.HandlerFunc
		wantName    string
		wantError   bool
		wantAttrs   map[string]any
	}{
		{
			name: "5xx is an error", path: "/v1/models",
			handler:  func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) },
			wantName: "POST /v1/models", wantError: true,
			wantAttrs: map[string]any{"http.response.status_code": int64(503), "error.type": "503"},
		},
		{
			name: "4xx is not a server error", path: "/v1/models",
			handler:   func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTooManyRequests) },
			wantName:  "POST /v1/models",
			wantAttrs: map[string]any{"http.response.status_code": int64(429)},
		},
		{
			name: "grpc unavailable in trailers is an error", path: procedure, contentType: "application/grpc",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/grpc")
				w.WriteHeader(http.StatusOK)
				w.Header().Set(http.TrailerPrefix+"Grpc-Status", "14")
			},
			wantName: "POST " + procedure, wantError: true,
			wantAttrs: map[string]any{"rpc.system": "grpc", "rpc.service": "switchyard.v1.ChatService",
				"rpc.method": "CreateChatCompletion", "rpc.grpc.status_code": int64(14), "http.route": procedure},
		},
		{
			name: "grpc invalid argument is the caller's fault", path: procedure, contentType: "application/grpc+proto",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Grpc-Status", "3") // trailers-only answer
				w.WriteHeader(http.StatusOK)
			},
			wantName:  "POST " + procedure,
			wantAttrs: map[string]any{"rpc.system": "grpc", "rpc.grpc.status_code": int64(3)},
		},
		{
			name: "connect unary", path: procedure, contentType: "application/json", connectVer: "1",
			handler:  func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(`{}`)) },
			wantName: "POST " + procedure,
			wantAttrs: map[string]any{"rpc.system": "connect_rpc", "rpc.method": "CreateChatCompletion",
				"http.response.status_code": int64(200)},
		},
		{
			name: "unmatched path is named by method only", path: "/nowhere",
			handler:  func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) },
			wantName: "POST",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			tr := newTracing(t, rc.srv.URL, 1)
			mux := http.NewServeMux()
			if tt.path != "/nowhere" {
				mux.Handle("POST "+tt.path, tt.handler)
			} else {
				mux.Handle("GET /somewhere", tt.handler)
			}
			req := httptest.NewRequest(http.MethodPost, tt.path, strings.NewReader("{}"))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			if tt.connectVer != "" {
				req.Header.Set("Connect-Protocol-Version", tt.connectVer)
			}
			tr.Middleware(mux).ServeHTTP(httptest.NewRecorder(), req)
			flush(t, tr)

			spans := rc.spans(t)
			if len(spans) != 1 {
				t.Fatalf("got %d spans", len(spans))
			}
			s := spans[0].span
			if s.GetName() != tt.wantName {
				t.Errorf("name %q, want %q", s.GetName(), tt.wantName)
			}
			if isErr := s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR; isErr != tt.wantError {
				t.Errorf("error status %v, want %v", isErr, tt.wantError)
			}
			checkAttrs(t, attrs(s.GetAttributes()), tt.wantAttrs)
		})
	}
}

func TestTransportFailures(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		dialFails  bool
		wantStatus int64
	}{
		{name: "upstream 500", status: http.StatusInternalServerError, wantStatus: 500},
		{name: "upstream 429", status: http.StatusTooManyRequests, wantStatus: 429},
		{name: "connection refused", dialFails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			tr := newTracing(t, rc.srv.URL, 1)
			target := "http://127.0.0.1:1"
			if !tt.dialFails {
				target = newUpstream(t, tt.status).srv.URL
			}
			client := &http.Client{Transport: tr.Transport(nil)}
			req, _ := http.NewRequest(http.MethodPost, target+"/v1/messages", nil)
			resp, err := client.Do(req)
			if tt.dialFails != (err != nil) {
				t.Fatalf("err = %v", err)
			}
			if resp != nil {
				_ = resp.Body.Close()
			}
			flush(t, tr)
			spans := rc.spans(t)
			if len(spans) != 1 {
				t.Fatalf("got %d spans", len(spans))
			}
			s := spans[0].span
			if s.GetStatus().GetCode() != tracepb.Status_STATUS_CODE_ERROR {
				t.Errorf("status %v, want error", s.GetStatus())
			}
			a := attrs(s.GetAttributes())
			if tt.dialFails {
				checkAttrs(t, a, map[string]any{"error.type": "transport"})
				if len(s.GetEvents()) == 0 || s.GetEvents()[0].GetName() != "exception" {
					t.Errorf("want an exception event, got %v", s.GetEvents())
				}
			} else {
				checkAttrs(t, a, map[string]any{"http.response.status_code": tt.wantStatus})
			}
		})
	}
}

// A streamed upstream body keeps the client span open until it is read
// to the end, so the span's duration covers the whole stream.
func TestTransportSpanEndsWithTheBody(t *testing.T) {
	rc := newReceiver(t)
	tr := newTracing(t, rc.srv.URL, 1)
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("data: 1\n\n"))
		w.(http.Flusher).Flush()
		<-release
		_, _ = w.Write([]byte("data: [DONE]\n\n"))
	}))
	t.Cleanup(up.Close)
	client := &http.Client{Transport: tr.Transport(nil)}
	resp, err := client.Get(up.URL + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 9)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	// Mid-stream: a forced flush must find no finished span yet.
	if err := tr.tp.ForceFlush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(rc.spans(t)); n != 0 {
		t.Fatalf("%d spans exported before the stream ended", n)
	}
	close(release)
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	flush(t, tr)
	if n := len(rc.spans(t)); n != 1 {
		t.Fatalf("got %d spans after the stream, want 1", n)
	}
}

func TestDisabledIsANoOp(t *testing.T) {
	tr, err := New(context.Background(), Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Enabled() {
		t.Fatal("no endpoint must mean disabled")
	}
	next := &countingHandler{}
	if h, ok := tr.Middleware(next).(*countingHandler); !ok || h != next {
		t.Error("disabled Middleware must return next itself")
	}
	rt := &http.Transport{}
	if got, ok := tr.Transport(rt).(*http.Transport); !ok || got != rt {
		t.Error("disabled Transport must return rt itself")
	}
	if tr.Transport(nil) != http.DefaultTransport {
		t.Error("disabled Transport(nil) must be http.DefaultTransport")
	}
	AnnotateRequest(context.Background(), Request{Route: "x"})
	Annotate(context.Background(), attribute.String("k", "v"))
	if err := tr.Shutdown(context.Background()); err != nil {
		t.Error(err)
	}
	var zero *Tracing
	if zero.Enabled() || zero.Close() != nil {
		t.Error("a nil Tracing must be disabled")
	}
}

type countingHandler struct{ n int }

func (h *countingHandler) ServeHTTP(http.ResponseWriter, *http.Request) { h.n++ }

func TestNewRejectsBadEndpoints(t *testing.T) {
	tests := []struct {
		name, endpoint, wantErr string
	}{
		{"unknown scheme", "ftp://collector:4318", "want http(s)"},
		{"no host", "http://", "want http(s)"},
		{"not host:port", "collector", "want http(s)"},
		{"credentials in url", "https://user:pw@collector:4318", "credentials"},
		{"query in url", "https://collector:4318/v1/traces?token=x", "credentials or a query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(context.Background(), Options{Endpoint: tt.endpoint}, nil)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "pw@") {
				t.Errorf("error leaks the password: %v", err)
			}
		})
	}
}

func TestEndpointForms(t *testing.T) {
	tests := []struct {
		name     string
		endpoint string // %s = receiver host:port
		insecure bool
	}{
		{"base url gets /v1/traces", "http://%s", false},
		{"base url with slash", "http://%s/", false},
		{"full url", "http://%s/v1/traces", false},
		{"host:port insecure", "%s", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := newReceiver(t)
			ep := strings.Replace(tt.endpoint, "%s", strings.TrimPrefix(rc.srv.URL, "http://"), 1)
			tr, err := New(context.Background(), Options{Endpoint: ep, Insecure: tt.insecure, SampleRatio: 1}, nil)
			if err != nil {
				t.Fatal(err)
			}
			tr.Middleware(http.NotFoundHandler()).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
			flush(t, tr)
			spans := rc.spans(t) // the receiver rejects any path but /v1/traces
			if len(spans) != 1 || spans[0].service != DefaultServiceName {
				t.Fatalf("spans %v", spans)
			}
		})
	}
}

// fakeExporter fails while fail is set.
type fakeExporter struct {
	mu   sync.Mutex
	fail bool
}

func (f *fakeExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		return errors.New("collector unreachable")
	}
	return nil
}

func (f *fakeExporter) Shutdown(context.Context) error { return nil }

func TestExportFailuresAreLoggedOncePerOutage(t *testing.T) {
	var out bytes.Buffer
	log := hclog.New(&hclog.LoggerOptions{Output: &out, Level: hclog.Info})
	fe := &fakeExporter{}
	e := &loggingExporter{SpanExporter: fe, log: log}
	steps := []bool{false, true, true, true, false, false, true}
	for _, fail := range steps {
		fe.fail = fail
		if err := e.ExportSpans(context.Background(), nil); err != nil {
			t.Fatalf("a reported failure must not reach otel's global handler: %v", err)
		}
	}
	text := out.String()
	if n := strings.Count(text, "[WARN]"); n != 2 {
		t.Errorf("want 2 warnings (two outages), got %d:\n%s", n, text)
	}
	if n := strings.Count(text, "exporting traces again"); n != 1 {
		t.Errorf("want 1 recovery line, got %d:\n%s", n, text)
	}
}

func TestUnsampledTraceIsStillPropagated(t *testing.T) {
	rc := newReceiver(t)
	up := newUpstream(t, http.StatusOK)
	tr := newTracing(t, rc.srv.URL, 1)
	gw := httptest.NewServer(gateway(tr, up.srv.URL))
	t.Cleanup(gw.Close)

	const traceID = "0af7651916cd43dd8448eb211c80319c"
	req, _ := http.NewRequest(http.MethodPost, gw.URL+"/v1/chat/completions", nil)
	req.Header.Set("Traceparent", "00-"+traceID+"-b7ad6b7169203331-00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	flush(t, tr)

	if n := len(rc.spans(t)); n != 0 {
		t.Errorf("an unsampled caller's request exported %d spans", n)
	}
	got := up.gotTraceparent()
	if !strings.HasPrefix(got, "00-"+traceID+"-") || !strings.HasSuffix(got, "-00") {
		t.Errorf("upstream traceparent %q, want the caller's trace, unsampled", got)
	}
}

// A stream's relay keeps a Span handle and annotates when it closes,
// after the handler's context is no longer at hand.
func TestKeptSpanHandleAnnotatesLater(t *testing.T) {
	rc := newReceiver(t)
	tr := newTracing(t, rc.srv.URL, 1)
	var kept Span
	h := tr.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kept = SpanFrom(r.Context())
		func() { // the relay, later, without r's context
			kept.AnnotateRequest(Request{Route: "auto", Stream: true, Partial: true, CompletionTokens: 7, ReasoningTokens: 3, CachedTokens: 2})
		}()
	}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodPost, "/v1/chat/completions", nil))
	kept.AnnotateRequest(Request{Route: "after-end"}) // dropped: the span has ended
	flush(t, tr)
	spans := rc.spans(t)
	if len(spans) != 1 {
		t.Fatalf("got %d spans", len(spans))
	}
	checkAttrs(t, attrs(spans[0].span.GetAttributes()), map[string]any{
		"switchyard.route": "auto", "switchyard.stream": true, "switchyard.partial": true,
		"gen_ai.usage.output_tokens": int64(7), "switchyard.usage.reasoning_tokens": int64(3),
		"switchyard.usage.cached_tokens": int64(2),
	})
	var zero Span
	zero.AnnotateRequest(Request{Route: "x"}) // must not panic
}
