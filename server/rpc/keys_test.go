package rpc

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/store"
)

func newKeysService(t *testing.T) (*Keys, *store.Store, *[]string) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var changed []string
	return NewKeys(st, func(id string) { changed = append(changed, id) }, WithAdminKeyConfigured(true)), st, &changed
}

// Without an admin key the first client key would lock the operator out,
// so it is refused with the way out; later keys, or any key once an admin
// key is configured, are created as before.
func TestFirstClientKeyNeedsAnAdminKey(t *testing.T) {
	for _, tc := range []struct {
		name     string
		hasAdmin bool
		existing bool
		refused  bool
	}{
		{"no admin key, no keys yet", false, false, true},
		{"no admin key, keys exist", false, true, false},
		{"admin key, no keys yet", true, false, false},
		{"admin key, keys exist", true, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			withAdmin, st, _ := newKeysService(t)
			if tc.existing {
				if _, err := withAdmin.CreateKey(ctx, &pb.CreateKeyRequest{Key: &pb.ClientKey{Name: "first"}}); err != nil {
					t.Fatal(err)
				}
			}
			s := NewKeys(st, nil, WithAdminKeyConfigured(tc.hasAdmin))
			resp, err := s.CreateKey(ctx, &pb.CreateKeyRequest{Key: &pb.ClientKey{Name: "next"}})
			if !tc.refused {
				if err != nil || resp.GetSecret() == "" {
					t.Fatalf("create: %v %v", resp, err)
				}
				return
			}
			if Code(err) != connect.CodeFailedPrecondition {
				t.Fatalf("code %v (%v), want FailedPrecondition", Code(err), err)
			}
			for _, w := range []string{"SWITCHYARD_ADMIN_KEY", "restart"} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("message %q does not say %q", err, w)
				}
			}
			if keys, _ := st.ListClientKeys(ctx); len(keys) != 0 {
				t.Fatalf("a refused key was stored: %v", keys)
			}
		})
	}
}

func TestCreateKeyValidation(t *testing.T) {
	future := timestamppb.New(time.Now().Add(time.Hour))
	past := timestamppb.New(time.Now().Add(-time.Hour))
	tests := []struct {
		name      string
		key       *pb.ClientKey
		wantParam string // "" = success
	}{
		{"minimal", &pb.ClientKey{Name: "team-a"}, ""},
		{"everything", &pb.ClientKey{Name: "b", RpmLimit: 60, TpmLimit: 1000, AllowedModels: []string{"gpt-4o"},
			IpAllowlist: []string{"10.0.0.0/8", "::1"}, Budget: &pb.Budget{AmountUsd: 5, Period: pb.BudgetPeriod_BUDGET_PERIOD_MONTH},
			ExpiresAt: future, Labels: map[string]string{"team": "a"}}, ""},
		{"nil key is an empty key", nil, ""},
		{"negative rpm", &pb.ClientKey{RpmLimit: -1}, "key.rpm_limit"},
		{"negative tpm", &pb.ClientKey{TpmLimit: -1}, "key.tpm_limit"},
		{"bad cidr", &pb.ClientKey{IpAllowlist: []string{"10.0.0.0/40"}}, "key.ip_allowlist"},
		{"host name in allowlist", &pb.ClientKey{IpAllowlist: []string{"example.com"}}, "key.ip_allowlist"},
		{"budget without period", &pb.ClientKey{Budget: &pb.Budget{AmountUsd: 1}}, "key.budget.period"},
		{"negative budget", &pb.ClientKey{Budget: &pb.Budget{AmountUsd: -1, Period: pb.BudgetPeriod_BUDGET_PERIOD_DAY}}, "key.budget.amount_usd"},
		{"expiry in the past", &pb.ClientKey{ExpiresAt: past}, "key.expires_at"},
		{"empty model entry", &pb.ClientKey{AllowedModels: []string{" "}}, "key.allowed_models"},
		{"empty label name", &pb.ClientKey{Labels: map[string]string{"": "x"}}, "key.labels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _, changed := newKeysService(t)
			resp, err := s.CreateKey(context.Background(), &pb.CreateKeyRequest{Key: tt.key})
			if tt.wantParam != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Param != tt.wantParam {
					t.Fatalf("err %v, want invalid %s", err, tt.wantParam)
				}
				if len(*changed) != 0 {
					t.Fatal("onChange called for a refused create")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			k := resp.GetKey()
			if resp.GetSecret() == "" || k.GetId() == "" || k.GetPrefix() != resp.GetSecret()[:store.ClientKeyPrefixLen] {
				t.Fatalf("answer %+v", resp)
			}
			if len(*changed) != 1 || (*changed)[0] != k.GetId() {
				t.Fatalf("onChange calls %v", *changed)
			}
			got, err := s.GetKey(context.Background(), &pb.GetKeyRequest{Id: k.GetId()})
			if err != nil {
				t.Fatal(err)
			}
			if got.GetKey().GetRpmLimit() != tt.key.GetRpmLimit() || got.GetKey().GetBudget().GetPeriod() != tt.key.GetBudget().GetPeriod() ||
				len(got.GetKey().GetIpAllowlist()) != len(tt.key.GetIpAllowlist()) {
				t.Fatalf("stored %+v, sent %+v", got.GetKey(), tt.key)
			}
		})
	}
}

func TestKeyLifecycle(t *testing.T) {
	ctx := context.Background()
	s, st, changed := newKeysService(t)
	c, err := s.CreateKey(ctx, &pb.CreateKeyRequest{Key: &pb.ClientKey{Name: "a", RpmLimit: 10}})
	if err != nil {
		t.Fatal(err)
	}
	id := c.GetKey().GetId()
	u, err := s.UpdateKey(ctx, &pb.UpdateKeyRequest{Key: &pb.ClientKey{Id: id, Name: "a2", RpmLimit: 20}})
	if err != nil || u.GetKey().GetRpmLimit() != 20 || u.GetKey().GetName() != "a2" || u.GetKey().GetPrefix() != c.GetKey().GetPrefix() {
		t.Fatalf("update: %+v %v", u, err)
	}
	r, err := s.RotateKey(ctx, &pb.RotateKeyRequest{Id: id, GraceSeconds: 60})
	if err != nil || r.GetSecret() == c.GetSecret() {
		t.Fatalf("rotate: %+v %v", r, err)
	}
	for _, sec := range []string{c.GetSecret(), r.GetSecret()} {
		if k, err := st.ClientKeyByHash(ctx, store.HashClientKey(sec)); err != nil || k.ID != id {
			t.Fatalf("secret after rotation with grace: %v", err)
		}
	}
	if _, err := s.RotateKey(ctx, &pb.RotateKeyRequest{Id: id, GraceSeconds: -1}); llm.KindOf(err) != llm.KindInvalidRequest {
		t.Fatalf("negative grace: %v", err)
	}
	rv, err := s.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: id})
	if err != nil || rv.GetKey().GetRevokedAt() == nil {
		t.Fatalf("revoke: %+v %v", rv, err)
	}
	if l, _ := s.ListKeys(ctx, &pb.ListKeysRequest{}); len(l.GetKeys()) != 0 {
		t.Fatalf("revoked key listed: %v", l.GetKeys())
	}
	if l, _ := s.ListKeys(ctx, &pb.ListKeysRequest{IncludeRevoked: true}); len(l.GetKeys()) != 1 {
		t.Fatalf("include_revoked: %v", l.GetKeys())
	}
	if _, err := s.UpdateKey(ctx, &pb.UpdateKeyRequest{Key: &pb.ClientKey{Id: id}}); llm.KindOf(err) != llm.KindInvalidRequest {
		t.Fatalf("updating a revoked key: %v", err)
	}
	for name, err := range map[string]error{
		"get":    func() error { _, err := s.GetKey(ctx, &pb.GetKeyRequest{Id: "nope"}); return err }(),
		"revoke": func() error { _, err := s.RevokeKey(ctx, &pb.RevokeKeyRequest{Id: "nope"}); return err }(),
		"rotate": func() error { _, err := s.RotateKey(ctx, &pb.RotateKeyRequest{Id: "nope"}); return err }(),
		"update": func() error {
			_, err := s.UpdateKey(ctx, &pb.UpdateKeyRequest{Key: &pb.ClientKey{Id: "nope"}})
			return err
		}(),
	} {
		if llm.KindOf(err) != llm.KindNotFound {
			t.Errorf("%s of a missing key: %v", name, err)
		}
	}
	if len(*changed) != 4 {
		t.Fatalf("onChange called %d times, want 4 (create, update, rotate, revoke)", len(*changed))
	}
}

// REST names the key in the path (UpdateKeyRequest.id) and gRPC callers in
// the body (key.id): either works, and a disagreement is refused rather than
// updating one of them.
func TestUpdateKeyNamesTheKeyByPathOrBody(t *testing.T) {
	tests := []struct {
		name      string
		req       func(id string) *pb.UpdateKeyRequest
		wantParam string // "" = success
	}{
		{"body only", func(id string) *pb.UpdateKeyRequest {
			return &pb.UpdateKeyRequest{Key: &pb.ClientKey{Id: id, Name: "renamed"}}
		}, ""},
		{"path only", func(id string) *pb.UpdateKeyRequest {
			return &pb.UpdateKeyRequest{Id: id, Key: &pb.ClientKey{Name: "renamed"}}
		}, ""},
		{"both agree", func(id string) *pb.UpdateKeyRequest {
			return &pb.UpdateKeyRequest{Id: id, Key: &pb.ClientKey{Id: id, Name: "renamed"}}
		}, ""},
		{"both disagree", func(id string) *pb.UpdateKeyRequest {
			return &pb.UpdateKeyRequest{Id: id, Key: &pb.ClientKey{Id: "key_other", Name: "renamed"}}
		}, "key.id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			s, _, _ := newKeysService(t)
			c, err := s.CreateKey(ctx, &pb.CreateKeyRequest{Key: &pb.ClientKey{Name: "a"}})
			if err != nil {
				t.Fatal(err)
			}
			id := c.GetKey().GetId()
			u, err := s.UpdateKey(ctx, tt.req(id))
			if tt.wantParam != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Param != tt.wantParam {
					t.Fatalf("err %v, want invalid %s", err, tt.wantParam)
				}
				return
			}
			if err != nil || u.GetKey().GetId() != id || u.GetKey().GetName() != "renamed" {
				t.Fatalf("update: %+v %v", u, err)
			}
		})
	}
}
