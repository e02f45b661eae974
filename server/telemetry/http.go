package telemetry

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/switchyard/switchyard/server/middleware"
)

// Attribute keys, from the OpenTelemetry HTTP and RPC semantic conventions
// plus our own switchyard.* namespace.
const (
	keyHTTPMethod     = "http.request.method"
	keyHTTPStatus     = "http.response.status_code"
	keyHTTPRoute      = "http.route"
	keyURLPath        = "url.path"
	keyURLScheme      = "url.scheme"
	keyURLFull        = "url.full"
	keyServerAddress  = "server.address"
	keyServerPort     = "server.port"
	keyRPCSystem      = "rpc.system"
	keyRPCService     = "rpc.service"
	keyRPCMethod      = "rpc.method"
	keyGRPCStatusCode = "rpc.grpc.status_code"
	keyErrorType      = "error.type"
	keyRequestID      = "switchyard.request_id"
)

// Middleware starts one server span per request. It continues the trace of
// an incoming traceparent, names the span "METHOD route" (the ServeMux
// pattern that matched, else the Connect/gRPC procedure path) and marks
// 5xx answers, and gRPC statuses that mean a server fault, as errors.
// Mount it inside middleware.Wrap so the request id is known. Disabled, it
// returns next itself.
func (t *Tracing) Middleware(next http.Handler) http.Handler {
	if !t.Enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := t.prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		// Our samplers look at neither name nor attributes, so both are set
		// only once the span is known to record: an unsampled request then
		// costs little more than carrying the trace context along.
		ctx, span := t.tracer.Start(ctx, r.Method, trace.WithSpanKind(trace.SpanKindServer))
		if !span.IsRecording() {
			next.ServeHTTP(w, r.WithContext(ctx))
			return
		}
		defer span.End()

		system, service, method := rpcInfo(r)
		// A procedure path is one of a fixed set and names the call better
		// than the service-wide prefix pattern it is mounted under.
		route := patternPath(r.Pattern)
		if method != "" {
			route = r.URL.Path
		}
		if route != "" {
			span.SetName(spanName(r.Method, route))
		}
		attrs := make([]attribute.KeyValue, 0, 12)
		attrs = append(attrs,
			attribute.String(keyHTTPMethod, r.Method),
			attribute.String(keyURLPath, r.URL.Path),
		)
		if system != "" {
			attrs = append(attrs, attribute.String(keyRPCSystem, system),
				attribute.String(keyRPCService, service), attribute.String(keyRPCMethod, method))
		}
		if id := middleware.RequestID(ctx); id != "" {
			attrs = append(attrs, attribute.String(keyRequestID, id))
		}

		r = r.WithContext(ctx)
		sw := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(sw, r)

		// ServeMux stores the matched pattern in the request it was given,
		// which is r here unless a layer in between copied it.
		if route == "" && r.Pattern != "" {
			route = patternPath(r.Pattern)
			span.SetName(spanName(r.Method, route))
		}
		if route != "" {
			attrs = append(attrs, attribute.String(keyHTTPRoute, route))
		}
		status := sw.status
		if status == 0 {
			status = http.StatusOK
		}
		attrs = append(attrs, attribute.Int(keyHTTPStatus, status))
		if status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(status))
			attrs = append(attrs, attribute.String(keyErrorType, strconv.Itoa(status)))
		}
		span.SetAttributes(attrs...)
		if system == "grpc" {
			markGRPCStatus(span, w.Header())
		}
	})
}

// patternPath drops the method and host of a ServeMux pattern
// ("POST api.example.com/v1/{id}" → "/v1/{id}"), which is what http.route
// and the span name want.
func patternPath(p string) string {
	if i := strings.IndexByte(p, '/'); i > 0 {
		return p[i:]
	}
	return p
}

func spanName(method, route string) string {
	if route == "" {
		return method
	}
	return method + " " + route
}

// rpcInfo recognises Connect and gRPC requests by content type and splits
// the procedure path "/pkg.Service/Method".
func rpcInfo(r *http.Request) (system, service, method string) {
	ct := r.Header.Get("Content-Type")
	switch {
	case strings.HasPrefix(ct, "application/grpc"): // grpc, grpc+proto, grpc-web...
		system = "grpc"
	case strings.HasPrefix(ct, "application/connect+"),
		r.Header.Get("Connect-Protocol-Version") != "",
		r.Method == http.MethodGet && r.URL.Query().Has("connect"):
		system = "connect_rpc"
	default:
		return "", "", ""
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	i := strings.LastIndexByte(p, '/')
	if i <= 0 || i == len(p)-1 {
		return system, "", ""
	}
	return system, p[:i], p[i+1:]
}

// markGRPCStatus reads grpc-status, sent as a trailer (or as a header in a
// trailers-only answer), and marks the span an error for the codes the
// RPC conventions count as server faults.
func markGRPCStatus(span trace.Span, h http.Header) {
	v := h.Get("Grpc-Status")
	if v == "" {
		if tv := h[http.TrailerPrefix+"Grpc-Status"]; len(tv) > 0 {
			v = tv[0]
		}
	}
	code, err := strconv.Atoi(v)
	if err != nil {
		return
	}
	span.SetAttributes(attribute.Int(keyGRPCStatusCode, code))
	switch code {
	case 2, 4, 12, 13, 14, 15: // Unknown, DeadlineExceeded, Unimplemented, Internal, Unavailable, DataLoss
		span.SetStatus(codes.Error, "grpc status "+v)
	}
}

// statusRecorder notes the status code. It forwards Flush and exposes the
// wrapped writer (http.ResponseController) so streams and trailers work.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusRecorder) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Transport wraps rt (nil means http.DefaultTransport) so every upstream
// call gets a client span, child of the span in the request's context, and
// carries traceparent so an instrumented upstream continues the trace. The
// span ends when the response body is read to its end or closed, so it
// covers a whole stream. Disabled, it returns rt itself.
func (t *Tracing) Transport(rt http.RoundTripper) http.RoundTripper {
	if rt == nil {
		rt = http.DefaultTransport
	}
	if !t.Enabled() {
		return rt
	}
	return &transport{base: rt, t: t}
}

type transport struct {
	base http.RoundTripper
	t    *Tracing
}

func (tr *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, span := tr.t.tracer.Start(req.Context(), req.Method, trace.WithSpanKind(trace.SpanKindClient))
	recording := span.IsRecording()
	if recording {
		span.SetName(spanName(req.Method, req.URL.Path))
		attrs := make([]attribute.KeyValue, 0, 5)
		attrs = append(attrs,
			attribute.String(keyHTTPMethod, req.Method),
			// Scheme, host and path only: a query can hold an API key
			// (Gemini's ?key=) and must never reach a trace backend.
			attribute.String(keyURLFull, req.URL.Scheme+"://"+req.URL.Host+req.URL.EscapedPath()),
			attribute.String(keyURLScheme, req.URL.Scheme),
			attribute.String(keyServerAddress, req.URL.Hostname()),
		)
		if port, _ := strconv.Atoi(req.URL.Port()); port > 0 {
			attrs = append(attrs, attribute.Int(keyServerPort, port))
		}
		span.SetAttributes(attrs...)
	}

	// A RoundTripper must not modify the caller's request: copy it and its
	// header before injecting. An unsampled trace is still propagated, so
	// the upstream sees the caller's decision.
	out := req.WithContext(ctx)
	out.Header = req.Header.Clone()
	if out.Header == nil {
		out.Header = http.Header{}
	}
	tr.t.prop.Inject(ctx, propagation.HeaderCarrier(out.Header))

	resp, err := tr.base.RoundTrip(out)
	if !recording {
		return resp, err
	}
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(attribute.String(keyErrorType, errorType(err)))
		span.End()
		return resp, err
	}
	if resp.StatusCode >= 400 {
		span.SetStatus(codes.Error, http.StatusText(resp.StatusCode))
		span.SetAttributes(attribute.Int(keyHTTPStatus, resp.StatusCode), attribute.String(keyErrorType, strconv.Itoa(resp.StatusCode)))
	} else {
		span.SetAttributes(attribute.Int(keyHTTPStatus, resp.StatusCode))
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		span.End()
		return resp, nil
	}
	resp.Body = &spanBody{ReadCloser: resp.Body, span: span}
	return resp, nil
}

func errorType(err error) string {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	return "transport"
}

// spanBody ends the client span at EOF, on a read error or on Close,
// whichever comes first.
type spanBody struct {
	io.ReadCloser
	span trace.Span
	// ended is atomic because a caller may Close from another goroutine
	// to abort a stream that is blocked in Read.
	ended atomic.Bool
}

func (b *spanBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && !b.ended.Load() {
		if err != io.EOF {
			b.span.RecordError(err)
			b.span.SetStatus(codes.Error, err.Error())
		}
		b.end()
	}
	return n, err
}

func (b *spanBody) Close() error {
	err := b.ReadCloser.Close()
	b.end()
	return err
}

func (b *spanBody) end() {
	if !b.ended.Swap(true) {
		b.span.End()
	}
}
