package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/store"
)

const keyIDConfig = `
log: {level: error}
providers:
  - name: up
    type: openai-compatible
    base_url: http://127.0.0.1:1/v1
    api_keys: [sk-config-key-0123456789]
    models: [up-model]
routes:
  - model: pool
    targets: [{provider: up, model: up-model}]
`

// install is one gateway start over the store in dir, wired as main wires
// it (store, sealer, restore).
func install(t *testing.T, dir string) *Control {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.Parse([]byte(keyIDConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := New(hclog.NewNullLogger(), "", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close(); _ = st.Close() })
	sealer, err := store.NewSealer(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	ctl.SetStore(st, nil, sealer)
	if err := ctl.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	return ctl
}

// keyIDs maps each key's source ("config", "api") to its id.
func keyIDs(t *testing.T, ctl *Control) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, p := range ctl.Status() {
		for _, k := range p.Keys {
			out[k.Source] = k.ID
		}
	}
	return out
}

// derivable reports whether id could be computed from the secret alone.
func derivable(id, secret string) bool {
	sum := sha256.Sum256([]byte(secret))
	h := strings.TrimPrefix(id, "k")
	return len(h) > 0 && strings.HasPrefix(hex.EncodeToString(sum[:]), h)
}

func TestProviderKeyIDsAreRandomPerInstallAndStableAcrossRestarts(t *testing.T) {
	const cfgSecret, apiSecret = "sk-config-key-0123456789", "sk-api-added-key-98765"
	dirA, dirB := t.TempDir(), t.TempDir()

	a := install(t, dirA)
	added, err := a.AddKey(context.Background(), "up", apiSecret, "spare", 1)
	if err != nil {
		t.Fatal(err)
	}
	first := keyIDs(t, a)
	if first["config"] == "" || first["api"] != added.ID {
		t.Fatalf("ids %v, added %q", first, added.ID)
	}
	b := install(t, dirB)
	other, err := b.AddKey(context.Background(), "up", apiSecret, "spare", 1)
	if err != nil {
		t.Fatal(err)
	}
	restarted := keyIDs(t, install(t, dirA))

	tests := []struct {
		name string
		ok   bool
	}{
		{"config id is not a sha256 prefix of its secret", !derivable(first["config"], cfgSecret)},
		{"api id is not a sha256 prefix of its secret", !derivable(first["api"], apiSecret)},
		{"two installs name a config key differently", keyIDs(t, b)["config"] != first["config"]},
		{"two installs name an api key differently", other.ID != first["api"]},
		{"a restart keeps the config key's id", restarted["config"] == first["config"]},
		{"a restart keeps the api key's id", restarted["api"] == first["api"]},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Fatalf("ids: first %v, other install %v/%s, after restart %v", first, keyIDs(t, b), other.ID, restarted)
			}
		})
	}
}

func TestAddingAKeyTwiceIsRefused(t *testing.T) {
	ctl := install(t, t.TempDir())
	ctx := context.Background()
	tests := []struct{ name, secret string }{
		{"a config key", "sk-config-key-0123456789"},
		{"a key added through the API", "sk-api-added-key-98765"},
	}
	if _, err := ctl.AddKey(ctx, "up", tests[1].secret, "", 1); err != nil {
		t.Fatal(err)
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ctl.AddKey(ctx, "up", tc.secret, "", 1); err == nil {
				t.Fatal("the same secret was added again")
			}
		})
	}
}

func TestLegacyStoredKeyIDIsReplacedByARandomOne(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	const secret = "sk-stored-long-ago-00001"
	st, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	sl, err := store.NewSealer(strings.Repeat("ab", 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.AddProviderKey(ctx, sl, store.ProviderKey{Provider: "up", KeyID: legacyKeyID(secret)}, secret); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	ids := keyIDs(t, install(t, dir))
	if ids["api"] == "" || ids["api"] == legacyKeyID(secret) || derivable(ids["api"], secret) {
		t.Fatalf("restored id %q (legacy %q)", ids["api"], legacyKeyID(secret))
	}
	if again := keyIDs(t, install(t, dir)); again["api"] != ids["api"] {
		t.Fatalf("renamed id %q did not persist (now %q)", ids["api"], again["api"])
	}
}
