package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync/atomic"

	"connectrpc.com/connect"

	"github.com/switchyard/switchyard/engine/llm"
)

// Auth checks client API keys. Keys are held as SHA-256 digests and looked
// up by the digest of what the client presents, so neither the comparison
// time nor a memory dump gives the keys away. The key set is swapped
// atomically on reload.
type Auth struct {
	keys atomic.Pointer[map[[32]byte]struct{}]
}

// NewAuth returns an Auth over keys; no keys means open access.
func NewAuth(keys []string) *Auth {
	a := &Auth{}
	a.SetKeys(keys)
	return a
}

// SetKeys replaces the accepted keys.
func (a *Auth) SetKeys(keys []string) {
	m := make(map[[32]byte]struct{}, len(keys))
	for _, k := range keys {
		m[sha256.Sum256([]byte(k))] = struct{}{}
	}
	a.keys.Store(&m)
}

// Enabled reports whether any key is configured.
func (a *Auth) Enabled() bool { return len(*a.keys.Load()) > 0 }

// presented extracts the key from Authorization: Bearer or x-api-key.
func presented(h http.Header) string {
	if v := h.Get("Authorization"); v != "" {
		if len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
			return strings.TrimSpace(v[7:])
		}
		return ""
	}
	return h.Get("X-Api-Key")
}

// Check returns nil when the request may proceed.
func (a *Auth) Check(h http.Header) error {
	keys := *a.keys.Load()
	if len(keys) == 0 {
		return nil
	}
	k := presented(h)
	if k == "" {
		return &llm.Error{Kind: llm.KindUnauthenticated, Code: "missing_api_key",
			Message: "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY'."}
	}
	if _, ok := keys[sha256.Sum256([]byte(k))]; !ok {
		return &llm.Error{Kind: llm.KindUnauthenticated, Code: "invalid_api_key",
			Message: "Incorrect API key provided: " + maskKey(k) + "."}
	}
	return nil
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

// Interceptor enforces the keys on every connect RPC (gRPC, gRPC-Web,
// Connect). Health and reflection are separate handlers and stay open.
func (a *Auth) Interceptor() connect.Interceptor { return authInterceptor{a} }

type authInterceptor struct{ a *Auth }

func (i authInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		if err := i.a.Check(req.Header()); err != nil {
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
		if err := i.a.Check(conn.RequestHeader()); err != nil {
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
