// Package ingress holds what every client dialect's codec package
// (server/ingress/<dialect>) shares at the door: authentication with errors
// in the dialect's own shape, and the lifecycle Call of a request. A dialect
// package decodes its wire format into engine/llm, calls engine/gateway once
// per request and encodes the answer (and its stream events, and its
// errors) back; it holds no engine logic.
package ingress

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/middleware"
)

// Dialect is one client wire format's handler set.
type Dialect interface {
	// Register mounts the dialect's routes on mux.
	Register(mux *http.ServeMux)
}

// NotFounder is a Dialect that can tell its own clients' requests to an
// unknown path: it writes the 404 in its error shape and reports true, or
// leaves the request to another dialect.
type NotFounder interface {
	NotFound(w http.ResponseWriter, r *http.Request) bool
}

// NotFound offers a request to an unknown path to each dialect that can
// claim it; false means none did and the caller answers in its own shape.
// Never an auth error: nothing was found to authorize against.
func NotFound(ds []Dialect) func(http.ResponseWriter, *http.Request) bool {
	var nf []NotFounder
	for _, d := range ds {
		if n, ok := d.(NotFounder); ok {
			nf = append(nf, n)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) bool {
		for _, n := range nf {
			if n.NotFound(w, r) {
				return true
			}
		}
		return false
	}
}

// ModelsServer is a Dialect whose clients list models at the path OpenAI's
// do, GET /v1/models[/{id}] (the Anthropic SDKs). The OpenAI facade owns
// those routes (ServeMux takes one handler per pattern) and offers each
// request to ServeModels first, which answers in its dialect's shape, auth
// included, and reports true when the request is its client's.
type ModelsServer interface {
	ServeModels(w http.ResponseWriter, r *http.Request) bool
}

// Models offers a model-list request to each dialect that shares the
// path; false means none claimed it and the facade answers as OpenAI.
func Models(ds []Dialect) func(http.ResponseWriter, *http.Request) bool {
	var ms []ModelsServer
	for _, d := range ds {
		if m, ok := d.(ModelsServer); ok {
			ms = append(ms, m)
		}
	}
	return func(w http.ResponseWriter, r *http.Request) bool {
		for _, m := range ms {
			if m.ServeModels(w, r) {
				return true
			}
		}
		return false
	}
}

// Authorizer authenticates a request (middleware.Auth.Authorize).
type Authorizer interface {
	Authorize(ctx context.Context, h http.Header, peer string, admin bool) (context.Context, error)
}

// Guard serves next once r's key (Authorization: Bearer, x-api-key or
// x-goog-api-key) is accepted; a refusal is written by writeErr, in the
// dialect's error shape. A nil auth lets every request through.
func Guard(auth Authorizer, writeErr func(http.ResponseWriter, error), next http.HandlerFunc) http.HandlerFunc {
	if auth == nil {
		return next
	}
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, err := auth.Authorize(r.Context(), r.Header, r.RemoteAddr, false)
		if err != nil {
			writeErr(w, err)
			return
		}
		if ctx != r.Context() {
			r = r.WithContext(ctx)
		}
		next(w, r)
	}
}

// CallOf is the lifecycle Call of r in dialect: its request id, client key
// and policy, the region the client names for route rules
// (X-Switchyard-Region), and the response headers the rate-limit state
// goes to.
func CallOf(w http.ResponseWriter, r *http.Request, dialect string) gateway.Call {
	ctx := r.Context()
	c := gateway.Call{RequestID: middleware.RequestID(ctx), Client: middleware.Client(ctx), Key: access.FromContext(ctx), Dialect: dialect,
		Region: r.Header.Get(RegionHeader)}
	if c.Key != nil {
		c.SetHeader = w.Header().Set
	}
	return c
}

// DrainCause reports a request cut by the drain deadline as such (a 503,
// or the stream's error event), not as the cancellation it looks like.
func DrainCause(ctx context.Context, err error) error {
	if sd := middleware.ShuttingDown(ctx); sd != nil {
		return sd
	}
	return err
}

// RegionHeader names the client's region for route rules.
const RegionHeader = "X-Switchyard-Region"

// RoutingHeaders tells the client who answered, by which route rule, and
// whether the cache did (X-Switchyard-Provider, X-Switchyard-Rule,
// X-Switchyard-Cache), as the OpenAI facade does, whatever the dialect.
func RoutingHeaders(h http.Header, info route.Info) {
	if info.Provider != "" {
		h.Set("X-Switchyard-Provider", info.Provider)
	}
	if info.Rule != "" {
		h.Set("X-Switchyard-Rule", info.Rule)
	}
	if c := info.Cache.String(); c != "" {
		h.Set("X-Switchyard-Cache", c)
	}
	if info.Cache == llm.CacheSemanticHit {
		SemanticHeaders(h, &info)
	}
}

// SemanticHeaders tells the client how close a semantic hit was and which
// entry answered it (X-Switchyard-Cache-Similarity, X-Switchyard-Cache-Entry),
// so a wrong one can be reported by its id.
func SemanticHeaders(h http.Header, info *route.Info) {
	if s := info.Semantic; s != nil && s.Entry != "" {
		h.Set("X-Switchyard-Cache-Similarity", strconv.FormatFloat(float64(s.Similarity), 'f', 4, 32))
		h.Set("X-Switchyard-Cache-Entry", s.Entry)
	}
}

// Collapse keeps a text-only message as plain content, which every
// provider format takes; parts stay when any is not text.
func Collapse(m *llm.Message) {
	for i, p := range m.Parts {
		// A cache breakpoint on a part before the last must stay where
		// it is; one on the last part is the message's own.
		if p.Type != llm.PartText || (p.Cache != nil && i < len(m.Parts)-1) {
			return
		}
	}
	if n := len(m.Parts); n > 0 && m.Parts[n-1].Cache != nil && m.Cache == nil {
		m.Cache = m.Parts[n-1].Cache
	}
	var b strings.Builder
	for i, p := range m.Parts {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(p.Text)
	}
	m.Content, m.Parts = b.String(), nil
}
