package gemini

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata/")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs\n got %s\nwant %s", path, got, want)
	}
}

func indent(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return append(out.Bytes(), '\n')
}

// Real request bodies decode to the domain request in the golden file.
// request_sdk_*.json are what google-genai 3.6.1 put on the wire
// (captured from its client: it sends passed-through objects with
// snake_case names, inlineData.mime_type, parameters_json_schema,
// thinking_budget, and topK as 40.0); request_tools_roundtrip.json is the
// camelCase Gemini body of adapters/gemini's fixtures.
func TestDecodeGoldenRequests(t *testing.T) {
	for _, name := range []string{"request_sdk_tools", "request_sdk_schema", "request_sdk_count", "request_tools_roundtrip"} {
		t.Run(name, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := decode(body, "auto")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, name+".golden.json", pruned(t, r))
		})
	}
}

// pruned is v as indented JSON without its zero values, so a field added
// to the domain request does not change every golden file.
func pruned(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(b, &x); err != nil {
		t.Fatal(err)
	}
	var prune func(any) any
	prune = func(x any) any {
		switch t := x.(type) {
		case map[string]any:
			for k, v := range t {
				if v = prune(v); v == nil {
					delete(t, k)
				} else {
					t[k] = v
				}
			}
			if len(t) == 0 {
				return nil
			}
		case []any:
			for i, v := range t {
				t[i] = prune(v)
			}
			if len(t) == 0 {
				return nil
			}
		case string:
			if t == "" {
				return nil
			}
		case float64:
			if t == 0 {
				return nil
			}
		case bool:
			if !t {
				return nil
			}
		}
		return x
	}
	out, err := json.MarshalIndent(prune(x), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(out, '\n')
}

// Answers in Google's shape: text with usage (cached, thoughts apart from
// candidates), thoughts and calls, a cut answer.
func TestEncodeGoldenAnswers(t *testing.T) {
	for _, tc := range []struct {
		name string
		resp llm.ChatResponse
	}{
		{"answer_text", llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "Two, three, five."}, FinishReason: llm.FinishStop}},
			Usage: llm.Usage{PromptTokens: 12, CompletionTokens: 5, TotalTokens: 17, CachedTokens: 4}}},
		{"answer_tool_calls", llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, ReasoningContent: "Both are needed.", Content: "Let me check.",
			// A Gemini signature goes out as thoughtSignature; another
			// provider's stays behind.
			ToolCalls: []llm.ToolCall{{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`, Signature: "gemini:c2lnLTE="},
				{ID: "call_b", Type: "function", Name: "get_time", Arguments: `{}`, Signature: "anthropic:x"}}},
			FinishReason: llm.FinishToolCalls}},
			Usage: llm.Usage{PromptTokens: 120, CompletionTokens: 90, TotalTokens: 210, CachedTokens: 64, ReasoningTokens: 50}}},
		{"answer_logprobs", llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "Yes."}, FinishReason: llm.FinishStop,
			Logprobs: &llm.Logprobs{Content: []llm.TokenLogprob{
				{Token: "Yes", Logprob: -0.01, TopLogprobs: []llm.TopLogprob{{Token: "Yes", Logprob: -0.01}, {Token: "No", Logprob: -4.7}}},
				{Token: ".", Logprob: -0.09}}}}},
			Usage: llm.Usage{PromptTokens: 5, CompletionTokens: 2, TotalTokens: 7}}},
		{"answer_max_tokens", llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "One two"}, FinishReason: llm.FinishLength}},
			Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 2}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			golden(t, tc.name+".json", indent(t, encodeAnswer(&tc.resp, "auto", "rid-1")))
		})
	}
}

// A stream's events, one per line: thoughts and text as they come, the
// calls gathered across deltas and sent whole with the finish and usage.
func TestStreamGoldenEvents(t *testing.T) {
	e := newEncoder("auto", "rid-1")
	var out []byte
	for _, c := range []llm.Chunk{
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: llm.RoleAssistant, ReasoningContent: "Weather first."}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "Let me "}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "check."}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"ci`, Signature: "gemini:c2lnLTE="}}}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 1, ID: "call_b", Type: "function", Name: "get_time"}}}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `ty":"Paris"}`}}}}}},
		{Choices: []llm.ChunkChoice{{FinishReason: llm.FinishToolCalls}}},
		{Usage: &llm.Usage{PromptTokens: 120, CompletionTokens: 70, TotalTokens: 190, CachedTokens: 64, ReasoningTokens: 30}},
	} {
		if ev := e.chunk(c); ev != nil {
			out = append(append(out, ev...), '\n')
		}
	}
	out = append(append(out, e.finish()...), '\n')
	golden(t, "stream_tool_calls.jsonl", out)
}

// Decoding what Gemini clients send, beyond the golden bodies.
func TestDecodeMatchesCallsAndAliases(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		check      func(t *testing.T, r *llm.ChatRequest)
	}{
		{"parallel calls of one function get one response each, in order", `{"contents":[
			{"role":"model","parts":[{"functionCall":{"name":"f","args":{"n":1}}},{"functionCall":{"name":"f","args":{"n":2}}}]},
			{"role":"user","parts":[{"functionResponse":{"name":"f","response":{"r":1}}},{"functionResponse":{"name":"f","response":{"r":2}}}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				calls := r.Messages[0].ToolCalls
				if len(calls) != 2 || r.Messages[1].ToolCallID != calls[0].ID || r.Messages[2].ToolCallID != calls[1].ID || calls[0].ID == calls[1].ID {
					t.Fatalf("%+v", r.Messages)
				}
			}},
		{"a response's own id wins", `{"contents":[
			{"role":"model","parts":[{"functionCall":{"id":"a","name":"f"}},{"functionCall":{"id":"b","name":"f"}}]},
			{"role":"user","parts":[{"functionResponse":{"id":"b","name":"f","response":{}}},{"functionResponse":{"name":"f","response":{}}}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if r.Messages[1].ToolCallID != "b" || r.Messages[2].ToolCallID != "a" {
					t.Fatalf("%+v", r.Messages)
				}
			}},
		{"text after the responses follows the tool messages", `{"contents":[
			{"role":"model","parts":[{"functionCall":{"name":"f"}}]},
			{"role":"user","parts":[{"functionResponse":{"name":"f","response":{}}},{"text":"and so?"}]}]}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if len(r.Messages) != 3 || r.Messages[1].Role != llm.RoleTool || r.Messages[2].Role != llm.RoleUser || r.Messages[2].Content != "and so?" {
					t.Fatalf("%+v", r.Messages)
				}
			}},
		{"ANY with several names keeps only those tools", `{"contents":[{"parts":[{"text":"x"}]}],
			"tools":[{"functionDeclarations":[{"name":"a"},{"name":"b"},{"name":"c"}]}],
			"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["a","c"]}}}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if r.ToolChoice.Mode != "required" || len(r.Tools) != 2 || r.Tools[0].Name != "a" || r.Tools[1].Name != "c" {
					t.Fatalf("%+v %+v", r.ToolChoice, r.Tools)
				}
			}},
		{"ANY with one name forces that function", `{"contents":[{"parts":[{"text":"x"}]}],
			"tools":[{"functionDeclarations":[{"name":"a"},{"name":"b"}]}],
			"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["b"]}}}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if r.ToolChoice.Function != "b" || len(r.Tools) != 2 {
					t.Fatalf("%+v %+v", r.ToolChoice, r.Tools)
				}
			}},
		{"proto (snake_case) names", `{"contents":[{"parts":[{"inline_data":{"mime_type":"image/jpeg","data":"AA"}}]}],
			"system_instruction":{"parts":[{"text":"s"}]},
			"tool_config":{"function_calling_config":{"mode":"ANY","allowed_function_names":["f"]}},
			"tools":[{"function_declarations":[{"name":"f","parameters_json_schema":{"type":"object","properties":{"q":{"type":"string"}}}}]}],
			"generation_config":{"max_output_tokens":9,"top_k":5,"stop_sequences":["x"],"response_mime_type":"application/json","thinking_config":{"thinking_budget":0}}}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if r.Messages[0].Content != "s" || r.Messages[1].Parts[0].ImageURL != "data:image/jpeg;base64,AA==" || r.ToolChoice.Function != "f" ||
					!strings.Contains(string(r.Tools[0].Parameters), `"q"`) || *r.MaxTokens != 9 || *r.TopK != 5 || r.Stop[0] != "x" ||
					r.ResponseFormat.Type != "json_object" || r.Thinking.Type != llm.ThinkingDisabled || r.ReasoningEffort != "minimal" {
					t.Fatalf("%+v", r)
				}
			}},
		{"thinking budget, dynamic and level", `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"thinkingConfig":{"thinkingBudget":-1,"thinkingLevel":"XHIGH"}}}`,
			func(t *testing.T, r *llm.ChatRequest) {
				if !reflect.DeepEqual(r.Thinking, &llm.Thinking{Type: llm.ThinkingAdaptive}) || r.ReasoningEffort != "high" {
					t.Fatalf("%+v %q", r.Thinking, r.ReasoningEffort)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decode([]byte(tc.body), "m")
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, r)
		})
	}
}

// Gemini counts thoughts apart from candidates: the domain's completion
// tokens (reasoning included) are split, never counted twice.
// Allowed names that declare nothing are the client's mistake, a 400.
func TestDecodeRefusesUndeclaredAllowedNames(t *testing.T) {
	_, err := decode([]byte(`{"contents":[{"parts":[{"text":"x"}]}],"tools":[{"functionDeclarations":[{"name":"a"}]}],
		"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["nope"]}}}`), "m")
	if llm.KindOf(err) != llm.KindInvalidRequest || !strings.Contains(err.Error(), "allowed_function_names") {
		t.Fatalf("err = %v", err)
	}
}

func TestUsageCountsThoughtsApart(t *testing.T) {
	u := usageOf(llm.Usage{PromptTokens: 120, CompletionTokens: 90, TotalTokens: 210, CachedTokens: 64, ReasoningTokens: 50})
	if u.CandidatesTokenCount != 40 || u.ThoughtsTokenCount != 50 || u.PromptTokenCount+u.CandidatesTokenCount+u.ThoughtsTokenCount != u.TotalTokenCount {
		t.Fatalf("%+v", u)
	}
}

func BenchmarkEncode(b *testing.B) {
	resp := &llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "Let me check.",
		ToolCalls: []llm.ToolCall{{ID: "call_a", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}}, FinishReason: llm.FinishToolCalls}},
		Usage: llm.Usage{PromptTokens: 120, CompletionTokens: 90, ReasoningTokens: 50}}
	b.ReportAllocs()
	for b.Loop() {
		_ = encodeAnswer(resp, "auto", "rid")
	}
}

func BenchmarkDecodeSDKBody(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "request_sdk_tools.json"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(body, "auto"); err != nil {
			b.Fatal(err)
		}
	}
}
