package middleware

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"connectrpc.com/connect"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/llm"
)

// KeyDirectory resolves client keys created through the API (the state
// store, behind a cache).
type KeyDirectory interface {
	// Lookup returns the active key whose secret has the SHA-256 digest
	// sum, or nil. (Auth hashes a presented secret once, for every use.)
	Lookup(ctx context.Context, sum [32]byte) (*access.Key, error)
	// Any reports whether any key exists (revoked ones included: revoking
	// the last key must not reopen the gateway).
	Any() bool
}

// Auth authenticates requests. There are three kinds of caller:
//   - clients, with a key from the config (auth.api_keys) or created
//     through KeyService (the directory); the resolved *access.Key rides in
//     the context for the admission gate, the ledger and the limits;
//   - the operator, with the admin key (SWITCHYARD_ADMIN_KEY), needed for
//     admin services (keys, billing, usage, providers, routing) and
//     accepted everywhere;
//   - anyone on loopback while no client key exists at all: a fresh
//     install works out of the box on 127.0.0.1 and nowhere else, admin
//     services included (to create the first keys).
//
// Once client keys exist, admin services need the admin key; loopback is
// not enough (a reverse proxy on the same host makes every caller look
// local).
// Secrets are compared as SHA-256 digests, so neither timing nor a memory
// dump gives them away.
type Auth struct {
	static atomic.Pointer[map[[32]byte]*access.Key]
	admin  atomic.Pointer[[32]byte] // nil: no admin key
	dir    KeyDirectory
	now    func() time.Time
}

// AuthOption configures Auth.
type AuthOption func(*Auth)

// WithDirectory resolves keys created through the API.
func WithDirectory(d KeyDirectory) AuthOption { return func(a *Auth) { a.dir = d } }

// WithAdminKey sets the admin key ("" leaves admin services to loopback).
func WithAdminKey(k string) AuthOption { return func(a *Auth) { a.SetAdminKey(k) } }

// NewAuth returns an Auth accepting the config keys.
func NewAuth(keys []string, opts ...AuthOption) *Auth {
	a := &Auth{now: time.Now}
	a.SetKeys(keys)
	for _, o := range opts {
		o(a)
	}
	return a
}

// SetKeys replaces the config keys (on reload).
func (a *Auth) SetKeys(keys []string) {
	m := make(map[[32]byte]*access.Key, len(keys))
	for _, k := range keys {
		m[sha256.Sum256([]byte(k))] = &access.Key{ID: "cfg-" + keyFingerprint(k)[:8], Name: "config key " + maskKey(k)}
	}
	a.static.Store(&m)
}

// SetDirectory adds the keys created through the API. Call it before
// serving.
func (a *Auth) SetDirectory(d KeyDirectory) { a.dir = d }

// SetAdminKey replaces the admin key; "" removes it.
func (a *Auth) SetAdminKey(k string) {
	if k == "" {
		a.admin.Store(nil)
		return
	}
	sum := sha256.Sum256([]byte(k))
	a.admin.Store(&sum)
}

// Enabled reports whether any client key exists (config or API).
func (a *Auth) Enabled() bool {
	return len(*a.static.Load()) > 0 || (a.dir != nil && a.dir.Any())
}

// HasAdminKey reports whether an admin key is set.
func (a *Auth) HasAdminKey() bool { return a.admin.Load() != nil }

// isAdmin reports whether sum is the admin key's digest.
func (a *Auth) isAdmin(sum [32]byte) bool {
	adm := a.admin.Load()
	return adm != nil && subtle.ConstantTimeCompare(sum[:], adm[:]) == 1
}

// presented extracts the key from Authorization: Bearer (OpenAI, and
// Claude Code's ANTHROPIC_AUTH_TOKEN), x-api-key (Anthropic) or
// x-goog-api-key (Gemini).
func presented(h http.Header) string {
	if v := h.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:])
		}
		return ""
	}
	if v := h.Get("X-Api-Key"); v != "" {
		return v
	}
	return h.Get("X-Goog-Api-Key")
}

// adminKey is the identity of admin-key callers on client services.
var adminKey = &access.Key{ID: access.AdminKeyID, Name: "admin key"}

var (
	errMissingKey = &llm.Error{Kind: llm.KindUnauthenticated, Code: "missing_api_key",
		Message: "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'."}
	errLoopbackOnly = &llm.Error{Kind: llm.KindPermissionDenied, Code: "loopback_only",
		Message: "No client keys are configured, so this gateway serves unauthenticated callers on loopback only. Create a key (switchyard keys create) or set auth.api_keys."}
	errAdminLoopbackOnly = &llm.Error{Kind: llm.KindPermissionDenied, Code: "admin_key_required",
		Message: "Without client keys or SWITCHYARD_ADMIN_KEY, admin APIs answer loopback callers only; set SWITCHYARD_ADMIN_KEY and send it as 'Authorization: Bearer ADMIN_KEY'."}
	errAdminNotSet = &llm.Error{Kind: llm.KindUnauthenticated, Code: "admin_key_required",
		Message: "Admin APIs need the admin key, and SWITCHYARD_ADMIN_KEY is not set on this gateway: set it and restart."}
	errAdminRequired = &llm.Error{Kind: llm.KindPermissionDenied, Code: "admin_key_required",
		Message: "This API needs the admin key (SWITCHYARD_ADMIN_KEY); client keys cannot use it."}
)

// Authorize authenticates one request: h are its headers, peer the
// client's address (host:port), admin whether it calls an admin service.
// It returns ctx carrying the client's *access.Key, when there is one.
func (a *Auth) Authorize(ctx context.Context, h http.Header, peer string, admin bool) (context.Context, error) {
	secret := presented(h)
	var sum [32]byte
	if secret != "" {
		sum = sha256.Sum256([]byte(secret))
	}
	adm := a.admin.Load()
	isAdmin := adm != nil && secret != "" && subtle.ConstantTimeCompare(sum[:], adm[:]) == 1
	if admin {
		switch {
		case isAdmin:
			return withPrincipal(ctx, PrincipalAdmin), nil
		case adm == nil && !a.Enabled():
			// Bootstrap: a fresh install is administered from the box.
			if isLoopback(peer) {
				return withPrincipal(ctx, PrincipalOpenMode), nil
			}
			return ctx, errAdminLoopbackOnly
		case adm == nil:
			return ctx, errAdminNotSet
		case secret == "":
			return ctx, errMissingKey
		}
		if k, _ := a.lookup(ctx, sum); k != nil {
			return ctx, errAdminRequired
		}
		return ctx, invalidKey(secret)
	}
	if isAdmin {
		return access.WithKey(ctx, adminKey), nil
	}
	if !a.Enabled() {
		if !isLoopback(peer) {
			return ctx, errLoopbackOnly
		}
		// A key this instance has not heard of may have just been created
		// on another one: a presented key that resolves is enforced. Any
		// other (SDKs always send one) is the open loopback mode.
		if secret != "" {
			if k, err := a.lookup(ctx, sum); err == nil && k != nil {
				return a.admitKey(ctx, k, secret, peer)
			}
			// Named for per-key cache scopes and the ledger all the same.
			return context.WithValue(ctx, clientKey{}, hex.EncodeToString(sum[:8])), nil
		}
		return ctx, nil
	}
	if secret == "" {
		return ctx, errMissingKey
	}
	k, err := a.lookup(ctx, sum)
	if err != nil {
		return ctx, err
	}
	if k == nil {
		return ctx, invalidKey(secret)
	}
	return a.admitKey(ctx, k, secret, peer)
}

// admitKey applies a resolved key's expiry and IP allowlist.
func (a *Auth) admitKey(ctx context.Context, k *access.Key, secret, peer string) (context.Context, error) {
	if k.Expired(a.now()) {
		return ctx, &llm.Error{Kind: llm.KindUnauthenticated, Code: "expired_api_key",
			Message: "The API key " + maskKey(secret) + " expired at " + k.ExpiresAt.UTC().Format(time.RFC3339) + "."}
	}
	if !k.AllowsAddr(peer) {
		host := peer
		if ap, ok := access.ParseAddr(peer); ok {
			host = ap.String()
		}
		return ctx, &llm.Error{Kind: llm.KindPermissionDenied, Code: "ip_not_allowed",
			Message: "The API key " + maskKey(secret) + " may not be used from " + host + "."}
	}
	return access.WithKey(ctx, k), nil
}

func (a *Auth) lookup(ctx context.Context, sum [32]byte) (*access.Key, error) {
	if k := (*a.static.Load())[sum]; k != nil {
		return k, nil
	}
	if a.dir == nil {
		return nil, nil
	}
	k, err := a.dir.Lookup(ctx, sum)
	if err != nil {
		return nil, &llm.Error{Kind: llm.KindUnavailable, Code: "key_store_unavailable",
			Message: "The key store could not be read; try again shortly.", Err: err}
	}
	return k, nil
}

func invalidKey(secret string) error {
	return &llm.Error{Kind: llm.KindUnauthenticated, Code: "invalid_api_key",
		Message: "Incorrect API key provided: " + maskKey(secret) + "."}
}

// isLoopback reports whether peer (host:port or host) is a loopback address.
func isLoopback(peer string) bool {
	a, ok := access.ParseAddr(peer)
	return ok && a.IsLoopback()
}

// keyFingerprint names a key without revealing it.
func keyFingerprint(k string) string {
	sum := sha256.Sum256([]byte(k))
	return hex.EncodeToString(sum[:8])
}

func maskKey(k string) string {
	if len(k) <= 8 {
		return "****"
	}
	return k[:3] + "****" + k[len(k)-4:]
}

// AdminProcedure reports whether a connect procedure ("/pkg.Service/Method")
// belongs to an admin service: everything but chat, models, embeddings,
// GetUsage and GetUsageSeries (where a client key sees its own usage).
func AdminProcedure(procedure string) bool {
	if procedure == "/switchyard.v1.UsageService/GetUsage" || procedure == "/switchyard.v1.UsageService/GetUsageSeries" {
		return false
	}
	for _, p := range [...]string{"/switchyard.v1.ChatService/", "/switchyard.v1.ModelService/", "/switchyard.v1.EmbeddingService/"} {
		if strings.HasPrefix(procedure, p) {
			return false
		}
	}
	return true
}

// Interceptor enforces the keys on every connect RPC (gRPC, gRPC-Web,
// Connect). Health and reflection are separate handlers and stay open.
func (a *Auth) Interceptor() connect.Interceptor { return authInterceptor{a} }

type authInterceptor struct{ a *Auth }

func (i authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, err := i.a.Authorize(ctx, req.Header(), req.Peer().Addr, AdminProcedure(req.Spec().Procedure))
		if err != nil {
			return nil, err
		}
		return next(ctx, req)
	}
}

func (i authInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (i authInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		ctx, err := i.a.Authorize(ctx, conn.RequestHeader(), conn.Peer().Addr, AdminProcedure(conn.Spec().Procedure))
		if err != nil {
			return err
		}
		return next(ctx, conn)
	}
}

// CORS answers preflights and sets CORS headers for the allowed origins
// ("*" allows any). Connect, gRPC-Web and REST all need it from browsers.
func CORS(origins []string, next http.Handler) http.Handler {
	if len(origins) == 0 {
		return next
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		allowed[strings.TrimSuffix(o, "/")] = true
	}
	const (
		methods = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
		expose  = "Grpc-Status, Grpc-Message, Grpc-Status-Details-Bin, Connect-Content-Encoding, Connect-Accept-Encoding, X-Request-Id, X-Switchyard-Provider, X-Switchyard-Cache, Retry-After"
	)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" || !(allowed["*"] || allowed[origin]) {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		h.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", methods)
			if rh := r.Header.Get("Access-Control-Request-Headers"); rh != "" {
				h.Set("Access-Control-Allow-Headers", rh)
			}
			h.Set("Access-Control-Max-Age", "7200")
			w.WriteHeader(http.StatusNoContent)
			return
		}
		h.Set("Access-Control-Expose-Headers", expose)
		next.ServeHTTP(w, r)
	})
}
