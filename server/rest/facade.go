// Package rest is the OpenAI-compatible REST facade: GET /v1/models[/{id}],
// the OpenAPI document, grpc-gateway for the /v1 admin routes, and 404s in
// OpenAI's shape (or the caller's dialect's). Chat Completions and
// Embeddings are server/ingress/openai's. Every handler calls the service
// implementation in-process; there is no loopback hop to the gRPC port.
package rest

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/gen/openapi"
	"github.com/switchyard/switchyard/server/rest/openaijson"
	"github.com/switchyard/switchyard/server/rpc"
)

// Facade serves the REST routes.
type Facade struct {
	log  hclog.Logger
	svc  rpc.Services
	auth Authenticator
	// openapi is the served API description, converted from the embedded
	// string once rather than per request.
	openapi []byte
	// notFound lets a client dialect claim a request to an unknown path.
	notFound func(http.ResponseWriter, *http.Request) bool
	// models lets a client dialect claim GET /v1/models[/{id}].
	models func(http.ResponseWriter, *http.Request) bool
}

// WithModels lets fn answer GET /v1/models[/{id}] first: Anthropic's SDKs
// list models at OpenAI's path, in their own shape (told apart by their
// anthropic-version header). fn authenticates what it claims in its own
// error shape; when it declines, the list is OpenAI's, behind this facade's
// key check.
func (f *Facade) WithModels(fn func(http.ResponseWriter, *http.Request) bool) *Facade {
	f.models = fn
	return f
}

// modelsRoute is a model-list handler behind the OpenAI key check, offered
// to the dialects' fn first.
func (f *Facade) modelsRoute(h http.HandlerFunc) http.Handler {
	guarded := f.guard(h, false)
	if f.models == nil {
		return guarded
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !f.models(w, r) {
			guarded.ServeHTTP(w, r)
		}
	})
}

// WithNotFound lets fn answer requests to unknown paths first (in its
// caller's dialect); when it declines, the 404 is OpenAI's.
func (f *Facade) WithNotFound(fn func(http.ResponseWriter, *http.Request) bool) *Facade {
	f.notFound = fn
	return f
}

// unknown answers a path no route serves: 404 in the caller's dialect.
func (f *Facade) unknown(w http.ResponseWriter, r *http.Request, status int) {
	if status == http.StatusNotFound && f.notFound != nil && f.notFound(w, r) {
		return
	}
	kind := llm.KindNotFound
	msg := "Unknown request URL: " + r.Method + " " + r.URL.Path
	if status == http.StatusMethodNotAllowed {
		kind = llm.KindInvalidRequest
		msg = "Method " + r.Method + " not allowed for " + r.URL.Path
	}
	writeError(w, &llm.Error{Kind: kind, Message: msg, Code: "unknown_url"})
}

// Authenticator authenticates a request (see middleware.Auth.Authorize):
// it returns the context to serve it with, carrying the client's key.
type Authenticator interface {
	Authorize(ctx context.Context, h http.Header, peer string, admin bool) (context.Context, error)
}

// DialectOpenAI names requests in OpenAI's REST wire format in the ledger.
const DialectOpenAI = "openai"

// New returns the facade over the services. auth may be nil (open).
func New(log hclog.Logger, svc rpc.Services, auth Authenticator) *Facade {
	return &Facade{log: log, svc: svc, auth: auth, openapi: []byte(openapi.JSON)}
}

// guard rejects requests without a valid API key, in OpenAI's error shape.
// admin routes need the admin key.
func (f *Facade) guard(next http.Handler, admin bool) http.Handler {
	if f.auth == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := f.auth.Authorize(r.Context(), r.Header, r.RemoteAddr, admin)
		if err != nil {
			writeError(w, err)
			return
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next.ServeHTTP(w, r)
	})
}

// Register mounts the REST routes on mux. ctx bounds the gateway's
// registrations (they hold no goroutines).
func (f *Facade) Register(ctx context.Context, mux *http.ServeMux) error {
	mux.Handle("GET /v1/models", f.modelsRoute(f.listModels))
	mux.Handle("GET /v1/models/{id...}", f.modelsRoute(f.getModel))
	// The API description is public, like the routes it describes: no key.
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		f.writeJSON(w, f.openapi)
	})

	// Zero scalars and empty lists are sent (clients need not guess
	// defaults), but an unset message or timestamp is left out rather than
	// sent as null: the OpenAPI document (Swagger 2.0) has no null for
	// objects, and it must describe what is sent.
	out := protojson.MarshalOptions{UseProtoNames: true, EmitDefaultValues: true}
	gw := f.newGateway(&runtime.JSONPb{
		MarshalOptions:   out,
		UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: true},
	})
	// Routing is strict: a misspelt or misplaced field silently dropped
	// there has replaced whole routing tables with empty ones.
	routing := f.newGateway(strictJSON{&runtime.JSONPb{MarshalOptions: out}})
	if err := pb.RegisterRoutingConfigServiceHandlerServer(ctx, routing, f.svc.Routing); err != nil {
		return err
	}
	for _, reg := range []func() error{
		func() error { return pb.RegisterProviderServiceHandlerServer(ctx, gw, f.svc.Providers) },
		func() error { return pb.RegisterUsageServiceHandlerServer(ctx, gw, f.svc.Usage) },
		func() error { return pb.RegisterKeyServiceHandlerServer(ctx, gw, f.svc.Keys) },
		func() error { return pb.RegisterBillingServiceHandlerServer(ctx, gw, f.svc.Billing) },
	} {
		if err := reg(); err != nil {
			return err
		}
	}
	mux.Handle("/v1/routing/", routing)
	mux.Handle("/v1/", gw)
	// Outside /v1/ too, an unknown path is a 404 in the caller's dialect.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { f.unknown(w, r, http.StatusNotFound) })
	return nil
}

// newGateway is a grpc-gateway mux answering errors in OpenAI's shape.
// Authorization runs once a route matched, so an unknown URL is a 404 for
// everyone rather than a demand for the admin key.
func (f *Facade) newGateway(m runtime.Marshaler) *runtime.ServeMux {
	return runtime.NewServeMux(
		runtime.WithMiddlewares(f.adminGuard),
		runtime.WithMarshalerOption(runtime.MIMEWildcard, m),
		runtime.WithErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, _ *http.Request, err error) {
			writeError(w, err)
		}),
		runtime.WithRoutingErrorHandler(func(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, status int) {
			f.unknown(w, r, status)
		}),
	)
}

// strictJSON rejects unknown fields (the gateway answers InvalidArgument
// with the decoder's message, which names the field) and explains the one
// users hit most: the Connect request shape sent to the REST route.
type strictJSON struct{ *runtime.JSONPb }

func (m strictJSON) NewDecoder(r io.Reader) runtime.Decoder {
	d := m.JSONPb.NewDecoder(r)
	return runtime.DecoderFunc(func(v any) error {
		err := d.Decode(v)
		if err == nil || errors.Is(err, io.EOF) {
			return err
		}
		msg := "request body: " + err.Error()
		if _, isConfig := v.(**pb.RoutingConfig); isConfig && strings.Contains(msg, `unknown field "config"`) {
			msg += `; this route's body is the routing config itself ({"strategy":…,"fallback_strategy":…,"providers":[…],"routes":[…]}), not wrapped in {"config": …}`
		}
		return errors.New(msg)
	})
}

// adminGuard authorizes the grpc-gateway routes: all need the admin key
// but GET /v1/usage and /v1/usage/series, where a client key reads its own
// usage (UsageService.GetUsage and GetUsageSeries scope it).
func (f *Facade) adminGuard(next runtime.HandlerFunc) runtime.HandlerFunc {
	if f.auth == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request, params map[string]string) {
		admin := !((r.Method == http.MethodGet || r.Method == http.MethodHead) && (r.URL.Path == "/v1/usage" || r.URL.Path == "/v1/usage/series"))
		ctx, err := f.auth.Authorize(r.Context(), r.Header, r.RemoteAddr, admin)
		if err != nil {
			writeError(w, err)
			return
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next(w, r, params)
	}
}

// jsonContentType is shared by every response: header values are only
// read after the handler sets them (net/http copies the map when it writes
// the head), and setting a shared slice saves an allocation per request.
var jsonContentType = []string{"application/json"}

func (f *Facade) writeJSON(w http.ResponseWriter, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(body)
}

func (f *Facade) listModels(w http.ResponseWriter, r *http.Request) {
	resp, err := f.svc.Models.ListModels(r.Context(), &pb.ListModelsRequest{})
	if err != nil {
		writeError(w, err)
		return
	}
	f.writeJSON(w, openaijson.AppendModelList(nil, resp))
}

func (f *Facade) getModel(w http.ResponseWriter, r *http.Request) {
	resp, err := f.svc.Models.GetModel(r.Context(), &pb.GetModelRequest{Id: r.PathValue("id")})
	if err != nil {
		writeError(w, err)
		return
	}
	f.writeJSON(w, openaijson.AppendModel(nil, resp.GetModel()))
}
