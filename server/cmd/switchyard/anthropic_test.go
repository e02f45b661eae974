package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

func postAnthropic(t *testing.T, url, key, body string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// Anthropic Messages at the door, served by the simulator behind it: a
// unary answer, the stream's event sequence, count_tokens, and errors in
// Anthropic's shape.
func TestAnthropicMessagesDialect(t *testing.T) {
	g := startGateway(t, testConfig)
	url := g.base + "/v1/messages"
	resp, b := postAnthropic(t, url, "", `{"model":"auto","max_tokens":64,"system":"Be brief.","messages":[{"role":"user","content":"Hello"}]}`)
	var msg struct {
		ID, Type, Role, Model string
		Content               []struct{ Type, Text string }
		StopReason            string `json:"stop_reason"`
		Usage                 struct {
			InputTokens  int `json:"input_tokens"`
			OutputTokens int `json:"output_tokens"`
		}
	}
	if err := json.Unmarshal(b, &msg); err != nil || resp.StatusCode != 200 {
		t.Fatalf("unary: %d %s", resp.StatusCode, b)
	}
	if !strings.HasPrefix(msg.ID, "msg_") || msg.Type != "message" || msg.Role != "assistant" || msg.Model != "auto" ||
		len(msg.Content) != 1 || msg.Content[0].Type != "text" || msg.Content[0].Text == "" || msg.StopReason != "end_turn" ||
		msg.Usage.InputTokens == 0 || msg.Usage.OutputTokens == 0 {
		t.Fatalf("unary answer: %s", b)
	}

	resp, b = postAnthropic(t, url, "", `{"model":"auto","max_tokens":64,"stream":true,"messages":[{"role":"user","content":[{"type":"text","text":"Hello"}]}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			if len(names) == 0 || names[len(names)-1] != name || name != "content_block_delta" {
				names = append(names, name)
			}
		}
	}
	want := "message_start ping content_block_start content_block_delta content_block_stop message_delta message_stop"
	if strings.Join(names, " ") != want {
		t.Fatalf("events %v\nwant %s\n%s", names, want, b)
	}

	resp, b = postAnthropic(t, url+"/count_tokens", "", `{"model":"auto","messages":[{"role":"user","content":"Hello there"}]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"input_tokens":`) {
		t.Fatalf("count_tokens: %d %s", resp.StatusCode, b)
	}

	for _, tc := range []struct {
		name, body string
		status     int
		typ        string
	}{
		{"no max_tokens", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`, 400, "invalid_request_error"},
		{"unknown model", `{"model":"nope","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}`, 404, "not_found_error"},
		{"bad role", `{"model":"auto","max_tokens":5,"messages":[{"role":"robot","content":"hi"}]}`, 400, "invalid_request_error"},
	} {
		resp, b := postAnthropic(t, url, "", tc.body)
		var e struct {
			Type  string
			Error struct{ Type, Message string }
		}
		if json.Unmarshal(b, &e) != nil || resp.StatusCode != tc.status || e.Type != "error" || e.Error.Type != tc.typ || e.Error.Message == "" {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}
}

// With client keys configured, x-api-key (what the Anthropic SDKs send)
// authenticates, and a wrong key is refused in Anthropic's shape.
func TestAnthropicMessagesAuthenticatesByXAPIKey(t *testing.T) {
	g := startGateway(t, testConfig+"\nauth: {api_keys: [sk-test-key-0123456789]}\n")
	body := `{"model":"auto","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`
	if resp, b := postAnthropic(t, g.base+"/v1/messages", "sk-test-key-0123456789", body); resp.StatusCode != 200 {
		t.Fatalf("right key: %d %s", resp.StatusCode, b)
	}
	resp, b := postAnthropic(t, g.base+"/v1/messages", "sk-wrong-key-000000000", body)
	if resp.StatusCode != 401 || !strings.Contains(string(b), `"authentication_error"`) {
		t.Fatalf("wrong key: %d %s", resp.StatusCode, b)
	}
}

// An unknown path is a 404 in the caller's dialect, never a demand for a
// key: Anthropic clients (anthropic-version) get Anthropic's error, others
// OpenAI's, inside /v1/ and outside it.
func TestUnknownPathsAnswer404InTheCallersDialect(t *testing.T) {
	g := startGateway(t, testConfig+"\nauth: {api_keys: [sk-test-key-0123456789]}\n")
	for _, tc := range []struct {
		name, method, path, anthropicVersion, want string
	}{
		{"anthropic batches", "POST", "/v1/messages/batches", "2023-06-01", `"type":"not_found_error"`},
		{"anthropic elsewhere", "GET", "/v1/files/abc", "2023-06-01", `"type":"not_found_error"`},
		{"openai under v1", "GET", "/v1/nope", "", `"code":"unknown_url"`},
		{"openai outside v1", "POST", "/nope/at/all", "", `"code":"unknown_url"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, g.base+tc.path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", "application/json")
			if tc.anthropicVersion != "" {
				req.Header.Set("anthropic-version", tc.anthropicVersion)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 404 || !strings.Contains(string(b), tc.want) {
				t.Fatalf("%d %s, want 404 with %s", resp.StatusCode, b, tc.want)
			}
		})
	}
}

// anthropicCall sends one request as an Anthropic SDK does (anthropic-version
// always), with the extra headers given; body "" sends none.
func anthropicCall(t *testing.T, method, url, key, body string, h http.Header) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("anthropic-version", "2023-06-01")
	for k, vs := range h {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if key != "" {
		req.Header.Set("x-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// GET /v1/models answers in Anthropic's shape to Anthropic clients (they
// send anthropic-version) and in OpenAI's to everyone else, at one path;
// each behind its own dialect's key check.
func TestAnthropicModelsList(t *testing.T) {
	g := startGateway(t, testConfig+"\nauth: {api_keys: [sk-test-key-0123456789]}\n")
	const key = "sk-test-key-0123456789"
	resp, b := anthropicCall(t, "GET", g.base+"/v1/models", key, "", nil)
	var page struct {
		Data []struct {
			Type, ID    string
			DisplayName string `json:"display_name"`
			CreatedAt   string `json:"created_at"`
		}
		HasMore bool    `json:"has_more"`
		FirstID *string `json:"first_id"`
		LastID  *string `json:"last_id"`
	}
	if err := json.Unmarshal(b, &page); err != nil || resp.StatusCode != 200 || len(page.Data) < 3 || page.HasMore ||
		page.FirstID == nil || *page.FirstID != page.Data[0].ID || page.LastID == nil || *page.LastID != page.Data[len(page.Data)-1].ID {
		t.Fatalf("anthropic list: %d %s", resp.StatusCode, b)
	}
	ids := map[string]bool{}
	for _, m := range page.Data {
		if m.Type != "model" || m.DisplayName == "" {
			t.Fatalf("model %+v", m)
		}
		if _, err := time.Parse(time.RFC3339, m.CreatedAt); err != nil {
			t.Fatalf("created_at %q: %v", m.CreatedAt, err)
		}
		ids[m.ID] = true
	}
	if !ids["auto"] || !ids["sim-small"] {
		t.Fatalf("ids %v", ids)
	}
	resp, b = anthropicCall(t, "GET", g.base+"/v1/models?limit=1", key, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"has_more":true`) {
		t.Fatalf("first page: %d %s", resp.StatusCode, b)
	}
	resp, b = anthropicCall(t, "GET", g.base+"/v1/models/sim-small", key, "", nil)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"type":"model","id":"sim-small"`) {
		t.Fatalf("one model: %d %s", resp.StatusCode, b)
	}
	resp, b = anthropicCall(t, "GET", g.base+"/v1/models/no-such-model", key, "", nil)
	if resp.StatusCode != 404 || !strings.Contains(string(b), `"not_found_error"`) {
		t.Fatalf("unknown model: %d %s", resp.StatusCode, b)
	}
	resp, b = anthropicCall(t, "GET", g.base+"/v1/models", "sk-wrong-key-000000000", "", nil)
	if resp.StatusCode != 401 || !strings.Contains(string(b), `"authentication_error"`) {
		t.Fatalf("wrong key, Anthropic shape: %d %s", resp.StatusCode, b)
	}

	// No anthropic-version: OpenAI's list, and OpenAI's refusal.
	for _, tc := range []struct {
		path, key string
		status    int
		want      string
	}{
		{"/v1/models", key, 200, `"object":"list"`},
		{"/v1/models/sim-small", key, 200, `"object":"model"`},
		{"/v1/models", "sk-wrong-key-000000000", 401, `"invalid_api_key"`},
	} {
		req, _ := http.NewRequest("GET", g.base+tc.path, nil)
		req.Header.Set("Authorization", "Bearer "+tc.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.want) {
			t.Fatalf("openai %s: %d %s, want %d with %s", tc.path, resp.StatusCode, b, tc.status, tc.want)
		}
	}
}

// top_k and the client's anthropic-beta flags (several headers, comma
// lists) reach an Anthropic target; thinking comes back from it as
// thinking blocks, unary and streamed, with the upstream's signature.
func TestAnthropicTopKBetasAndThinkingReachAnAnthropicTarget(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("anthropic", up.URL))
	betas := http.Header{"Anthropic-Beta": {"interleaved-thinking-2025-05-14,context-1m-2025-08-07", "files-api-2025-04-14"}}
	body := `{"model":"auto","max_tokens":2048,"top_k":7,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"Hello"}]}`

	resp, b := anthropicCall(t, "POST", g.base+"/v1/messages", "", body, betas)
	if resp.StatusCode != 200 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	recs := fs.Records()
	rec := recs[len(recs)-1]
	if got := strings.Join(rec.Header.Values("Anthropic-Beta"), ","); got != "interleaved-thinking-2025-05-14,context-1m-2025-08-07,files-api-2025-04-14" {
		t.Errorf("upstream anthropic-beta %q", got)
	}
	if !strings.Contains(rec.Body, `"top_k":7`) {
		t.Errorf("upstream body without top_k: %s", rec.Body)
	}
	var msg struct {
		Content []struct{ Type, Text, Thinking, Signature string }
	}
	if err := json.Unmarshal(b, &msg); err != nil || len(msg.Content) != 2 || msg.Content[0].Type != "thinking" ||
		msg.Content[0].Thinking != fakeupstream.FakeThinking || msg.Content[0].Signature != fakeupstream.FakeThinkingSignature ||
		msg.Content[1].Type != "text" || msg.Content[1].Text == "" {
		t.Fatalf("unary answer: %s", b)
	}

	resp, b = anthropicCall(t, "POST", g.base+"/v1/messages", "", strings.Replace(body, `"model":"auto"`, `"model":"auto","stream":true`, 1), betas)
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	if got := thinkingEvents(t, b); got != "0:thinking thinking_delta signature_delta stop0 1:text text_delta stop1" {
		t.Fatalf("stream blocks %s\n%s", got, b)
	}
	if !strings.Contains(string(b), `"signature":"`+fakeupstream.FakeThinkingSignature+`"`) {
		t.Fatalf("stream lost the signature: %s", b)
	}
}

// thinkingEvents summarises a Messages stream's blocks: index:type at each
// start, the delta types (runs of one collapsed), stop<index>.
func thinkingEvents(t *testing.T, raw []byte) string {
	t.Helper()
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			continue
		}
		var ev struct {
			Type         string
			Index        int
			ContentBlock struct{ Type string } `json:"content_block"`
			Delta        struct{ Type string }
		}
		if err := json.Unmarshal([]byte(data), &ev); err != nil {
			t.Fatalf("event %s: %v", data, err)
		}
		var s string
		switch ev.Type {
		case "content_block_start":
			s = fmt.Sprintf("%d:%s", ev.Index, ev.ContentBlock.Type)
		case "content_block_delta":
			s = ev.Delta.Type
		case "content_block_stop":
			s = fmt.Sprintf("stop%d", ev.Index)
		default:
			continue
		}
		if len(out) == 0 || out[len(out)-1] != s {
			out = append(out, s)
		}
	}
	return strings.Join(out, " ")
}

// thinkingConfig routes "think" to a simulator that thinks when asked and
// checks the signatures handed back.
const thinkingConfig = `
log: {level: error}
providers:
  - name: thinker
    type: simulator
    models: [think-sim]
    simulator: {token_delay: 1ms, response_tokens: 6, thinking: true}
routes:
  - model: think
    targets:
      - {provider: thinker, model: think-sim}
`

// Thinking through the canonical model (a target that speaks no
// Anthropic): the answer's reasoning comes back as a signed thinking block,
// unary and streamed, and handed back in the next turn's history it
// reaches the target intact (the simulator refuses an altered signature).
func TestAnthropicThinkingRoundTrip(t *testing.T) {
	g := startGateway(t, thinkingConfig)
	url := g.base + "/v1/messages"
	ask := `{"model":"think","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[{"role":"user","content":"What is 2+2?"}]`
	resp, b := postAnthropic(t, url, "", ask+`}`)
	var msg struct {
		Content []json.RawMessage
		Usage   struct {
			OutputTokens int `json:"output_tokens"`
		}
	}
	if err := json.Unmarshal(b, &msg); err != nil || resp.StatusCode != 200 || len(msg.Content) != 2 {
		t.Fatalf("unary: %d %s", resp.StatusCode, b)
	}
	var think struct{ Type, Thinking, Signature string }
	_ = json.Unmarshal(msg.Content[0], &think)
	if think.Type != "thinking" || think.Thinking == "" || !strings.HasPrefix(think.Signature, "simsig_") {
		t.Fatalf("thinking block: %s", msg.Content[0])
	}

	resp, b = postAnthropic(t, url, "", ask+`,"stream":true}`)
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %d %s", resp.StatusCode, b)
	}
	if got := thinkingEvents(t, b); got != "0:thinking thinking_delta signature_delta stop0 1:text text_delta stop1" {
		t.Fatalf("stream blocks %s\n%s", got, b)
	}
	if !strings.Contains(string(b), `"signature":"`+think.Signature+`"`) {
		t.Fatalf("stream signature differs from the unary one (%s): %s", think.Signature, b)
	}

	history := func(block json.RawMessage) string {
		return `{"model":"think","max_tokens":2048,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[` +
			`{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":[` + string(block) + `,` + string(msg.Content[1]) + `]},` +
			`{"role":"user","content":"And 3+3?"}]}`
	}
	if resp, b := postAnthropic(t, url, "", history(msg.Content[0])); resp.StatusCode != 200 {
		t.Fatalf("thinking handed back: %d %s", resp.StatusCode, b)
	}
	altered, _ := json.Marshal(map[string]string{"type": "thinking", "thinking": think.Thinking + " (edited)", "signature": think.Signature})
	if resp, b := postAnthropic(t, url, "", history(altered)); resp.StatusCode != 400 || !strings.Contains(string(b), "signature") {
		t.Fatalf("altered thinking: %d %s, want the target's 400", resp.StatusCode, b)
	}
	redacted := `{"type":"redacted_thinking","data":"opaque"}`
	if resp, b := postAnthropic(t, url, "", history(json.RawMessage(redacted))); resp.StatusCode != 200 {
		t.Fatalf("redacted thinking in history: %d %s", resp.StatusCode, b)
	}
}
