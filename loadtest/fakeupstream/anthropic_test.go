package fakeupstream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

const anthropicTools = `,"tools":[` +
	`{"name":"get_weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},` +
	`{"name":"get_time","input_schema":{"type":"object","properties":{}}}]`

func TestAnthropicUnary(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name  string
		body  string
		words int
		stop  string
	}{
		{"end_turn", anthropicBody("Say hello please", false, ""), DefaultTokens, "end_turn"},
		{"max_tokens", `{"model":"fake-claude","max_tokens":3,"system":"Be brief.","messages":[{"role":"user","content":"Say hello please"}]}`, 3, "max_tokens"},
		{"content blocks and a system block list", `{"model":"fake-claude","max_tokens":1024,"system":[{"type":"text","text":"Be brief."}],"messages":[{"role":"user","content":[{"type":"text","text":"Say hello"},{"type":"text","text":"please"}]}]}`, DefaultTokens, "end_turn"},
		// Claude Code 2.1 sends these and the real API takes them; their
		// words count.
		{"system role inside messages", `{"model":"fake-claude","max_tokens":1024,"system":"Be brief.","messages":[{"role":"system","content":"Use tools."},{"role":"user","content":"Hello"}]}`, DefaultTokens, "end_turn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: tt.body})
			if resp.StatusCode != 200 || resp.Header.Get("Request-Id") == "" {
				t.Fatalf("status %d request-id %q: %s", resp.StatusCode, resp.Header.Get("Request-Id"), body)
			}
			v := decode(t, body)
			if path(v, "type") != "message" || path(v, "role") != "assistant" || !strings.HasPrefix(path(v, "id").(string), "msg_") {
				t.Errorf("envelope: %s", body)
			}
			if path(v, "content", 0, "type") != "text" || path(v, "content", 0, "text") != answerText(tt.words) {
				t.Errorf("content: %s", body)
			}
			if path(v, "stop_reason") != tt.stop {
				t.Errorf("stop_reason %v, want %s", path(v, "stop_reason"), tt.stop)
			}
			if num(path(v, "usage", "input_tokens")) != 5 || num(path(v, "usage", "output_tokens")) != tt.words {
				t.Errorf("usage %v", path(v, "usage"))
			}
		})
	}
}

func TestAnthropicStreamEventSequence(t *testing.T) {
	_, ts := serve(t, Options{Knobs: Knobs{Tokens: 3}})
	_, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Hi there", true, "")})
	events := parseSSE(t, raw)
	var names []string
	for _, e := range events {
		names = append(names, e.name)
		v := decode(t, []byte(e.data))
		if e.name != "ping" && path(v, "type") != e.name {
			t.Errorf("event %s carries type %v", e.name, path(v, "type"))
		}
	}
	want := []string{"message_start", "content_block_start", "ping", "content_block_delta", "content_block_delta", "content_block_delta", "content_block_stop", "message_delta", "message_stop"}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("events %v, want %v", names, want)
	}
	start := decode(t, []byte(events[0].data))
	if num(path(start, "message", "usage", "input_tokens")) != 4 || path(start, "message", "model") != "fake-claude" {
		t.Errorf("message_start: %s", events[0].data)
	}
	delta := decode(t, []byte(events[7].data))
	if path(delta, "delta", "stop_reason") != "end_turn" || num(path(delta, "usage", "output_tokens")) != 3 {
		t.Errorf("message_delta: %s", events[7].data)
	}
	var text string
	for _, e := range events[3:6] {
		v := decode(t, []byte(e.data))
		if path(v, "delta", "type") != "text_delta" {
			t.Errorf("delta: %s", e.data)
		}
		text += path(v, "delta", "text").(string)
	}
	if text != answerText(3) {
		t.Errorf("text %q", text)
	}
}

func TestAnthropicToolUse(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name   string
		choice string
		want   []string
	}{
		{"any calls every tool", `{"type":"any"}`, []string{"get_weather", "get_time"}},
		{"any without parallel calls one", `{"type":"any","disable_parallel_tool_use":true}`, []string{"get_weather"}},
		{"named tool", `{"type":"tool","name":"get_time"}`, []string{"get_time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/unary", func(t *testing.T) {
			_, body := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Weather?", false, anthropicTools+`,"tool_choice":`+tt.choice)})
			v := decode(t, body)
			if path(v, "stop_reason") != "tool_use" {
				t.Fatalf("stop_reason: %s", body)
			}
			blocks := path(v, "content").([]any)
			if len(blocks) != len(tt.want) {
				t.Fatalf("%d blocks, want %d: %s", len(blocks), len(tt.want), body)
			}
			for i, name := range tt.want {
				if path(blocks[i], "type") != "tool_use" || path(blocks[i], "name") != name || !strings.HasPrefix(path(blocks[i], "id").(string), "toolu_") {
					t.Errorf("block %d: %v", i, blocks[i])
				}
				if _, ok := path(blocks[i], "input").(map[string]any); !ok {
					t.Errorf("block %d input is not an object: %v", i, blocks[i])
				}
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Weather?", true, anthropicTools+`,"tool_choice":`+tt.choice)})
			partial := map[int]string{}
			starts, stops := map[int]string{}, map[int]bool{}
			var stop string
			for _, e := range parseSSE(t, raw) {
				v := decode(t, []byte(e.data))
				i := num(path(v, "index"))
				switch e.name {
				case "content_block_start":
					if path(v, "content_block", "type") != "tool_use" {
						t.Errorf("block start: %s", e.data)
					}
					starts[i], _ = path(v, "content_block", "name").(string)
				case "content_block_delta":
					if path(v, "delta", "type") != "input_json_delta" || !(len(starts) > 0 && starts[i] != "" && !stops[i]) {
						t.Errorf("delta outside its block: %s", e.data)
					}
					partial[i] += path(v, "delta", "partial_json").(string)
				case "content_block_stop":
					stops[i] = true
				case "message_delta":
					stop, _ = path(v, "delta", "stop_reason").(string)
				}
			}
			if stop != "tool_use" || len(starts) != len(tt.want) || len(stops) != len(tt.want) {
				t.Fatalf("stop %q, %d starts, %d stops: %s", stop, len(starts), len(stops), raw)
			}
			for i, name := range tt.want {
				var obj map[string]any
				if starts[i] != name || json.Unmarshal([]byte(partial[i]), &obj) != nil {
					t.Errorf("block %d: name %q, input %q", i, starts[i], partial[i])
				}
			}
		})
	}
}

func TestAnthropicRejectsWhatTheRealAPIRejects(t *testing.T) {
	_, ts := serve(t, Options{})
	noVersion := map[string]string{"X-Api-Key": "k"}
	tests := []struct {
		name    string
		c       call
		status  int
		typ     string
		message string
	}{
		{"no x-api-key", call{path: "/v1/messages", headers: map[string]string{"Anthropic-Version": "2023-06-01", "Authorization": "Bearer k"}, body: anthropicBody("hi", false, "")}, 401, "authentication_error", "x-api-key"},
		{"no anthropic-version", call{path: "/v1/messages", headers: noVersion, body: anthropicBody("hi", false, "")}, 400, "invalid_request_error", "anthropic-version: header is required"},
		{"no max_tokens", call{path: "/v1/messages", headers: anthropicHeaders, body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`}, 400, "invalid_request_error", "max_tokens: Field required"},
		{"no model", call{path: "/v1/messages", headers: anthropicHeaders, body: `{"max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`}, 400, "invalid_request_error", "model: Field required"},
		{"tool role", call{path: "/v1/messages", headers: anthropicHeaders, body: `{"model":"m","max_tokens":5,"messages":[{"role":"tool","content":"x"}]}`}, 400, "invalid_request_error", "messages.0.role"},
		{"tool_choice without tools", call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("hi", false, `,"tool_choice":{"type":"any"}`)}, 400, "invalid_request_error", "tool_choice"},
		{"bad JSON", call{path: "/v1/messages", headers: anthropicHeaders, body: `{`}, 400, "invalid_request_error", "parsing the body"},
		{"GET messages", call{method: "GET", path: "/v1/messages", headers: anthropicHeaders}, 404, "not_found_error", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, tt.c)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			v := decode(t, body)
			if path(v, "type") != "error" || path(v, "error", "type") != tt.typ ||
				!strings.Contains(path(v, "error", "message").(string), tt.message) || path(v, "request_id") == nil {
				t.Errorf("error body %s, want type %s containing %q", body, tt.typ, tt.message)
			}
		})
	}
}

func TestAnthropicModelsShareThePathWithOpenAI(t *testing.T) {
	_, ts := serve(t, Options{Models: []string{"fake-claude"}})
	_, raw := mustDo(t, ts.URL, call{method: "GET", path: "/v1/models", headers: anthropicHeaders})
	v := decode(t, raw)
	if path(v, "data", 0, "type") != "model" || path(v, "data", 0, "id") != "fake-claude" || path(v, "has_more") != false || path(v, "last_id") != "fake-claude" {
		t.Errorf("anthropic models: %s", raw)
	}
	resp, _ := mustDo(t, ts.URL, call{method: "GET", path: "/v1/models", headers: map[string]string{"Anthropic-Version": "2023-06-01"}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no key: status %d", resp.StatusCode)
	}
}

// A request with thinking gets a thinking block first (block 0 in a
// stream, thinking_delta then signature_delta), the text or tools after
// it; a budget the real API refuses is refused.
func TestAnthropicThinking(t *testing.T) {
	_, ts := serve(t, Options{Knobs: Knobs{Tokens: 2}})
	const enabled = `,"thinking":{"type":"enabled","budget_tokens":1024}`
	body := func(stream bool, extra string) string {
		return `{"model":"fake-claude","max_tokens":2048,"stream":` + map[bool]string{true: "true", false: "false"}[stream] +
			`,"messages":[{"role":"user","content":"Hi"}]` + extra + `}`
	}
	t.Run("unary", func(t *testing.T) {
		_, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: body(false, enabled)})
		v := decode(t, raw)
		if path(v, "content", 0, "type") != "thinking" || path(v, "content", 0, "thinking") != FakeThinking ||
			path(v, "content", 0, "signature") != FakeThinkingSignature || path(v, "content", 1, "type") != "text" {
			t.Fatalf("content: %s", raw)
		}
	})
	for _, tc := range []struct {
		name, extra string
		want        []string // index:type of each block start, delta types in order
	}{
		{"stream text", enabled, []string{"0:thinking", "thinking_delta", "signature_delta", "stop 0", "1:text", "text_delta", "text_delta", "stop 1"}},
		{"stream adaptive tool", `,"thinking":{"type":"adaptive"}` + anthropicTools + `,"tool_choice":{"type":"tool","name":"get_time"}`,
			[]string{"0:thinking", "thinking_delta", "signature_delta", "stop 0", "1:tool_use", "input_json_delta", "input_json_delta", "stop 1"}},
		{"stream disabled", `,"thinking":{"type":"disabled"}`, []string{"0:text", "text_delta", "text_delta", "stop 0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: body(true, tc.extra)})
			var got []string
			for _, e := range parseSSE(t, raw) {
				v := decode(t, []byte(e.data))
				switch e.name {
				case "content_block_start":
					got = append(got, fmt.Sprintf("%d:%s", num(path(v, "index")), path(v, "content_block", "type")))
				case "content_block_delta":
					got = append(got, path(v, "delta", "type").(string))
					if path(v, "delta", "type") == "signature_delta" && path(v, "delta", "signature") != FakeThinkingSignature {
						t.Errorf("signature %s", e.data)
					}
				case "content_block_stop":
					got = append(got, fmt.Sprintf("stop %d", num(path(v, "index"))))
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("blocks %v\nwant   %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct{ name, extra string }{
		{"budget below 1024", `,"thinking":{"type":"enabled","budget_tokens":1000}`},
		{"unknown type", `,"thinking":{"type":"sometimes"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, raw := mustDo(t, ts.URL, call{path: "/v1/messages", headers: anthropicHeaders, body: body(false, tc.extra)})
			if resp.StatusCode != 400 || !strings.Contains(string(raw), "invalid_request_error") {
				t.Fatalf("%d %s", resp.StatusCode, raw)
			}
		})
	}
}
