package control

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/store"
)

// testConfig is the gateway tests' config (server/cmd/switchyard).
const testConfig = `
log: {level: error}
server: {max_body_bytes: 65536, shutdown_timeout: 5s}
providers:
  - name: sim
    type: simulator
    models: [sim-small, sim-large]
    prices:
      sim-small: {input: 1, output: 2}
      sim-large: {input: 3, output: 15}
    simulator: {token_delay: 1ms, response_tokens: 8}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: sim, model: sim-small, priority: 1}
      - {provider: sim, model: sim-large, priority: 2}
`

// The config file's routing is a version at start and again when SIGHUP
// changes it; a reload that leaves the routing alone makes none.
func TestConfigFileRoutingIsVersioned(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/switchyard.yaml"
	write := func(yaml string) {
		t.Helper()
		if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(testConfig)
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := t0
	cfg, err := config.Load(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := New(hclog.NewNullLogger(), path, cfg, nil, WithClock(func() time.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	st, err := store.Open(context.Background(), store.Options{DataDir: dir + "/data"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctl.SetStore(st, nil, nil)
	ctx := context.Background()
	if err := ctl.Restore(ctx); err != nil {
		t.Fatal(err)
	}

	steps := []struct {
		name string
		yaml string // "" keeps the file
		want []string
	}{
		{"start", "", []string{"1:config-file:auto"}},
		{"reload without a routing change", strings.Replace(testConfig, "log: {level: error}", "log: {level: warn}", 1), []string{"1:config-file:auto"}},
		{"reload with a new route", testConfig + "  - model: extra\n    targets: [{provider: sim, model: sim-large}]\n", []string{"2:config-file:auto,extra", "1:config-file:auto"}},
	}
	for i, s := range steps {
		clock = t0.Add(time.Duration(i) * time.Minute)
		if s.yaml != "" {
			write(s.yaml)
			if err := ctl.Reload(ctx); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		vs, err := ctl.RoutingHistory(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, v := range vs {
			var models []string
			for _, r := range v.Routes {
				models = append(models, r.Model)
			}
			got = append(got, fmt.Sprintf("%d:%s:%s", v.Version, v.UpdatedBy, strings.Join(models, ",")))
		}
		if !slices.Equal(got, s.want) {
			t.Fatalf("%s: history %v, want %v", s.name, got, s.want)
		}
		if r := ctl.Routing(); r.Version != vs[0].Version || !vs[0].UpdatedAt.Equal(r.UpdatedAt) {
			t.Fatalf("%s: in force v%d at %v, newest saved v%d at %v", s.name, r.Version, r.UpdatedAt, vs[0].Version, vs[0].UpdatedAt)
		}
	}
	if vs, _ := ctl.RoutingHistory(ctx, 1); !vs[0].UpdatedAt.Equal(t0.Add(2 * time.Minute)) {
		t.Fatalf("version dated %v, not by the control's clock", vs[0].UpdatedAt)
	}
}
