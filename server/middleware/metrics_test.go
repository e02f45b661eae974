package middleware

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestListensBeyondLoopback(t *testing.T) {
	tests := []struct {
		addr string
		want bool
	}{
		{"127.0.0.1:8080", false},
		{"127.1.2.3:8080", false},
		{"[::1]:8080", false},
		{"localhost:8080", false},
		{"LOCALHOST:8080", false},
		{"[::ffff:127.0.0.1]:8080", false},
		{":8080", true},
		{"0.0.0.0:8080", true},
		{"[::]:8080", true},
		{"10.0.0.5:8080", true},
		{"gateway.internal:8080", true},
		{"", true},
	}
	for _, tc := range tests {
		t.Run(tc.addr, func(t *testing.T) {
			if got := ListensBeyondLoopback(tc.addr); got != tc.want {
				t.Fatalf("ListensBeyondLoopback(%q) = %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

func TestMetricsGateNeedsATokenBeyondLoopback(t *testing.T) {
	const (
		token  = "scrape-token-0123456789"
		admin  = "admin-key-0123456789abcd"
		client = "sk-client-key-0123456789"
		remote = "192.0.2.7:40000"
		local  = "127.0.0.1:40000"
	)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("metrics")) })
	tests := []struct {
		name           string
		beyondLoopback bool
		clientKeys     []string
		adminKey       string
		token          string
		peer, bearer   string
		want           int
	}{
		{"loopback listener is open", false, []string{client}, "", "", remote, "", 200},
		{"keyed, nothing configured", true, []string{client}, "", "", remote, "", 403},
		{"keyed, nothing configured, loopback peer", true, []string{client}, "", "", local, "", 403},
		{"keyed, a client key is not enough", true, []string{client}, "", token, remote, client, 401},
		{"keyed, token configured but not sent", true, []string{client}, "", token, remote, "", 401},
		{"keyed, wrong token", true, []string{client}, "", token, remote, "not-the-token-at-all", 401},
		{"keyed, token", true, []string{client}, "", token, remote, token, 200},
		{"keyed, admin key", true, []string{client}, admin, "", remote, admin, 200},
		{"keyed, admin key with a token configured", true, []string{client}, admin, token, remote, admin, 200},
		{"keyless, loopback peer", true, nil, "", "", local, "", 200},
		{"keyless, remote peer", true, nil, "", "", remote, "", 403},
		{"keyless, token configured, loopback peer without it", true, nil, "", token, local, "", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			auth := NewAuth(tc.clientKeys, WithAdminKey(tc.adminKey))
			h := MetricsGate(auth, tc.token, tc.beyondLoopback, ok)
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.RemoteAddr = tc.peer
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.want, rec.Body)
			}
			if (rec.Code == 200) != (rec.Body.String() == "metrics") {
				t.Fatalf("body %q with status %d", rec.Body, rec.Code)
			}
		})
	}
}
