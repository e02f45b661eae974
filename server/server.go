// Package server mounts every protocol on one http.Server: gRPC, gRPC-Web
// and Connect (connect-go), gRPC health and reflection, and the REST facade,
// over cleartext HTTP/2 and HTTP/1.1.
package server

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/server/ingress"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rest"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/server/telemetry"
)

// Options tune the server.
type Options struct {
	MaxBodyBytes      int64
	ReadHeaderTimeout time.Duration
	// Auth checks client API keys on every RPC and /v1 route; nil is open.
	Auth *middleware.Auth
	// CORSOrigins are the browser origins allowed ("*" for any); other
	// Origins are refused.
	CORSOrigins []string
	// AllowedHosts are Host names served besides loopback; see
	// middleware.GuardOptions.
	AllowedHosts []string
	// BodyReadTimeout bounds reading a non-stream request body.
	BodyReadTimeout time.Duration
	// IdleTimeout closes idle keep-alive connections.
	IdleTimeout time.Duration
	// MaxHeaderBytes caps request headers.
	MaxHeaderBytes int
	// RequestTimeout bounds a unary Connect call; REST applies it to
	// requests that do not stream.
	RequestTimeout time.Duration
	// Metrics serves GET /metrics (Prometheus text); nil leaves it out.
	Metrics http.Handler
	// Prices serves GET /v1/prices (each model's price, source and age) to
	// any client key, since prices are list prices, not secrets; nil leaves
	// it out.
	Prices http.HandlerFunc
	// Listen is the configured listen address. Beyond loopback, /metrics
	// needs MetricsToken or the admin key (middleware.MetricsGate).
	Listen       string
	MetricsToken string
	// Tracing makes a server span per request (OTLP); nil traces nothing.
	Tracing *telemetry.Tracing
	// Console serves the operator console under /console/; nil leaves it out.
	Console http.Handler
	// OnShutdown runs when Shutdown starts, before the drain: long-lived
	// feeds (the console's live requests) end here rather than hold the
	// drain until its deadline.
	OnShutdown []func()
	// Ingresses are the client dialects beyond OpenAI Chat Completions and
	// the RPC protocols (Anthropic Messages, OpenAI Responses, Gemini): each
	// mounts its own routes.
	Ingresses []ingress.Dialect
}

// Server is the one listener for every protocol.
type Server struct {
	log    hclog.Logger
	http   *http.Server
	health *grpchealth.StaticChecker
	names  []string
	// cutoff cancels every request's context with
	// middleware.ErrShuttingDown when the drain deadline passes.
	cutoff context.CancelCauseFunc
	// draining turns /healthz to 503 once Shutdown starts: a probe on a
	// connection that outlives the listener must not read "ok".
	draining *atomic.Bool
	// onShutdown are Options.OnShutdown.
	onShutdown []func()
}

// lastWordGrace is how long requests cut by the drain deadline get to write
// their error (an in-band event, a trailer) before connections close.
const lastWordGrace = time.Second

// New builds the handler tree. It starts nothing.
func New(ctx context.Context, log hclog.Logger, svc rpc.Services, opts Options) (*Server, error) {
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = 8 << 20
	}
	if opts.ReadHeaderTimeout <= 0 {
		opts.ReadHeaderTimeout = 10 * time.Second
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = 120 * time.Second
	}
	mux := http.NewServeMux()
	if opts.Auth == nil {
		opts.Auth = middleware.NewAuth(nil)
	}
	names := rpc.Register(mux, svc, connect.WithReadMaxBytes(int(opts.MaxBodyBytes)),
		connect.WithInterceptors(opts.Auth.Interceptor()))

	health := grpchealth.NewStaticChecker(names...)
	mux.Handle(grpchealth.NewHandler(health))
	reflector := grpcreflect.NewStaticReflector(append(names[:len(names):len(names)], grpchealth.HealthV1ServiceName)...)
	mux.Handle(grpcreflect.NewHandlerV1(reflector))
	mux.Handle(grpcreflect.NewHandlerV1Alpha(reflector))

	facade := rest.New(log.Named("rest"), svc, opts.Auth).WithNotFound(ingress.NotFound(opts.Ingresses)).WithModels(ingress.Models(opts.Ingresses))
	if err := facade.Register(ctx, mux); err != nil {
		return nil, err
	}
	for _, d := range opts.Ingresses {
		d.Register(mux)
	}
	if opts.Prices != nil {
		mux.Handle("GET /v1/prices", ingress.Guard(opts.Auth, rest.WriteError, opts.Prices))
	}
	if opts.Metrics != nil {
		mux.Handle("GET /metrics", middleware.MetricsGate(opts.Auth, opts.MetricsToken, middleware.ListensBeyondLoopback(opts.Listen), opts.Metrics))
	}
	draining := new(atomic.Bool)
	if opts.Console != nil {
		mux.Handle("GET /console/", opts.Console)
		mux.Handle("GET /console", http.RedirectHandler("/console/", http.StatusMovedPermanently))
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		if draining.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte("draining\n"))
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	})

	base, cutoff := context.WithCancelCause(context.WithoutCancel(ctx))
	var protocols http.Protocols
	protocols.SetHTTP1(true)
	protocols.SetUnencryptedHTTP2(true)
	guard := middleware.GuardOptions{Origins: opts.CORSOrigins, AllowedHosts: opts.AllowedHosts,
		Keyless: func() bool { return !opts.Auth.Enabled() }}
	deadlines := middleware.Timeouts{Body: opts.BodyReadTimeout, Request: opts.RequestTimeout}
	h := middleware.Guard(guard, middleware.Deadlines(deadlines, opts.Tracing.Middleware(middleware.CORS(opts.CORSOrigins, mux))))
	// No WriteTimeout or ReadTimeout: both would cut long streams. The body
	// read is bounded per request by middleware.Deadlines instead.
	hs := &http.Server{
		Handler:           middleware.Wrap(log.Named("http"), opts.MaxBodyBytes, h),
		Protocols:         &protocols,
		ReadHeaderTimeout: opts.ReadHeaderTimeout,
		IdleTimeout:       opts.IdleTimeout,
		MaxHeaderBytes:    opts.MaxHeaderBytes,
		ErrorLog:          log.Named("http").StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}),
		BaseContext:       func(net.Listener) context.Context { return base },
	}
	return &Server{log: log, http: hs, health: health, names: names, cutoff: cutoff, draining: draining, onShutdown: opts.OnShutdown}, nil
}

// Handler exposes the handler tree (in-process tests).
func (s *Server) Handler() http.Handler { return s.http.Handler }

// Serve accepts on l until Shutdown.
func (s *Server) Serve(l net.Listener) error {
	err := s.http.Serve(l)
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// Shutdown marks the health checks NOT_SERVING (gRPC health and /healthz),
// stops accepting, and waits
// for in-flight requests and streams until ctx ends. Requests still running
// then are cancelled with middleware.ErrShuttingDown, get lastWordGrace to
// tell their clients, and whatever is left is closed.
func (s *Server) Shutdown(ctx context.Context) error {
	for _, f := range s.onShutdown {
		f()
	}
	s.draining.Store(true)
	for _, n := range append([]string{""}, s.names...) {
		s.health.SetStatus(n, grpchealth.StatusNotServing)
	}
	// Answers still in flight carry Connection: close, so HTTP/1.1
	// keep-alive clients stop reusing the connection instead of sending
	// their next request into one about to be closed.
	s.http.SetKeepAlivesEnabled(false)
	err := s.http.Shutdown(ctx)
	if err == nil {
		s.cutoff(nil)
		return nil
	}
	s.cutoff(middleware.ErrShuttingDown)
	gctx, cancel := context.WithTimeout(context.Background(), lastWordGrace)
	defer cancel()
	_ = s.http.Shutdown(gctx)
	_ = s.http.Close()
	return err
}
