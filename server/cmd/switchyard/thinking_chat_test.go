package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// A Chat Completions client on an Anthropic target with thinking and a
// tool: turn one's answer carries the signed thinking in thinking_blocks,
// and when the client sends that message back as it came (what SDK loops
// that append the message do), turn two's upstream body has the thinking
// block with its signature before the tool_use, as Anthropic demands.
func TestChatClientKeepsAnthropicThinkingSignatureAcrossToolTurns(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}, Knobs: fakeupstream.Knobs{Tokens: 4}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("anthropic", up.URL))

	const tools = `"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}}]`
	turn1 := `{"model":"auto","max_tokens":4000,"thinking":{"type":"enabled","budget_tokens":1024},` + tools +
		`,"messages":[{"role":"user","content":"[[fake:auto_tool=get_weather]] Weather in Paris?"}]}`
	resp, err := http.Post(g.base+"/v1/chat/completions", "application/json", strings.NewReader(turn1))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var a1 struct {
		Choices []struct {
			Message json.RawMessage
		}
	}
	if err := json.Unmarshal(b, &a1); err != nil || resp.StatusCode != 200 || len(a1.Choices) != 1 {
		t.Fatalf("turn one: %d %s", resp.StatusCode, b)
	}
	msg := string(a1.Choices[0].Message)
	if !strings.Contains(msg, `"thinking_blocks":[{"type":"thinking","thinking":"`+fakeupstream.FakeThinking+`","signature":"`+fakeupstream.FakeThinkingSignature+`"}]`) ||
		!strings.Contains(msg, `"tool_calls"`) {
		t.Fatalf("turn one message: %s", msg)
	}
	var call struct {
		ToolCalls []struct{ ID string } `json:"tool_calls"`
	}
	_ = json.Unmarshal(a1.Choices[0].Message, &call)

	turn2 := `{"model":"auto","max_tokens":4000,"thinking":{"type":"enabled","budget_tokens":1024},` + tools +
		`,"messages":[{"role":"user","content":"Weather in Paris?"},` + msg +
		`,{"role":"tool","tool_call_id":"` + call.ToolCalls[0].ID + `","content":"sunny"}]}`
	resp, err = http.Post(g.base+"/v1/chat/completions", "application/json", strings.NewReader(turn2))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("turn two: %d %s", resp.StatusCode, b)
	}
	recs := fs.Records()
	var sent struct {
		Messages []struct {
			Role    string
			Content json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(recs[len(recs)-1].Body), &sent); err != nil || len(sent.Messages) != 3 {
		t.Fatalf("upstream body: %s", recs[len(recs)-1].Body)
	}
	var blocks []map[string]any
	if err := json.Unmarshal(sent.Messages[1].Content, &blocks); err != nil {
		t.Fatalf("assistant turn upstream: %s", sent.Messages[1].Content)
	}
	if len(blocks) < 2 || blocks[0]["type"] != "thinking" || blocks[0]["signature"] != fakeupstream.FakeThinkingSignature ||
		blocks[0]["thinking"] != fakeupstream.FakeThinking || blocks[len(blocks)-1]["type"] != "tool_use" {
		t.Fatalf("turn two's assistant turn upstream: %+v", blocks)
	}
}

// The same for a store:false Responses client (Codex CLI): the signature
// rides in the reasoning item's encrypted_content and comes back with the
// items the client returns.
func TestResponsesClientKeepsAnthropicThinkingSignatureAcrossToolTurns(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}, Knobs: fakeupstream.Knobs{Tokens: 4}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("anthropic", up.URL))

	const head = `{"model":"auto","store":false,"max_output_tokens":4000,"reasoning":{"effort":"high"},` +
		`"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],`
	st, b := doResponses(t, "POST", g.base+"/v1/responses", "", head+`"input":"[[fake:auto_tool=get_weather]] Weather in Paris?"}`)
	if st != 200 {
		t.Fatalf("turn one: %d %s", st, b)
	}
	var a1 struct{ Output []json.RawMessage }
	if err := json.Unmarshal(b, &a1); err != nil {
		t.Fatal(err)
	}
	var callID string
	for _, it := range a1.Output {
		var f struct {
			Type             string `json:"type"`
			CallID           string `json:"call_id"`
			EncryptedContent string `json:"encrypted_content"`
		}
		_ = json.Unmarshal(it, &f)
		if f.Type == "reasoning" && !strings.HasPrefix(f.EncryptedContent, "sy1:") {
			t.Fatalf("reasoning item carries no signature: %s", it)
		}
		if f.Type == "function_call" {
			callID = f.CallID
		}
	}
	if callID == "" || !strings.Contains(string(b), `"type":"reasoning"`) {
		t.Fatalf("turn one output: %s", b)
	}
	input := `[{"role":"user","content":"Weather in Paris?"},`
	for _, it := range a1.Output {
		input += string(it) + ","
	}
	input += `{"type":"function_call_output","call_id":"` + callID + `","output":"sunny"}]`
	if st, b := doResponses(t, "POST", g.base+"/v1/responses", "", head+`"input":`+input+`}`); st != 200 {
		t.Fatalf("turn two: %d %s", st, b)
	}
	recs := fs.Records()
	body := recs[len(recs)-1].Body
	if !strings.Contains(body, `{"type":"thinking","thinking":"`+fakeupstream.FakeThinking+`","signature":"`+fakeupstream.FakeThinkingSignature+`"}`) {
		t.Fatalf("turn two upstream lost the signed thinking: %s", body)
	}
}

// Prompt-cache breakpoints a Responses client puts on content parts and
// tools (as LiteLLM takes them) reach an Anthropic target as
// cache_control on the same blocks.
func TestResponsesCacheControlReachesAnthropic(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}, Knobs: fakeupstream.Knobs{Tokens: 4}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("anthropic", up.URL))
	body := `{"model":"auto","store":false,"input":[{"role":"user","content":[` +
		`{"type":"input_text","text":"A long document.","cache_control":{"type":"ephemeral"}},{"type":"input_text","text":"Summarise it."}]}],` +
		`"tools":[{"type":"function","name":"lookup","parameters":{"type":"object"},"cache_control":{"type":"ephemeral","ttl":"1h"}}]}`
	if st, b := doResponses(t, "POST", g.base+"/v1/responses", "", body); st != 200 {
		t.Fatalf("%d %s", st, b)
	}
	recs := fs.Records()
	sent := recs[len(recs)-1].Body
	for _, want := range []string{`{"type":"text","text":"A long document.","cache_control":{"type":"ephemeral"}}`, `"cache_control":{"type":"ephemeral","ttl":"1h"}`} {
		if !strings.Contains(sent, want) {
			t.Fatalf("upstream body lacks %s: %s", want, sent)
		}
	}
}
