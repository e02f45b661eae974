package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// toolTurnRequest is a Chat Completions client's second turn of a forced
// tool call, with reasoning on, structured output and a PDF.
func toolTurnRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: "gpt-5-codex",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are a weather bot."},
			{Role: llm.RoleDeveloper, Content: "Answer in one line."},
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "What's the weather in Paris? The forecast is attached."},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0xLjQK", MIMEType: "application/pdf", Filename: "forecast.pdf"}},
				{Type: llm.PartImage, ImageURL: "https://example.com/sky.jpg"},
			}},
			{Role: llm.RoleAssistant, Content: "Checking.", ReasoningContent: "not sent back", ToolCalls: []llm.ToolCall{
				{ID: "call_Q1w2E3r4T5y6U7i8O9p0AsDf", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France"}`, Signature: "gemini:c2ln"},
			}},
			{Role: llm.RoleTool, ToolCallID: "call_Q1w2E3r4T5y6U7i8O9p0AsDf", Content: `{"temperature_c":14}`},
		},
		Tools: []llm.Tool{{Name: "get_weather", Description: "Get current temperature for a given location.",
			Parameters: weatherParams(), Strict: ptr(true)}},
		ToolChoice:        &llm.ToolChoice{Function: "get_weather"},
		ParallelToolCalls: ptr(false),
		ResponseFormat: &llm.ResponseFormat{Type: "json_schema", SchemaName: "weather", Strict: ptr(true),
			Schema: json.RawMessage(`{"type":"object","properties":{"summary":{"type":"string"}},"required":["summary"],"additionalProperties":false}`)},
		ReasoningEffort: "high",
		Thinking:        &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 4096},
		MaxTokens:       ptr(2048),
		Metadata:        map[string]string{"trace": "t-1"},
		User:            "user-1234",
		OpenAIFields: map[string]json.RawMessage{"verbosity": json.RawMessage(`"low"`), "service_tier": json.RawMessage(`"flex"`),
			"prompt_cache_key": json.RawMessage(`"weather-v1"`), "stream": json.RawMessage(`false`), "store": json.RawMessage(`true`)},
		Extra: map[string]json.RawMessage{"model": json.RawMessage(`"hijack"`), "truncation": json.RawMessage(`"auto"`)},
	}
}

func TestEncodeResponsesGolden(t *testing.T) {
	for _, tc := range []struct {
		name, golden string
		req          *llm.ChatRequest
		stream       bool
	}{
		{"simple text", "responses/request_simple.json", simpleRequest(), false},
		{"tool turn with reasoning, schema and a file, streamed", "responses/request_tool_turn.json", toolTurnRequest(), true},
		{"logprobs and audio", "responses/request_logprobs_audio.json", &llm.ChatRequest{Model: "gpt-5.4",
			Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklGRiQAAABXQVZF", Format: "wav"}},
				{Type: llm.PartFile, File: &llm.FilePart{URL: "https://example.com/a.pdf"}}}}},
			Logprobs: ptr(true), TopLogprobs: ptr(2), ResponseFormat: &llm.ResponseFormat{Type: "json_object"}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := encodeResponses(tc.req, tc.stream)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.golden, got)
		})
	}
}

func TestEncodeResponsesRefusesWhatItCannotCarry(t *testing.T) {
	for _, tc := range []struct {
		param  string
		mutate func(*llm.ChatRequest)
	}{
		{"n", func(r *llm.ChatRequest) { r.N = ptr(2) }},
		{"stop", func(r *llm.ChatRequest) { r.Stop = []string{"END"} }},
		{"seed", func(r *llm.ChatRequest) { r.Seed = ptr[int64](1) }},
		{"presence_penalty", func(r *llm.ChatRequest) { r.PresencePenalty = ptr(0.1) }},
		{"frequency_penalty", func(r *llm.ChatRequest) { r.FrequencyPenalty = ptr(0.1) }},
		{"logit_bias", func(r *llm.ChatRequest) { r.LogitBias = map[string]float64{"1": 1} }},
		{"prediction", func(r *llm.ChatRequest) {
			r.OpenAIFields = map[string]json.RawMessage{"prediction": json.RawMessage(`{"type":"content","content":"x"}`)}
		}},
		{"messages[1].tool_call_id", func(r *llm.ChatRequest) { r.Messages[1] = llm.Message{Role: llm.RoleTool, Content: "x"} }},
		{"messages", func(r *llm.ChatRequest) { r.Messages = r.Messages[:1] }},
		{"messages[1].content[0].file.file_data", func(r *llm.ChatRequest) {
			r.Messages[1].Parts = []llm.Part{{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBE"}}}
		}},
	} {
		t.Run(tc.param, func(t *testing.T) {
			req := simpleRequest()
			tc.mutate(req)
			_, err := encodeResponses(req, false)
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != llm.KindInvalidRequest || le.Param != tc.param {
				t.Fatalf("err = %v, want a 400 naming %s", err, tc.param)
			}
		})
	}
	if _, err := encodeResponses(simpleRequest(), false); err != nil {
		t.Fatalf("n unset, no stop: %v", err)
	}
}

func TestAPIChooser(t *testing.T) {
	tools := []llm.Tool{{Name: "f"}}
	for _, tc := range []struct {
		name     string
		api      string
		perModel map[string]string
		req      llm.ChatRequest
		want     bool
	}{
		{name: "plain model stays on chat", req: llm.ChatRequest{Model: "gpt-4o-mini", Tools: tools, ReasoningEffort: "high"}},
		{name: "pro model is responses-only", req: llm.ChatRequest{Model: "o3-pro-2025-06-10"}, want: true},
		{name: "gpt-5.x pro", req: llm.ChatRequest{Model: "gpt-5.2-pro"}, want: true},
		{name: "codex anywhere in the name", req: llm.ChatRequest{Model: "codex-mini-latest"}, want: true},
		{name: "case does not matter", req: llm.ChatRequest{Model: "GPT-5-Codex"}, want: true},
		{name: "gpt-5.4 with tools and reasoning", req: llm.ChatRequest{Model: "gpt-5.4", Tools: tools, ReasoningEffort: "medium"}, want: true},
		{name: "gpt-5.4 with tools and the default effort", req: llm.ChatRequest{Model: "gpt-5.4-mini", Tools: tools}, want: true},
		{name: "gpt-5.4 with tools and effort none", req: llm.ChatRequest{Model: "gpt-5.4", Tools: tools, ReasoningEffort: "none"}},
		{name: "gpt-5.4 with tools and thinking off", req: llm.ChatRequest{Model: "gpt-5.4", Tools: tools, Thinking: &llm.Thinking{Type: llm.ThinkingDisabled}}},
		{name: "gpt-5.4 without tools", req: llm.ChatRequest{Model: "gpt-5.4", ReasoningEffort: "high"}},
		{name: "gpt-5.1 is not in the list", req: llm.ChatRequest{Model: "gpt-5.1", Tools: tools, ReasoningEffort: "high"}},
		{name: "provider-wide responses", api: APIResponses, req: llm.ChatRequest{Model: "gpt-4o"}, want: true},
		{name: "provider-wide chat beats the list", api: APIChat, req: llm.ChatRequest{Model: "o3-pro"}},
		{name: "exact model rule", perModel: map[string]string{"o3-pro": "chat"}, req: llm.ChatRequest{Model: "o3-pro"}},
		{name: "model rule beats provider-wide", api: APIChat, perModel: map[string]string{"gpt-4o*": "responses"}, req: llm.ChatRequest{Model: "gpt-4o-mini"}, want: true},
		{name: "longest pattern wins", perModel: map[string]string{"gpt-*": "responses", "gpt-4o-*": "chat"}, req: llm.ChatRequest{Model: "gpt-4o-mini"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := newAPIChooser("openai", tc.api, tc.perModel, DefaultModelAPIs())
			if err != nil {
				t.Fatal(err)
			}
			if got := a.responses(&tc.req); got != tc.want {
				t.Fatalf("responses(%s) = %v, want %v", tc.req.Model, got, tc.want)
			}
		})
	}
	for _, bad := range []struct {
		api      string
		perModel map[string]string
	}{{"graphql", nil}, {"", map[string]string{"m": "rest"}}, {"", map[string]string{"[": "chat"}}} {
		if _, err := newAPIChooser("openai", bad.api, bad.perModel, nil); err == nil {
			t.Errorf("newAPIChooser(%q, %v) accepted", bad.api, bad.perModel)
		}
	}
	if _, err := New(Options{BaseURL: "http://127.0.0.1:1/v1", API: APIResponses}); err == nil {
		t.Error("api responses accepted on an upstream without the Responses API")
	}
}

// TestClientRoutesByModel: the same client sends a Responses-only model to
// /responses (translated) and others to /chat/completions, unary and
// streamed, and reads both answers back into the domain.
func TestClientRoutesByModel(t *testing.T) {
	var paths []string
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		paths, bodies = append(paths, r.URL.Path), append(bodies, b)
		stream := strings.Contains(string(b), `"stream":true`)
		switch {
		case r.URL.Path == "/v1/responses" && stream:
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(readFixture(t, "responses/stream_function_call.sse"))
		case r.URL.Path == "/v1/responses":
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(readFixture(t, "responses/response_function_call.json"))
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(readFixture(t, "response_unary.json"))
		}
	}))
	t.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL + "/v1", APIKey: "k", ResponsesAPI: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	resp, err := c.Chat(ctx, toolTurnRequest())
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Choice{FinishReason: llm.FinishToolCalls, Message: llm.Message{Role: llm.RoleAssistant,
		ReasoningContent: "**Calling the weather tool**",
		ToolCalls:        []llm.ToolCall{{ID: "call_Q1w2E3r4T5y6U7i8O9p0AsDf", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France"}`}}}}
	if !reflect.DeepEqual(resp.Choices[0], want) || resp.Usage != (llm.Usage{PromptTokens: 1078, CompletionTokens: 85, TotalTokens: 1163, CachedTokens: 1024, ReasoningTokens: 64}) ||
		resp.ID != "resp_68b1c2f0e9a48190a1b2c3d4e5f60789" || resp.Model != "gpt-5-codex" {
		t.Fatalf("unary\n%+v\n%+v", resp.Choices[0], resp.Usage)
	}
	s, err := c.ChatStream(ctx, toolTurnRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := collect(t, s)
	if err != io.EOF || len(chunks) != 4 || chunks[3].Usage == nil || chunks[3].Usage.ReasoningTokens != 64 {
		t.Fatalf("stream: %v %+v", err, chunks)
	}
	if _, err := c.Chat(ctx, simpleRequest()); err != nil {
		t.Fatal(err)
	}
	if want := []string{"/v1/responses", "/v1/responses", "/v1/chat/completions"}; !reflect.DeepEqual(paths, want) {
		t.Fatalf("paths %v, want %v", paths, want)
	}
	if !strings.Contains(string(bodies[0]), `"input":[`) || strings.Contains(string(bodies[0]), `"stream"`) ||
		!strings.Contains(string(bodies[1]), `"stream":true`) || !strings.Contains(string(bodies[2]), `"messages":[`) {
		t.Fatalf("bodies:\n%s\n%s\n%s", bodies[0], bodies[1], bodies[2])
	}
}

// TestResponsesStreamFixtures decodes recorded event streams: reasoning
// summary parts (separated), text deltas, a function call's id and name
// then its argument fragments, and usage with reasoning and cached tokens
// on the terminal chunk; every chunk carries the response's id and model.
func TestResponsesStreamFixtures(t *testing.T) {
	const rid, cid = "resp_68b1c0e2a4f08190b5e7c1d2f3a4b5c6", "call_Q1w2E3r4T5y6U7i8O9p0AsDf"
	text := func(m llm.Message) llm.Chunk {
		return llm.Chunk{ID: rid, Created: 1756479714, Model: "o3-pro-2025-06-10", Choices: []llm.ChunkChoice{{Delta: m}}}
	}
	const fid = "resp_68b1c2f0e9a48190a1b2c3d4e5f60789"
	call := func(tc llm.ToolCall) llm.Chunk {
		return llm.Chunk{ID: fid, Created: 1756480240, Model: "gpt-5-codex", Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{tc}}}}}
	}
	for _, tc := range []struct {
		fixture string
		want    []llm.Chunk
	}{
		{"responses/stream_reasoning_text.sse", []llm.Chunk{
			text(llm.Message{ReasoningContent: "**Adding numbers**"}),
			text(llm.Message{ReasoningContent: "\n\n"}),
			text(llm.Message{ReasoningContent: "Two plus two is four."}),
			text(llm.Message{Content: "2 + 2"}),
			text(llm.Message{Content: " = 4."}),
			{ID: rid, Created: 1756479714, Model: "o3-pro-2025-06-10", Choices: []llm.ChunkChoice{{FinishReason: llm.FinishStop}},
				Usage: &llm.Usage{PromptTokens: 1536, CompletionTokens: 212, TotalTokens: 1748, CachedTokens: 1280, ReasoningTokens: 192}},
		}},
		{"responses/stream_function_call.sse", []llm.Chunk{
			call(llm.ToolCall{ID: cid, Type: "function", Name: "get_weather"}),
			call(llm.ToolCall{Arguments: `{"location":`}),
			call(llm.ToolCall{Arguments: `"Paris, France"}`}),
			{ID: fid, Created: 1756480240, Model: "gpt-5-codex", Choices: []llm.ChunkChoice{{FinishReason: llm.FinishToolCalls}},
				Usage: &llm.Usage{PromptTokens: 78, CompletionTokens: 85, TotalTokens: 163, ReasoningTokens: 64}},
		}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			s := &responsesStream{provider: "openai", body: io.NopCloser(strings.NewReader(string(readFixture(t, tc.fixture)))), calls: map[string]int{}}
			s.sse.Init(s.body, sseBufferSize)
			got, err := collect(t, s)
			if err != io.EOF {
				t.Fatalf("end = %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("chunks\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestResponsesLogprobs(t *testing.T) {
	var o wireResponseObject
	if err := json.Unmarshal([]byte(`{"status":"completed","output":[{"type":"message","content":[{"type":"output_text","text":"Hi",
		"logprobs":[{"token":"Hi","logprob":-0.01,"bytes":[72,105],"top_logprobs":[{"token":"Hello","logprob":-4.6,"bytes":[72,101,108,108,111]}]}]}]}]}`), &o); err != nil {
		t.Fatal(err)
	}
	want := &llm.Logprobs{Content: []llm.TokenLogprob{{Token: "Hi", Logprob: -0.01, Bytes: []int{72, 105},
		TopLogprobs: []llm.TopLogprob{{Token: "Hello", Logprob: -4.6, Bytes: []int{72, 101, 108, 108, 111}}}}}}
	if got := o.toLLM().Choices[0].Logprobs; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v", got)
	}
	s := &responsesStream{provider: "openai", calls: map[string]int{}, body: io.NopCloser(strings.NewReader(
		"data: {\"type\":\"response.output_text.delta\",\"delta\":\"Hi\",\"logprobs\":[{\"token\":\"Hi\",\"logprob\":-0.01,\"bytes\":[72,105],\"top_logprobs\":[]}]}\n\n"))}
	s.sse.Init(s.body, sseBufferSize)
	c, err := s.Recv()
	if err != nil || c.Choices[0].Logprobs == nil || c.Choices[0].Logprobs.Content[0].Token != "Hi" {
		t.Fatalf("%+v %v", c, err)
	}
}
