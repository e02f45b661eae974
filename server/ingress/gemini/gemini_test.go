package gemini

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		want       []llm.Message
		check      func(t *testing.T, r *llm.ChatRequest)
		errWant    string
	}{
		{name: "text, system instruction, model turn", body: `{"systemInstruction":{"parts":[{"text":"Be brief."}]},
			"contents":[{"role":"user","parts":[{"text":"Hi"},{"text":"there"}]},{"role":"model","parts":[{"text":"Hello"}]}]}`,
			want: []llm.Message{{Role: llm.RoleSystem, Content: "Be brief."}, {Role: llm.RoleUser, Content: "Hi\nthere"}, {Role: llm.RoleAssistant, Content: "Hello"}}},
		{name: "a call and its response matched by name", body: `{"contents":[{"role":"user","parts":[{"text":"weather?"}]},
			{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},
			{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"temp":21}}}]}]}`,
			want: []llm.Message{{Role: llm.RoleUser, Content: "weather?"},
				{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1_0", Type: "function", Name: "get_weather", Arguments: `{"city":"Paris"}`}}},
				{Role: llm.RoleTool, ToolCallID: "call_1_0", Name: "get_weather", Content: `{"temp":21}`}}},
		{name: "inline image", body: `{"contents":[{"parts":[{"text":"what"},{"inlineData":{"mimeType":"image/png","data":"AA"}}]}]}`,
			want: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "what"}, {Type: llm.PartImage, ImageURL: "data:image/png;base64,AA=="}}}}},
		{name: "thoughts are not sent back", body: `{"contents":[{"role":"model","parts":[{"text":"hm","thought":true},{"text":"Hi"}]}]}`,
			want: []llm.Message{{Role: llm.RoleAssistant, Content: "Hi"}}},
		{name: "settings, tools, forced call, schema", body: `{"contents":[{"parts":[{"text":"x"}]}],
			"tools":[{"functionDeclarations":[{"name":"f","description":"d","parameters":{"type":"OBJECT","properties":{"a":{"type":"STRING"}}}}]}],
			"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["f"]}},
			"generationConfig":{"temperature":0.2,"topP":0.8,"topK":3,"maxOutputTokens":50,"stopSequences":["END"],"candidateCount":1,"seed":7,
				"responseMimeType":"application/json","responseSchema":{"type":"OBJECT"},"thinkingConfig":{"thinkingBudget":1024}}}`,
			want: []llm.Message{{Role: llm.RoleUser, Content: "x"}},
			check: func(t *testing.T, r *llm.ChatRequest) {
				if *r.Temperature != 0.2 || *r.TopP != 0.8 || *r.MaxTokens != 50 || r.Stop[0] != "END" || *r.N != 1 || *r.Seed != 7 ||
					r.ToolChoice.Function != "f" || r.ResponseFormat.Type != "json_schema" || string(r.ResponseFormat.Schema) != `{"type":"object"}` ||
					r.ReasoningEffort != "low" || len(r.Tools) != 1 || !strings.Contains(string(r.Tools[0].Parameters), `"string"`) {
					t.Fatalf("%+v %+v", r, r.Tools)
				}
			}},
		{name: "countTokens wrapping", body: `{"generateContentRequest":{"contents":[{"parts":[{"text":"x"}]}]}}`,
			want: []llm.Message{{Role: llm.RoleUser, Content: "x"}}},
		{name: "mode NONE", body: `{"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"NONE"}}}`,
			want: []llm.Message{{Role: llm.RoleUser, Content: "x"}},
			check: func(t *testing.T, r *llm.ChatRequest) {
				if r.ToolChoice == nil || r.ToolChoice.Mode != "none" {
					t.Fatal(r.ToolChoice)
				}
			}},
		{name: "no contents", body: `{}`, errWant: "contents is not specified"},
		{name: "bad role", body: `{"contents":[{"role":"assistant","parts":[{"text":"x"}]}]}`, errWant: "valid role"},
		{name: "bad mode", body: `{"contents":[{"parts":[{"text":"x"}]}],"toolConfig":{"functionCallingConfig":{"mode":"SOMETIMES"}}}`, errWant: "mode"},
		{name: "audio, documents inline and by URI, an image by URI", body: `{"contents":[{"parts":[
			{"inlineData":{"mimeType":"audio/wav","data":"UklG"}},{"inline_data":{"mime_type":"audio/mpeg","data":"SUQz"}},
			{"inlineData":{"mimeType":"application/pdf","data":"JVBE"}},
			{"fileData":{"mimeType":"application/pdf","fileUri":"https://generativelanguage.googleapis.com/v1beta/files/f1"}},
			{"fileData":{"mimeType":"image/jpeg","fileUri":"https://example.com/a.jpg"}}]}]}`,
			want: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklG", Format: "wav"}},
				{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "SUQz", Format: "mp3"}},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBE", MIMEType: "application/pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{URL: "https://generativelanguage.googleapis.com/v1beta/files/f1", MIMEType: "application/pdf"}},
				{Type: llm.PartImage, ImageURL: "https://example.com/a.jpg"},
			}}}},
		{name: "a signed call keeps its signature, tagged", body: `{"contents":[{"role":"model","parts":[
			{"functionCall":{"name":"f","args":{}},"thoughtSignature":"c2ln"},{"functionCall":{"name":"g","args":{}}}]}]}`,
			want: []llm.Message{{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{ID: "call_0_0", Type: "function", Name: "f", Arguments: "{}", Signature: "gemini:c2ln"},
				{Index: 1, ID: "call_0_1", Type: "function", Name: "g", Arguments: "{}"}}}}},
		{name: "logprobs", body: `{"contents":[{"parts":[{"text":"x"}]}],"generationConfig":{"responseLogprobs":true,"logprobs":3}}`,
			want: []llm.Message{{Role: llm.RoleUser, Content: "x"}},
			check: func(t *testing.T, r *llm.ChatRequest) {
				if r.Logprobs == nil || !*r.Logprobs || r.TopLogprobs == nil || *r.TopLogprobs != 3 {
					t.Fatalf("logprobs %v top %v", r.Logprobs, r.TopLogprobs)
				}
			}},
		{name: "inline data without a type", body: `{"contents":[{"parts":[{"inlineData":{"data":"AA"}}]}]}`, errWant: "inlineData needs mimeType"},
		{name: "file data without a URI", body: `{"contents":[{"parts":[{"fileData":{"mimeType":"application/pdf"}}]}]}`, errWant: "fileData needs fileUri"},
		{name: "not JSON", body: `{`, errWant: "Invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := decode([]byte(tc.body), "m")
			if tc.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errWant) || llm.KindOf(err) != llm.KindInvalidRequest {
					t.Fatalf("err = %v, want an invalid request about %q", err, tc.errWant)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if r.Model != "m" || !reflect.DeepEqual(r.Messages, tc.want) {
				t.Fatalf("messages\n got %+v\nwant %+v", r.Messages, tc.want)
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// A stream's text goes out as it comes; tool calls, gathered, go whole in
// the last event with the finish reason and usage.
func TestStreamEncoder(t *testing.T) {
	e := newEncoder("auto", "rid")
	var evs []string
	for _, c := range []llm.Chunk{
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "Hel"}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "c1", Name: "f", Arguments: `{"a":`}}}}}},
		{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `1}`}}}}}},
		{Choices: []llm.ChunkChoice{{FinishReason: llm.FinishToolCalls}}, Usage: &llm.Usage{PromptTokens: 2, CompletionTokens: 3}},
	} {
		if b := e.chunk(c); b != nil {
			evs = append(evs, string(b))
		}
	}
	evs = append(evs, string(e.finish()))
	want := []string{
		`{"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]},"index":0}],"modelVersion":"auto","responseId":"rid"}`,
		`{"candidates":[{"content":{"role":"model","parts":[{"functionCall":{"id":"c1","name":"f","args":{"a":1}}}]},"finishReason":"STOP","index":0}],` +
			`"usageMetadata":{"promptTokenCount":2,"candidatesTokenCount":3,"totalTokenCount":5},"modelVersion":"auto","responseId":"rid"}`,
	}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("events\n%s\nwant\n%s", strings.Join(evs, "\n"), strings.Join(want, "\n"))
	}
}

func TestErrorShape(t *testing.T) {
	for _, tc := range []struct {
		err    error
		code   int
		status string
	}{
		{&llm.Error{Kind: llm.KindNotFound, Message: "no"}, 404, "NOT_FOUND"},
		{&llm.Error{Kind: llm.KindRateLimited, Message: "slow"}, 429, "RESOURCE_EXHAUSTED"},
		{&llm.Error{Kind: llm.KindUnauthenticated, Message: "key"}, 401, "UNAUTHENTICATED"},
		{&llm.Error{Kind: llm.KindInvalidRequest, Message: "bad"}, 400, "INVALID_ARGUMENT"},
		{fmt.Errorf("read body: %w", &http.MaxBytesError{Limit: 10}), 413, "INVALID_ARGUMENT"},
	} {
		var e struct {
			Error struct {
				Code    int
				Message string
				Status  string
			}
		}
		if err := json.Unmarshal(errorBody(tc.err), &e); err != nil || e.Error.Code != tc.code || e.Error.Status != tc.status || e.Error.Message == "" {
			t.Errorf("%v: %+v", tc.err, e)
		}
	}
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"systemInstruction":{"parts":[{"text":"You are a coding agent."}]},"contents":[{"role":"user","parts":[{"text":"Read notes.txt"}]},
		{"role":"model","parts":[{"functionCall":{"name":"read_file","args":{"absolute_path":"/tmp/notes.txt"}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"read_file","response":{"output":"switchyard notes"}}}]}],
		"tools":[{"functionDeclarations":[{"name":"read_file","description":"Reads a file","parametersJsonSchema":{"type":"object","properties":{"absolute_path":{"type":"string"}}}}]}],
		"generationConfig":{"temperature":0,"maxOutputTokens":1024}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decode(body, "auto"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAnswer(b *testing.B) {
	resp := &llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: strings.Repeat("word ", 100)}, FinishReason: llm.FinishStop}},
		Usage: llm.Usage{PromptTokens: 30, CompletionTokens: 100}}
	b.ReportAllocs()
	for b.Loop() {
		_ = encodeAnswer(resp, "auto", "rid")
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	e := newEncoder("auto", "rid")
	c := llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "word "}}}}
	b.ReportAllocs()
	for b.Loop() {
		_ = e.chunk(c)
	}
}

func TestDecodeRefusesAnOversizedPart(t *testing.T) {
	body := `{"contents":[{"parts":[{"inlineData":{"mimeType":"application/pdf","data":"` + strings.Repeat("A", MaxPartBytes/3*4+8) + `"}}]}]}`
	_, err := decode([]byte(body), "m")
	if llm.KindOf(err) != llm.KindInvalidRequest || !strings.Contains(err.Error(), "contents[0].parts[0].inlineData") || !strings.Contains(err.Error(), "limit per part") {
		t.Fatalf("err = %v, want an invalid request naming the part and the limit", err)
	}
}

func TestStdBase64(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"AA==", "AA=="},
		{"AA", "AA=="},
		{"-_8", "+/8="},
		{"JVBERi0xLjQK", "JVBERi0xLjQK"},
		{"a-b_cd", "a+b/cd=="},
	} {
		if got := stdBase64(c.in); got != c.want {
			t.Errorf("stdBase64(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}
