package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

var update = flag.Bool("update", false, "rewrite golden request fixtures from the encoder")

func ptr[T any](v T) *T { return &v }

// assertJSONEqual compares two JSON documents semantically (key order and
// whitespace do not matter).
func assertJSONEqual(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("want invalid JSON: %v\n%s", err, want)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("JSON mismatch\n--- got\n%s\n--- want\n%s", gi, wi)
	}
}

// golden compares got with testdata/name, or rewrites it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		var buf bytes.Buffer
		if err := json.Indent(&buf, got, "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, got, want)
}

func simpleRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: "gpt-4o-mini",
		Messages: []llm.Message{
			{Role: llm.RoleDeveloper, Content: "You are a helpful assistant."},
			{Role: llm.RoleUser, Content: "Hello!"},
		},
		Temperature: ptr(0.7),
		MaxTokens:   ptr(256),
		// Never sent upstream.
		Hints: llm.Hints{Route: "fast", AffinityKey: "u1"},
	}
}

func weatherParams() json.RawMessage {
	return json.RawMessage(`{"type":"object","properties":{"location":{"type":"string","description":"City and country e.g. Bogotá, Colombia"}},"required":["location"],"additionalProperties":false}`)
}

func TestEncodeChatMatchesGolden(t *testing.T) {
	tests := []struct {
		name   string
		golden string
		req    *llm.ChatRequest
		stream bool
		legacy bool
	}{
		{name: "simple", golden: "request_simple.json", req: simpleRequest()},
		{name: "stream asks for usage although the client did not", golden: "request_stream.json", req: simpleRequest(), stream: true},
		{name: "multimodal parts", golden: "request_multimodal.json", req: &llm.ChatRequest{
			Model: "gpt-4.1",
			Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "What's in this image? Compare it with the second one."},
				{Type: llm.PartImage, ImageURL: "https://upload.wikimedia.org/wikipedia/commons/thumb/d/dd/Gfp-wisconsin-madison-the-nature-boardwalk.jpg/2560px-Gfp-wisconsin-madison-the-nature-boardwalk.jpg", ImageDetail: "high"},
				{Type: llm.PartImage, ImageURL: "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="},
			}}},
			MaxTokens: ptr(300),
		}},
		{name: "tools with assistant tool-call turn and results", golden: "request_tools.json", req: &llm.ChatRequest{
			Model: "gpt-4.1",
			Messages: []llm.Message{
				{Role: llm.RoleUser, Content: "What's the weather like in Paris and Bogotá today?"},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
					{ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France"}`},
					{Index: 1, ID: "call_ABCDEFGHIJKLMNOPQRSTUVWX", Name: "get_weather", Arguments: `{"location":"Bogotá, Colombia"}`},
				}},
				{Role: llm.RoleTool, ToolCallID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Content: `{"temperature_c":14}`},
				{Role: llm.RoleTool, ToolCallID: "call_ABCDEFGHIJKLMNOPQRSTUVWX", Content: `{"temperature_c":19}`},
			},
			Tools: []llm.Tool{{Name: "get_weather", Description: "Get current temperature for a given location.",
				Parameters: weatherParams(), Strict: ptr(true)}},
			ToolChoice:        &llm.ToolChoice{Mode: "auto"},
			ParallelToolCalls: ptr(true),
		}},
		{name: "json schema and every sampling field plus extra", golden: "request_json_schema.json", req: &llm.ChatRequest{
			Model: "gpt-4o-2024-08-06",
			Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: "Extract the event information."},
				{Role: llm.RoleUser, Name: "alice", Content: "Alice and Bob are going to a science fair on Friday."},
			},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", SchemaName: "calendar_event",
				SchemaDescription: "An event on a calendar", Strict: ptr(true),
				Schema: json.RawMessage(`{
					"type": "object",
					"properties": {"name": {"type": "string"}, "date": {"type": "string"},
						"participants": {"type": "array", "items": {"type": "string"}}},
					"required": ["name", "date", "participants"], "additionalProperties": false}`)},
			TopP:             ptr(0.9),
			N:                ptr(1),
			Stop:             []string{"\n\n", "END"},
			Seed:             ptr[int64](42),
			PresencePenalty:  ptr(0.5),
			FrequencyPenalty: ptr(-0.25),
			User:             "user-1234",
			Metadata:         map[string]string{"trace": "t-1", "team": "search"},
			LogitBias:        map[string]float64{"50256": -100},
			Logprobs:         ptr(true),
			TopLogprobs:      ptr(3),
			ReasoningEffort:  "low",
			IncludeUsage:     true, // meaningless on unary: must not leak
			Extra: map[string]json.RawMessage{
				"store":        json.RawMessage(`true`),
				"service_tier": json.RawMessage(` "flex" `),
				// Keys the adapter owns never come from Extra.
				"model":  json.RawMessage(`"gpt-4o-hijack"`),
				"stream": json.RawMessage(`true`),
				"seed":   json.RawMessage(`7`),
			},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeChat(tt.req, tt.stream, tt.legacy)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tt.golden, got)
		})
	}
}

func TestEncodeChatFieldChoices(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*llm.ChatRequest)
		legacy bool
		want   map[string]string // top-level key -> compact JSON; "" means absent
	}{
		{name: "legacy max_tokens for compatible servers", legacy: true,
			want: map[string]string{"max_tokens": "256", "max_completion_tokens": ""}},
		{name: "max_completion_tokens for openai",
			want: map[string]string{"max_completion_tokens": "256", "max_tokens": ""}},
		{name: "unset fields are omitted", mutate: func(r *llm.ChatRequest) { r.Temperature, r.MaxTokens = nil, nil },
			want: map[string]string{"temperature": "", "max_completion_tokens": "", "tools": "", "tool_choice": "",
				"response_format": "", "stream": "", "stream_options": "", "n": "", "seed": "", "metadata": ""}},
		{name: "zero values that were set are sent", mutate: func(r *llm.ChatRequest) {
			r.Temperature, r.MaxTokens, r.ParallelToolCalls = ptr(0.0), ptr(0), ptr(false)
		}, want: map[string]string{"temperature": "0", "max_completion_tokens": "0", "parallel_tool_calls": "false"}},
		{name: "named tool choice", mutate: func(r *llm.ChatRequest) {
			r.ToolChoice = &llm.ToolChoice{Mode: "required", Function: "get_weather"}
		}, want: map[string]string{"tool_choice": `{"type":"function","function":{"name":"get_weather"}}`}},
		{name: "tool choice mode", mutate: func(r *llm.ChatRequest) { r.ToolChoice = &llm.ToolChoice{Mode: "none"} },
			want: map[string]string{"tool_choice": `"none"`}},
		{name: "json_object format", mutate: func(r *llm.ChatRequest) { r.ResponseFormat = &llm.ResponseFormat{Type: "json_object"} },
			want: map[string]string{"response_format": `{"type":"json_object"}`}},
		{name: "schema without a name or type gets json_schema and a default name", mutate: func(r *llm.ChatRequest) {
			r.ResponseFormat = &llm.ResponseFormat{Schema: json.RawMessage(`{"type":"object"}`)}
		}, want: map[string]string{"response_format": `{"type":"json_schema","json_schema":{"name":"response","schema":{"type":"object"}}}`}},
		{name: "extra with unicode key and nested value", mutate: func(r *llm.ChatRequest) {
			r.Extra = map[string]json.RawMessage{"prédiction": json.RawMessage(`{"type": "content", "content": "x"}`)}
		}, want: map[string]string{"prédiction": `{"type":"content","content":"x"}`}},
		{name: "extra fills a field the typed request left unset", mutate: func(r *llm.ChatRequest) {
			r.Extra = map[string]json.RawMessage{"top_k": json.RawMessage(`40`), "temperature": json.RawMessage(`2`)}
		}, want: map[string]string{"top_k": "40", "temperature": "0.7"}},
		{name: "newer OpenAI fields pass as they are, under typed fields and extra", mutate: func(r *llm.ChatRequest) {
			r.OpenAIFields = map[string]json.RawMessage{"verbosity": json.RawMessage(`"low"`), "service_tier": json.RawMessage(`"flex"`),
				"prediction": json.RawMessage(`{"type":"content","content":"x"}`), "temperature": json.RawMessage(`1.5`)}
			r.Extra = map[string]json.RawMessage{"service_tier": json.RawMessage(`"priority"`)}
		}, want: map[string]string{"verbosity": `"low"`, "service_tier": `"priority"`,
			"prediction": `{"type":"content","content":"x"}`, "temperature": "0.7"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := simpleRequest()
			if tt.mutate != nil {
				tt.mutate(req)
			}
			body, err := encodeChat(req, false, tt.legacy)
			if err != nil {
				t.Fatal(err)
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(body, &top); err != nil {
				t.Fatalf("body is not a JSON object: %v\n%s", err, body)
			}
			for k, want := range tt.want {
				raw, ok := top[k]
				if want == "" {
					if ok {
						t.Errorf("%s = %s, want absent", k, raw)
					}
					continue
				}
				if !ok {
					t.Errorf("%s absent, want %s", k, want)
					continue
				}
				assertJSONEqual(t, raw, []byte(want))
			}
		})
	}
}

func TestEncodeChatContentShapes(t *testing.T) {
	tests := []struct {
		name string
		msg  llm.Message
		want string
	}{
		{"user text", llm.Message{Role: llm.RoleUser, Content: "hi"}, `{"role":"user","content":"hi"}`},
		{"empty user text stays a string", llm.Message{Role: llm.RoleUser}, `{"role":"user","content":""}`},
		{"assistant tool call without text is null", llm.Message{Role: llm.RoleAssistant,
			ToolCalls: []llm.ToolCall{{ID: "c1", Name: "f"}}},
			`{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]}`},
		{"assistant tool call with text keeps it", llm.Message{Role: llm.RoleAssistant, Content: "checking",
			ToolCalls: []llm.ToolCall{{ID: "c1", Type: "function", Name: "f", Arguments: `{"a":1}`}}},
			`{"role":"assistant","content":"checking","tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]}`},
		{"assistant refusal and reasoning (reasoning not echoed)", llm.Message{Role: llm.RoleAssistant,
			Refusal: "no", ReasoningContent: "thinking"}, `{"role":"assistant","content":"","refusal":"no"}`},
		{"tool result", llm.Message{Role: llm.RoleTool, ToolCallID: "c1", Content: "42"},
			`{"role":"tool","content":"42","tool_call_id":"c1"}`},
		{"empty text part is kept", llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText}}},
			`{"role":"user","content":[{"type":"text","text":""}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body, err := encodeChat(&llm.ChatRequest{Model: "m", Messages: []llm.Message{tt.msg}}, false, false)
			if err != nil {
				t.Fatal(err)
			}
			var w struct{ Messages []json.RawMessage }
			if err := json.Unmarshal(body, &w); err != nil || len(w.Messages) != 1 {
				t.Fatalf("decode body: %v %s", err, body)
			}
			assertJSONEqual(t, w.Messages[0], []byte(tt.want))
		})
	}
}

func TestEncodeChatRejectsInvalidRequests(t *testing.T) {
	tests := []struct {
		name      string
		mutate    func(*llm.ChatRequest)
		wantParam string
	}{
		{"no model", func(r *llm.ChatRequest) { r.Model = "" }, "model"},
		{"no messages", func(r *llm.ChatRequest) { r.Messages = nil }, "messages"},
		{"unknown role", func(r *llm.ChatRequest) { r.Messages[1].Role = "robot" }, "messages[1].role"},
		{"unknown part type", func(r *llm.ChatRequest) {
			r.Messages[1].Parts = []llm.Part{{Type: "video"}}
		}, "messages[1].content[0].type"},
		{"image without url", func(r *llm.ChatRequest) {
			r.Messages[1].Parts = []llm.Part{{Type: llm.PartImage}}
		}, "messages[1].content[0].image_url.url"},
		{"invalid tool schema", func(r *llm.ChatRequest) {
			r.Tools = []llm.Tool{{Name: "f", Parameters: json.RawMessage(`{"type":`)}}
		}, "tools[0].function.parameters"},
		{"tool without name", func(r *llm.ChatRequest) { r.Tools = []llm.Tool{{}} }, "tools[0].function.name"},
		{"invalid response schema", func(r *llm.ChatRequest) {
			r.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", Schema: json.RawMessage(`nope`)}
		}, "response_format.json_schema.schema"},
		{"NaN temperature", func(r *llm.ChatRequest) { r.Temperature = ptr(math.NaN()) }, "temperature"},
		{"infinite logit bias", func(r *llm.ChatRequest) { r.LogitBias = map[string]float64{"1": math.Inf(1)} }, "logit_bias"},
		{"invalid extra", func(r *llm.ChatRequest) { r.Extra = map[string]json.RawMessage{"x": json.RawMessage(`{`)} }, "x"},
		{"empty extra", func(r *llm.ChatRequest) { r.Extra = map[string]json.RawMessage{"x": nil} }, "x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := simpleRequest()
			tt.mutate(req)
			_, err := encodeChat(req, false, false)
			var de *llm.Error
			if !errors.As(err, &de) {
				t.Fatalf("err = %v, want *llm.Error", err)
			}
			if de.Kind != llm.KindInvalidRequest || de.Param != tt.wantParam {
				t.Fatalf("kind %v param %q, want InvalidRequest %q (%v)", de.Kind, de.Param, tt.wantParam, err)
			}
		})
	}
	if _, err := encodeChat(nil, false, false); llm.KindOf(err) != llm.KindInvalidRequest {
		t.Fatalf("nil request: %v", err)
	}
}

func TestEncodeEmbedding(t *testing.T) {
	got, err := encodeEmbedding(&llm.EmbeddingRequest{Model: "text-embedding-3-small",
		Input: []string{"a", "b"}, EncodingFormat: "base64", Dimensions: ptr(256), User: "u"})
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, got, []byte(`{"model":"text-embedding-3-small","input":["a","b"],"encoding_format":"float","dimensions":256,"user":"u"}`))
	for _, bad := range []*llm.EmbeddingRequest{nil, {Input: []string{"a"}}, {Model: "m"}} {
		if _, err := encodeEmbedding(bad); llm.KindOf(err) != llm.KindInvalidRequest {
			t.Errorf("encodeEmbedding(%+v) err = %v, want invalid request", bad, err)
		}
	}
}

func TestWireRequestHasMatchesEncoding(t *testing.T) {
	full := wireRequest{
		Model: "m", Messages: []wireMessage{{Role: "user", Content: "x"}},
		Temperature: ptr(1.0), TopP: ptr(1.0), MaxCompletionTokens: ptr(1), MaxTokens: ptr(1), N: ptr(1),
		Stop: []string{"s"}, Seed: ptr[int64](1), PresencePenalty: ptr(0.0), FrequencyPenalty: ptr(0.0),
		Tools: []wireTool{{Type: "function"}}, ToolChoice: "auto", ResponseFormat: &wireRespFormat{Type: "text"},
		User: "u", Metadata: map[string]string{"a": "b"}, ParallelToolCalls: ptr(true),
		LogitBias: map[string]float64{"1": 1}, Logprobs: ptr(true), TopLogprobs: ptr(1), ReasoningEffort: "low",
		Stream: true, StreamOptions: &wireStreamOptions{IncludeUsage: true},
	}
	minimal := wireRequest{Model: "m", Messages: full.Messages}

	// Every tagged field must be set in full, so a new field cannot slip
	// past this test unset.
	typ := reflect.TypeOf(full)
	if b, _ := json.Marshal(&full); len(mustKeys(t, b)) != typ.NumField() {
		t.Fatalf("full sets %d of %d fields: add the new field to this test and to has", len(mustKeys(t, b)), typ.NumField())
	}
	for _, w := range []wireRequest{full, minimal} {
		b, err := json.Marshal(&w)
		if err != nil {
			t.Fatal(err)
		}
		keys := mustKeys(t, b)
		for i := range typ.NumField() {
			name, _, _ := strings.Cut(typ.Field(i).Tag.Get("json"), ",")
			if _, encoded := keys[name]; encoded != w.has(name) {
				t.Errorf("%s: encoded %v, has %v", name, encoded, w.has(name))
			}
		}
	}
	if minimal.has("service_tier") {
		t.Error("has reports a key the struct does not know")
	}
}

func mustKeys(t *testing.T, b []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
