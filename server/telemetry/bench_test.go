package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// discard is a collector that accepts and drops every export, so enabled
// benchmarks measure the span work and not a receiver.
func discard(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

func benchTracing(b *testing.B, mode string) *Tracing {
	switch mode {
	case "disabled":
		tr, err := New(context.Background(), Options{}, hclog.NewNullLogger())
		if err != nil {
			b.Fatal(err)
		}
		return tr
	case "unsampled":
		return newTracing(b, discard(b), 0)
	default:
		return newTracing(b, discard(b), 1)
	}
}

// BenchmarkMiddleware compares a bare handler with the same handler
// behind Middleware: disabled must cost nothing over "bare".
func BenchmarkMiddleware(b *testing.B) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	req := httptest.NewRequest(http.MethodPost, "/switchyard.v1.ChatService/CreateChatCompletion", strings.NewReader(""))
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	for _, mode := range []string{"bare", "disabled", "unsampled", "sampled"} {
		b.Run(mode, func(b *testing.B) {
			var h http.Handler = handler
			if mode != "bare" {
				h = benchTracing(b, mode).Middleware(handler)
			}
			r := req
			if mode == "sampled" {
				r = req.Clone(req.Context())
				r.Header.Set("Traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}

// okTransport answers without a network, so the benchmark sees only the
// wrapper's cost.
type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: http.StatusOK, Body: http.NoBody, Header: http.Header{}}, nil
}

func BenchmarkTransport(b *testing.B) {
	req, _ := http.NewRequest(http.MethodPost, "https://api.openai.com/v1/chat/completions", nil)
	req.Header.Set("Authorization", "Bearer sk-x")
	for _, mode := range []string{"disabled", "sampled"} {
		b.Run(mode, func(b *testing.B) {
			tr := benchTracing(b, mode)
			rt := tr.Transport(okTransport{})
			ctx := context.Background()
			if tr.Enabled() {
				var end func()
				ctx, end = startRoot(tr)
				defer end()
			}
			r := req.WithContext(ctx)
			b.ReportAllocs()
			for b.Loop() {
				resp, err := rt.RoundTrip(r)
				if err != nil {
					b.Fatal(err)
				}
				_ = resp.Body.Close()
			}
		})
	}
}

// startRoot gives the benchmark a sampled parent span, as a request
// under Middleware has.
func startRoot(tr *Tracing) (context.Context, func()) {
	ctx, span := tr.tracer.Start(context.Background(), "root")
	return ctx, func() { span.End() }
}

func BenchmarkAnnotateRequest(b *testing.B) {
	r := Request{Route: "chat", Provider: "openai", Target: "openai/gpt-4o-mini", Model: "gpt-4o-mini", Status: "ok",
		Cache: "miss", Attempts: 1, PromptTokens: 100, CompletionTokens: 200, CostUSD: 0.001}
	for _, mode := range []string{"disabled", "sampled"} {
		b.Run(mode, func(b *testing.B) {
			tr := benchTracing(b, mode)
			ctx := context.Background()
			if tr.Enabled() {
				var end func()
				ctx, end = startRoot(tr)
				defer end()
			}
			b.ReportAllocs()
			for b.Loop() {
				AnnotateRequest(ctx, r)
			}
		})
	}
}
