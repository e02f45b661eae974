package anthropic

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func TestDecodeSamplingAndThinking(t *testing.T) {
	seven := 7
	for _, tc := range []struct {
		name, extra  string
		wantTopK     *int
		wantThinking *llm.Thinking
		wantEffort   string
		wantErr      string
	}{
		{name: "none"},
		{name: "top_k", extra: `"top_k":7`, wantTopK: &seven},
		{name: "enabled, small budget", extra: `"thinking":{"type":"enabled","budget_tokens":1024}`,
			wantThinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024}, wantEffort: "low"},
		{name: "enabled, 2048 is still low", extra: `"thinking":{"type":"enabled","budget_tokens":2048}`,
			wantThinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 2048}, wantEffort: "low"},
		{name: "enabled, medium budget", extra: `"thinking":{"type":"enabled","budget_tokens":8192}`,
			wantThinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 8192}, wantEffort: "medium"},
		{name: "enabled, large budget", extra: `"thinking":{"type":"enabled","budget_tokens":8193}`,
			wantThinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 8193}, wantEffort: "high"},
		{name: "disabled", extra: `"thinking":{"type":"disabled"}`, wantThinking: &llm.Thinking{Type: llm.ThinkingDisabled}},
		{name: "adaptive", extra: `"thinking":{"type":"adaptive","display":"summarized"}`, wantThinking: &llm.Thinking{Type: llm.ThinkingAdaptive}},
		{name: "a newer type is left to the original body", extra: `"thinking":{"type":"between_tools"}`},
		{name: "enabled without budget", extra: `"thinking":{"type":"enabled"}`, wantErr: "budget_tokens: Field required"},
		{name: "enabled with zero budget", extra: `"thinking":{"type":"enabled","budget_tokens":0}`, wantErr: "budget_tokens: must be at least 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"m","max_tokens":4096,"messages":[{"role":"user","content":"hi"}]}`
			if tc.extra != "" {
				body = strings.TrimSuffix(body, "}") + "," + tc.extra + "}"
			}
			req, _, err := decode([]byte(body), false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.TopK, tc.wantTopK) || !reflect.DeepEqual(req.Thinking, tc.wantThinking) || req.ReasoningEffort != tc.wantEffort {
				t.Fatalf("top_k %v thinking %+v effort %q", req.TopK, req.Thinking, req.ReasoningEffort)
			}
		})
	}
}

// An assistant turn's thinking comes back with its signature (Claude
// requires it with tool use), and redacted thinking with its data.
func TestDecodeKeepsThinkingInHistory(t *testing.T) {
	body := `{"model":"m","max_tokens":64,"thinking":{"type":"enabled","budget_tokens":1024},"messages":[
	{"role":"user","content":"Weather?"},
	{"role":"assistant","content":[{"type":"thinking","thinking":"Call the tool.","signature":"sig-1"},
		{"type":"redacted_thinking","data":"opaque-1"},
		{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{}}]},
	{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"sunny"}]},
	{"role":"assistant","content":[{"type":"thinking","thinking":"Only thought.","signature":"sig-2"}]},
	{"role":"user","content":"ok"}]}`
	req, _, err := decode([]byte(body), false)
	if err != nil {
		t.Fatal(err)
	}
	m := req.Messages
	if len(m) != 5 {
		t.Fatalf("messages %+v", m)
	}
	if m[1].ReasoningContent != "Call the tool." || m[1].ReasoningSignature != "sig-1" || !reflect.DeepEqual(m[1].RedactedReasoning, []string{"opaque-1"}) ||
		len(m[1].ToolCalls) != 1 {
		t.Fatalf("tool turn %+v", m[1])
	}
	// A turn of nothing but thinking is a turn still.
	if m[3].Role != llm.RoleAssistant || m[3].ReasoningContent != "Only thought." || m[3].ReasoningSignature != "sig-2" {
		t.Fatalf("thinking-only turn %+v", m[3])
	}
}

func TestAnthropicOptionsFromHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		want *llm.AnthropicOptions
	}{
		{"none", http.Header{}, nil},
		{"version only", http.Header{"Anthropic-Version": {"2023-06-01"}}, &llm.AnthropicOptions{Version: "2023-06-01"}},
		{"betas across headers, split, trimmed, each once", http.Header{"Anthropic-Version": {"2023-06-01"},
			"Anthropic-Beta": {"interleaved-thinking-2025-05-14, context-1m-2025-08-07", "context-1m-2025-08-07,,files-api-2025-04-14"}},
			&llm.AnthropicOptions{Version: "2023-06-01", Betas: []string{"interleaved-thinking-2025-05-14", "context-1m-2025-08-07", "files-api-2025-04-14"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := anthropicOptions(tc.h); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestEncodeThinkingAnswer(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  llm.Message
		want string
	}{
		{"signed thinking before text", llm.Message{ReasoningContent: "Two plus two.", ReasoningSignature: "sig-1", Content: "4"},
			`[{"type":"thinking","thinking":"Two plus two.","signature":"sig-1"},{"type":"text","text":"4"}]`},
		{"redacted thinking passes through", llm.Message{ReasoningContent: "Hm.", ReasoningSignature: "sig-1", RedactedReasoning: []string{"opaque"}, Content: "4"},
			`[{"type":"thinking","thinking":"Hm.","signature":"sig-1"},{"type":"redacted_thinking","data":"opaque"},{"type":"text","text":"4"}]`},
		{"unsigned reasoning (another provider's) has an empty signature", llm.Message{ReasoningContent: "Hm.", Content: "4"},
			`[{"type":"thinking","thinking":"Hm.","signature":""},{"type":"text","text":"4"}]`},
		{"no reasoning, no thinking block", llm.Message{Content: "4"}, `[{"type":"text","text":"4"}]`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := encodeMessage(&llm.ChatResponse{Choices: []llm.Choice{{Message: tc.msg, FinishReason: llm.FinishStop}}}, "m", "msg_1")
			if err != nil {
				t.Fatal(err)
			}
			_, content, _ := strings.Cut(string(b), `"content":`)
			content, _, _ = strings.Cut(content, `,"stop_reason"`)
			if content != tc.want {
				t.Fatalf("content %s\nwant    %s", content, tc.want)
			}
		})
	}
}

// Thinking streams as block 0 (thinking_delta, then signature_delta), a
// redacted block whole, then the text block.
func TestStreamThinkingEvents(t *testing.T) {
	e := newEncoder("msg_1", "m")
	var evs []event
	for _, d := range []llm.Message{
		{Role: llm.RoleAssistant},
		{ReasoningContent: "Two plus "},
		{ReasoningContent: "two."},
		{ReasoningSignature: "sig-1"},
		{RedactedReasoning: []string{"opaque"}},
		{Content: "4"},
	} {
		evs = append(evs, e.chunk(llm.Chunk{Choices: []llm.ChunkChoice{{Delta: d}}})...)
	}
	evs = append(evs, e.finish()...)
	var lines []string
	for _, ev := range evs {
		lines = append(lines, ev.name+" "+string(ev.data))
	}
	want := []string{
		`content_block_start {"content_block":{"type":"thinking","thinking":"","signature":""},"index":0,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"thinking":"Two plus ","type":"thinking_delta"},"index":0,"type":"content_block_delta"}`,
		`content_block_delta {"delta":{"thinking":"two.","type":"thinking_delta"},"index":0,"type":"content_block_delta"}`,
		`content_block_delta {"delta":{"signature":"sig-1","type":"signature_delta"},"index":0,"type":"content_block_delta"}`,
		`content_block_stop {"index":0,"type":"content_block_stop"}`,
		`content_block_start {"content_block":{"type":"redacted_thinking","data":"opaque"},"index":1,"type":"content_block_start"}`,
		`content_block_stop {"index":1,"type":"content_block_stop"}`,
		`content_block_start {"content_block":{"type":"text","text":""},"index":2,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"text":"4","type":"text_delta"},"index":2,"type":"content_block_delta"}`,
		`content_block_stop {"index":2,"type":"content_block_stop"}`,
		`message_delta {"delta":{"stop_reason":"end_turn","stop_sequence":null},"type":"message_delta","usage":{"input_tokens":0,"output_tokens":0}}`,
		`message_stop {"type":"message_stop"}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}
