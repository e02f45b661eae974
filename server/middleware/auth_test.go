package middleware

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/llm"
)

type fakeDir struct {
	keys map[[32]byte]*access.Key
	err  error
}

// newFakeDir holds keys by the digest of their secret, as the store does.
func newFakeDir(bySecret map[string]*access.Key, err error) fakeDir {
	d := fakeDir{keys: map[[32]byte]*access.Key{}, err: err}
	for secret, k := range bySecret {
		d.keys[sha256.Sum256([]byte(secret))] = k
	}
	return d
}

func (d fakeDir) Lookup(_ context.Context, sum [32]byte) (*access.Key, error) {
	return d.keys[sum], d.err
}
func (d fakeDir) Any() bool { return len(d.keys) > 0 }

func TestAuthorize(t *testing.T) {
	office, _ := access.ParseIPAllowlist([]string{"10.0.0.0/8"})
	secrets := map[string]*access.Key{
		"sy-team-a-secret-000": {ID: "key_a"},
		"sy-expired-secret-00": {ID: "key_old", ExpiresAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		"sy-office-secret-000": {ID: "key_office", IPAllowlist: office},
	}
	dir := newFakeDir(secrets, nil)
	const (
		local  = "127.0.0.1:50000"
		remote = "203.0.113.9:50000"
	)
	tests := []struct {
		name     string
		auth     *Auth
		secret   string
		peer     string
		admin    bool
		wantErr  string // llm.Error code; "" for success
		wantKind llm.Kind
		wantKey  string // access key id in the returned context
	}{
		{"no keys: loopback served", NewAuth(nil), "", local, false, "", 0, ""},
		{"no keys: remote refused", NewAuth(nil), "", remote, false, "loopback_only", llm.KindPermissionDenied, ""},
		{"no keys: admin on loopback bootstraps", NewAuth(nil), "", local, true, "", 0, ""},
		{"no keys: admin remote refused", NewAuth(nil), "", remote, true, "admin_key_required", llm.KindPermissionDenied, ""},
		{"config key", NewAuth([]string{"sk-config-key-123456"}), "sk-config-key-123456", remote, false, "", 0, "cfg-"},
		{"missing key", NewAuth([]string{"sk-config-key-123456"}), "", local, false, "missing_api_key", llm.KindUnauthenticated, ""},
		{"wrong key", NewAuth([]string{"sk-config-key-123456"}), "sk-wrong", local, false, "invalid_api_key", llm.KindUnauthenticated, ""},
		{"directory key", NewAuth(nil, WithDirectory(dir)), "sy-team-a-secret-000", remote, false, "", 0, "key_a"},
		{"expired key", NewAuth(nil, WithDirectory(dir)), "sy-expired-secret-00", remote, false, "expired_api_key", llm.KindUnauthenticated, ""},
		{"ip allowlist in", NewAuth(nil, WithDirectory(dir)), "sy-office-secret-000", "10.2.3.4:1", false, "", 0, "key_office"},
		{"ip allowlist out", NewAuth(nil, WithDirectory(dir)), "sy-office-secret-000", remote, false, "ip_not_allowed", llm.KindPermissionDenied, ""},
		{"keys but no admin key: admin refused even on loopback", NewAuth(nil, WithDirectory(dir)), "", local, true, "admin_key_required", llm.KindUnauthenticated, ""},
		{"admin key on admin API", NewAuth(nil, WithDirectory(dir), WithAdminKey("admin-secret-0000")), "admin-secret-0000", remote, true, "", 0, ""},
		{"client key on admin API", NewAuth(nil, WithDirectory(dir), WithAdminKey("admin-secret-0000")), "sy-team-a-secret-000", local, true, "admin_key_required", llm.KindPermissionDenied, ""},
		{"no key on admin API", NewAuth(nil, WithDirectory(dir), WithAdminKey("admin-secret-0000")), "", local, true, "missing_api_key", llm.KindUnauthenticated, ""},
		{"admin key works on client APIs", NewAuth(nil, WithDirectory(dir), WithAdminKey("admin-secret-0000")), "admin-secret-0000", remote, false, "", 0, "admin"},
		{"store down", NewAuth(nil, WithDirectory(newFakeDir(secrets, errors.New("db gone")))), "sy-team-a-secret-000", local, false, "key_store_unavailable", llm.KindUnavailable, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.secret != "" {
				h.Set("Authorization", "Bearer "+tt.secret)
			}
			ctx, err := tt.auth.Authorize(context.Background(), h, tt.peer, tt.admin)
			if tt.wantErr != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Code != tt.wantErr || le.Kind != tt.wantKind {
					t.Fatalf("err %v, want code %s kind %v", err, tt.wantErr, tt.wantKind)
				}
				return
			}
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			k := access.FromContext(ctx)
			switch {
			case tt.wantKey == "" && k != nil:
				t.Fatalf("unexpected key %+v", k)
			case tt.wantKey != "" && (k == nil || len(k.ID) < len(tt.wantKey) || k.ID[:len(tt.wantKey)] != tt.wantKey):
				t.Fatalf("key %+v, want id %s…", k, tt.wantKey)
			}
			if tt.wantKey != "" && Client(ctx) != k.ID {
				t.Fatalf("Client(ctx) = %q, want the key id %q", Client(ctx), k.ID)
			}
		})
	}
}

func TestAdminProcedure(t *testing.T) {
	for p, want := range map[string]bool{
		"/switchyard.v1.ChatService/CreateChatCompletion": false,
		"/switchyard.v1.ModelService/ListModels":          false,
		"/switchyard.v1.EmbeddingService/CreateEmbedding": false,
		"/switchyard.v1.KeyService/CreateKey":             true,
		"/switchyard.v1.BillingService/ListAlerts":        true,
		"/switchyard.v1.UsageService/GetUsage":            false,
		"/switchyard.v1.UsageService/GetMetrics":          true,
		"/switchyard.v1.UsageService/GetUsageSeries":      false,
		"/switchyard.v1.UsageService/TailRequests":        true,
		"/switchyard.v1.ProviderService/AddProviderKey":   true,
		"/switchyard.v1.RoutingConfigService/Update":      true,
	} {
		if got := AdminProcedure(p); got != want {
			t.Errorf("AdminProcedure(%s) = %v, want %v", p, got, want)
		}
	}
}

func BenchmarkAuthorizeDirectoryKey(b *testing.B) {
	a := NewAuth(nil, WithDirectory(newFakeDir(map[string]*access.Key{"sy-team-a-secret-000": {ID: "key_a"}}, nil)))
	h := http.Header{"Authorization": {"Bearer sy-team-a-secret-000"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := a.Authorize(ctx, h, "127.0.0.1:1", false); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOpenModeNamesThePresentedKey(t *testing.T) {
	a := NewAuth(nil)
	h := http.Header{"Authorization": {"Bearer sk-anything-the-sdk-sends"}}
	ctx, err := a.Authorize(context.Background(), h, "127.0.0.1:1", false)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("sk-anything-the-sdk-sends"))
	if got, want := Client(ctx), hex.EncodeToString(sum[:8]); got != want {
		t.Fatalf("Client = %q, want the fingerprint %q", got, want)
	}
	if ctx, _ := a.Authorize(context.Background(), http.Header{}, "127.0.0.1:1", false); Client(ctx) != "" {
		t.Fatalf("no key presented: Client = %q", Client(ctx))
	}
}
