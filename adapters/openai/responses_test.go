package openai

import (
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

func TestResponsesBody(t *testing.T) {
	req := &llm.ChatRequest{Model: "gpt-target", Original: &llm.Original{Dialect: llm.DialectResponses,
		Body: []byte(`{"model":"auto","input":"hi","stream":true,"x_unknown":{"a":1}}`)}}
	for _, tc := range []struct {
		stream bool
		want   string
	}{
		{false, `{"input":"hi","model":"gpt-target","x_unknown":{"a":1}}`},
		{true, `{"input":"hi","model":"gpt-target","stream":true,"x_unknown":{"a":1}}`},
	} {
		got, err := upstream.OriginalBody(req.Original, req.Model, tc.stream)
		if err != nil || string(got) != tc.want {
			t.Errorf("stream=%v: %s, %v\nwant %s", tc.stream, got, err, tc.want)
		}
	}
}

func TestResponsesObjectToLLM(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       llm.Choice
		usage      llm.Usage
	}{
		{"text and reasoning", `{"id":"r","status":"completed","output":[{"type":"reasoning","summary":[{"text":"hm"}]},
			{"type":"message","content":[{"type":"output_text","text":"Hi"}]}],
			"usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":1},"output_tokens":2,"output_tokens_details":{"reasoning_tokens":1},"total_tokens":5}}`,
			llm.Choice{Message: llm.Message{Role: llm.RoleAssistant, Content: "Hi", ReasoningContent: "hm"}, FinishReason: llm.FinishStop},
			llm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5, CachedTokens: 1, ReasoningTokens: 1}},
		{"function and custom calls", `{"status":"completed","output":[{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"},
			{"type":"custom_tool_call","call_id":"c2","name":"patch","input":"diff"}]}`,
			llm.Choice{Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{Index: 0, ID: "c1", Type: "function", Name: "f", Arguments: "{}"},
				{Index: 1, ID: "c2", Type: "function", Name: "patch", Arguments: `{"input":"diff"}`}}}, FinishReason: llm.FinishToolCalls},
			llm.Usage{}},
		{"cut by max_output_tokens", `{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"type":"message","content":[{"type":"output_text","text":"Hi"}]}]}`,
			llm.Choice{Message: llm.Message{Role: llm.RoleAssistant, Content: "Hi"}, FinishReason: llm.FinishLength}, llm.Usage{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var o wireResponseObject
			if err := json.Unmarshal([]byte(tc.body), &o); err != nil {
				t.Fatal(err)
			}
			got := o.toLLM()
			if !reflect.DeepEqual(got.Choices[0], tc.want) || got.Usage != tc.usage {
				t.Fatalf("got %+v %+v\nwant %+v %+v", got.Choices[0], got.Usage, tc.want, tc.usage)
			}
		})
	}
}

func TestResponsesStream(t *testing.T) {
	sse := `event: response.created
data: {"type":"response.created","response":{"id":"r"}}

event: response.output_text.delta
data: {"type":"response.output_text.delta","item_id":"m","delta":"Hel"}

event: response.output_item.added
data: {"type":"response.output_item.added","item":{"type":"function_call","id":"fc1","call_id":"c1","name":"f","arguments":""}}

event: response.function_call_arguments.delta
data: {"type":"response.function_call_arguments.delta","item_id":"fc1","delta":"{\"a\":1}"}

event: response.completed
data: {"type":"response.completed","response":{"id":"r","model":"m1","status":"completed","usage":{"input_tokens":4,"output_tokens":6,"total_tokens":10}}}

`
	s := &responsesStream{provider: "openai", body: io.NopCloser(strings.NewReader(sse)), calls: map[string]int{}}
	s.sse.Init(s.body, sseBufferSize)
	var got []llm.ChunkChoice
	var usage *llm.Usage
	for {
		c, err := s.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.Choices...)
		if c.Usage != nil {
			usage = c.Usage
		}
	}
	want := []llm.ChunkChoice{
		{Delta: llm.Message{Content: "Hel"}},
		{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "c1", Type: "function", Name: "f"}}}},
		{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `{"a":1}`}}}},
		{FinishReason: llm.FinishToolCalls},
	}
	if !reflect.DeepEqual(got, want) || usage == nil || usage.TotalTokens != 10 {
		t.Fatalf("got %+v usage %+v\nwant %+v", got, usage, want)
	}

	for _, tc := range []struct{ name, sse string }{
		{"failed", "data: {\"type\":\"response.failed\",\"response\":{\"error\":{\"code\":\"server_error\",\"message\":\"boom\"}}}\n\n"},
		{"cut short", "data: {\"type\":\"response.output_text.delta\",\"delta\":\"a\"}\n\n"},
	} {
		s := &responsesStream{provider: "openai", body: io.NopCloser(strings.NewReader(tc.sse)), calls: map[string]int{}}
		s.sse.Init(s.body, sseBufferSize)
		var err error
		for err == nil {
			_, err = s.Recv()
		}
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) {
			t.Errorf("%s: %v, want an upstream error", tc.name, err)
		}
	}
}
