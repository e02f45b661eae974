package anthropic

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// A tool round trip as Claude Code sends it: the assistant's tool_use and
// the user's tool_result become a domain tool call and a tool message.
func TestDecodeToolRoundTrip(t *testing.T) {
	body := `{"model":"claude-x","max_tokens":100,"system":[{"type":"text","text":"Be brief.","cache_control":{"type":"ephemeral"}}],
	"tools":[{"name":"get_weather","description":"Weather","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}}],
	"tool_choice":{"type":"any"},"top_k":5,"metadata":{"user_id":"u1"},
	"messages":[{"role":"user","content":"Weather in Paris?"},
	{"role":"assistant","content":[{"type":"text","text":"Checking."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}]},
	{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":[{"type":"text","text":"18C"}]},{"type":"text","text":"Thanks"}]}]}`
	req, stream, err := decode([]byte(body), false)
	if err != nil || stream {
		t.Fatal(err, stream)
	}
	got := req.Messages
	if len(got) != 5 || got[0].Role != llm.RoleSystem || got[0].Content != "Be brief." ||
		got[2].Role != llm.RoleAssistant || got[2].Content != "Checking." || len(got[2].ToolCalls) != 1 ||
		got[2].ToolCalls[0].ID != "toolu_1" || got[2].ToolCalls[0].Arguments != `{"city":"Paris"}` ||
		got[3].Role != llm.RoleTool || got[3].ToolCallID != "toolu_1" || got[3].Content != "18C" ||
		got[4].Role != llm.RoleUser || got[4].Content != "Thanks" {
		t.Fatalf("messages %+v", got)
	}
	if len(req.Tools) != 1 || req.ToolChoice == nil || req.ToolChoice.Mode != "required" || req.User != "u1" || *req.MaxTokens != 100 {
		t.Fatalf("request %+v", req)
	}
}

// Claude Code 2.1 sends system turns inside messages (and unknown top-level
// fields such as context_management, output_config, thinking "adaptive").
func TestDecodeRoles(t *testing.T) {
	for _, tc := range []struct {
		name, msgs string
		want       []llm.Role
		wantErr    string
	}{
		{"user assistant", `[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]`, []llm.Role{llm.RoleUser, llm.RoleAssistant}, ""},
		{"system between turns", `[{"role":"user","content":"a"},{"role":"system","content":[{"type":"text","text":"agents: x"}]}]`, []llm.Role{llm.RoleUser, llm.RoleSystem}, ""},
		{"system as string", `[{"role":"system","content":"s"},{"role":"user","content":"a"}]`, []llm.Role{llm.RoleSystem, llm.RoleUser}, ""},
		{"robot", `[{"role":"robot","content":"a"}]`, nil, "messages.0.role"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := `{"model":"m","max_tokens":8,"thinking":{"type":"adaptive"},"context_management":{},"output_config":{},"messages":` + tc.msgs + `}`
			req, _, err := decode([]byte(body), false)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []llm.Role
			for _, m := range req.Messages {
				got = append(got, m.Role)
			}
			if !slices.Equal(got, tc.want) {
				t.Fatalf("roles %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEncodeToolUseAnswer(t *testing.T) {
	resp := &llm.ChatResponse{Choices: []llm.Choice{{FinishReason: llm.FinishToolCalls, Message: llm.Message{
		ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}}},
		Usage: llm.Usage{PromptTokens: 20, CachedTokens: 5, CompletionTokens: 7}}
	b, err := encodeMessage(resp, "claude-x", "msg_1")
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"msg_1","type":"message","role":"assistant","model":"claude-x","content":[{"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":15,"output_tokens":7,"cache_read_input_tokens":5}}`
	if string(b) != want {
		t.Fatalf("got  %s\nwant %s", b, want)
	}
}

// Text then a streamed tool call: two blocks, each started, filled and
// stopped, then the stop reason and usage.
func TestStreamEventSequence(t *testing.T) {
	e := newEncoder("msg_1", "m")
	var evs []event
	evs = append(evs, e.start()...)
	evs = append(evs, e.chunk(llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "Let me check."}}}})...)
	evs = append(evs, e.chunk(llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "call_1", Name: "get_weather"}}}}}})...)
	evs = append(evs, e.chunk(llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `{"city":`}}}}}})...)
	evs = append(evs, e.chunk(llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `"Paris"}`}}}, FinishReason: llm.FinishToolCalls}}})...)
	evs = append(evs, e.chunk(llm.Chunk{Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: 9}})...)
	evs = append(evs, e.finish()...)
	var lines []string
	for _, ev := range evs {
		lines = append(lines, ev.name+" "+string(ev.data))
	}
	want := []string{
		`message_start {"message":{"id":"msg_1","type":"message","role":"assistant","model":"m","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":0,"output_tokens":0}},"type":"message_start"}`,
		`ping {"type":"ping"}`,
		`content_block_start {"content_block":{"type":"text","text":""},"index":0,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"text":"Let me check.","type":"text_delta"},"index":0,"type":"content_block_delta"}`,
		`content_block_stop {"index":0,"type":"content_block_stop"}`,
		`content_block_start {"content_block":{"type":"tool_use","id":"call_1","name":"get_weather","input":{}},"index":1,"type":"content_block_start"}`,
		`content_block_delta {"delta":{"partial_json":"{\"city\":","type":"input_json_delta"},"index":1,"type":"content_block_delta"}`,
		`content_block_delta {"delta":{"partial_json":"\"Paris\"}","type":"input_json_delta"},"index":1,"type":"content_block_delta"}`,
		`content_block_stop {"index":1,"type":"content_block_stop"}`,
		`message_delta {"delta":{"stop_reason":"tool_use","stop_sequence":null},"type":"message_delta","usage":{"input_tokens":10,"output_tokens":9}}`,
		`message_stop {"type":"message_stop"}`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrorShape(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{llm.InvalidParam("max_tokens", "max_tokens: Field required"), `{"error":{"message":"max_tokens: Field required","type":"invalid_request_error"},"type":"error"}`},
		{&llm.Error{Kind: llm.KindRateLimited, Message: "slow down"}, `{"error":{"message":"slow down","type":"rate_limit_error"},"type":"error"}`},
	} {
		if got := string(errorBody(tc.err)); got != tc.want {
			var v any
			_ = json.Unmarshal([]byte(got), &v)
			t.Errorf("got %s, want %s", got, tc.want)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"model":"m","max_tokens":100,"messages":[{"role":"user","content":"` + strings.Repeat("word ", 200) + `"}]}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := decode(body, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	e := newEncoder("msg_1", "m")
	e.start()
	c := llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "word "}}}}
	b.ReportAllocs()
	for b.Loop() {
		for _, ev := range e.chunk(c) {
			_ = ev.frame()
		}
	}
}
