package rest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rpc"
)

func TestClassifyMapsEveryErrorToOpenAIStatusAndType(t *testing.T) {
	cases := []struct {
		name   string
		err    error
		status int
		typ    string
		code   string
	}{
		{"invalid param", llm.InvalidParam("model", "missing"), 400, "invalid_request_error", ""},
		{"unknown model", fmt.Errorf("w: %w", &llm.Error{Kind: llm.KindNotFound, Message: "no", Err: llm.ErrUnknownModel}), 404, "invalid_request_error", "model_not_found"},
		{"unauthenticated", llm.Errorf(llm.KindUnauthenticated, "bad key"), 401, "authentication_error", "invalid_api_key"},
		{"forbidden", llm.Errorf(llm.KindPermissionDenied, "no"), 403, "permission_error", ""},
		{"rate limited", &llm.Error{Kind: llm.KindRateLimited, RetryAfter: time.Second}, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"upstream 429", &llm.UpstreamError{Status: 429}, 429, "rate_limit_error", "rate_limit_exceeded"},
		{"upstream 503", &llm.UpstreamError{Status: 503}, 503, "server_error", "upstream_unavailable"},
		{"upstream 500", &llm.UpstreamError{Status: 500}, 502, "server_error", "upstream_unavailable"},
		{"upstream connection error", &llm.UpstreamError{Err: errors.New("reset")}, 502, "server_error", "upstream_unavailable"},
		{"upstream timeout", &llm.UpstreamError{Status: 504}, 504, "timeout_error", "upstream_timeout"},
		{"no healthy target", llm.ErrNoHealthyTarget, 503, "server_error", "upstream_unavailable"},
		{"deadline", context.DeadlineExceeded, 504, "timeout_error", "upstream_timeout"},
		{"grpc unimplemented", status.Error(codes.Unimplemented, "later"), 501, "not_implemented_error", "unimplemented"},
		{"grpc invalid argument from the gateway", status.Error(codes.InvalidArgument, "bad json"), 400, "invalid_request_error", ""},
		{"body too large", &http.MaxBytesError{Limit: 10}, 413, "invalid_request_error", "request_too_large"},
		{"unknown error hides details", errors.New("secret internals"), 500, "server_error", "internal_error"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := classify(tc.err)
			if e.status != tc.status || e.typ != tc.typ || e.code != tc.code {
				t.Fatalf("got %d %s %s, want %d %s %s", e.status, e.typ, e.code, tc.status, tc.typ, tc.code)
			}
			if strings.Contains(e.message, "secret") {
				t.Fatalf("internal error text leaked: %q", e.message)
			}
		})
	}
}

func newFacadeHandler(tb testing.TB) http.Handler {
	tb.Helper()
	return newFacadeHandlerAuth(tb, nil)
}

func newFacadeHandlerAuth(tb testing.TB, auth Authenticator) http.Handler {
	tb.Helper()
	sim := simulator.New("sim", []string{"m"}, simulator.WithResponseTokens(16))
	r, err := route.New(route.Spec{Providers: []route.ProviderSpec{{Name: "sim", Models: []string{"m"},
		Keys: []route.KeySpec{{ID: "sim", Provider: sim}}}}})
	if err != nil {
		tb.Fatal(err)
	}
	gw := gateway.New(r, nil)
	svc := rpc.Services{Chat: rpc.NewChat(gw), Models: rpc.NewModels(r), Embeddings: rpc.NewEmbeddings(gw),
		Usage: &rpc.Usage{}, Keys: &rpc.Keys{}, Billing: &rpc.Billing{}}
	mux := http.NewServeMux()
	if err := New(hclog.NewNullLogger(), svc, auth).Register(context.Background(), mux); err != nil {
		tb.Fatal(err)
	}
	return middleware.Wrap(hclog.NewNullLogger(), 1<<20, mux)
}

func TestUnknownRESTPathIsOpenAIShaped404(t *testing.T) {
	h := newFacadeHandler(t)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/v1/nothing/here", nil))
	if rec.Code != 404 || !strings.Contains(rec.Body.String(), `"type":"invalid_request_error"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

// With keys in force, a URL no route serves is a 404 for every caller; the
// admin routes still want the admin key, and GET /v1/usage a client key.
func TestUnknownRESTPathIs404AndAdminRoutesStillNeedTheAdminKey(t *testing.T) {
	const client, admin = "client-key-0123456789", "admin-key-0123456789"
	withAdmin := newFacadeHandlerAuth(t, middleware.NewAuth([]string{client}, middleware.WithAdminKey(admin)))
	noAdmin := newFacadeHandlerAuth(t, middleware.NewAuth([]string{client}))
	for _, tc := range []struct {
		name         string
		h            http.Handler
		method, path string
		key          string
		want         int
	}{
		{"unknown path, no key", withAdmin, "GET", "/v1/nothing/here", "", 404},
		{"unknown path, client key", withAdmin, "POST", "/v1/nothing", client, 404},
		{"unknown path, no admin key configured", noAdmin, "GET", "/v1/nothing/here", "", 404},
		{"admin route, no key", withAdmin, "GET", "/v1/keys", "", 401},
		{"admin route, client key", withAdmin, "GET", "/v1/keys", client, 403},
		{"admin route, wrong key", withAdmin, "GET", "/v1/keys", "wrong-key-0123456789", 401},
		{"admin route, admin key", withAdmin, "GET", "/v1/keys", admin, 501},
		{"admin route, no admin key configured", noAdmin, "GET", "/v1/keys", client, 401},
		{"alert firings, client key", withAdmin, "GET", "/v1/billing/alerts/firings", client, 403},
		{"alert firings, admin key", withAdmin, "GET", "/v1/billing/alerts/firings", admin, 501},
		{"own usage, client key", withAdmin, "GET", "/v1/usage", client, 501},
		{"own usage, no key", withAdmin, "GET", "/v1/usage", "", 401},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if tc.key != "" {
				req.Header.Set("Authorization", "Bearer "+tc.key)
			}
			rec := httptest.NewRecorder()
			tc.h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("%s %s: status %d, want %d: %s", tc.method, tc.path, rec.Code, tc.want, rec.Body)
			}
		})
	}
}
