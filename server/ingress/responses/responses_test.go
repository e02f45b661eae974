package responses

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestDecode(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name    string
		body    string
		want    []llm.Message
		check   func(t *testing.T, p *parsed)
		errWant string // substring of the error; "" = no error
	}{
		{name: "string input and instructions", body: `{"model":"m","input":"hi","instructions":"be brief"}`,
			want: []llm.Message{{Role: llm.RoleSystem, Content: "be brief"}, {Role: llm.RoleUser, Content: "hi"}}},
		{name: "items: messages, a call, its output, reasoning", body: `{"model":"m","input":[
			{"role":"developer","content":"rules"},
			{"type":"message","role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_text","text":"b"}]},
			{"type":"reasoning","id":"rs_1","summary":[{"type":"summary_text","text":"thinking"}],"encrypted_content":"opaque"},
			{"type":"function_call","call_id":"c1","name":"f","arguments":"{\"x\":1}"},
			{"type":"function_call","call_id":"c2","name":"g","arguments":""},
			{"type":"function_call_output","call_id":"c1","output":"one"},
			{"type":"function_call_output","call_id":"c2","output":[{"type":"input_text","text":"two"}]}]}`,
			want: []llm.Message{
				{Role: llm.RoleDeveloper, Content: "rules"},
				{Role: llm.RoleUser, Content: "a\nb"},
				{Role: llm.RoleAssistant, ReasoningContent: "thinking", ToolCalls: []llm.ToolCall{
					{Index: 0, ID: "c1", Type: "function", Name: "f", Arguments: `{"x":1}`},
					{Index: 1, ID: "c2", Type: "function", Name: "g", Arguments: "{}"}}},
				{Role: llm.RoleTool, ToolCallID: "c1", Content: "one"},
				{Role: llm.RoleTool, ToolCallID: "c2", Content: "two"}}},
		{name: "assistant text then its call join one turn", body: `{"model":"m","input":[
			{"role":"assistant","content":[{"type":"output_text","text":"let me look"}]},
			{"type":"function_call","call_id":"c1","name":"f","arguments":"{}"}]}`,
			want: []llm.Message{{Role: llm.RoleAssistant, Content: "let me look", ToolCalls: []llm.ToolCall{{ID: "c1", Type: "function", Name: "f", Arguments: "{}"}}}}},
		{name: "image part", body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"what"},{"type":"input_image","image_url":"data:image/png;base64,AA","detail":"low"}]}]}`,
			want: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "what"}, {Type: llm.PartImage, ImageURL: "data:image/png;base64,AA", ImageDetail: "low"}}}}},
		{name: "file and audio parts", body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":"read"},
			{"type":"input_file","filename":"r.pdf","file_data":"data:application/pdf;base64,JVBERi0x"},
			{"type":"input_file","filename":"notes.txt","file_data":"aGk="},
			{"type":"input_file","file_url":"https://example.com/a.pdf"},
			{"type":"input_file","file_id":"file-abc"},
			{"type":"input_audio","input_audio":{"data":"UklG","format":"wav"}}]}]}`,
			want: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "read"},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0x", MIMEType: "application/pdf", Filename: "r.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{Data: "aGk=", MIMEType: "text/plain", Filename: "notes.txt"}},
				{Type: llm.PartFile, File: &llm.FilePart{URL: "https://example.com/a.pdf"}},
				{Type: llm.PartFile, File: &llm.FilePart{FileID: "file-abc"}},
				{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: "UklG", Format: "wav"}}}}}},
		{name: "file data of no known type", body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_data":"aGk="}]}]}`, errWant: "input[0].content[0].file_data"},
		{name: "empty file", body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_file","filename":"a.pdf"}]}]}`, errWant: "input_file needs"},
		{name: "audio without format", body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_audio","input_audio":{"data":"UklG"}}]}]}`, errWant: "input[0].content[0].input_audio"},
		{name: "custom tool call comes back as a function with one string", body: `{"model":"m","input":[
			{"type":"custom_tool_call","call_id":"c1","name":"apply_patch","input":"*** Begin Patch"},
			{"type":"custom_tool_call_output","call_id":"c1","output":"done"}],
			"tools":[{"type":"custom","name":"apply_patch","description":"patch"}]}`,
			want: []llm.Message{{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "c1", Type: "function", Name: "apply_patch", Arguments: `{"input":"*** Begin Patch"}`}}},
				{Role: llm.RoleTool, ToolCallID: "c1", Content: "done"}},
			check: func(t *testing.T, p *parsed) {
				if len(p.req.Tools) != 1 || !strings.Contains(string(p.req.Tools[0].Parameters), `"input"`) || !p.kinds["apply_patch"].custom {
					t.Fatalf("custom tool: %+v %+v", p.req.Tools, p.kinds)
				}
			}},
		{name: "settings", body: `{"model":"m","input":"x","max_output_tokens":9,"temperature":0.5,"top_p":0.9,"parallel_tool_calls":false,
			"reasoning":{"effort":"high","summary":"auto"},"text":{"format":{"type":"json_schema","name":"s","schema":{"type":"object"},"strict":true}},
			"metadata":{"k":"v"},"safety_identifier":"u1","store":false,
			"tools":[{"type":"function","name":"f","parameters":{"type":"object"}},{"type":"web_search"},
				{"type":"namespace","name":"ns","tools":[{"type":"function","name":"inner"}]}],"tool_choice":{"type":"function","name":"f"}}`,
			want: []llm.Message{{Role: llm.RoleUser, Content: "x"}},
			check: func(t *testing.T, p *parsed) {
				r := p.req
				if *r.MaxTokens != 9 || *r.Temperature != 0.5 || *r.TopP != 0.9 || *r.ParallelToolCalls || r.ReasoningEffort != "high" ||
					r.ResponseFormat.Type != "json_schema" || r.ResponseFormat.SchemaName != "s" || *r.ResponseFormat.Strict != yes ||
					r.Metadata["k"] != "v" || r.User != "u1" || p.store || r.ToolChoice.Function != "f" || !r.IncludeUsage {
					t.Fatalf("settings: %+v", r)
				}
				if len(r.Tools) != 2 || r.Tools[1].Name != "inner" || p.kinds["inner"].namespace != "ns" || !reflect.DeepEqual(p.dropped, []string{"web_search"}) {
					t.Fatalf("tools %+v kinds %+v dropped %v", r.Tools, p.kinds, p.dropped)
				}
			}},
		{name: "store defaults to true", body: `{"model":"m","input":"x"}`, want: []llm.Message{{Role: llm.RoleUser, Content: "x"}},
			check: func(t *testing.T, p *parsed) {
				if !p.store {
					t.Fatal("store should default to true, as OpenAI's")
				}
			}},
		{name: "no model", body: `{"input":"x"}`, errWant: "'model'"},
		{name: "no input", body: `{"model":"m"}`, errWant: "'input'"},
		{name: "bad role", body: `{"model":"m","input":[{"role":"robot","content":"x"}]}`, errWant: "input[0].role"},
		{name: "unknown item", body: `{"model":"m","input":[{"type":"item_reference","id":"x"}]}`, errWant: `"item_reference"`},
		{name: "file_id image", body: `{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}`, errWant: "file_id"},
		{name: "background", body: `{"model":"m","input":"x","background":true}`, errWant: "background"},
		{name: "bad tool choice", body: `{"model":"m","input":"x","tool_choice":"sometimes"}`, errWant: "tool_choice"},
		{name: "schema missing", body: `{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"s"}}}`, errWant: "schema"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := decode([]byte(tc.body))
			if err == nil {
				p.req.Messages, err = conversation(p.in.Instructions, p.items)
			}
			if tc.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errWant) || llm.KindOf(err) != llm.KindInvalidRequest {
					t.Fatalf("err = %v, want an invalid request naming %s", err, tc.errWant)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.req.Messages, tc.want) {
				t.Fatalf("messages\n got %+v\nwant %+v", p.req.Messages, tc.want)
			}
			if tc.check != nil {
				tc.check(t, p)
			}
		})
	}
}

// ids are random; goldens compare everything else.
var idPattern = regexp.MustCompile(`"(resp|msg|fc|rs|call|ctc)_[0-9a-f]{48}(?:[0-9a-f]{8})?"`)

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	got = idPattern.ReplaceAll(got, []byte(`"${1}_ID"`))
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if string(got) != string(want) {
		t.Fatalf("%s differs (go test -update rewrites it)\n got %s\nwant %s", name, got, want)
	}
}

func parsedFor(t testing.TB, body string) *parsed {
	p, err := decode([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A unary answer with reasoning, text and a call, in OpenAI's shape.
func TestEncodeResponseGolden(t *testing.T) {
	p := parsedFor(t, `{"model":"auto","input":"hi","tools":[{"type":"function","name":"f","parameters":{"type":"object"}}]}`)
	o := newObject(p, newID("resp_"), 1700000000)
	o.finish(outputOf(llm.Message{Role: llm.RoleAssistant, Content: "Hello", ReasoningContent: "hm",
		ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "f", Arguments: `{"a":1}`}}}, p.kinds, o.ID), llm.Usage{PromptTokens: 3, CompletionTokens: 5, CachedTokens: 1}, llm.FinishToolCalls)
	b, _ := json.MarshalIndent(o, "", "  ")
	golden(t, "response.json", b)
}

// The stream's whole event sequence for reasoning, text, two interleaved
// calls and a cut-off answer.
func TestEncodeStreamGolden(t *testing.T) {
	p := parsedFor(t, `{"model":"auto","input":"hi","stream":true,"tools":[{"type":"function","name":"f"},{"type":"custom","name":"patch"}]}`)
	enc := newEncoder(newObject(p, newID("resp_"), 1700000000), p.kinds)
	delta := func(m llm.Message, finish string) llm.Chunk {
		return llm.Chunk{Choices: []llm.ChunkChoice{{Delta: m, FinishReason: finish}}}
	}
	var out []byte
	add := func(evs []*event) {
		for _, e := range evs {
			out = append(out, e.frame()...)
		}
	}
	add(enc.start())
	for _, c := range []llm.Chunk{
		delta(llm.Message{ReasoningContent: "hm"}, ""),
		delta(llm.Message{Content: "Hel"}, ""),
		delta(llm.Message{Content: "lo"}, ""),
		delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "call_1", Name: "f", Arguments: `{"a":`}}}, ""),
		delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 1, ID: "call_2", Name: "patch", Arguments: `{"input":"*** Begin"}`}}}, ""),
		delta(llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `1}`}}}, ""),
		{Choices: []llm.ChunkChoice{{FinishReason: llm.FinishLength}}, Usage: &llm.Usage{PromptTokens: 2, CompletionTokens: 4}},
	} {
		add(enc.chunk(c))
	}
	add(enc.finish())
	golden(t, "stream.sse", out)
}

func BenchmarkDecode(b *testing.B) {
	body := []byte(`{"model":"auto","instructions":"be brief","input":[{"role":"user","content":[{"type":"input_text","text":"What is the weather in Paris today?"}]},
		{"type":"function_call","call_id":"c1","name":"get_weather","arguments":"{\"city\":\"Paris\"}"},{"type":"function_call_output","call_id":"c1","output":"sunny"}],
		"tools":[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}}}}],"stream":true}`)
	b.ReportAllocs()
	for b.Loop() {
		p, err := decode(body)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := conversation(p.in.Instructions, p.items); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeResponse(b *testing.B) {
	p := parsedFor(b, `{"model":"auto","input":"hi"}`)
	m := llm.Message{Role: llm.RoleAssistant, Content: strings.Repeat("word ", 100)}
	b.ReportAllocs()
	for b.Loop() {
		o := newObject(p, newID("resp_"), 1700000000)
		o.finish(outputOf(m, nil, o.ID), llm.Usage{PromptTokens: 3, CompletionTokens: 100}, llm.FinishStop)
		_ = raw(o)
	}
}

func BenchmarkStreamEvent(b *testing.B) {
	p := parsedFor(b, `{"model":"auto","input":"hi","stream":true}`)
	enc := newEncoder(newObject(p, newID("resp_"), 1700000000), nil)
	enc.start()
	c := llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "word "}}}}
	enc.chunk(c)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range enc.chunk(c) {
			_ = e.frame()
		}
	}
}
