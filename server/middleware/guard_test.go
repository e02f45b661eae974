package middleware

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestGuardRefusesCrossSiteRequests(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	keyless := func() bool { return true }
	keyed := func() bool { return false }
	page := []string{"http://127.0.0.1:5173"}
	const rpc = "/switchyard.v1.ChatService/Chat"
	tests := []struct {
		name   string
		opts   GuardOptions
		method string
		path   string
		host   string
		ctype  string
		origin string
		want   int
	}{
		{"REST JSON write", GuardOptions{Keyless: keyless}, "POST", "/v1/routing/config", "127.0.0.1:8080", "application/json", "", 200},
		{"REST JSON with charset", GuardOptions{Keyless: keyless}, "POST", "/v1/chat/completions", "localhost:8080", "application/json; charset=utf-8", "", 200},
		{"REST +json", GuardOptions{Keyless: keyless}, "PUT", "/v1/routing/config", "[::1]:8080", "application/merge-patch+json", "", 200},
		{"REST text/plain", GuardOptions{Keyless: keyless}, "POST", "/v1/routing/config", "127.0.0.1", "text/plain", "", 415},
		{"REST form", GuardOptions{Keyless: keyless}, "POST", "/v1/chat/completions", "127.0.0.1", "application/x-www-form-urlencoded", "", 415},
		{"REST no type", GuardOptions{Keyless: keyless}, "PATCH", "/v1/keys/k1", "127.0.0.1", "", "", 415},
		{"REST GET needs no type", GuardOptions{Keyless: keyless}, "GET", "/v1/models", "127.0.0.1", "", "", 200},
		{"REST bodiless DELETE", GuardOptions{Keyless: keyless}, "DELETE", "/v1/keys/k1", "127.0.0.1", "", "", 200},
		{"gRPC", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "application/grpc", "", 200},
		{"gRPC-Web", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "application/grpc-web+proto", "", 200},
		{"Connect unary proto", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "application/proto", "", 200},
		{"Connect unary JSON", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "application/json", "", 200},
		{"Connect stream", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "application/connect+json", "", 200},
		{"RPC text/plain", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "text/plain", "", 415},
		{"RPC form", GuardOptions{Keyless: keyless}, "POST", rpc, "127.0.0.1", "multipart/form-data; boundary=x", "", 415},
		{"listed origin", GuardOptions{Origins: page, Keyless: keyless}, "POST", "/v1/chat/completions", "127.0.0.1", "application/json", page[0], 200},
		{"wildcard origin", GuardOptions{Origins: []string{"*"}, Keyless: keyed}, "POST", "/v1/chat/completions", "gw.example", "application/json", "http://any.example", 200},
		{"foreign origin REST", GuardOptions{Origins: page, Keyless: keyless}, "POST", "/v1/chat/completions", "127.0.0.1", "application/json", "http://evil.example", 403},
		{"foreign origin gRPC-Web", GuardOptions{Keyless: keyed}, "POST", rpc, "gw.example", "application/grpc-web+proto", "http://evil.example", 403},
		{"foreign origin Connect", GuardOptions{Origins: page, Keyless: keyed}, "POST", rpc, "gw.example", "application/json", "http://evil.example", 403},
		{"foreign origin GET", GuardOptions{Keyless: keyed}, "GET", "/v1/models", "gw.example", "", "http://evil.example", 403},
		{"same origin (the console) Connect", GuardOptions{Keyless: keyed}, "POST", rpc, "gw.example:8080", "application/json", "http://gw.example:8080", 200},
		{"same origin keyless loopback", GuardOptions{Keyless: keyless}, "GET", "/console/main.js", "127.0.0.1:8080", "", "http://127.0.0.1:8080", 200},
		{"same origin over https", GuardOptions{Keyless: keyed}, "POST", rpc, "gw.example", "application/json", "https://gw.example", 200},
		{"origin of another port is foreign", GuardOptions{Keyless: keyed}, "POST", rpc, "gw.example:8080", "application/json", "http://gw.example:9090", 403},
		{"rebinding: same origin, but a foreign host in keyless mode", GuardOptions{Keyless: keyless}, "POST", rpc, "attacker.example:8080", "application/json", "http://attacker.example:8080", 403},
		{"foreign origin preflight", GuardOptions{Keyless: keyed}, "OPTIONS", "/v1/models", "gw.example", "", "http://evil.example", 403},
		{"keyless foreign host", GuardOptions{Keyless: keyless}, "GET", "/v1/models", "attacker.example", "", "", 403},
		{"keyless foreign host gRPC", GuardOptions{Keyless: keyless}, "POST", rpc, "attacker.example:8080", "application/grpc", "", 403},
		{"keyless 127.0.0.2", GuardOptions{Keyless: keyless}, "GET", "/v1/models", "127.0.0.2:9", "", "", 200},
		{"keyless listed host", GuardOptions{AllowedHosts: []string{"gw.internal"}, Keyless: keyless}, "GET", "/v1/models", "gw.internal:8080", "", "", 200},
		{"keyed any host", GuardOptions{Keyless: keyed}, "GET", "/v1/models", "gw.example", "", "", 200},
		{"keyed unlisted host", GuardOptions{AllowedHosts: []string{"gw.internal"}, Keyless: keyed}, "GET", "/v1/models", "gw.example", "", "", 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(tc.method, "http://x"+tc.path, nil)
			if tc.ctype != "" {
				r = httptest.NewRequest(tc.method, "http://x"+tc.path, strings.NewReader("{}"))
				r.Header.Set("Content-Type", tc.ctype)
			}
			r.Host = tc.host
			if tc.origin != "" {
				r.Header.Set("Origin", tc.origin)
			}
			w := httptest.NewRecorder()
			Guard(tc.opts, ok).ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d (%s)", w.Code, tc.want, w.Body)
			}
			if tc.want == 415 && !strings.Contains(w.Body.String(), `"code":"unsupported_media_type"`) {
				t.Fatalf("body %s lacks the OpenAI error shape", w.Body)
			}
		})
	}
}
