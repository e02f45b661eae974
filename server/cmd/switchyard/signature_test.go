package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

var updateSignatureGolden = flag.Bool("update-signature", false, "rewrite testdata/signature/*.json")

// gemini3Config routes auto to a Gemini 3 model at the fake upstream, which
// signs its calls and refuses a follow-up whose signature is missing.
func gemini3Config(base string) string {
	return `
log: {level: error}
providers:
  - name: up
    type: gemini
    base_url: ` + base + `
    api_keys: ["sk-upstream-key-0000000001"]
    models: [gemini-3-flash-preview]
    prices:
      gemini-3-flash-preview: {input: 1, output: 2}
routes:
  - model: auto
    targets:
      - {provider: up, model: gemini-3-flash-preview}
`
}

const weatherParams = `{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`

// upstreamSignature is the thoughtSignature on the first functionCall of
// the last model turn the upstream was sent.
func upstreamSignature(t *testing.T, fs *fakeupstream.Server) (string, []byte) {
	t.Helper()
	recs := fs.Records()
	body := []byte(recs[len(recs)-1].Body)
	var req struct {
		Contents []struct {
			Role  string `json:"role"`
			Parts []struct {
				FunctionCall     json.RawMessage `json:"functionCall"`
				ThoughtSignature string          `json:"thoughtSignature"`
			} `json:"parts"`
		} `json:"contents"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	for i := len(req.Contents) - 1; i >= 0; i-- {
		for _, p := range req.Contents[i].Parts {
			if p.FunctionCall != nil {
				return p.ThoughtSignature, body
			}
		}
	}
	t.Fatalf("no functionCall in the upstream body %s", body)
	return "", nil
}

// A tool call from a Gemini 3 target goes to clients whose dialects have
// no field for its thoughtSignature inside the call's id, and comes back
// in the next turn's history: the upstream gets the call with the very
// signature it gave, or Gemini 3 would refuse the turn.
func TestThoughtSignatureSurvivesTwoTurnsThroughEachDialect(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, gemini3Config(up.URL))

	postJSON := func(path, body string, header ...string) []byte {
		t.Helper()
		req, _ := http.NewRequest("POST", g.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, b)
		}
		return b
	}
	// check asserts the wire id carries a Gemini signature and that turn
	// two's upstream body sent it back on the call.
	check := func(t *testing.T, wireID string) (sig string, turn2 []byte) {
		t.Helper()
		id, tagged := llm.SplitToolCallID(wireID)
		given := llm.SignatureFor("gemini", tagged)
		if id == "" || given == "" {
			t.Fatalf("call id %q carries no Gemini signature", wireID)
		}
		got, body := upstreamSignature(t, fs)
		if got != given {
			t.Fatalf("turn two sent thoughtSignature %q, want %q as given in turn one", got, given)
		}
		return given, body
	}

	t.Run("chat completions", func(t *testing.T) {
		tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":` + weatherParams + `}}]`
		var a struct {
			Choices []struct {
				Message struct {
					ToolCalls []json.RawMessage `json:"tool_calls"`
				} `json:"message"`
			} `json:"choices"`
		}
		b := postJSON("/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"Weather in Paris?"}],`+tools+`,"tool_choice":"required"}`)
		if json.Unmarshal(b, &a) != nil || len(a.Choices) != 1 || len(a.Choices[0].Message.ToolCalls) != 1 {
			t.Fatalf("turn one: %s", b)
		}
		call := a.Choices[0].Message.ToolCalls[0]
		var c struct{ ID string }
		_ = json.Unmarshal(call, &c)
		postJSON("/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"Weather in Paris?"},`+
			`{"role":"assistant","content":null,"tool_calls":[`+string(call)+`]},`+
			`{"role":"tool","tool_call_id":`+jsonQuote(c.ID)+`,"content":"sunny"}],`+tools+`}`)
		_, body := check(t, c.ID)
		golden := filepath.Join("testdata", "signature", "chat_to_gemini_turn2.json")
		var pretty bytes.Buffer
		_ = json.Indent(&pretty, body, "", "  ")
		pretty.WriteByte('\n')
		if *updateSignatureGolden {
			_ = os.MkdirAll(filepath.Dir(golden), 0o755)
			if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("%v (run with -update-signature to write it)", err)
		}
		if !bytes.Equal(pretty.Bytes(), want) {
			t.Errorf("turn two's upstream body differs from %s:\n got %s\nwant %s", golden, pretty.Bytes(), want)
		}
	})

	t.Run("chat completions, streamed turn one", func(t *testing.T) {
		tools := `"tools":[{"type":"function","function":{"name":"get_weather","parameters":` + weatherParams + `}}]`
		raw := postJSON("/v1/chat/completions", `{"model":"auto","stream":true,"messages":[{"role":"user","content":"Weather?"}],`+tools+`,"tool_choice":"required"}`)
		var id, name, args string
		for _, line := range strings.Split(string(raw), "\n") {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			var ch struct {
				Choices []struct {
					Delta struct {
						ToolCalls []struct {
							ID       string
							Function struct{ Name, Arguments string }
						} `json:"tool_calls"`
					}
				}
			}
			_ = json.Unmarshal([]byte(data), &ch)
			for _, c := range ch.Choices {
				for _, tc := range c.Delta.ToolCalls {
					id, name, args = id+tc.ID, name+tc.Function.Name, args+tc.Function.Arguments
				}
			}
		}
		postJSON("/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"Weather?"},`+
			`{"role":"assistant","tool_calls":[{"id":`+jsonQuote(id)+`,"type":"function","function":{"name":`+jsonQuote(name)+`,"arguments":`+jsonQuote(args)+`}}]},`+
			`{"role":"tool","tool_call_id":`+jsonQuote(id)+`,"content":"sunny"}],`+tools+`}`)
		check(t, id)
	})

	t.Run("anthropic messages", func(t *testing.T) {
		tools := `"tools":[{"name":"get_weather","input_schema":` + weatherParams + `}]`
		b := postJSON("/v1/messages", `{"model":"auto","max_tokens":100,"messages":[{"role":"user","content":"Weather?"}],`+tools+`,"tool_choice":{"type":"any"}}`,
			"anthropic-version", "2023-06-01")
		var a struct {
			Content []struct {
				Type, ID, Name string
				Input          json.RawMessage
			}
		}
		if json.Unmarshal(b, &a) != nil || len(a.Content) == 0 || a.Content[len(a.Content)-1].Type != "tool_use" {
			t.Fatalf("turn one: %s", b)
		}
		tu := a.Content[len(a.Content)-1]
		postJSON("/v1/messages", `{"model":"auto","max_tokens":100,"messages":[{"role":"user","content":"Weather?"},`+
			`{"role":"assistant","content":[{"type":"tool_use","id":`+jsonQuote(tu.ID)+`,"name":"get_weather","input":`+string(tu.Input)+`}]},`+
			`{"role":"user","content":[{"type":"tool_result","tool_use_id":`+jsonQuote(tu.ID)+`,"content":"sunny"}]}],`+tools+`}`,
			"anthropic-version", "2023-06-01")
		check(t, tu.ID)
	})

	t.Run("responses", func(t *testing.T) {
		tools := `"tools":[{"type":"function","name":"get_weather","parameters":` + weatherParams + `}]`
		b := postJSON("/v1/responses", `{"model":"auto","store":false,"input":"Weather?",`+tools+`,"tool_choice":"required"}`)
		var a struct {
			Output []struct {
				Type      string `json:"type"`
				CallID    string `json:"call_id"`
				Arguments string `json:"arguments"`
			}
		}
		if err := json.Unmarshal(b, &a); err != nil {
			t.Fatalf("turn one: %v %s", err, b)
		}
		var callID, args string
		for _, o := range a.Output {
			if o.Type == "function_call" {
				callID, args = o.CallID, o.Arguments
			}
		}
		if callID == "" {
			t.Fatalf("turn one made no call: %s", b)
		}
		postJSON("/v1/responses", `{"model":"auto","store":false,"input":[{"role":"user","content":"Weather?"},`+
			`{"type":"function_call","call_id":`+jsonQuote(callID)+`,"name":"get_weather","arguments":`+jsonQuote(args)+`},`+
			`{"type":"function_call_output","call_id":`+jsonQuote(callID)+`,"output":"sunny"}],`+tools+`}`)
		check(t, callID)
	})
}

func jsonQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
