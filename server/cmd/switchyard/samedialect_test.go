package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// sameDialectConfig routes model "auto" to one provider of type typ at the
// fake upstream, answering as model "up-model".
func sameDialectConfig(typ, base string) string {
	return fmt.Sprintf(`
log: {level: error}
providers:
  - name: up
    type: %s
    base_url: %s
    api_keys: ["sk-upstream-key-0000000001"]
    models: [up-model]
    prices:
      up-model: {input: 1, output: 2}
routes:
  - model: auto
    targets:
      - {provider: up, model: up-model}
`, typ, base)
}

// sameDialect asserts the fake upstream received exactly the client's body
// but for the model: nothing the gateway has no field for is lost.
func sameDialect(t *testing.T, fs *fakeupstream.Server, path string, client []byte) {
	t.Helper()
	var rec *fakeupstream.Record
	for _, r := range fs.Records() {
		if r.Path == path {
			r := r
			rec = &r
		}
	}
	if rec == nil {
		t.Fatalf("the upstream saw no %s: %+v", path, fs.Records())
	}
	var want, got map[string]any
	if err := json.Unmarshal(client, &want); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(rec.Body), &got); err != nil {
		t.Fatalf("upstream body %s: %v", rec.Body, err)
	}
	if got["model"] != "up-model" {
		t.Fatalf("upstream model %v, want the target's up-model", got["model"])
	}
	want["model"] = "up-model"
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", "  ")
		w, _ := json.MarshalIndent(want, "", "  ")
		t.Fatalf("upstream body differs from the client's\n got %s\nwant %s", g, w)
	}
}

// Responses in, OpenAI's Responses API out: the upstream gets the client's
// body as written, fields the domain model has no place for included, and
// the answer comes back in the Responses shape, unary and streamed.
func TestSameDialectResponsesToOpenAIIsLossless(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("openai", up.URL+"/v1"))

	for _, name := range []string{"responses_unary.json", "responses_stream.json", "responses_tools.json"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "samedialect", name))
			if err != nil {
				t.Fatal(err)
			}
			st, b := doResponses(t, "POST", g.base+"/v1/responses", "", string(body))
			if st != 200 {
				t.Fatalf("%d %s", st, b)
			}
			sameDialect(t, fs, "/v1/responses", body)
			if strings.Contains(name, "stream") {
				if !strings.Contains(string(b), "event: response.output_text.delta") || !strings.Contains(string(b), "event: response.completed") {
					t.Fatalf("stream answer: %s", b)
				}
				return
			}
			var o responseObject
			if err := json.Unmarshal(b, &o); err != nil || len(o.Output) == 0 || o.Usage.InputTokens == 0 {
				t.Fatalf("answer: %s", b)
			}
			if strings.Contains(name, "tools") && (o.Output[0].Type != "function_call" || o.Output[0].Name != "get_weather") {
				t.Fatalf("tool answer: %s", b)
			}
		})
	}
}

// A chain the gateway stored is spelled out for the upstream, which has
// never seen the gateway's response ids: the whole conversation as input,
// no previous_response_id, the rest of the body as the client sent it.
func TestSameDialectResponsesChainIsSpelledOut(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGatewayWithStore(t, sameDialectConfig("openai", up.URL+"/v1"))
	first := mustResponse(t, "POST", g.base+"/v1/responses", "", `{"model":"auto","input":"one two"}`)
	mustResponse(t, "POST", g.base+"/v1/responses", "", `{"model":"auto","input":"three","previous_response_id":"`+first.ID+`","x_new":true}`)
	recs := fs.Records()
	var got struct {
		Model    string
		Input    []map[string]any
		XNew     bool   `json:"x_new"`
		Previous string `json:"previous_response_id"`
	}
	if err := json.Unmarshal([]byte(recs[len(recs)-1].Body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Model != "up-model" || !got.XNew || got.Previous != "" || len(got.Input) != 3 ||
		got.Input[0]["role"] != "user" || got.Input[1]["role"] != "assistant" || got.Input[2]["role"] != "user" ||
		got.Input[0]["id"] != nil || got.Input[1]["id"] != nil {
		t.Fatalf("upstream body: %s", recs[len(recs)-1].Body)
	}
}

// Anthropic Messages in, an Anthropic target out: the upstream gets the
// client's body as written — cache_control on system, blocks and tools,
// thinking blocks with their signatures, top_k, fields not known yet.
func TestSameDialectAnthropicIsLossless(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("anthropic", up.URL))
	for _, name := range []string{"anthropic_unary.json", "anthropic_stream.json"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", "samedialect", name))
			if err != nil {
				t.Fatal(err)
			}
			resp, b := postAnthropic(t, g.base+"/v1/messages", "", string(body))
			if resp.StatusCode != 200 {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
			sameDialect(t, fs, "/v1/messages", body)
			if strings.Contains(name, "stream") != strings.Contains(string(b), "event: message_stop") {
				t.Fatalf("answer: %s", b)
			}
		})
	}
}
