package openai

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

func ptr[T any](v T) *T { return &v }

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func user(text string) llm.Message { return llm.Message{Role: "user", Content: text} }

// sameJSON reports whether a and b hold the same JSON value.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// equalRequest compares requests, JSON fields by value.
func equalRequest(t *testing.T, got, want *llm.ChatRequest) {
	t.Helper()
	g, w := *got, *want
	if len(g.Tools) != len(w.Tools) {
		t.Fatalf("tools %+v, want %+v", g.Tools, w.Tools)
	}
	g.Tools, w.Tools = append([]llm.Tool(nil), g.Tools...), append([]llm.Tool(nil), w.Tools...)
	for i := range g.Tools {
		if !sameJSON(t, g.Tools[i].Parameters, w.Tools[i].Parameters) {
			t.Errorf("tools[%d].parameters = %s, want %s", i, g.Tools[i].Parameters, w.Tools[i].Parameters)
		}
		g.Tools[i].Parameters, w.Tools[i].Parameters = nil, nil
	}
	if g.ResponseFormat != nil && w.ResponseFormat != nil {
		gr, wr := *g.ResponseFormat, *w.ResponseFormat
		if !sameJSON(t, gr.Schema, wr.Schema) {
			t.Errorf("schema = %s, want %s", gr.Schema, wr.Schema)
		}
		gr.Schema, wr.Schema = nil, nil
		g.ResponseFormat, w.ResponseFormat = &gr, &wr
	}
	if len(g.Extra) != len(w.Extra) {
		t.Errorf("extra = %v, want %v", g.Extra, w.Extra)
	}
	for k := range w.Extra {
		if !sameJSON(t, g.Extra[k], w.Extra[k]) {
			t.Errorf("extra[%s] = %s, want %s", k, g.Extra[k], w.Extra[k])
		}
	}
	g.Extra, w.Extra = nil, nil
	if !reflect.DeepEqual(g, w) {
		t.Errorf("decoded request differs\n got: %+v\nwant: %+v", g, w)
	}
}

const weatherParams = `{"type":"object","properties":{"location":{"type":"string","description":"The city and state, e.g. San Francisco, CA"},
	"unit":{"type":"string","enum":["celsius","fahrenheit"]}},"required":["location"],"additionalProperties":false}`

const mathSchema = `{"type":"object","properties":{"steps":{"type":"array","items":{"type":"object","properties":{
	"explanation":{"type":"string"},"output":{"type":"string"}},"required":["explanation","output"],"additionalProperties":false}},
	"final_answer":{"type":"string"}},"required":["steps","final_answer"],"additionalProperties":false}`

func TestDecodeChatFixtures(t *testing.T) {
	tests := []struct {
		file   string
		want   llm.ChatRequest
		stream bool
	}{
		{file: "simple.json", want: llm.ChatRequest{Model: "gpt-4o",
			Messages: []llm.Message{{Role: "developer", Content: "You are a helpful assistant."}, user("Hello!")}}},
		{file: "multimodal.json", want: llm.ChatRequest{Model: "gpt-4.1", MaxTokens: ptr(300),
			Messages: []llm.Message{{Role: "user", Parts: []llm.Part{
				{Type: llm.PartText, Text: "What's in this image?"},
				{Type: llm.PartImage, ImageDetail: "high",
					ImageURL: "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg"},
				{Type: llm.PartImage, ImageURL: "data:image/png;base64,iVBORw0KGgo="},
			}}}}},
		{file: "tools.json", want: llm.ChatRequest{Model: "gpt-4.1",
			Messages: []llm.Message{user("What's the weather like in Boston today?")},
			Tools: []llm.Tool{{Type: "function", Name: "get_current_weather", Description: "Get the current weather in a given location",
				Parameters: json.RawMessage(weatherParams), Strict: ptr(true)}},
			ToolChoice:        &llm.ToolChoice{Function: "get_current_weather"},
			ParallelToolCalls: ptr(false)}},
		{file: "tool_choice_string.json", want: llm.ChatRequest{Model: "gpt-4o-mini", Messages: []llm.Message{user("hi")},
			Tools: []llm.Tool{{Type: "function", Name: "noop"}}, ToolChoice: &llm.ToolChoice{Mode: "required"}}},
		{file: "json_schema.json", want: llm.ChatRequest{Model: "gpt-4o-2024-08-06",
			Messages: []llm.Message{
				{Role: "system", Content: "You are a helpful math tutor. Guide the user through the solution step by step."},
				user("how can I solve 8x + 7 = -23"),
			},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", SchemaName: "math_reasoning",
				SchemaDescription: "Step-by-step reasoning", Schema: json.RawMessage(mathSchema), Strict: ptr(true)}}},
		{file: "tool_turn.json", want: llm.ChatRequest{Model: "gpt-4o",
			Messages: []llm.Message{
				user("What's the weather like in Paris today?"),
				{Role: "assistant", ToolCalls: []llm.ToolCall{{ID: "call_12345xyz", Type: "function",
					Name: "get_weather", Arguments: `{"location":"Paris, France"}`}}},
				{Role: "tool", ToolCallID: "call_12345xyz", Content: "14"},
			},
			Temperature: ptr(0.2), TopP: ptr(1.0),
			// Beyond 2^53: must not pass through a float64.
			Seed: ptr[int64](9007199254740993), N: ptr(1)}},
		{file: "stop_string.json", want: llm.ChatRequest{Model: "gpt-4o-mini", Messages: []llm.Message{user("Count to ten.")},
			Stop: []string{"\n"}, PresencePenalty: ptr(-0.5), FrequencyPenalty: ptr(1.25), MaxTokens: ptr(64)}},
		{file: "stop_array.json", want: llm.ChatRequest{Model: "gpt-4o-mini", Messages: []llm.Message{user("Count to ten.")},
			Stop: []string{"five", "été 😀"}, MaxTokens: ptr(100)}},
		{file: "unknown_fields.json", stream: true, want: llm.ChatRequest{Model: "o3-mini", Messages: []llm.Message{user("Summarize.")},
			ReasoningEffort: "high", IncludeUsage: true, Logprobs: ptr(true), TopLogprobs: ptr(3),
			LogitBias: map[string]float64{"50256": -100, "1234": 2.5},
			Metadata:  map[string]string{"team": "search", "ticket": "A-17"}, User: "user-1234",
			// Newer and unknown fields, as written, for OpenAI-family targets.
			OpenAIFields: map[string]json.RawMessage{"store": raw(`true`), "modalities": raw(`["text"]`),
				"prediction": raw(`{"type": "content", "content": "x"}`), "service_tier": raw(`"auto"`),
				"web_search_options": raw(`{"search_context_size": "low", "user_location": null}`),
				"x_future_field":     raw(`[1, {"deep": [true, false, null]}, "s"]`)}}},
		// Files, audio and prompt-cache breakpoints (LiteLLM's cache_control
		// on parts, messages and tools), and Anthropic-style top_k and
		// thinking, which LiteLLM also takes on Chat Completions.
		{file: "files_audio_cache.json", want: llm.ChatRequest{Model: "claude-sonnet-4-5", TopK: ptr(40),
			Thinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 2048},
			Messages: []llm.Message{
				{Role: "system", Parts: []llm.Part{{Type: llm.PartText, Text: "Long rules.", Cache: &llm.CacheHint{Type: "ephemeral", TTL: "1h"}}}},
				{Role: "user", Cache: &llm.CacheHint{Type: "ephemeral"}, Parts: []llm.Part{
					{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0xLjQ=", MIMEType: "application/pdf", Filename: "report.pdf"}},
					{Type: llm.PartFile, File: &llm.FilePart{FileID: "file-abc123"}},
					{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklGRiQ=", Format: "wav"}},
					{Type: llm.PartText, Text: "Summarize both."}}}},
			Tools: []llm.Tool{{Type: "function", Name: "lookup", Parameters: json.RawMessage(`{"type": "object"}`),
				Cache: &llm.CacheHint{Type: "ephemeral"}}}}},
		{file: "switchyard.json", want: llm.ChatRequest{Model: "fast",
			Messages: []llm.Message{{Role: "system", Content: "Be brief."}, {Role: "user", Name: "alice", Content: "Hi"}},
			Hints: llm.Hints{Route: "fast-eu", Strategy: "consistent_hash", CacheControl: llm.CacheNoStore,
				CacheTTL: 300 * time.Second, AffinityKey: "session-42"},
			Extra: map[string]json.RawMessage{"top_k": json.RawMessage(`40`),
				"safetySettings": json.RawMessage(`[{"category":"HARM_CATEGORY_HARASSMENT","threshold":"BLOCK_NONE"}]`)}}},
		// Bytes the official Python SDK (openai 3.57.0) sent, captured with a
		// mock transport; the switchyard block came from extra_body.
		{file: "sdk_python_tools_extra_body.json", want: llm.ChatRequest{Model: "gpt-4o", Messages: []llm.Message{user("hi")},
			ToolChoice: &llm.ToolChoice{Function: "get_weather"},
			Tools:      []llm.Tool{{Type: "function", Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{}}`)}},
			Hints:      llm.Hints{Route: "fast", CacheControl: llm.CacheNoCache}}},
		{file: "sdk_python_stream.json", stream: true, want: llm.ChatRequest{Model: "gpt-4o", Messages: []llm.Message{user("hi")},
			IncludeUsage: true}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			body := readFixture(t, filepath.Join("requests", tt.file))
			got, err := decodeChat(body)
			if err != nil {
				t.Fatalf("decodeChat: %v", err)
			}
			if err := got.validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if got.stream != tt.stream {
				t.Errorf("stream = %v, want %v", got.stream, tt.stream)
			}
			equalRequest(t, &got.ChatRequest, &tt.want)
			// The handler reuses the body buffer right after decoding.
			for i := range body {
				body[i] = 'X'
			}
			equalRequest(t, &got.ChatRequest, &tt.want)
		})
	}
}

func TestDecodeChatLaterDuplicateWins(t *testing.T) {
	req, err := decodeChat([]byte(`{"messages":[{"role":"user","content":[{"type":"text","text":"a"}],"content":"b"},{"content":"a","content":null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if m := req.Messages[0]; m.Content != "b" || m.Parts != nil {
		t.Errorf("first message %+v", m)
	}
	if m := req.Messages[1]; m.Content != "" || m.Parts != nil {
		t.Errorf("second message %+v", m)
	}
}

// TestValidateNamesTheParam is server/rpc's validation table, through the
// wire: the same rules with the same params and messages.
func TestValidateNamesTheParam(t *testing.T) {
	const msgs = `"messages":[{"role":"user","content":"hi"}]`
	cases := []struct {
		name, body, param, msg string
	}{
		{"missing model", `{` + msgs + `}`, "model", "you must provide a model parameter"},
		{"empty messages", `{"model":"m","messages":[]}`, "messages", "messages must be a non-empty array"},
		{"too many messages", `{"model":"m","messages":[` + strings.Repeat(`{"role":"user","content":"x"},`, maxMessages) + `{"role":"user","content":"x"}]}`,
			"messages", "too many messages: 4097 (at most 4096)"},
		{"missing role", `{"model":"m","messages":[{"content":"hi"}]}`, "messages[0].role", "message role is required"},
		{"unknown role", `{"model":"m","messages":[{"role":"user","content":"a"},{"role":"robot"}]}`, "messages[1].role",
			`unknown role "robot" (want system, developer, user, assistant or tool)`},
		{"image without url", `{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{}}]}]}`,
			"messages[0].content[1].image_url.url", "image_url.url is required"},
		{"audio without format", `{"model":"m","messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"UklG"}}]}]}`,
			"messages[0].content[0].input_audio", "input_audio needs data and format"},
		{"file without a source", `{"model":"m","messages":[{"role":"user","content":[{"type":"file","file":{"filename":"a.pdf"}}]}]}`,
			"messages[0].content[0].file", "a file part needs file_data, a file URL or file_id"},
		{"top_k zero", `{"model":"m",` + msgs + `,"top_k":0}`, "top_k", "top_k must be at least 1"},
		{"thinking without budget", `{"model":"m",` + msgs + `,"thinking":{"type":"enabled"}}`,
			"thinking.budget_tokens", "thinking.budget_tokens must be at least 1 when thinking is enabled"},
		{"user with tool_calls", `{"model":"m","messages":[{"role":"user","tool_calls":[{"id":"c"}]}]}`, "messages[0].tool_calls",
			"only assistant messages carry tool_calls"},
		{"tool message without id", `{"model":"m","messages":[{"role":"tool","content":"42"}]}`, "messages[0].tool_call_id",
			"messages with role 'tool' need tool_call_id"},
		{"temperature too high", `{"model":"m",` + msgs + `,"temperature":2.5}`, "temperature", "temperature must be between 0 and 2, got 2.5"},
		{"top_p negative", `{"model":"m",` + msgs + `,"top_p":-0.1}`, "top_p", "top_p must be between 0 and 1, got -0.1"},
		{"presence_penalty", `{"model":"m",` + msgs + `,"presence_penalty":3}`, "presence_penalty", "presence_penalty must be between -2 and 2, got 3"},
		{"frequency_penalty", `{"model":"m",` + msgs + `,"frequency_penalty":-3}`, "frequency_penalty", "frequency_penalty must be between -2 and 2, got -3"},
		{"max_completion_tokens zero wins over max_tokens", `{"model":"m",` + msgs + `,"max_tokens":5,"max_completion_tokens":0}`,
			"max_completion_tokens", "max_completion_tokens must be at least 1"},
		{"max_tokens zero", `{"model":"m",` + msgs + `,"max_tokens":0}`, "max_tokens", "max_tokens must be at least 1"},
		{"n zero", `{"model":"m",` + msgs + `,"n":0}`, "n", "n must be between 1 and 128"},
		{"top_logprobs", `{"model":"m",` + msgs + `,"top_logprobs":21}`, "top_logprobs", "top_logprobs must be between 0 and 20"},
		{"too many stops", `{"model":"m",` + msgs + `,"stop":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q"]}`,
			"stop", "at most 16 stop sequences"},
		{"tool type", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{"name":"f"}},{"type":"retrieval"}]}`,
			"tools[1].type", `unsupported tool type "retrieval" (want "function")`},
		{"tool without name", `{"model":"m",` + msgs + `,"tools":[{"type":"function","function":{}}]}`, "tools[0].function.name",
			"tool function name is required"},
		{"bad tool_choice", `{"model":"m",` + msgs + `,"tool_choice":"sometimes"}`, "tool_choice",
			`unknown tool_choice "sometimes" (want none, auto, required or a function)`},
		{"bad response_format", `{"model":"m",` + msgs + `,"response_format":{"type":"yaml"}}`, "response_format.type",
			`unknown response_format type "yaml"`},
		{"json_schema without name", `{"model":"m",` + msgs + `,"response_format":{"type":"json_schema","json_schema":{"schema":{}}}}`,
			"response_format.json_schema.name", "json_schema.name is required"},
		{"negative cache ttl", `{"model":"m",` + msgs + `,"switchyard":{"cache_ttl_seconds":-1}}`, "switchyard.cache_ttl_seconds",
			"cache_ttl_seconds must not be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeChat([]byte(tc.body))
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			err = r.validate()
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest || de.Param != tc.param || de.Message != tc.msg {
				t.Fatalf("got %v (%+v), want invalid request on %q: %q", err, de, tc.param, tc.msg)
			}
		})
	}
}

func TestDecodeEmbeddings(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want llm.EmbeddingRequest
	}{
		{"string input", readFixture(t, "requests/embeddings_string.json"), llm.EmbeddingRequest{
			Model: "text-embedding-3-small", Input: []string{"The food was delicious and the waiter..."}, EncodingFormat: "float",
		}},
		// Embeddings take the route from the switchyard options, nothing else.
		{"array input", readFixture(t, "requests/embeddings_array.json"), llm.EmbeddingRequest{
			Model: "text-embedding-3-large", Input: []string{"first text", "second text"}, EncodingFormat: "base64",
			Dimensions: ptr(256), User: "u-1",
		}},
		// The Python SDK asks for base64 unless told otherwise.
		{"python sdk", readFixture(t, "requests/sdk_python_embeddings.json"), llm.EmbeddingRequest{
			Model: "text-embedding-3-small", Input: []string{"a", "b"}, EncodingFormat: "base64",
		}},
		{"route", []byte(`{"model":"m","input":"x","switchyard":{"route":"r"}}`), llm.EmbeddingRequest{
			Model: "m", Input: []string{"x"}, Hints: llm.Hints{Route: "r"},
		}},
		// Token ids, as LangChain's OpenAIEmbeddings sends them by default.
		{"one token array", []byte(`{"model":"m","input":[1212,318,257]}`), llm.EmbeddingRequest{
			Model: "m", InputTokens: [][]int{{1212, 318, 257}},
		}},
		{"token arrays", []byte(`{"model":"m","input":[[1212,318],[257]],"encoding_format":"base64"}`), llm.EmbeddingRequest{
			Model: "m", InputTokens: [][]int{{1212, 318}, {257}}, EncodingFormat: "base64",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeEmbeddings(tt.body)
			if err == nil {
				err = got.validate()
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.EmbeddingRequest, tt.want) {
				t.Errorf("got: %+v\nwant: %+v", got.EmbeddingRequest, tt.want)
			}
		})
	}
}

func TestValidateEmbeddings(t *testing.T) {
	cases := []struct{ name, body, param, msg string }{
		{"missing model", `{"input":"a"}`, "model", "you must provide a model parameter"},
		{"null input", `{"model":"m","input":null}`, "input", "input must be a non-empty string or array of strings"},
		{"too many", `{"model":"m","input":[` + strings.Repeat(`"a",`, maxInputs) + `"a"]}`, "input", "at most 2048 inputs per request"},
		{"format", `{"model":"m","input":"a","encoding_format":"int8"}`, "encoding_format", `encoding_format "int8" is not supported (want float or base64)`},
		{"dimensions", `{"model":"m","input":"a","dimensions":0}`, "dimensions", "dimensions must be at least 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decodeEmbeddings([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			var de *llm.Error
			if err := r.validate(); !errors.As(err, &de) || de.Param != tc.param || de.Message != tc.msg {
				t.Fatalf("got %v, want %q on %q", err, tc.msg, tc.param)
			}
		})
	}
}

func TestDecodeChatStrings(t *testing.T) {
	tests := []struct {
		name, literal, want string
	}{
		{"escapes", `"a\"b\\c\/d\b\f\n\r\t"`, "a\"b\\c/d\b\f\n\r\t"},
		{"unicode escape", `"\u00e9\u4e2d"`, "é中"},
		{"surrogate pair", `"\ud83d\ude00"`, "😀"},
		{"lone high surrogate", `"x\ud83dy"`, "x\uFFFDy"},
		{"lone low surrogate", `"\ude00"`, "\uFFFD"},
		{"high surrogate then non-surrogate escape", `"\ud83d\u0041"`, "\uFFFDA"},
		{"raw invalid UTF-8", "\"a\xffb\"", "a\uFFFDb"},
		{"invalid UTF-8 with escape", "\"\xff\\n\xfe\"", "\uFFFD\n\uFFFD"},
		{"raw multibyte", `"naïve ☃"`, "naïve ☃"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := decodeChat([]byte(`{"model":` + tt.literal + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if req.Model != tt.want {
				t.Errorf("model = %q, want %q", req.Model, tt.want)
			}
		})
	}
}

func TestDecodeChatEscapedKeys(t *testing.T) {
	req, err := decodeChat([]byte(`{"mod\u0065l":"m","messages":[{"r\u006fle":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if req.Model != "m" || len(req.Messages) != 1 || req.Messages[0].Role != "user" || req.Messages[0].Content != "x" {
		t.Errorf("got %+v", req.ChatRequest)
	}
}

func TestDecodeChatIntegers(t *testing.T) {
	tests := []struct {
		body string
		want int32
	}{
		{`{"max_tokens":0}`, 0},
		{`{"max_tokens":-0}`, 0},
		{`{"max_tokens":2147483647}`, 2147483647},
		{`{"max_tokens":-2147483648}`, -2147483648},
		{`{"max_tokens":100.0}`, 100},
		{`{"max_tokens":1E3}`, 1000},
		{`{"max_tokens":25e-1}`, 0}, // not integral: an error, checked below
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			req, err := decodeChat([]byte(tt.body))
			if strings.Contains(tt.body, "25e-1") {
				if err == nil {
					t.Fatal("want an error for a non-integral max_tokens")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.maxTokens == nil || *req.maxTokens != tt.want {
				t.Errorf("max_tokens = %v, want %d", req.maxTokens, tt.want)
			}
		})
	}
}

func TestDecodeChatErrors(t *testing.T) {
	tests := []struct {
		name      string
		body      string
		param     string
		malformed bool
		msg       string // substring of the message
	}{
		{"empty body", ``, "", true, "not valid JSON"},
		{"whitespace body", " \n", "", true, "not valid JSON"},
		{"truncated", `{"model":"gpt-4o","messages":[`, "", true, "not valid JSON"},
		{"trailing comma", `{"model":"gpt-4o",}`, "", true, "not valid JSON"},
		{"single quotes", `{'model':'x'}`, "", true, "not valid JSON"},
		{"trailing garbage", `{"model":"x"} x`, "", true, "after top-level value"},
		{"two documents", `{}{}`, "", true, "not valid JSON"},
		{"raw newline in string", "{\"model\":\"a\nb\"}", "", true, "control character"},
		{"bad escape", `{"model":"\x41"}`, "", true, "invalid escape"},
		{"bad number", `{"temperature":01}`, "", true, "not valid JSON"},
		{"NaN literal", `{"temperature":NaN}`, "", true, "not valid JSON"},
		{"type error before syntax error reports syntax",
			`{"temperature":"hot","model":}`, "", true, "not valid JSON"},
		{"syntax error in skipped field", `{"unknown":[1,2,}`, "", true, "not valid JSON"},
		{"top-level array", `[]`, "", false, "must be a JSON object"},
		{"top-level null", `null`, "", false, "must be a JSON object"},
		{"model number", `{"model":4}`, "model", false, "expected a string, but got a number"},
		{"messages object", `{"messages":{}}`, "messages", false, "expected an array"},
		{"message string", `{"messages":["hi"]}`, "messages[0]", false, "expected an object, but got a string"},
		{"message null", `{"messages":[null]}`, "messages[0]", false, "expected an object, but got null"},
		{"role number", `{"messages":[{"role":1}]}`, "messages[0].role", false, "expected a string"},
		{"content number", `{"messages":[{"role":"user","content":"a"},{"role":"user","content":5}]}`,
			"messages[1].content", false, "expected a string, an array of content parts or null, but got a number"},
		{"content object", `{"messages":[{"role":"user","content":{"type":"text"}}]}`,
			"messages[0].content", false, "but got an object"},
		{"unknown part type", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"video","video":{}}]}]}`,
			"messages[0].content[1].type", false, "unsupported content part type 'video'"},
		{"file data not base64", `{"messages":[{"role":"user","content":[{"type":"file","file":{"file_data":"data:text/plain,hi"}}]}]}`,
			"messages[0].content[0].file.file_data", false, "base64 data URL"},
		{"cache_control without type", `{"messages":[{"role":"user","content":"a","cache_control":{}}]}`,
			"messages[0].cache_control.type", false, "needs a type"},

		{"part without type", `{"messages":[{"role":"user","content":[{"text":"a"}]}]}`,
			"messages[0].content[0].type", false, "needs a type"},
		{"part text number", `{"messages":[{"role":"user","content":[{"type":"text","text":1}]}]}`,
			"messages[0].content[0].text", false, "expected a string"},
		{"image_url string", `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":"http://x"}]}]}`,
			"messages[0].content[0].image_url", false, "expected an object"},
		{"tool call arguments object", `{"messages":[{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":{}}}]}]}`,
			"messages[0].tool_calls[0].function.arguments", false, "expected a string, but got an object"},
		{"temperature string", `{"temperature":"hot"}`, "temperature", false, "expected a number, but got a string"},
		{"top_p bool", `{"top_p":true}`, "top_p", false, "but got a boolean"},
		{"temperature out of range", `{"temperature":1e999}`, "temperature", false, "out of range"},
		{"max_tokens decimal", `{"max_tokens":1.5}`, "max_tokens", false, "expected an integer, but got a decimal"},
		{"max_tokens too big", `{"max_tokens":2147483648}`, "max_tokens", false, "out of range"},
		{"max_tokens huge", `{"max_tokens":1e300}`, "max_tokens", false, "out of range"},
		{"max_completion_tokens string", `{"max_completion_tokens":"10"}`, "max_completion_tokens", false, "expected an integer"},
		{"n array", `{"n":[1]}`, "n", false, "expected an integer"},
		{"seed too big", `{"seed":9223372036854775808}`, "seed", false, "out of range"},
		{"stop number", `{"stop":5}`, "stop", false, "expected a string, an array of strings or null"},
		{"stop array of numbers", `{"stop":["a",5]}`, "stop[1]", false, "expected a string"},
		{"tools object", `{"tools":{}}`, "tools", false, "expected an array"},
		{"tool parameters string", `{"tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}]}`,
			"tools[0].function.parameters", false, "expected an object, but got a string"},
		{"tool strict string", `{"tools":[{"type":"function","function":{"name":"f","strict":"yes"}}]}`,
			"tools[0].function.strict", false, "expected a boolean"},
		{"tool_choice number", `{"tool_choice":1}`, "tool_choice", false, "expected a string or an object"},
		{"tool_choice allowed_tools", `{"tool_choice":{"type":"allowed_tools","allowed_tools":{}}}`,
			"tool_choice.type", false, "unsupported tool_choice type 'allowed_tools'"},
		{"tool_choice function without name", `{"tool_choice":{"type":"function","function":{}}}`,
			"tool_choice.function.name", false, "needs the function's name"},
		{"response_format string", `{"response_format":"json_object"}`, "response_format", false, "expected an object"},
		{"json_schema schema array", `{"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":[]}}}`,
			"response_format.json_schema.schema", false, "expected an object, but got an array"},
		{"schema number out of range", `{"response_format":{"type":"json_schema","json_schema":{"name":"n","schema":{"max":1e400}}}}`,
			"response_format.json_schema.schema.max", false, "out of range"},
		{"metadata number value", `{"metadata":{"k":1}}`, "metadata.k", false, "expected a string"},
		{"metadata array", `{"metadata":[]}`, "metadata", false, "expected an object"},
		{"logit_bias string value", `{"logit_bias":{"50256":"-100"}}`, "logit_bias.50256", false, "expected a number"},
		{"stream string", `{"stream":"true"}`, "stream", false, "expected a boolean"},
		{"stream_options include_usage string", `{"stream_options":{"include_usage":"yes"}}`,
			"stream_options.include_usage", false, "expected a boolean"},
		{"parallel_tool_calls number", `{"parallel_tool_calls":1}`, "parallel_tool_calls", false, "expected a boolean"},
		{"extra array", `{"extra":[]}`, "extra", false, "expected an object"},
		{"switchyard string", `{"switchyard":"fast"}`, "switchyard", false, "expected an object"},
		{"switchyard cache_control unknown", `{"switchyard":{"cache_control":"sometimes"}}`,
			"switchyard.cache_control", false, "unknown cache_control 'sometimes'"},
		{"switchyard ttl string", `{"switchyard":{"cache_ttl_seconds":"60"}}`,
			"switchyard.cache_ttl_seconds", false, "expected an integer"},
		{"deep schema", `{"tools":[{"function":{"parameters":` + strings.Repeat(`{"a":`, jsonscan.MaxDepth+1) + `1` +
			strings.Repeat(`}`, jsonscan.MaxDepth+1) + `}}]}`, "", false, "nested more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := decodeChat([]byte(tt.body))
			if err == nil {
				t.Fatalf("want an error, got %v", req)
			}
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("error %T is not *llm.Error: %v", err, err)
			}
			if le.Kind != llm.KindInvalidRequest {
				t.Errorf("kind = %v, want KindInvalidRequest", le.Kind)
			}
			if IsMalformed(err) != tt.malformed {
				t.Errorf("IsMalformed = %v, want %v (%v)", IsMalformed(err), tt.malformed, err)
			}
			if tt.name != "deep schema" && le.Param != tt.param {
				t.Errorf("param = %q, want %q", le.Param, tt.param)
			}
			if !strings.Contains(le.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", le.Message, tt.msg)
			}
			if tt.param != "" && !strings.Contains(le.Message, "'"+tt.param+"'") {
				t.Errorf("message %q does not name the param %q", le.Message, tt.param)
			}
		})
	}
}

func TestDecodeEmbeddingsErrors(t *testing.T) {
	tests := []struct {
		name, body, param, msg string
		malformed              bool
	}{
		{"mixed after text", `{"model":"m","input":["a",5]}`, "input", "not a mix", false},
		{"mixed after tokens", `{"model":"m","input":[[1,2],"a"]}`, "input", "not a mix", false},
		{"negative token id", `{"model":"m","input":[[1,-2]]}`, "input[0][1]", "", false},
		{"input number", `{"input":5}`, "input", "expected a string or an array of strings", false},
		{"input element object", `{"input":["a",{}]}`, "input[1]", "expected a string, but got an object", false},
		{"dimensions string", `{"input":"a","dimensions":"256"}`, "dimensions", "expected an integer", false},
		{"malformed", `{"input":["a"`, "", "not valid JSON", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeEmbeddings([]byte(tt.body))
			var le *llm.Error
			if !errors.As(err, &le) {
				t.Fatalf("want *llm.Error, got %v", err)
			}
			if le.Kind != llm.KindInvalidRequest || le.Param != tt.param || IsMalformed(err) != tt.malformed {
				t.Errorf("got kind %v param %q malformed %v, want invalid request param %q malformed %v",
					le.Kind, le.Param, IsMalformed(err), tt.param, tt.malformed)
			}
			if !strings.Contains(le.Message, tt.msg) {
				t.Errorf("message %q does not contain %q", le.Message, tt.msg)
			}
		})
	}
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }
