package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// provider mirrors route.Provider (and its optional interfaces), which
// adapters may not import; the assertions keep the two in step.
type provider interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
}

type modelLister interface {
	ListModels(ctx context.Context) ([]llm.Model, error)
}

var (
	_ provider    = (*Client)(nil)
	_ modelLister = (*Client)(nil)
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

// assertJSONEqual compares two documents semantically: key order and
// whitespace do not matter, values and types do.
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

const model = "claude-sonnet-4-5-20250929"

func toolsRoundTripRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model:     model,
		MaxTokens: ptr(1024),
		Tools: []llm.Tool{
			{
				Type:        "function",
				Name:        "get_weather",
				Description: "Get the current weather in a given location",
				Parameters:  json.RawMessage(`{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"]}`),
			},
			{Type: "function", Name: "get_time"},
		},
		ToolChoice:        &llm.ToolChoice{Mode: "required"},
		ParallelToolCalls: ptr(false),
		Messages: []llm.Message{
			{Role: llm.RoleUser, Content: "What is the weather and time in Paris?"},
			{Role: llm.RoleAssistant, Content: "Let me check both.", ToolCalls: []llm.ToolCall{
				{ID: "toolu_01A09q90qw90lq917835lq9", Type: "function", Name: "get_weather", Arguments: `{"location": "Paris, France", "unit": "celsius"}`},
				{ID: "toolu_01B12x34yz56ab78cd90ef12", Type: "function", Name: "get_time", Arguments: ""},
			}},
			{Role: llm.RoleTool, ToolCallID: "toolu_01A09q90qw90lq917835lq9", Content: "15 degrees, light rain"},
			{Role: llm.RoleTool, ToolCallID: "toolu_01B12x34yz56ab78cd90ef12", Content: "14:05 CET"},
			{Role: llm.RoleUser, Content: "Summarise in one line."},
		},
	}
}

func TestEncodeRequestMatchesGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		stream bool
		req    *llm.ChatRequest
	}{
		{
			name:   "simple user message gets default max_tokens",
			golden: "request_simple.json",
			req: &llm.ChatRequest{
				Model:       model,
				Temperature: ptr(0.7),
				Messages:    []llm.Message{{Role: llm.RoleUser, Content: "Hello, Claude"}},
			},
		},
		{
			name:   "system and developer hoisted, consecutive user turns merged",
			golden: "request_system_merge.json",
			req: &llm.ChatRequest{
				Model:     model,
				MaxTokens: ptr(256),
				TopP:      ptr(0.9),
				Stop:      []string{"\n\nHuman:", "END"},
				User:      "user-42",
				Messages: []llm.Message{
					{Role: llm.RoleSystem, Content: "You are terse."},
					{Role: llm.RoleUser, Content: "First question."},
					{Role: llm.RoleDeveloper, Parts: []llm.Part{{Type: llm.PartText, Text: "Answer in French."}}},
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Second question."}}},
					{Role: llm.RoleAssistant, Content: "Réponse."},
					{Role: llm.RoleUser, Content: "Merci"},
				},
			},
		},
		{
			name:   "tool calls and results round trip",
			golden: "request_tools_roundtrip.json",
			stream: true,
			req:    toolsRoundTripRequest(),
		},
		{
			name:   "data and https images",
			golden: "request_images.json",
			req: &llm.ChatRequest{
				Model: model,
				Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
					{Type: llm.PartText, Text: "What is in these images?"},
					{Type: llm.PartImage, ImageURL: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},
					{Type: llm.PartImage, ImageURL: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg", ImageDetail: "high"},
				}}},
			},
		},
		{
			name:   "extra fields merged raw and override",
			golden: "request_extra.json",
			req: &llm.ChatRequest{
				Model:     model,
				MaxTokens: ptr(1000),
				Messages:  []llm.Message{{Role: llm.RoleUser, Content: "Prove that there are infinitely many primes."}},
				Extra: map[string]json.RawMessage{
					"thinking":   json.RawMessage(`{"type": "enabled", "budget_tokens": 10000}`),
					"top_k":      json.RawMessage(`5`),
					"max_tokens": json.RawMessage(`16000`),
					"stream":     json.RawMessage(`true`),
				},
			},
		},
		{
			// top_k is not sent: the API refuses it with thinking.
			name:   "thinking drops top_k, and signed and redacted thinking handed back",
			golden: "request_thinking.json",
			req: &llm.ChatRequest{
				Model:     model,
				MaxTokens: ptr(2048),
				TopK:      ptr(40),
				Thinking:  &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024},
				// Effort is for effort-only targets; this one takes the budget.
				ReasoningEffort: "low",
				Tools:           []llm.Tool{{Type: "function", Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}},
				Messages: []llm.Message{
					{Role: llm.RoleUser, Content: "Weather in Paris?"},
					{Role: llm.RoleAssistant, ReasoningContent: "The user wants the weather; call the tool.",
						ReasoningSignature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
						RedactedReasoning:  []string{"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj"},
						ToolCalls:          []llm.ToolCall{{ID: "toolu_01A09q90qw90lq917835lq9", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
					{Role: llm.RoleTool, ToolCallID: "toolu_01A09q90qw90lq917835lq9", Content: "18C, sunny"},
					// Unsigned reasoning (another provider's) is not sent back.
					{Role: llm.RoleAssistant, Content: "It is 18C.", ReasoningContent: "unsigned"},
					{Role: llm.RoleUser, Content: "Thanks"},
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeRequest(tt.req, tt.stream)
			if err != nil {
				t.Fatal(err)
			}
			assertJSONEqual(t, got, readFixture(t, tt.golden))
		})
	}
}

func TestEncodeRequestToolChoice(t *testing.T) {
	tools := []llm.Tool{{Name: "f"}}
	tests := []struct {
		name     string
		choice   *llm.ToolChoice
		parallel *bool
		tools    []llm.Tool
		want     string // JSON of tool_choice; "" when absent
	}{
		{name: "absent", tools: tools},
		{name: "auto", choice: &llm.ToolChoice{Mode: "auto"}, tools: tools, want: `{"type":"auto"}`},
		{name: "required is any", choice: &llm.ToolChoice{Mode: "required"}, tools: tools, want: `{"type":"any"}`},
		{name: "none", choice: &llm.ToolChoice{Mode: "none"}, parallel: ptr(false), tools: tools, want: `{"type":"none"}`},
		{name: "named", choice: &llm.ToolChoice{Function: "f"}, tools: tools, want: `{"type":"tool","name":"f"}`},
		{name: "parallel off alone", parallel: ptr(false), tools: tools, want: `{"type":"auto","disable_parallel_tool_use":true}`},
		{name: "parallel off without tools", parallel: ptr(false)},
		{name: "parallel on", choice: &llm.ToolChoice{Mode: "auto"}, parallel: ptr(true), tools: tools, want: `{"type":"auto"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.ChatRequest{
				Model: model, Tools: tt.tools, ToolChoice: tt.choice, ParallelToolCalls: tt.parallel,
				Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}},
			}
			body, err := encodeRequest(req, false)
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				ToolChoice json.RawMessage `json:"tool_choice"`
			}
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if tt.want == "" {
				if got.ToolChoice != nil {
					t.Fatalf("tool_choice = %s, want absent", got.ToolChoice)
				}
				return
			}
			assertJSONEqual(t, got.ToolChoice, []byte(tt.want))
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
		{"no model", &llm.ChatRequest{Messages: user}, "model"},
		{"no messages", &llm.ChatRequest{Model: model}, "messages"},
		{"only system", &llm.ChatRequest{Model: model, Messages: []llm.Message{{Role: llm.RoleSystem, Content: "x"}}}, "messages"},
		{"n above one", &llm.ChatRequest{Model: model, Messages: user, N: ptr(2)}, "n"},
		{"zero max tokens", &llm.ChatRequest{Model: model, Messages: user, MaxTokens: ptr(0)}, "max_tokens"},
		{"unknown role", &llm.ChatRequest{Model: model, Messages: []llm.Message{{Role: "robot", Content: "x"}}}, "messages"},
		{"tool message without id", &llm.ChatRequest{Model: model, Messages: []llm.Message{{Role: llm.RoleTool, Content: "x"}}}, "messages"},
		{"arguments not an object", &llm.ChatRequest{Model: model, Messages: []llm.Message{
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "a", Name: "f", Arguments: `[1]`}}},
		}}, "messages"},
		{"image not base64", &llm.ChatRequest{Model: model, Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "data:image/png,raw"}}},
		}}, "messages[0].content[0].image_url"},
		{"image file url", &llm.ChatRequest{Model: model, Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "file:///etc/passwd"}}},
		}}, "messages[0].content[0].image_url"},
		{"bad tool schema", &llm.ChatRequest{Model: model, Messages: user, Tools: []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{`)}}}, "tools"},
		{"bad extra", &llm.ChatRequest{Model: model, Messages: user, Extra: map[string]json.RawMessage{"top_k": json.RawMessage(`nope`)}}, "top_k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := encodeRequest(tt.req, false)
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

func TestDecodeResponse(t *testing.T) {
	tests := []struct {
		fixture string
		want    *llm.ChatResponse
	}{
		{
			fixture: "response_text.json",
			want: &llm.ChatResponse{
				ID: "msg_01XFDUDYJgAACzvnptvVoYEL", Created: fixedNow.Unix(), Model: model,
				Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "Hello! How can I help you today?"}, FinishReason: llm.FinishStop}},
				Usage:   llm.Usage{PromptTokens: 12, CompletionTokens: 10, TotalTokens: 22},
			},
		},
		{
			fixture: "response_tool_use.json",
			want: &llm.ChatResponse{
				ID: "msg_01Aq9w938a90dw8q", Created: fixedNow.Unix(), Model: model,
				Choices: []llm.Choice{{
					Message: llm.Message{
						Role:               llm.RoleAssistant,
						Content:            "Let me check both.",
						ReasoningContent:   "The user wants weather and time; call both tools.",
						ReasoningSignature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds",
						ToolCalls: []llm.ToolCall{
							{Index: 0, ID: "toolu_01A09q90qw90lq917835lq9", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France","unit":"celsius"}`},
							{Index: 1, ID: "toolu_01B12x34yz56ab78cd90ef12", Type: "function", Name: "get_time", Arguments: `{}`},
						},
					},
					FinishReason: llm.FinishToolCalls,
				}},
				Usage: llm.Usage{PromptTokens: 472, CompletionTokens: 91, TotalTokens: 563},
			},
		},
		{
			fixture: "response_redacted_thinking.json",
			want: &llm.ChatResponse{
				ID: "msg_01Redacted00000000000000", Created: fixedNow.Unix(), Model: model,
				Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "Here is the answer.",
					ReasoningContent: "Some of this reasoning was flagged.", ReasoningSignature: "EuYBCkQYAiJA0dBGDnmkyK3bH7VGw",
					RedactedReasoning: []string{"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj"}},
					FinishReason: llm.FinishStop}},
				Usage: llm.Usage{PromptTokens: 30, CompletionTokens: 120, TotalTokens: 150},
			},
		},
		{
			fixture: "response_cache_usage.json",
			want: &llm.ChatResponse{
				ID: "msg_01CacheHit0000000000000", Created: fixedNow.Unix(), Model: model,
				Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "The contract's termination clause"}, FinishReason: llm.FinishLength}},
				Usage: llm.Usage{
					PromptTokens: 21 + 1800 + 188086, CompletionTokens: 5, TotalTokens: 21 + 1800 + 188086 + 5,
					CachedTokens: 188086, CacheCreationTokens: 1800,
				},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			var wr wireResponse
			if err := json.Unmarshal(readFixture(t, tt.fixture), &wr); err != nil {
				t.Fatal(err)
			}
			got := decodeResponse(&wr, fixedNow, "")
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestFinishReasonMapping(t *testing.T) {
	for in, want := range map[string]string{
		"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length",
		"tool_use": "tool_calls", "refusal": "content_filter", "pause_turn": "stop", "": "",
	} {
		if got := finishReason(in); got != want {
			t.Errorf("finishReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func testClient(t testing.TB, base string) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: base, APIKey: "sk-ant-test"})
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return fixedNow }
	return c
}

// collect reads a stream to its end and returns the chunks and the final
// error (io.EOF for a clean end).
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
	c := testClient(t, "http://127.0.0.1")
	return newStream(c, io.NopCloser(bytes.NewReader(readFixture(t, name))), fixedNow.Unix())
}

func TestStreamDecodesFixtures(t *testing.T) {
	const toolID1, toolID2 = "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "toolu_01B12x34yz56ab78cd90ef12"
	textID, toolMsg := "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", "msg_014p7gG3wDgGV9EUtLvnow3U"
	const redactedMsg = "msg_01Redacted00000000000000"
	mk := func(id string, d llm.Message, finish string) llm.Chunk {
		return llm.Chunk{ID: id, Created: fixedNow.Unix(), Model: model, Choices: []llm.ChunkChoice{{Delta: d, FinishReason: finish}}}
	}
	usage := func(id string, u llm.Usage) llm.Chunk {
		return llm.Chunk{ID: id, Created: fixedNow.Unix(), Model: model, Usage: &u}
	}
	tc := func(idx int, id, name, args string) llm.Message {
		c := llm.ToolCall{Index: idx, ID: id, Name: name, Arguments: args}
		if id != "" {
			c.Type = "function"
		}
		return llm.Message{ToolCalls: []llm.ToolCall{c}}
	}
	tests := []struct {
		fixture string
		want    []llm.Chunk
	}{
		{
			fixture: "stream_text.sse",
			want: []llm.Chunk{
				mk(textID, llm.Message{Role: llm.RoleAssistant}, ""),
				mk(textID, llm.Message{Content: "Hello"}, ""),
				mk(textID, llm.Message{Content: "!"}, ""),
				mk(textID, llm.Message{}, llm.FinishStop),
				usage(textID, llm.Usage{PromptTokens: 25, CompletionTokens: 15, TotalTokens: 40}),
			},
		},
		{
			fixture: "stream_tool_use.sse",
			want: []llm.Chunk{
				mk(toolMsg, llm.Message{Role: llm.RoleAssistant}, ""),
				mk(toolMsg, llm.Message{ReasoningContent: "Need weather and time."}, ""),
				mk(toolMsg, llm.Message{ReasoningSignature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}, ""),
				mk(toolMsg, llm.Message{Content: "Let me check both."}, ""),
				mk(toolMsg, tc(0, toolID1, "get_weather", ""), ""),
				mk(toolMsg, tc(0, "", "", `{"location":`), ""),
				mk(toolMsg, tc(0, "", "", ` "Paris, France"`), ""),
				mk(toolMsg, tc(0, "", "", `, "unit": "celsius"}`), ""),
				mk(toolMsg, tc(1, toolID2, "get_time", ""), ""),
				mk(toolMsg, tc(1, "", "", `{}`), ""),
				mk(toolMsg, llm.Message{}, llm.FinishToolCalls),
				usage(toolMsg, llm.Usage{PromptTokens: 2572, CompletionTokens: 89, TotalTokens: 2661, CachedTokens: 2000, CacheCreationTokens: 100}),
			},
		},
		{
			fixture: "stream_redacted_thinking.sse",
			want: []llm.Chunk{
				mk(redactedMsg, llm.Message{Role: llm.RoleAssistant}, ""),
				mk(redactedMsg, llm.Message{ReasoningContent: "Some of this reasoning was flagged."}, ""),
				mk(redactedMsg, llm.Message{ReasoningSignature: "EuYBCkQYAiJA0dBGDnmkyK3bH7VGw"}, ""),
				mk(redactedMsg, llm.Message{RedactedReasoning: []string{"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj"}}, ""),
				mk(redactedMsg, llm.Message{Content: "Here is the answer."}, ""),
				mk(redactedMsg, llm.Message{}, llm.FinishStop),
				usage(redactedMsg, llm.Usage{PromptTokens: 30, CompletionTokens: 120, TotalTokens: 150}),
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
		typ        string
		unexpected bool
	}{
		{fixture: "stream_error.sse", wantChunks: 1, status: 529, typ: "overloaded_error"},
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
			if ue.Status != tt.status || ue.Type != tt.typ || !ue.Retryable() {
				t.Errorf("got status %d type %q retryable %v", ue.Status, ue.Type, ue.Retryable())
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

func TestRecvAfterCloseFails(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		full := string(readFixture(t, "stream_text.sse"))
		_, _ = io.WriteString(w, full[:strings.Index(full, "event: content_block_start")])
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := testClient(t, srv.URL)
	s, err := c.ChatStream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Recv(); err != nil { // the pending role chunk
		t.Fatal(err)
	}
	_ = s.Close()
	if _, err := s.Recv(); !errors.Is(err, errStreamClosed) {
		t.Fatalf("Recv after Close = %v, want stream closed", err)
	}
}
