package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/store"
)

// Providers named as in seed 000, so its routing body applies as written.
const seedNamedConfig = `
log: {level: error}
providers:
  - name: openai
    type: simulator
    models: [gpt-4o-mini]
    simulator: {token_delay: 1ms, response_tokens: 4}
  - name: anthropic
    type: simulator
    models: [claude-3-5-haiku-20241022]
    simulator: {token_delay: 1ms, response_tokens: 4}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: openai, model: gpt-4o-mini, priority: 1}
      - {provider: anthropic, model: claude-3-5-haiku-20241022, priority: 2}
`

const seed000Routing = `{"strategy":"latency_priority","fallback_strategy":"failover","providers":[{"name":"openai","priority":1,"weight":60},{"name":"anthropic","priority":2,"weight":40}]}`

func TestRoutingAPICannotWipeAndRollsBack(t *testing.T) {
	g := startGatewayWithStore(t, seedNamedConfig)
	ctx := context.Background()
	if err := g.ctl.restore(ctx); err != nil { // main does this before serving
		t.Fatal(err)
	}
	chatAuto := func() int {
		return post(t, g.base+"/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`).StatusCode
	}
	errMsg := func(r *http.Response) string {
		var e openAIError
		_ = json.NewDecoder(r.Body).Decode(&e)
		return e.Error.Message
	}

	steps := []struct {
		name, path, body string
		status           int
		inMsg            []string
		autoAnswers      int // status of a chat with model auto afterwards
	}{
		{"unknown field names it", "/v1/routing/config", `{"bogus":1}`, 400, []string{`"bogus"`}, 200},
		{"config wrapper is refused", "/v1/routing/config", `{"config":` + seed000Routing + `}`, 400, []string{`"config"`, "not wrapped"}, 200},
		{"seed 000 body changes the default route and keeps auto", "/v1/routing/config", seed000Routing, 200, nil, 200},
		{"dropping auto after it served is refused", "/v1/routing/config",
			`{"routes":[{"model":"fast","targets":[{"provider":"openai","model":"gpt-4o-mini"}]}]}`, 400, []string{`"auto"`, "allow_unrouted"}, 200},
		{"allow_unrouted drops it", "/v1/routing/config?allow_unrouted=true",
			`{"routes":[{"model":"fast","targets":[{"provider":"openai","model":"gpt-4o-mini"}]}]}`, 200, nil, 404},
		{"rollback restores the seed version", "/v1/routing/config/rollback", `{"version":2}`, 200, nil, 200},
	}
	for i, s := range steps {
		if i == 3 {
			waitServed(t, g, "auto")
		}
		r := post(t, g.base+s.path, s.body)
		if r.StatusCode != s.status {
			b, _ := io.ReadAll(r.Body)
			t.Fatalf("%s: status %d, want %d: %s", s.name, r.StatusCode, s.status, b)
		}
		if s.status != 200 {
			msg := errMsg(r)
			for _, w := range s.inMsg {
				if !strings.Contains(msg, w) {
					t.Fatalf("%s: message %q lacks %s", s.name, msg, w)
				}
			}
		}
		if st := chatAuto(); st != s.autoAnswers {
			t.Fatalf("%s: chat with model auto answered %d, want %d", s.name, st, s.autoAnswers)
		}
	}

	resp, err := http.Get(g.base + "/v1/routing/config/history?limit=10")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h struct {
		Versions []struct {
			Version    string `json:"version"`
			UpdatedBy  string `json:"updated_by"`
			RollbackOf string `json:"rollback_of"`
			Config     struct {
				Strategy string `json:"strategy"`
				Routes   []struct {
					Model string `json:"model"`
				} `json:"routes"`
			} `json:"config"`
		} `json:"versions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, v := range h.Versions {
		got = append(got, v.Version+":"+v.UpdatedBy+":"+v.Config.Strategy)
	}
	want := []string{"4:open-mode:latency_priority", "3:open-mode:priority", "2:open-mode:latency_priority", "1:config-file:priority"}
	if !slices.Equal(got, want) {
		t.Fatalf("history %v, want %v", got, want)
	}
	if h.Versions[0].RollbackOf != "2" || len(h.Versions[0].Config.Routes) != 1 || h.Versions[0].Config.Routes[0].Model != "auto" {
		t.Fatalf("rollback version %+v", h.Versions[0])
	}
	// The rollback is what a restart restores.
	rc, err := g.ctl.store.LatestRoutingConfig(ctx)
	if err != nil || rc.Version != 4 || !strings.Contains(string(rc.Doc), `"Model":"auto"`) {
		t.Fatalf("persisted %d %s %v", rc.Version, rc.Doc, err)
	}
}

// waitServed waits until the ledger has written a request for model (it
// writes in batches).
func waitServed(t *testing.T, g *gateway, model string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ms, err := g.ctl.store.RoutesServedSince(context.Background(), time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if slices.Contains(ms, model) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ledger never recorded %q (has %v)", model, ms)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

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
	cfg, err := config.Load(path, func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := newControl(hclog.NewNullLogger(), path, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	t0 := time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)
	clock := t0
	ctl.now = func() time.Time { return clock }
	st, err := store.Open(context.Background(), store.Options{DataDir: dir + "/data"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctl.store = st
	ctx := context.Background()
	if err := ctl.restore(ctx); err != nil {
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
			if err := ctl.reload(); err != nil {
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
