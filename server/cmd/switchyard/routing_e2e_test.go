package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
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
	if err := g.ctl.Restore(ctx); err != nil { // main does this before serving
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
	rc, err := g.ctl.Store().LatestRoutingConfig(ctx)
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
		ms, err := g.ctl.Store().RoutesServedSince(context.Background(), time.Now().Add(-time.Hour))
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
