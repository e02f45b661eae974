package middleware

import (
	"context"
	"net/http"
	"testing"

	"github.com/switchyard/switchyard/engine/access"
)

func TestPrincipalNamesWhoCalls(t *testing.T) {
	dir := newFakeDir(map[string]*access.Key{"sy-team-a-secret-000": {ID: "key_a"}}, nil)
	tests := []struct {
		name   string
		auth   *Auth
		secret string
		admin  bool
		want   string
	}{
		{"admin key on an admin API", NewAuth(nil, WithDirectory(dir), WithAdminKey("admin-secret-0000")), "admin-secret-0000", true, "admin"},
		{"admin key on a client API", NewAuth(nil, WithDirectory(dir), WithAdminKey("admin-secret-0000")), "admin-secret-0000", false, "admin"},
		{"keyless loopback admin call", NewAuth(nil), "", true, "open-mode"},
		{"client key", NewAuth(nil, WithDirectory(dir)), "sy-team-a-secret-000", false, "key_a"},
		{"keyless loopback client call", NewAuth(nil), "", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.secret != "" {
				h.Set("Authorization", "Bearer "+tt.secret)
			}
			ctx, err := tt.auth.Authorize(context.Background(), h, "127.0.0.1:50000", tt.admin)
			if err != nil {
				t.Fatal(err)
			}
			if got := Principal(ctx); got != tt.want {
				t.Fatalf("Principal = %q, want %q", got, tt.want)
			}
		})
	}
}
