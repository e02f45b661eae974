package openaijson

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/switchyard/switchyard/engine/llm"
	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

func ptr[T any](v T) *T { return &v }

func mustStruct(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatalf("structpb.NewStruct: %v", err)
	}
	return s
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func user(text string) *switchyardv1.ChatMessage {
	return &switchyardv1.ChatMessage{Role: "user", Content: ptr(text)}
}

func TestDecodeChatRequestFixtures(t *testing.T) {
	weatherParams := mustStruct(t, map[string]any{
		"type": "object",
		"properties": map[string]any{
			"location": map[string]any{"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
			"unit":     map[string]any{"type": "string", "enum": []any{"celsius", "fahrenheit"}},
		},
		"required":             []any{"location"},
		"additionalProperties": false,
	})
	mathSchema := mustStruct(t, map[string]any{
		"type": "object",
		"properties": map[string]any{
			"steps": map[string]any{
				"type": "array",
				"items": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"explanation": map[string]any{"type": "string"},
						"output":      map[string]any{"type": "string"},
					},
					"required":             []any{"explanation", "output"},
					"additionalProperties": false,
				},
			},
			"final_answer": map[string]any{"type": "string"},
		},
		"required":             []any{"steps", "final_answer"},
		"additionalProperties": false,
	})

	tests := []struct {
		file string
		want *switchyardv1.CreateChatCompletionRequest
	}{
		{"simple.json", &switchyardv1.CreateChatCompletionRequest{
			Model: "gpt-4o",
			Messages: []*switchyardv1.ChatMessage{
				{Role: "developer", Content: ptr("You are a helpful assistant.")},
				user("Hello!"),
			},
		}},
		{"multimodal.json", &switchyardv1.CreateChatCompletionRequest{
			Model: "gpt-4.1",
			Messages: []*switchyardv1.ChatMessage{{
				Role: "user",
				ContentParts: []*switchyardv1.ContentPart{
					{Type: "text", Text: "What's in this image?"},
					{Type: "image_url", ImageUrl: &switchyardv1.ImageURL{
						Url:    "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg",
						Detail: "high",
					}},
					{Type: "image_url", ImageUrl: &switchyardv1.ImageURL{Url: "data:image/png;base64,iVBORw0KGgo="}},
				},
			}},
			MaxTokens: ptr[int32](300),
		}},
		{"tools.json", &switchyardv1.CreateChatCompletionRequest{
			Model:    "gpt-4.1",
			Messages: []*switchyardv1.ChatMessage{user("What's the weather like in Boston today?")},
			Tools: []*switchyardv1.Tool{{
				Type: "function",
				Function: &switchyardv1.FunctionDefinition{
					Name:        "get_current_weather",
					Description: "Get the current weather in a given location",
					Parameters:  weatherParams,
					Strict:      ptr(true),
				},
			}},
			ToolChoice:        &switchyardv1.ToolChoice{FunctionName: "get_current_weather"},
			ParallelToolCalls: ptr(false),
		}},
		{"tool_choice_string.json", &switchyardv1.CreateChatCompletionRequest{
			Model:      "gpt-4o-mini",
			Messages:   []*switchyardv1.ChatMessage{user("hi")},
			Tools:      []*switchyardv1.Tool{{Type: "function", Function: &switchyardv1.FunctionDefinition{Name: "noop"}}},
			ToolChoice: &switchyardv1.ToolChoice{Mode: "required"},
		}},
		{"json_schema.json", &switchyardv1.CreateChatCompletionRequest{
			Model: "gpt-4o-2024-08-06",
			Messages: []*switchyardv1.ChatMessage{
				{Role: "system", Content: ptr("You are a helpful math tutor. Guide the user through the solution step by step.")},
				user("how can I solve 8x + 7 = -23"),
			},
			ResponseFormat: &switchyardv1.ResponseFormat{
				Type: "json_schema",
				JsonSchema: &switchyardv1.JSONSchema{
					Name:        "math_reasoning",
					Description: "Step-by-step reasoning",
					Schema:      mathSchema,
					Strict:      ptr(true),
				},
			},
		}},
		{"tool_turn.json", &switchyardv1.CreateChatCompletionRequest{
			Model: "gpt-4o",
			Messages: []*switchyardv1.ChatMessage{
				user("What's the weather like in Paris today?"),
				{Role: "assistant", ToolCalls: []*switchyardv1.ToolCall{{
					Id: "call_12345xyz", Type: "function",
					Function: &switchyardv1.FunctionCall{Name: "get_weather", Arguments: `{"location":"Paris, France"}`},
				}}},
				{Role: "tool", ToolCallId: "call_12345xyz", Content: ptr("14")},
			},
			Temperature: ptr(0.2),
			TopP:        ptr(1.0),
			// Beyond 2^53: must not pass through a float64.
			Seed: ptr[int64](9007199254740993),
			N:    ptr[int32](1),
		}},
		{"stop_string.json", &switchyardv1.CreateChatCompletionRequest{
			Model:               "gpt-4o-mini",
			Messages:            []*switchyardv1.ChatMessage{user("Count to ten.")},
			Stop:                []string{"\n"},
			PresencePenalty:     ptr(-0.5),
			FrequencyPenalty:    ptr(1.25),
			MaxCompletionTokens: ptr[int32](64),
		}},
		{"stop_array.json", &switchyardv1.CreateChatCompletionRequest{
			Model:     "gpt-4o-mini",
			Messages:  []*switchyardv1.ChatMessage{user("Count to ten.")},
			Stop:      []string{"five", "été 😀"},
			MaxTokens: ptr[int32](100),
		}},
		{"unknown_fields.json", &switchyardv1.CreateChatCompletionRequest{
			Model:           "o3-mini",
			Messages:        []*switchyardv1.ChatMessage{user("Summarize.")},
			ReasoningEffort: "high",
			Stream:          true,
			StreamOptions:   &switchyardv1.StreamOptions{IncludeUsage: true},
			Logprobs:        ptr(true),
			TopLogprobs:     ptr[int32](3),
			LogitBias:       map[string]float64{"50256": -100, "1234": 2.5},
			Metadata:        map[string]string{"team": "search", "ticket": "A-17"},
			User:            "user-1234",
		}},
		{"switchyard.json", &switchyardv1.CreateChatCompletionRequest{
			Model: "fast",
			Messages: []*switchyardv1.ChatMessage{
				{Role: "system", Content: ptr("Be brief.")},
				{Role: "user", Name: "alice", Content: ptr("Hi")},
			},
			Switchyard: &switchyardv1.RequestOptions{
				Route:           "fast-eu",
				Strategy:        "consistent_hash",
				CacheControl:    switchyardv1.CacheControl_CACHE_CONTROL_NO_STORE,
				CacheTtlSeconds: 300,
				AffinityKey:     "session-42",
			},
			Extra: mustStruct(t, map[string]any{
				"top_k":          40,
				"safetySettings": []any{map[string]any{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}},
			}),
		}},
		// Bytes the official Python SDK (openai 3.57.0) sent, captured with a
		// mock transport; the switchyard block came from extra_body.
		{"sdk_python_tools_extra_body.json", &switchyardv1.CreateChatCompletionRequest{
			Model:      "gpt-4o",
			Messages:   []*switchyardv1.ChatMessage{user("hi")},
			ToolChoice: &switchyardv1.ToolChoice{FunctionName: "get_weather"},
			Tools: []*switchyardv1.Tool{{Type: "function", Function: &switchyardv1.FunctionDefinition{
				Name: "get_weather", Parameters: mustStruct(t, map[string]any{"type": "object", "properties": map[string]any{}}),
			}}},
			Switchyard: &switchyardv1.RequestOptions{Route: "fast", CacheControl: switchyardv1.CacheControl_CACHE_CONTROL_NO_CACHE},
		}},
		{"sdk_python_stream.json", &switchyardv1.CreateChatCompletionRequest{
			Model:         "gpt-4o",
			Stream:        true,
			Messages:      []*switchyardv1.ChatMessage{user("hi")},
			StreamOptions: &switchyardv1.StreamOptions{IncludeUsage: true},
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".json"), func(t *testing.T) {
			body := readFixture(t, filepath.Join("requests", tt.file))
			got, err := DecodeChatRequest(body)
			if err != nil {
				t.Fatalf("DecodeChatRequest: %v", err)
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("decoded request differs\n got: %s\nwant: %s", prototext.Format(got), prototext.Format(tt.want))
			}
			// The facade reuses the body buffer right after decoding.
			for i := range body {
				body[i] = 'X'
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("decoded request aliases the body buffer")
			}
		})
	}
}

func TestDecodeChatRequestKeepsContentPresence(t *testing.T) {
	tests := []struct {
		name, body string
		want       *string
	}{
		{"absent", `{"messages":[{"role":"assistant"}]}`, nil},
		{"null", `{"messages":[{"role":"assistant","content":null}]}`, nil},
		{"empty string", `{"messages":[{"role":"assistant","content":""}]}`, ptr("")},
		{"later duplicate wins", `{"messages":[{"role":"assistant","content":"a","content":null}]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeChatRequest([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			got := req.GetMessages()[0].Content
			if (got == nil) != (tt.want == nil) || (got != nil && *got != *tt.want) {
				t.Errorf("content = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestDecodeChatRequestStrings(t *testing.T) {
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
			req, err := DecodeChatRequest([]byte(`{"model":` + tt.literal + `}`))
			if err != nil {
				t.Fatal(err)
			}
			if req.GetModel() != tt.want {
				t.Errorf("model = %q, want %q", req.GetModel(), tt.want)
			}
		})
	}
}

func TestDecodeChatRequestEscapedKeys(t *testing.T) {
	req, err := DecodeChatRequest([]byte(`{"mod\u0065l":"m","messages":[{"r\u006fle":"user","content":"x"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &switchyardv1.CreateChatCompletionRequest{Model: "m", Messages: []*switchyardv1.ChatMessage{user("x")}}
	if !proto.Equal(req, want) {
		t.Errorf("got %v, want %v", req, want)
	}
}

func TestDecodeChatRequestIntegers(t *testing.T) {
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
			req, err := DecodeChatRequest([]byte(tt.body))
			if strings.Contains(tt.body, "25e-1") {
				if err == nil {
					t.Fatal("want an error for a non-integral max_tokens")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.GetMaxTokens() != tt.want || req.MaxTokens == nil {
				t.Errorf("max_tokens = %v, want %d", req.MaxTokens, tt.want)
			}
		})
	}
}

func TestDecodeChatRequestErrors(t *testing.T) {
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
		{"unknown part type", `{"messages":[{"role":"user","content":[{"type":"text","text":"a"},{"type":"input_audio","input_audio":{}}]}]}`,
			"messages[0].content[1].type", false, "unsupported content part type 'input_audio'"},
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
		{"deep schema", `{"tools":[{"function":{"parameters":` + strings.Repeat(`{"a":`, maxStructDepth+1) + `1` +
			strings.Repeat(`}`, maxStructDepth+1) + `}}]}`, "", false, "nested more than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := DecodeChatRequest([]byte(tt.body))
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

func TestDecodeEmbeddingsRequest(t *testing.T) {
	tests := []struct {
		name string
		body []byte
		want *switchyardv1.CreateEmbeddingsRequest
	}{
		{"string input", readFixture(t, "requests/embeddings_string.json"), &switchyardv1.CreateEmbeddingsRequest{
			Model: "text-embedding-3-small", Input: []string{"The food was delicious and the waiter..."}, EncodingFormat: "float",
		}},
		{"array input", readFixture(t, "requests/embeddings_array.json"), &switchyardv1.CreateEmbeddingsRequest{
			Model: "text-embedding-3-large", Input: []string{"first text", "second text"}, EncodingFormat: "base64",
			Dimensions: ptr[int32](256), User: "u-1",
			Switchyard: &switchyardv1.RequestOptions{CacheControl: switchyardv1.CacheControl_CACHE_CONTROL_REFRESH},
		}},
		// The Python SDK asks for base64 unless told otherwise.
		{"python sdk", readFixture(t, "requests/sdk_python_embeddings.json"), &switchyardv1.CreateEmbeddingsRequest{
			Model: "text-embedding-3-small", Input: []string{"a", "b"}, EncodingFormat: "base64",
		}},
		{"null input", []byte(`{"model":"m","input":null,"dimensions":null}`), &switchyardv1.CreateEmbeddingsRequest{Model: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeEmbeddingsRequest(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, tt.want) {
				t.Errorf("got: %s\nwant: %s", prototext.Format(got), prototext.Format(tt.want))
			}
		})
	}
}

func TestDecodeEmbeddingsRequestErrors(t *testing.T) {
	tests := []struct {
		name, body, param, msg string
		malformed              bool
	}{
		{"token array", `{"model":"m","input":[1212,318,257]}`, "input", "token array input is not supported", false},
		{"array of token arrays", `{"model":"m","input":[[1212,318],[257]]}`, "input", "token array input is not supported", false},
		{"mixed after text", `{"model":"m","input":["a",5]}`, "input", "token array input is not supported", false},
		{"input number", `{"input":5}`, "input", "expected a string or an array of strings", false},
		{"input element object", `{"input":["a",{}]}`, "input[1]", "expected a string, but got an object", false},
		{"dimensions string", `{"input":"a","dimensions":"256"}`, "dimensions", "expected an integer", false},
		{"malformed", `{"input":["a"`, "", "not valid JSON", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeEmbeddingsRequest([]byte(tt.body))
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
