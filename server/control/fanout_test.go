package control

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
)

// The adapters that answer one choice per call say so, which is what
// engine/route's fan-out looks for; the others serve n themselves.
func TestAdaptersSayWhetherTheyServeN(t *testing.T) {
	reg := Builtin()
	for _, tt := range []struct {
		typ    string
		native bool
	}{
		{config.TypeOpenAI, true}, {config.TypeAzure, true}, {config.TypeOpenAICompatible, true},
		{config.TypeGemini, true}, {config.TypeAnthropic, false}, {config.TypeSimulator, false},
	} {
		t.Run(tt.typ, func(t *testing.T) {
			p := config.Provider{Name: "p", Type: tt.typ, BaseURL: "https://example.invalid", APIVersion: "2024-10-21", Models: []string{"m"}}
			impl, err := reg.build(p, "sk-test-0000", nil)
			if err != nil {
				t.Fatal(err)
			}
			c, ok := impl.(interface{ NativeN() bool })
			if native := !ok || c.NativeN(); native != tt.native {
				t.Fatalf("serves n itself: %v, want %v", native, tt.native)
			}
		})
	}
}

// fan_out_n in the config reaches the router: n simulator calls merged and
// billed; without it the simulator answers one choice, as before.
func TestFanOutNFromConfigServesNChoices(t *testing.T) {
	cfg, err := config.Parse([]byte(`
log: {level: error}
providers:
  - name: sim
    type: simulator
    models: [sim-small]
    prices: {sim-small: {input: 1, output: 2}}
    simulator: {token_delay: 0s, response_tokens: 4}
routes:
  - {model: fan, fan_out_n: true, targets: [{provider: sim, model: sim-small}]}
  - {model: one, targets: [{provider: sim, model: sim-small}]}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := New(hclog.NewNullLogger(), "", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	three := 3
	msgs := []llm.Message{{Role: llm.RoleUser, Content: "hello"}}
	single, _, err := ctl.Router().Chat(context.Background(), &llm.ChatRequest{Model: "one", Messages: msgs})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		route   string
		choices int
		usage   llm.Usage
	}{
		{"fan", 3, single.Usage.Add(single.Usage).Add(single.Usage)},
		{"one", 1, single.Usage},
	} {
		t.Run(tt.route, func(t *testing.T) {
			resp, info, err := ctl.Router().Chat(context.Background(), &llm.ChatRequest{Model: tt.route, N: &three, Messages: msgs})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != tt.choices || resp.Usage != tt.usage || info.Cost == 0 {
				t.Fatalf("%d choices, usage %+v cost %v; want %d, %+v", len(resp.Choices), resp.Usage, info.Cost, tt.choices, tt.usage)
			}
		})
	}
}

// Without fan_out_n the Anthropic adapter's own 400 stands, naming n, and
// says which route option would serve it; nothing is sent upstream.
func TestAnthropicRefusesNNamingTheRouteOption(t *testing.T) {
	cfg, err := config.Parse([]byte(`
log: {level: error}
providers:
  - {name: claude, type: anthropic, base_url: "http://127.0.0.1:1", api_keys: [sk-ant-test-0000], models: [claude-x]}
routes:
  - {model: c, targets: [{provider: claude, model: claude-x}]}
`), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := New(hclog.NewNullLogger(), "", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ctl.Close)
	two := 2
	req := &llm.ChatRequest{Model: "c", N: &two, Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}}
	_, _, err = ctl.Router().Chat(context.Background(), req)
	var le *llm.Error
	if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Param != "n" || !strings.Contains(le.Message, "fan_out_n") {
		t.Fatalf("unary: %v, want a 400 on n naming fan_out_n", err)
	}
	if _, err := ctl.Router().ChatStream(context.Background(), req); !errors.As(err, &le) || le.Param != "n" || !strings.Contains(le.Message, "fan_out_n") {
		t.Fatalf("stream: %v, want a 400 on n naming fan_out_n", err)
	}
}
