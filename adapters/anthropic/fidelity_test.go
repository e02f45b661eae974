package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

var update = flag.Bool("update", false, "rewrite the golden request bodies of the fidelity tests")

var weatherSchema = json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"],"additionalProperties":false}`)

// TestEncodeFidelity records the upstream body of each translation the
// gateway makes for fields other dialects send: structured output (native,
// beta and by a forced tool), reasoning effort as thinking, file parts as
// documents and prompt-cache hints as cache_control.
func TestEncodeFidelity(t *testing.T) {
	user := llm.Message{Role: llm.RoleUser, Content: "Weather in Paris as JSON"}
	schemaFormat := &llm.ResponseFormat{Type: "json_schema", SchemaName: "weather", Schema: weatherSchema}
	getTime := llm.Tool{Type: "function", Name: "get_time", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}
	pdf := "JVBERi0xLjQKJcOkw7zDtsOfCjIgMCBvYmoKPDwvTGVuZ3RoIDMgMCBSPj4Kc3RyZWFtCg=="
	tests := []struct {
		name   string
		golden string
		opts   Options
		req    *llm.ChatRequest
		plan   plan
	}{
		{
			name: "json_schema natively for a configured model", golden: "request_structured_native.json",
			opts: Options{NativeStructuredOutput: []string{"claude-sonnet-4-5*"}},
			req:  &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Messages: []llm.Message{user}, ResponseFormat: schemaFormat},
		},
		{
			name: "json_schema natively, beta form", golden: "request_structured_native_beta.json",
			opts: Options{NativeStructuredOutput: []string{model}, StructuredOutputBeta: true},
			req:  &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Messages: []llm.Message{user}, ResponseFormat: schemaFormat},
			plan: plan{betas: []string{BetaStructuredOutputs}},
		},
		{
			name: "json_schema by a forced tool", golden: "request_structured_tool.json",
			req:  &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Messages: []llm.Message{user}, ResponseFormat: schemaFormat},
			plan: plan{jsonTool: "weather"},
		},
		{
			name: "json_schema with the client's tools: some tool must be called", golden: "request_structured_tool_with_tools.json",
			req: &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Messages: []llm.Message{user}, ResponseFormat: schemaFormat,
				Tools: []llm.Tool{getTime, {Type: "function", Name: "weather", Parameters: weatherSchema}}},
			plan: plan{jsonTool: "weather_out"},
		},
		{
			name: "json_object by a forced tool taking any object", golden: "request_json_object.json",
			req:  &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Messages: []llm.Message{user}, ResponseFormat: &llm.ResponseFormat{Type: "json_object"}},
			plan: plan{jsonTool: DefaultJSONTool},
		},
		{
			name: "json_schema with explicit thinking: offered, asked for, not forced", golden: "request_structured_tool_thinking.json",
			req: &llm.ChatRequest{Model: model, MaxTokens: ptr(4096), Messages: []llm.Message{{Role: llm.RoleSystem, Content: "Be brief."}, user},
				ResponseFormat: schemaFormat, Thinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 2048}},
			plan: plan{jsonTool: "weather"},
		},
		{
			name: "reasoning effort high as a thinking budget; temperature and top_k dropped", golden: "request_reasoning_effort.json",
			req: &llm.ChatRequest{Model: model, MaxTokens: ptr(10000), Messages: []llm.Message{user}, ReasoningEffort: "high",
				Temperature: ptr(0.2), TopP: ptr(0.9), TopK: ptr(5)},
		},
		{
			name: "reasoning effort with configured shares, minimal at the API's floor", golden: "request_reasoning_minimal.json",
			opts: Options{ThinkingBudget: map[string]float64{"low": 0.1}},
			req:  &llm.ChatRequest{Model: model, MaxTokens: ptr(4000), Messages: []llm.Message{user}, ReasoningEffort: "minimal", Temperature: ptr(1.0)},
		},
		{
			name: "documents: PDF, text, URL, image file, names as titles", golden: "request_documents.json",
			req: &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "Summarise these."},
				{Type: llm.PartFile, File: &llm.FilePart{Data: pdf, MIMEType: "application/pdf", Filename: "report.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "SGVsbG8sIHdvcmxkLgo=", MIMEType: "text/markdown", Filename: "notes.md"}},
				{Type: llm.PartFile, File: &llm.FilePart{URL: "https://example.com/paper.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "iVBORw0KGgo=", MIMEType: "image/png"}},
				{Type: llm.PartImage, ImageURL: "data:application/pdf;base64," + pdf},
			}}}},
		},
		{
			name: "cache hints on system, tools, a message and a part, TTL kept", golden: "request_cache_control.json",
			req: &llm.ChatRequest{Model: model, MaxTokens: ptr(1024),
				Tools: []llm.Tool{getTime, {Type: "function", Name: "get_weather", Parameters: weatherSchema, Cache: &llm.CacheHint{Type: "ephemeral", TTL: "1h"}}},
				Messages: []llm.Message{
					{Role: llm.RoleSystem, Parts: []llm.Part{{Type: llm.PartText, Text: "You are a weather bot."}, {Type: llm.PartText, Text: "Long reference text.", Cache: &llm.CacheHint{Type: "ephemeral"}}}},
					{Role: llm.RoleUser, Content: "Earlier question", Cache: &llm.CacheHint{Type: "ephemeral", TTL: "5m"}},
					{Role: llm.RoleAssistant, Content: "Earlier answer"},
					{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "Now Paris?"}, {Type: llm.PartText, Text: "", Cache: &llm.CacheHint{}}}},
				}},
			plan: plan{betas: []string{BetaExtendedCacheTTL}},
		},
		{
			name: "automatic cache point after a long system prompt", golden: "request_auto_cache.json",
			opts: Options{AutoCacheTokens: 8},
			req: &llm.ChatRequest{Model: model, MaxTokens: ptr(1024), Tools: []llm.Tool{getTime},
				Messages: []llm.Message{{Role: llm.RoleSystem, Content: "You answer questions about the weather in European capitals, briefly."}, user}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, pl, err := testSettings(t, tt.opts).encodeRequest(tt.req, false)
			if err != nil {
				t.Fatal(err)
			}
			if pl.jsonTool != tt.plan.jsonTool || strings.Join(pl.betas, ",") != strings.Join(tt.plan.betas, ",") {
				t.Errorf("plan %+v, want %+v", pl, tt.plan)
			}
			path := filepath.Join("testdata", tt.golden)
			if *update {
				var v any
				_ = json.Unmarshal(body, &v)
				out, _ := json.MarshalIndent(v, "", "  ")
				if err := os.WriteFile(path, append(out, '\n'), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			assertJSONEqual(t, body, readFixture(t, tt.golden))
		})
	}
}

// TestAutoCacheLeavesClientBreakpointsAndShortPrompts: the automatic point
// is added only when the client placed none and the prefix is long enough.
func TestAutoCacheLeavesClientBreakpointsAndShortPrompts(t *testing.T) {
	s := testSettings(t, Options{AutoCacheTokens: 1000})
	long := strings.Repeat("word ", 1000) // ~1250 tokens at 4 bytes each
	tests := []struct {
		name string
		msgs []llm.Message
		want int
	}{
		{"long system", []llm.Message{{Role: llm.RoleSystem, Content: long}, {Role: llm.RoleUser, Content: "hi"}}, 1},
		{"short system", []llm.Message{{Role: llm.RoleSystem, Content: "short"}, {Role: llm.RoleUser, Content: "hi"}}, 0},
		{"client's own point", []llm.Message{{Role: llm.RoleSystem, Content: long}, {Role: llm.RoleUser, Content: "hi", Cache: &llm.CacheHint{}}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, _, err := s.translateRequest(&llm.ChatRequest{Model: model, Messages: tt.msgs})
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := countBreakpoints(w); got != tt.want {
				t.Fatalf("%d breakpoints, want %d", got, tt.want)
			}
		})
	}
}

func TestEncodeRefusesWhatAnthropicCannotTake(t *testing.T) {
	parts := func(p ...llm.Part) []llm.Message { return []llm.Message{{Role: llm.RoleUser, Parts: p}} }
	hint := &llm.CacheHint{Type: "ephemeral"}
	tests := []struct {
		name  string
		opts  Options
		req   *llm.ChatRequest
		param string
		code  string
	}{
		{name: "audio", req: &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartText, Text: "hi"}, llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "AAAA", Format: "wav"}})},
			param: "messages[0].content[1].input_audio"},
		{name: "another provider's file id", req: &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartFile, File: &llm.FilePart{FileID: "file-abc123"}})},
			param: "messages[0].content[0].file.file_id"},
		{name: "unsupported file type", req: &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: "AAAA", MIMEType: "application/zip"}})},
			param: "messages[0].content[0].file.file_data"},
		{name: "file URI that is not http", req: &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartFile, File: &llm.FilePart{URL: "gs://bucket/a.pdf"}})},
			param: "messages[0].content[0].file.file_url"},
		{name: "file over the part limit", opts: Options{MaxPartBytes: 10},
			req:   &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartFile, File: &llm.FilePart{Data: strings.Repeat("A", 40), MIMEType: "application/pdf"}})},
			param: "messages[0].content[0].file", code: "part_too_large"},
		{name: "image over the part limit", opts: Options{MaxPartBytes: 10},
			req:   &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartImage, ImageURL: "data:image/png;base64," + strings.Repeat("A", 40)})},
			param: "messages[0].content[0].image_url", code: "part_too_large"},
		{name: "unknown reasoning effort", req: &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartText, Text: "hi"}), ReasoningEffort: "extreme"},
			param: "reasoning_effort"},
		{name: "schema that is not an object", req: &llm.ChatRequest{Model: model, Messages: parts(llm.Part{Type: llm.PartText, Text: "hi"}), ResponseFormat: &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`[1]`)}},
			param: "response_format.json_schema.schema"},
		{name: "more than four cache breakpoints", req: &llm.ChatRequest{Model: model, Messages: parts(
			llm.Part{Type: llm.PartText, Text: "a", Cache: hint}, llm.Part{Type: llm.PartText, Text: "b", Cache: hint}, llm.Part{Type: llm.PartText, Text: "c", Cache: hint},
			llm.Part{Type: llm.PartText, Text: "d", Cache: hint}, llm.Part{Type: llm.PartText, Text: "e", Cache: hint})},
			param: "cache_control"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := testSettings(t, tt.opts).encodeRequest(tt.req, false)
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest {
				t.Fatalf("err = %v, want invalid request", err)
			}
			if de.Param != tt.param || de.Code != tt.code {
				t.Errorf("param %q code %q, want %q %q (%v)", de.Param, de.Code, tt.param, tt.code, err)
			}
			if !strings.Contains(err.Error(), strings.SplitN(tt.param, ".", 2)[0]) {
				t.Errorf("message %q does not name the field", err)
			}
		})
	}
}

func TestNewRejectsBadSettings(t *testing.T) {
	for _, o := range []Options{
		{APIKey: "k", ThinkingBudget: map[string]float64{"high": 1.5}},
		{APIKey: "k", AutoCacheTokens: -1},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
}

func TestDecodeJSONToolAsContent(t *testing.T) {
	var wr wireResponse
	if err := json.Unmarshal(readFixture(t, "response_json_tool.json"), &wr); err != nil {
		t.Fatal(err)
	}
	got := decodeResponse(&wr, fixedNow, "weather")
	c := got.Choices[0]
	if c.Message.Content != `{"city":"Paris","celsius":18}` || len(c.Message.ToolCalls) != 0 || c.FinishReason != llm.FinishStop {
		t.Fatalf("got content %q, calls %v, finish %q", c.Message.Content, c.Message.ToolCalls, c.FinishReason)
	}
	// Without the plan the same answer is an ordinary tool call.
	plain := decodeResponse(&wr, fixedNow, "")
	if len(plain.Choices[0].Message.ToolCalls) != 1 || plain.Choices[0].FinishReason != llm.FinishToolCalls {
		t.Fatalf("plain decode %+v", plain.Choices[0])
	}
}

func TestStreamJSONToolAsContentDeltas(t *testing.T) {
	const id = "msg_01JsonToolStream0000000000"
	s := fixtureStream(t, "stream_json_tool.sse")
	s.jsonTool = "weather"
	chunks, err := collect(s)
	if !errors.Is(err, io.EOF) {
		t.Fatal(err)
	}
	mk := func(d llm.Message, finish string) llm.Chunk {
		return llm.Chunk{ID: id, Created: fixedNow.Unix(), Model: model, Choices: []llm.ChunkChoice{{Delta: d, FinishReason: finish}}}
	}
	u := llm.Usage{PromptTokens: 1410, CompletionTokens: 31, TotalTokens: 1441, CacheCreationTokens: 1000, CacheCreation1hTokens: 1000}
	want := []llm.Chunk{
		mk(llm.Message{Role: llm.RoleAssistant}, ""),
		mk(llm.Message{Content: `{"city": "Par`}, ""),
		mk(llm.Message{Content: `is", "celsius": 18}`}, ""),
		mk(llm.Message{}, llm.FinishStop),
		{ID: id, Created: fixedNow.Unix(), Model: model, Usage: &u},
	}
	if len(chunks) != len(want) {
		t.Fatalf("%d chunks, want %d: %+v", len(chunks), len(want), chunks)
	}
	for i := range want {
		if !reflect.DeepEqual(chunks[i], want[i]) {
			t.Errorf("chunk %d = %+v, want %+v", i, chunks[i], want[i])
		}
	}
	var text strings.Builder
	for _, c := range chunks {
		for _, ch := range c.Choices {
			text.WriteString(ch.Delta.Content)
		}
	}
	if !json.Valid([]byte(text.String())) {
		t.Fatalf("streamed content is not JSON: %s", text.String())
	}
}

// TestClientStructuredOutputOverHTTP: the beta form's flag reaches the
// upstream after the operator's, and a forced-tool answer comes back as
// JSON text from Chat and ChatStream alike.
func TestClientStructuredOutputOverHTTP(t *testing.T) {
	var gotBeta []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotBeta = append(gotBeta, r.Header.Get("Anthropic-Beta"))
		body, _ := io.ReadAll(r.Body)
		var req struct {
			Stream bool `json:"stream"`
		}
		_ = json.Unmarshal(body, &req)
		if req.Stream {
			w.Header().Set("Content-Type", "text/event-stream")
			_, _ = w.Write(readFixture(t, "stream_json_tool.sse"))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(readFixture(t, "response_json_tool.json"))
	}))
	t.Cleanup(srv.Close)
	rf := &llm.ResponseFormat{Type: "json_schema", SchemaName: "weather", Schema: weatherSchema}
	req := func() *llm.ChatRequest {
		return &llm.ChatRequest{Model: model, Messages: []llm.Message{{Role: llm.RoleUser, Content: "Paris?"}}, ResponseFormat: rf}
	}

	native, err := New(Options{BaseURL: srv.URL, APIKey: "k", Headers: map[string]string{"anthropic-beta": "op-flag"},
		NativeStructuredOutput: []string{model}, StructuredOutputBeta: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := native.Chat(context.Background(), req()); err != nil {
		t.Fatal(err)
	}
	if want := "op-flag," + BetaStructuredOutputs; gotBeta[0] != want {
		t.Errorf("anthropic-beta %q, want %q", gotBeta[0], want)
	}

	c := testClient(t, srv.URL)
	resp, err := c.Chat(context.Background(), req())
	if err != nil {
		t.Fatal(err)
	}
	if m := resp.Choices[0].Message; !json.Valid([]byte(m.Content)) || len(m.ToolCalls) != 0 || resp.Choices[0].FinishReason != llm.FinishStop {
		t.Fatalf("unary answer %+v %q", m, resp.Choices[0].FinishReason)
	}
	st, err := c.ChatStream(context.Background(), req())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var text strings.Builder
	finish := ""
	for {
		ch, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, cc := range ch.Choices {
			text.WriteString(cc.Delta.Content)
			if len(cc.Delta.ToolCalls) > 0 {
				t.Fatalf("tool call delta %+v", cc.Delta.ToolCalls)
			}
			finish = max(finish, cc.FinishReason)
		}
	}
	if !json.Valid([]byte(text.String())) || finish != llm.FinishStop {
		t.Fatalf("streamed %q finish %q", text.String(), finish)
	}
}
