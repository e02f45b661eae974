package store

import (
	"context"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ms(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }

func TestClientKeys_CRUD(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			secret, prefix, hash, err := NewClientKeySecret()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, prefix) || HashClientKey(secret) != hash || len(hash) != 64 {
				t.Fatalf("secret/prefix/hash inconsistent: %q %q %q", secret, prefix, hash)
			}
			now := ms(time.Now())
			full := ClientKey{
				ID: "k1", Name: "team a", Prefix: prefix, Hash: hash, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
				AllowedModels: []string{"gpt-4o", "claude"}, AllowedRoutes: []string{"auto"}, IPAllowlist: []string{"10.0.0.0/8"},
				RPM: 60, TPM: 10000, BudgetUSD: 12.5, BudgetPeriod: "monthly", Labels: map[string]string{"team": "a"},
			}
			minimal := ClientKey{ID: "k2", Prefix: "sy-xyz", Hash: HashClientKey("other")}

			tests := []struct {
				name string
				run  func(t *testing.T)
			}{
				{"create and get round-trips every field", func(t *testing.T) {
					if err := s.CreateClientKey(ctx, full); err != nil {
						t.Fatal(err)
					}
					got, err := s.GetClientKey(ctx, "k1")
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, full) {
						t.Fatalf("got %+v\nwant %+v", got, full)
					}
				}},
				{"minimal key gets defaults and empty lists", func(t *testing.T) {
					if err := s.CreateClientKey(ctx, minimal); err != nil {
						t.Fatal(err)
					}
					got, err := s.GetClientKey(ctx, "k2")
					if err != nil {
						t.Fatal(err)
					}
					if got.CreatedAt.IsZero() || !got.ExpiresAt.IsZero() || !got.RevokedAt.IsZero() ||
						got.AllowedModels == nil || len(got.AllowedModels) != 0 || got.Labels == nil {
						t.Fatalf("defaults wrong: %+v", got)
					}
					if !got.Active(time.Now()) {
						t.Fatal("new key without expiry is not active")
					}
				}},
				{"duplicate id or hash conflicts", func(t *testing.T) {
					dupID := minimal
					dupID.Hash = HashClientKey("third")
					if err := s.CreateClientKey(ctx, dupID); !errors.Is(err, ErrConflict) {
						t.Fatalf("dup id: %v", err)
					}
					dupHash := full
					dupHash.ID = "k3"
					if err := s.CreateClientKey(ctx, dupHash); !errors.Is(err, ErrConflict) {
						t.Fatalf("dup hash: %v", err)
					}
				}},
				{"lookup by hash", func(t *testing.T) {
					got, err := s.ClientKeyByHash(ctx, HashClientKey(secret))
					if err != nil || got.ID != "k1" {
						t.Fatalf("by hash: %+v %v", got, err)
					}
					if _, err := s.ClientKeyByHash(ctx, HashClientKey("nope")); !errors.Is(err, ErrNotFound) {
						t.Fatalf("unknown hash: %v", err)
					}
				}},
				{"list returns all, oldest first", func(t *testing.T) {
					l, err := s.ListClientKeys(ctx)
					if err != nil {
						t.Fatal(err)
					}
					if len(l) != 2 || l[0].ID != "k1" || l[1].ID != "k2" {
						t.Fatalf("list %+v", l)
					}
				}},
				{"update changes settings but not the secret", func(t *testing.T) {
					up := full
					up.Name, up.RPM, up.Labels, up.AllowedModels = "renamed", 5, map[string]string{"x": "y"}, nil
					up.Hash, up.Prefix = "tampered", "tampered"
					if err := s.UpdateClientKey(ctx, up); err != nil {
						t.Fatal(err)
					}
					got, _ := s.GetClientKey(ctx, "k1")
					if got.Name != "renamed" || got.RPM != 5 || got.Labels["x"] != "y" || len(got.AllowedModels) != 0 {
						t.Fatalf("update not applied: %+v", got)
					}
					if got.Hash != full.Hash || got.Prefix != full.Prefix {
						t.Fatal("update changed the hash/prefix")
					}
					if err := s.UpdateClientKey(ctx, ClientKey{ID: "ghost"}); !errors.Is(err, ErrNotFound) {
						t.Fatalf("update missing: %v", err)
					}
				}},
				{"revoke keeps the first time", func(t *testing.T) {
					first := now.Add(time.Minute)
					if err := s.RevokeClientKey(ctx, "k2", first); err != nil {
						t.Fatal(err)
					}
					if err := s.RevokeClientKey(ctx, "k2", first.Add(time.Hour)); err != nil {
						t.Fatal(err)
					}
					got, _ := s.GetClientKey(ctx, "k2")
					if !got.RevokedAt.Equal(first) {
						t.Fatalf("revoked at %v, want %v", got.RevokedAt, first)
					}
					if got.Active(first) || !got.Active(first.Add(-time.Second)) {
						t.Fatal("Active ignores revocation time")
					}
					if err := s.RevokeClientKey(ctx, "ghost", time.Time{}); !errors.Is(err, ErrNotFound) {
						t.Fatalf("revoke missing: %v", err)
					}
				}},
				{"delete then get is not found", func(t *testing.T) {
					if err := s.DeleteClientKey(ctx, "k2"); err != nil {
						t.Fatal(err)
					}
					if _, err := s.GetClientKey(ctx, "k2"); !errors.Is(err, ErrNotFound) {
						t.Fatalf("get deleted: %v", err)
					}
					if err := s.DeleteClientKey(ctx, "k2"); !errors.Is(err, ErrNotFound) {
						t.Fatalf("delete twice: %v", err)
					}
				}},
				{"missing fields rejected", func(t *testing.T) {
					if err := s.CreateClientKey(ctx, ClientKey{ID: "x"}); err == nil {
						t.Fatal("key without hash accepted")
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, tt.run)
			}
		})
	}
}

func TestClientKey_ActiveHonoursExpiry(t *testing.T) {
	now := time.Now()
	tests := []struct {
		name string
		k    ClientKey
		want bool
	}{
		{"no expiry", ClientKey{}, true},
		{"expires later", ClientKey{ExpiresAt: now.Add(time.Second)}, true},
		{"expired", ClientKey{ExpiresAt: now}, false},
		{"revoked earlier", ClientKey{RevokedAt: now.Add(-time.Second)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.k.Active(now); got != tt.want {
				t.Fatalf("Active = %v", got)
			}
		})
	}
}

func TestProviderKeys_CRUDAndSealing(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			sl := newTestSealer(t)
			const secret = "sk-live-0123456789abcdefWXYZ"

			tests := []struct {
				name string
				run  func(t *testing.T)
			}{
				{"add stores metadata and a hint, never plaintext", func(t *testing.T) {
					if err := s.AddProviderKey(ctx, sl, ProviderKey{Provider: "openai", KeyID: "k1", Label: "main"}, secret); err != nil {
						t.Fatal(err)
					}
					got, err := s.GetProviderKey(ctx, "openai", "k1")
					if err != nil {
						t.Fatal(err)
					}
					if got.Label != "main" || got.Weight != 1 || got.Hint != "WXYZ" || got.CreatedAt.IsZero() {
						t.Fatalf("metadata %+v", got)
					}
					var ct, nonce []byte
					s.db.QueryRowContext(ctx, s.d.q(`SELECT ciphertext, nonce FROM provider_keys WHERE key_id = ?`), "k1").Scan(&ct, &nonce)
					if len(nonce) != 12 || len(ct) == 0 || strings.Contains(string(ct), "0123456789") {
						t.Fatalf("row not sealed: ct=%q nonce=%x", ct, nonce)
					}
				}},
				{"reveal returns the plaintext", func(t *testing.T) {
					got, err := s.RevealProviderKey(ctx, sl, "openai", "k1")
					if err != nil || got != secret {
						t.Fatalf("reveal %q %v", got, err)
					}
				}},
				{"reveal with another master key fails", func(t *testing.T) {
					if _, err := s.RevealProviderKey(ctx, newTestSealer(t), "openai", "k1"); !errors.Is(err, ErrDecrypt) {
						t.Fatalf("wrong key: %v", err)
					}
				}},
				{"ciphertext moved to another row does not open", func(t *testing.T) {
					if err := s.AddProviderKey(ctx, sl, ProviderKey{Provider: "openai", KeyID: "k2", Weight: 3}, "sk-other-key-value"); err != nil {
						t.Fatal(err)
					}
					if _, err := s.db.ExecContext(ctx, `UPDATE provider_keys SET ciphertext = (SELECT ciphertext FROM provider_keys WHERE key_id = 'k1'),
						nonce = (SELECT nonce FROM provider_keys WHERE key_id = 'k1') WHERE key_id = 'k2'`); err != nil {
						t.Fatal(err)
					}
					if _, err := s.RevealProviderKey(ctx, sl, "openai", "k2"); !errors.Is(err, ErrDecrypt) {
						t.Fatalf("swapped ciphertext opened: %v", err)
					}
				}},
				{"duplicate conflicts", func(t *testing.T) {
					if err := s.AddProviderKey(ctx, sl, ProviderKey{Provider: "openai", KeyID: "k1"}, "x"); !errors.Is(err, ErrConflict) {
						t.Fatalf("dup: %v", err)
					}
				}},
				{"short secret gets no hint", func(t *testing.T) {
					if err := s.AddProviderKey(ctx, sl, ProviderKey{Provider: "groq", KeyID: "g"}, "short"); err != nil {
						t.Fatal(err)
					}
					got, _ := s.GetProviderKey(ctx, "groq", "g")
					if got.Hint != "" {
						t.Fatalf("hint %q for short secret", got.Hint)
					}
				}},
				{"list filters by provider", func(t *testing.T) {
					all, err := s.ListProviderKeys(ctx, "")
					if err != nil || len(all) != 3 {
						t.Fatalf("all %+v %v", all, err)
					}
					oa, _ := s.ListProviderKeys(ctx, "openai")
					if len(oa) != 2 || oa[0].KeyID != "k1" || oa[1].Weight != 3 {
						t.Fatalf("openai %+v", oa)
					}
				}},
				{"update label and weight", func(t *testing.T) {
					if err := s.UpdateProviderKey(ctx, ProviderKey{Provider: "openai", KeyID: "k1", Label: "backup", Weight: 7}); err != nil {
						t.Fatal(err)
					}
					got, _ := s.GetProviderKey(ctx, "openai", "k1")
					if got.Label != "backup" || got.Weight != 7 {
						t.Fatalf("%+v", got)
					}
					if err := s.UpdateProviderKey(ctx, ProviderKey{Provider: "openai", KeyID: "nope"}); !errors.Is(err, ErrNotFound) {
						t.Fatalf("update missing: %v", err)
					}
				}},
				{"delete", func(t *testing.T) {
					if err := s.DeleteProviderKey(ctx, "openai", "k1"); err != nil {
						t.Fatal(err)
					}
					if _, err := s.RevealProviderKey(ctx, sl, "openai", "k1"); !errors.Is(err, ErrNotFound) {
						t.Fatalf("reveal deleted: %v", err)
					}
					if err := s.DeleteProviderKey(ctx, "openai", "k1"); !errors.Is(err, ErrNotFound) {
						t.Fatalf("delete twice: %v", err)
					}
				}},
				{"nil sealer and empty secret rejected", func(t *testing.T) {
					if err := s.AddProviderKey(ctx, nil, ProviderKey{Provider: "a", KeyID: "b"}, "c"); err == nil {
						t.Fatal("nil sealer accepted")
					}
					if err := s.AddProviderKey(ctx, sl, ProviderKey{Provider: "a", KeyID: "b"}, ""); err == nil {
						t.Fatal("empty secret accepted")
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, tt.run)
			}
		})
	}
}

func TestRoutingConfig_Versions(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			tests := []struct {
				name string
				run  func(t *testing.T)
			}{
				{"none saved is not found", func(t *testing.T) {
					if _, err := s.LatestRoutingConfig(ctx); !errors.Is(err, ErrNotFound) {
						t.Fatalf("%v", err)
					}
				}},
				{"first put with ifVersion 0", func(t *testing.T) {
					rc, err := s.PutRoutingConfig(ctx, json.RawMessage(`{"strategy":"priority"}`), "k1", time.Time{}, 0)
					if err != nil || rc.Version != 1 {
						t.Fatalf("%+v %v", rc, err)
					}
				}},
				{"stale ifVersion conflicts", func(t *testing.T) {
					if _, err := s.PutRoutingConfig(ctx, json.RawMessage(`{}`), "", time.Time{}, 0); !errors.Is(err, ErrConflict) {
						t.Fatalf("%v", err)
					}
				}},
				{"unconditional put appends", func(t *testing.T) {
					rc, err := s.PutRoutingConfig(ctx, json.RawMessage(`{"strategy":"weighted"}`), "", time.Time{}, AnyVersion)
					if err != nil || rc.Version != 2 {
						t.Fatalf("%+v %v", rc, err)
					}
				}},
				{"invalid JSON rejected", func(t *testing.T) {
					if _, err := s.PutRoutingConfig(ctx, json.RawMessage(`{`), "", time.Time{}, AnyVersion); err == nil {
						t.Fatal("accepted")
					}
				}},
				{"latest and by version", func(t *testing.T) {
					rc, err := s.LatestRoutingConfig(ctx)
					if err != nil || rc.Version != 2 || string(rc.Doc) != `{"strategy":"weighted"}` || rc.UpdatedAt.IsZero() {
						t.Fatalf("latest %+v %v", rc, err)
					}
					v1, err := s.GetRoutingConfig(ctx, 1)
					if err != nil || v1.UpdatedBy != "k1" || string(v1.Doc) != `{"strategy":"priority"}` {
						t.Fatalf("v1 %+v %v", v1, err)
					}
					if _, err := s.GetRoutingConfig(ctx, 9); !errors.Is(err, ErrNotFound) {
						t.Fatalf("v9 %v", err)
					}
				}},
				{"list newest first, prune keeps newest", func(t *testing.T) {
					s.PutRoutingConfig(ctx, json.RawMessage(`{"v":3}`), "", time.Time{}, AnyVersion)
					l, err := s.ListRoutingConfigs(ctx, 2)
					if err != nil || len(l) != 2 || l[0].Version != 3 || l[1].Version != 2 {
						t.Fatalf("list %+v %v", l, err)
					}
					n, err := s.PruneRoutingConfigs(ctx, 1)
					if err != nil || n != 2 {
						t.Fatalf("pruned %d %v", n, err)
					}
					l, _ = s.ListRoutingConfigs(ctx, 0)
					if len(l) != 1 || l[0].Version != 3 {
						t.Fatalf("after prune %+v", l)
					}
					rc, _ := s.PutRoutingConfig(ctx, json.RawMessage(`{}`), "", time.Time{}, 3)
					if rc.Version != 4 {
						t.Fatalf("version after prune %d", rc.Version)
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, tt.run)
			}
		})
	}
}

func TestAlerts_CRUD(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			now := ms(time.Now())
			a := Alert{ID: "a1", Name: "spend", Type: "budget_usd", Threshold: 100, Window: 24 * time.Hour,
				Cooldown: time.Hour, KeyID: "k1", WebhookURL: "https://example.invalid/hook", Enabled: true,
				Config: map[string]any{"channel": "slack"}, CreatedAt: now}
			tests := []struct {
				name string
				run  func(t *testing.T)
			}{
				{"create and get round-trips", func(t *testing.T) {
					if err := s.CreateAlert(ctx, a); err != nil {
						t.Fatal(err)
					}
					got, err := s.GetAlert(ctx, "a1")
					if err != nil || !reflect.DeepEqual(got, a) {
						t.Fatalf("got %+v %v\nwant %+v", got, err, a)
					}
				}},
				{"duplicate conflicts, missing type rejected", func(t *testing.T) {
					if err := s.CreateAlert(ctx, a); !errors.Is(err, ErrConflict) {
						t.Fatalf("%v", err)
					}
					if err := s.CreateAlert(ctx, Alert{ID: "x"}); err == nil {
						t.Fatal("alert without type accepted")
					}
				}},
				{"list filters by key", func(t *testing.T) {
					s.CreateAlert(ctx, Alert{ID: "a2", Type: "error_rate", Threshold: 0.1})
					all, _ := s.ListAlerts(ctx, "")
					k1, err := s.ListAlerts(ctx, "k1")
					if err != nil || len(all) != 2 || len(k1) != 1 || k1[0].ID != "a1" {
						t.Fatalf("all %d k1 %+v %v", len(all), k1, err)
					}
				}},
				{"update", func(t *testing.T) {
					up := a
					up.Threshold, up.Enabled, up.Config = 250, false, nil
					if err := s.UpdateAlert(ctx, up); err != nil {
						t.Fatal(err)
					}
					got, _ := s.GetAlert(ctx, "a1")
					if got.Threshold != 250 || got.Enabled || len(got.Config) != 0 {
						t.Fatalf("%+v", got)
					}
					if err := s.UpdateAlert(ctx, Alert{ID: "ghost"}); !errors.Is(err, ErrNotFound) {
						t.Fatalf("%v", err)
					}
				}},
				{"fire respects cooldown", func(t *testing.T) {
					steps := []struct {
						at   time.Time
						want bool
					}{
						{now, true},
						{now.Add(30 * time.Minute), false}, // within the 1h cooldown
						{now.Add(time.Hour), true},
					}
					for _, st := range steps {
						got, err := s.MarkAlertFired(ctx, "a1", st.at)
						if err != nil || got != st.want {
							t.Fatalf("fire at %v = %v %v, want %v", st.at, got, err, st.want)
						}
					}
					got, _ := s.GetAlert(ctx, "a1")
					if !got.LastFiredAt.Equal(now.Add(time.Hour)) {
						t.Fatalf("last fired %v", got.LastFiredAt)
					}
					if _, err := s.MarkAlertFired(ctx, "ghost", now); !errors.Is(err, ErrNotFound) {
						t.Fatalf("%v", err)
					}
				}},
				{"delete", func(t *testing.T) {
					if err := s.DeleteAlert(ctx, "a1"); err != nil {
						t.Fatal(err)
					}
					if _, err := s.GetAlert(ctx, "a1"); !errors.Is(err, ErrNotFound) {
						t.Fatalf("%v", err)
					}
				}},
			}
			for _, tt := range tests {
				t.Run(tt.name, tt.run)
			}
		})
	}
}

func TestRotateClientKeyKeepsTheOldSecretForTheGrace(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			s := be.open(t)
			old, prefix, hash, err := NewClientKeySecret()
			if err != nil {
				t.Fatal(err)
			}
			id := "rot-" + prefix
			if err := s.CreateClientKey(ctx, ClientKey{ID: id, Prefix: prefix, Hash: hash}); err != nil {
				t.Fatal(err)
			}
			fresh, k, err := s.RotateClientKey(ctx, id, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			if fresh == old || k.Hash != HashClientKey(fresh) || k.Prefix != fresh[:ClientKeyPrefixLen] {
				t.Fatalf("rotated key %+v", k)
			}
			for _, sec := range []string{old, fresh} {
				if got, err := s.ClientKeyByHash(ctx, HashClientKey(sec)); err != nil || got.ID != id {
					t.Fatalf("lookup during grace: %v %v", got.ID, err)
				}
			}
			// Rotating again without grace ends the first secret's grace too.
			third, _, err := s.RotateClientKey(ctx, id, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range []string{old, fresh} {
				if _, err := s.ClientKeyByHash(ctx, HashClientKey(sec)); !errors.Is(err, ErrNotFound) {
					t.Fatalf("replaced secret still resolves: %v", err)
				}
			}
			if got, err := s.ClientKeyByHash(ctx, HashClientKey(third)); err != nil || got.ID != id {
				t.Fatalf("newest secret: %v", err)
			}
			if err := s.RevokeClientKey(ctx, id, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.RotateClientKey(ctx, id, time.Hour); !errors.Is(err, ErrNotFound) {
				t.Fatalf("rotating a revoked key: %v", err)
			}
			if _, _, err := s.RotateClientKey(ctx, "nope", time.Hour); !errors.Is(err, ErrNotFound) {
				t.Fatalf("rotating a missing key: %v", err)
			}
		})
	}
}

func TestHasClientKeys(t *testing.T) {
	for _, be := range backends(t) {
		t.Run(be.name, func(t *testing.T) {
			ctx := context.Background()
			s := be.open(t)
			if has, err := s.HasClientKeys(ctx); err != nil || has {
				t.Fatalf("empty store: %v %v", has, err)
			}
			_, prefix, hash, _ := NewClientKeySecret()
			if err := s.CreateClientKey(ctx, ClientKey{ID: "k1", Prefix: prefix, Hash: hash}); err != nil {
				t.Fatal(err)
			}
			if err := s.RevokeClientKey(ctx, "k1", time.Time{}); err != nil {
				t.Fatal(err)
			}
			if has, err := s.HasClientKeys(ctx); err != nil || !has {
				t.Fatalf("with a revoked key: %v %v", has, err)
			}
		})
	}
}
