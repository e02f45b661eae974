package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
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
