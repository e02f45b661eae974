package gemini

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// provider, modelLister and embedder mirror route.Provider and its optional
// interfaces, which adapters may not import.
type provider interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
}

type modelLister interface {
	ListModels(ctx context.Context) ([]llm.Model, error)
}

type embedder interface {
	Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error)
}

var (
	_ provider    = (*Client)(nil)
	_ modelLister = (*Client)(nil)
	_ embedder    = (*Client)(nil)
	_ llm.Stream  = (*stream)(nil)
)

var fixedNow = time.Date(2025, 10, 1, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Errorf("JSON mismatch\n got: %s\nwant: %s", gi, wi)
	}
}

func simpleRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: "gemini-2.5-flash", Temperature: ptr(0.7),
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Explain how AI works in a few words"}},
	}
}

func toolsRoundTripRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: "gemini-2.5-pro",
		Tools: []llm.Tool{
			{
				Type:        "function",
				Name:        "get_weather",
				Description: "Get the current weather in a given location",
				Parameters:  json.RawMessage(`{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"],"additionalProperties":false}`),
			},
			{Type: "function", Name: "get_time"},
		},
		ToolChoice: &llm.ToolChoice{Function: "get_weather"},
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "What is the weather and time in Paris?"},
			{Role: llm.RoleAssistant, Content: "Let me check both.", ToolCalls: []llm.ToolCall{
				{ID: "call_0", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris, France", "unit": "celsius"}`},
				{ID: "call_1", Type: "function", Name: "get_time", Arguments: ""},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_0", Content: `{"temperature": 15, "conditions": "light rain"}`},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: "14:05 CET"},
			{Role: llm.RoleUser, Content: "Summarise in one line."},
		},
	}
}

func TestEncodeRequestMatchesGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		req    *llm.ChatRequest
	}{
		{name: "simple", golden: "request_simple.json", req: simpleRequest()},
		{
			name:   "system instruction, merged turns and generation config",
			golden: "request_system_merge.json",
			req: &llm.ChatRequest{
				Model:            "gemini-2.5-flash",
				Stop:             []string{"END"},
				N:                ptr(2),
				MaxTokens:        ptr(800),
				TopP:             ptr(0.8),
				Seed:             ptr(int64(42)),
				PresencePenalty:  ptr(0.5),
				FrequencyPenalty: ptr(0.25),
				ResponseFormat: &llm.ResponseFormat{
					Type: "json_schema", SchemaName: "foods",
					Schema: json.RawMessage(`{"type":"object","properties":{"foods":{"type":"array","items":{"type":"string"}}},"required":["foods"],"additionalProperties":false}`),
				},
				Messages: []llm.Message{
					{Role: llm.RoleSystem, Content: "You are a cat."},
					{Role: llm.RoleUser, Content: "Hello there"},
					{Role: llm.RoleDeveloper, Content: "Your name is Neko."},
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Who are you?"}}},
					{Role: llm.RoleAssistant, Content: "Meow. I am Neko."},
					{Role: llm.RoleUser, Content: "List your three favourite foods as JSON."},
				},
			},
		},
		{name: "tool calls and results round trip", golden: "request_tools_roundtrip.json", req: toolsRoundTripRequest()},
		{
			name:   "inline and remote images",
			golden: "request_images.json",
			req: &llm.ChatRequest{
				Model: "gemini-2.5-flash",
				Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
					{Type: llm.PartText, Text: "Caption these images."},
					{Type: llm.PartImage, ImageURL: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},
					{Type: llm.PartImage, ImageURL: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg"},
				}}},
			},
		},
		{
			name:   "extra merged into generationConfig and added at top level",
			golden: "request_extra.json",
			req: &llm.ChatRequest{
				Model:       "gemini-2.5-flash",
				Temperature: ptr(1.0),
				Messages:    []llm.Message{{Role: llm.RoleUser, Content: "Think hard: 17 * 23?"}},
				Extra: map[string]json.RawMessage{
					"generationConfig": json.RawMessage(`{"thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}}`),
					"safetySettings":   json.RawMessage(`[{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_ONLY_HIGH"}]`),
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeRequest(tt.req)
			if err != nil {
				t.Fatal(err)
			}
			assertJSONEqual(t, got, readFixture(t, tt.golden))
		})
	}
}

func TestEncodeRequestToolChoiceAndFormats(t *testing.T) {
	tests := []struct {
		name string
		req  llm.ChatRequest
		key  string
		want string // JSON under key; "" for absent
	}{
		{name: "auto", req: llm.ChatRequest{ToolChoice: &llm.ToolChoice{Mode: "auto"}}, key: "toolConfig", want: `{"functionCallingConfig":{"mode":"AUTO"}}`},
		{name: "required", req: llm.ChatRequest{ToolChoice: &llm.ToolChoice{Mode: "required"}}, key: "toolConfig", want: `{"functionCallingConfig":{"mode":"ANY"}}`},
		{name: "none", req: llm.ChatRequest{ToolChoice: &llm.ToolChoice{Mode: "none"}}, key: "toolConfig", want: `{"functionCallingConfig":{"mode":"NONE"}}`},
		{name: "no choice", req: llm.ChatRequest{}, key: "toolConfig"},
		{name: "json_object", req: llm.ChatRequest{ResponseFormat: &llm.ResponseFormat{Type: "json_object"}}, key: "generationConfig", want: `{"responseMimeType":"application/json"}`},
		{name: "text format", req: llm.ChatRequest{ResponseFormat: &llm.ResponseFormat{Type: "text"}}, key: "generationConfig"},
		{name: "logprobs", req: llm.ChatRequest{Logprobs: ptr(true), TopLogprobs: ptr(3)}, key: "generationConfig", want: `{"responseLogprobs":true,"logprobs":3}`},
		{name: "top_k", req: llm.ChatRequest{TopK: ptr(40)}, key: "generationConfig", want: `{"topK":40}`},
		{name: "thinking budget", req: llm.ChatRequest{Thinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024}, ReasoningEffort: "low"},
			key: "generationConfig", want: `{"thinkingConfig":{"thinkingBudget":1024,"includeThoughts":true}}`},
		{name: "thinking disabled is budget 0", req: llm.ChatRequest{Thinking: &llm.Thinking{Type: llm.ThinkingDisabled}},
			key: "generationConfig", want: `{"thinkingConfig":{"thinkingBudget":0}}`},
		{name: "adaptive thinking is dynamic", req: llm.ChatRequest{Thinking: &llm.Thinking{Type: llm.ThinkingAdaptive}},
			key: "generationConfig", want: `{"thinkingConfig":{"thinkingBudget":-1,"includeThoughts":true}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			req.Model = "gemini-2.5-flash"
			req.Messages = []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
			body, err := encodeRequest(&req)
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]json.RawMessage
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if v, ok := got[tt.key]; ok {
					t.Fatalf("%s = %s, want absent", tt.key, v)
				}
				return
			}
			assertJSONEqual(t, got[tt.key], []byte(tt.want))
		})
	}
}

func TestEncodeToolResultShapes(t *testing.T) {
	tests := []struct {
		content string
		want    string
	}{
		{`{"ok":true}`, `{"ok":true}`},
		{`[1,2]`, `{"result":[1,2]}`},
		{`42`, `{"result":42}`},
		{`plain text`, `{"result":"plain text"}`},
		{``, `{"result":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.content, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c", Name: "f", Arguments: "{}"}}},
				{Role: llm.RoleTool, ToolCallID: "c", Content: tt.content},
			}}
			g, err := translateRequest(req)
			if err != nil {
				t.Fatal(err)
			}
			fr := g.Contents[1].Parts[0].FunctionResponse
			if fr == nil || fr.Name != "f" {
				t.Fatalf("function response %+v", fr)
			}
			assertJSONEqual(t, fr.Response, []byte(tt.want))
		})
	}
}

func TestEncodeRequestRejectsInvalid(t *testing.T) {
	user := []llm.Message{{Role: llm.RoleUser, Content: "hi"}}
	tests := []struct {
		name  string
		req   *llm.ChatRequest
		param string
	}{
		{"no messages", &llm.ChatRequest{Model: "m"}, "messages"},
		{"only system", &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleSystem, Content: "x"}}}, "messages"},
		{"n zero", &llm.ChatRequest{Model: "m", Messages: user, N: ptr(0)}, "n"},
		{"negative max tokens", &llm.ChatRequest{Model: "m", Messages: user, MaxTokens: ptr(-1)}, "max_tokens"},
		{"unknown role", &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: "robot", Content: "x"}}}, "messages"},
		{"tool result for unknown call", &llm.ChatRequest{Model: "m", Messages: []llm.Message{{Role: llm.RoleTool, ToolCallID: "nope", Content: "x"}}}, "messages"},
		{"arguments not an object", &llm.ChatRequest{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "a", Name: "f", Arguments: `"x"`}}},
		}}, "messages"},
		{"image not base64", &llm.ChatRequest{Model: "m", Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "data:image/png,raw"}}},
		}}, "messages"},
		{"bad schema", &llm.ChatRequest{Model: "m", Messages: user, ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`{`)}}, "response_format"},
		{"unknown format", &llm.ChatRequest{Model: "m", Messages: user, ResponseFormat: &llm.ResponseFormat{Type: "yaml"}}, "response_format"},
		{"unknown tool choice", &llm.ChatRequest{Model: "m", Messages: user, ToolChoice: &llm.ToolChoice{Mode: "sometimes"}}, "tool_choice"},
		{"bad extra", &llm.ChatRequest{Model: "m", Messages: user, Extra: map[string]json.RawMessage{"safetySettings": json.RawMessage(`[`)}}, "safetySettings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encodeRequest(tt.req)
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest {
				t.Fatalf("err = %v, want invalid request", err)
			}
			if de.Param != tt.param {
				t.Errorf("param = %q, want %q", de.Param, tt.param)
			}
		})
	}
}

func TestModelPath(t *testing.T) {
	tests := []struct {
		in, want string
		bad      bool
	}{
		{in: "gemini-2.5-flash", want: "models/gemini-2.5-flash"},
		{in: "models/gemini-2.5-flash", want: "models/gemini-2.5-flash"},
		{in: "tunedModels/my-model-123", want: "tunedModels/my-model-123"},
		{in: "", bad: true},
		{in: "../../v1/files", bad: true},
		{in: "gemini:generateContent?x=", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := modelPath(tt.in)
			if tt.bad != (err != nil) || got != tt.want {
				t.Errorf("modelPath(%q) = %q, %v", tt.in, got, err)
			}
		})
	}
}

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		fixture string
		want    *llm.ChatResponse
	}{
		{
			fixture: "response_text.json",
			want: &llm.ChatResponse{
				ID: "mAitaLmkHPPlz7IPvtfUqQ4", Created: fixedNow.Unix(), Model: "gemini-2.5-flash",
				Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "AI learns patterns from data to make predictions."}, FinishReason: llm.FinishStop}},
				Usage:   llm.Usage{PromptTokens: 8, CompletionTokens: 10, TotalTokens: 18},
			},
		},
		{
			fixture: "response_tool_use.json",
			want: &llm.ChatResponse{
				ID: "Qx8taNn2Fo2Wz7IP6bKhkA8", Created: fixedNow.Unix(), Model: "gemini-2.5-pro",
				Choices: []llm.Choice{{
					Message: llm.Message{
						Role:             llm.RoleAssistant,
						Content:          "Let me check both.",
						ReasoningContent: "The user wants weather and time; call both.",
						ToolCalls: []llm.ToolCall{
							{Index: 0, ID: "call_0", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France","unit":"celsius"}`,
								Signature: "gemini:CiIBVKhc7oDHm4fqxRwD3Qq6"},
							{Index: 1, ID: "call_1", Type: "function", Name: "get_time", Arguments: `{}`},
						},
					},
					FinishReason: llm.FinishToolCalls,
				}},
				Usage: llm.Usage{PromptTokens: 120, CompletionTokens: 90, TotalTokens: 210, CachedTokens: 64, ReasoningTokens: 50},
			},
		},
		{
			fixture: "response_safety_block.json",
			want: &llm.ChatResponse{
				ID: "b4ktaJ2xLrGiz7IP1Kmk2Q0", Created: fixedNow.Unix(), Model: "gemini-2.5-flash",
				Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: llm.FinishContentFilter}},
				Usage:   llm.Usage{PromptTokens: 9, TotalTokens: 9},
			},
		},
		{
			fixture: "response_candidate_safety.json",
			want: &llm.ChatResponse{
				ID: "c5ktaJ2xLrGiz7IP1Kmk2Q1", Created: fixedNow.Unix(), Model: "gemini-2.5-flash",
				Choices: []llm.Choice{
					{Index: 0, Message: llm.Message{Role: llm.RoleAssistant, Content: "I can"}, FinishReason: llm.FinishContentFilter},
					{Index: 1, Message: llm.Message{Role: llm.RoleAssistant}, FinishReason: llm.FinishLength},
				},
				Usage: llm.Usage{PromptTokens: 11, CompletionTokens: 2, TotalTokens: 13},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			var gr gResponse
			if err := json.Unmarshal(readFixture(t, tt.fixture), &gr); err != nil {
				t.Fatal(err)
			}
			got := decodeResponse(&gr, "gemini-x", fixedNow)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFinishReasonMapping(t *testing.T) {
	tests := []struct {
		in    string
		calls bool
		want  string
	}{
		{"STOP", false, "stop"}, {"STOP", true, "tool_calls"}, {"MAX_TOKENS", true, "length"},
		{"SAFETY", false, "content_filter"}, {"RECITATION", false, "content_filter"},
		{"BLOCKLIST", false, "content_filter"}, {"PROHIBITED_CONTENT", false, "content_filter"},
		{"SPII", false, "content_filter"}, {"OTHER", false, "stop"}, {"", true, ""},
	}
	for _, tt := range tests {
		if got := finishReason(tt.in, tt.calls); got != tt.want {
			t.Errorf("finishReason(%q, %v) = %q, want %q", tt.in, tt.calls, got, tt.want)
		}
	}
}

func collect(s llm.Stream) ([]llm.Chunk, error) {
	var out []llm.Chunk
	for {
		ch, err := s.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, ch)
	}
}

func fixtureStream(t testing.TB, name string) *stream {
	return newStream("gemini", io.NopCloser(bytes.NewReader(readFixture(t, name))), "models/gemini-x", fixedNow.Unix())
}

func TestStreamDecodesFixtures(t *testing.T) {
	mk := func(id, model string, d llm.Message, finish string) llm.Chunk {
		return llm.Chunk{ID: id, Created: fixedNow.Unix(), Model: model, Choices: []llm.ChunkChoice{{Delta: d, FinishReason: finish}}}
	}
	usage := func(id, model string, u llm.Usage) llm.Chunk {
		return llm.Chunk{ID: id, Created: fixedNow.Unix(), Model: model, Usage: &u}
	}
	call := func(idx int, id, name, args string) llm.ToolCall {
		return llm.ToolCall{Index: idx, ID: id, Type: "function", Name: name, Arguments: args}
	}
	signed := func(tc llm.ToolCall, sig string) llm.ToolCall { tc.Signature = sig; return tc }
	const textID, toolID, blockID = "mAitaLmkHPPlz7IPvtfUqQ4", "Qx8taNn2Fo2Wz7IP6bKhkA8", "b4ktaJ2xLrGiz7IP1Kmk2Q0"
	const flash, pro = "gemini-2.5-flash", "gemini-2.5-pro"
	tests := []struct {
		fixture string
		want    []llm.Chunk
	}{
		{
			fixture: "stream_text.sse",
			want: []llm.Chunk{
				mk(textID, flash, llm.Message{Role: llm.RoleAssistant, Content: "AI"}, ""),
				mk(textID, flash, llm.Message{Content: " learns patterns"}, ""),
				mk(textID, flash, llm.Message{Content: " from data."}, llm.FinishStop),
				usage(textID, flash, llm.Usage{PromptTokens: 8, CompletionTokens: 27, TotalTokens: 35, ReasoningTokens: 20}),
			},
		},
		{
			fixture: "stream_tool_calls.sse",
			want: []llm.Chunk{
				mk(toolID, pro, llm.Message{Role: llm.RoleAssistant, ReasoningContent: "Checking the weather first."}, ""),
				mk(toolID, pro, llm.Message{Content: "Let me check both.", ToolCalls: []llm.ToolCall{
					signed(call(0, "call_0", "get_weather", `{"location":"Paris, France","unit":"celsius"}`), "gemini:CiIBVKhc7oDHm4fqxRwD3Qq6"),
				}}, ""),
				mk(toolID, pro, llm.Message{ToolCalls: []llm.ToolCall{call(1, "call_1", "get_time", `{}`)}}, ""),
				mk(toolID, pro, llm.Message{}, llm.FinishToolCalls),
				usage(toolID, pro, llm.Usage{PromptTokens: 120, CompletionTokens: 70, TotalTokens: 190, CachedTokens: 64, ReasoningTokens: 30}),
			},
		},
		{
			fixture: "stream_blocked.sse",
			want: []llm.Chunk{
				mk(blockID, flash, llm.Message{Role: llm.RoleAssistant}, llm.FinishContentFilter),
				usage(blockID, flash, llm.Usage{PromptTokens: 9, TotalTokens: 9}),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s := fixtureStream(t, tt.fixture)
			got, err := collect(s)
			if !errors.Is(err, io.EOF) {
				t.Fatalf("stream ended with %v, want io.EOF", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d chunks, want %d:\n%+v", len(got), len(tt.want), got)
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tt.want[i]) {
					t.Errorf("chunk %d:\n got %+v\nwant %+v", i, got[i], tt.want[i])
				}
			}
			if _, err := s.Recv(); !errors.Is(err, io.EOF) {
				t.Errorf("Recv after end = %v, want io.EOF again", err)
			}
		})
	}
}

func TestStreamFailures(t *testing.T) {
	tests := []struct {
		fixture    string
		wantChunks int
		status     int
		unexpected bool
	}{
		{fixture: "stream_error.sse", wantChunks: 1, status: 503},
		{fixture: "stream_truncated.sse", wantChunks: 2, status: 0, unexpected: true},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s := fixtureStream(t, tt.fixture)
			got, err := collect(s)
			if len(got) != tt.wantChunks {
				t.Errorf("got %d chunks before the error, want %d", len(got), tt.wantChunks)
			}
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) {
				t.Fatalf("err = %v, want *llm.UpstreamError", err)
			}
			if ue.Status != tt.status || !ue.Retryable() {
				t.Errorf("status %d retryable %v", ue.Status, ue.Retryable())
			}
			if tt.unexpected != errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("errors.Is(err, io.ErrUnexpectedEOF) = %v", !tt.unexpected)
			}
			if _, again := s.Recv(); again != err {
				t.Errorf("error not sticky: %v then %v", err, again)
			}
		})
	}
}
