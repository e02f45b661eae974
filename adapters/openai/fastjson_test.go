package openai

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// trickyStrings exercise every escape encoding/json applies.
var trickyStrings = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "ünïcødé 日本語 🎉", "line\u2028para\u2029end", "bad \xff\xfe utf8", "\xe2\x80",
	"mixed <\u2028> \xff \"", strings.Repeat("long ", 300),
}

func TestAppendFastMatchesEncodingJSON(t *testing.T) {
	floats := []float64{0, 1, -1, 0.7, 1e-7, 1.5e-9, 123456789, 1e21, 1e20, -2.5e-7, math.SmallestNonzeroFloat64, math.MaxFloat64, 0.1 + 0.2}
	tests := []struct {
		name string
		w    wireRequest
	}{
		{"minimal", wireRequest{Model: "gpt-4o-mini", Messages: []wireMessage{{Role: "user", Content: "Hi"}}}},
		{"null content and optional message fields", wireRequest{Model: "m", Messages: []wireMessage{
			{Role: "system", Content: "Be brief.", Name: "sys"},
			{Role: "assistant", Content: nil, Refusal: "no"},
			{Role: "tool", Content: `{"ok":true}`, ToolCallID: "call_1"},
		}}},
		{"every scalar option", wireRequest{Model: "m", Messages: []wireMessage{{Role: "user", Content: "x"}},
			Temperature: ptr(0.7), TopP: ptr(1.0), MaxCompletionTokens: ptr(256), MaxTokens: ptr(100), N: ptr(2),
			Stop: []string{"\n", "END"}, Seed: ptr(int64(-42)), PresencePenalty: ptr(-0.5), FrequencyPenalty: ptr(2.0),
			User: "u-1", ParallelToolCalls: ptr(false), Logprobs: ptr(true), TopLogprobs: ptr(5), ReasoningEffort: "low",
			Stream: true, StreamOptions: &wireStreamOptions{IncludeUsage: true}}},
		{"stream options false", wireRequest{Model: "m", Messages: []wireMessage{{Role: "user", Content: "x"}},
			StreamOptions: &wireStreamOptions{}}},
	}
	for i, s := range trickyStrings {
		tests = append(tests, struct {
			name string
			w    wireRequest
		}{"string " + string(rune('a'+i)), wireRequest{Model: s, User: s, Stop: []string{s},
			Messages: []wireMessage{{Role: "user", Content: s, Name: s}}}})
	}
	for i, f := range floats {
		tests = append(tests, struct {
			name string
			w    wireRequest
		}{"float " + string(rune('a'+i)), wireRequest{Model: "m", Messages: []wireMessage{{Role: "user", Content: "x"}},
			Temperature: ptr(f), TopP: ptr(-f)}})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := json.Marshal(&tt.w)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := tt.w.appendFast(nil)
			if !ok {
				t.Fatal("appendFast declined a request it should encode")
			}
			if string(got) != string(want) {
				t.Errorf("appendFast:\n got %s\nwant %s", got, want)
			}
		})
	}
}

func TestAppendFastMatchesRandomStrings(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "Z", " ", "\"", "\\", "<", ">", "&", "\n", "\t", "\x00", "\x1f", "\x7f", "é", "日", "🎉", "\u2028", "\u2029", "\xff", "\xc3"}
	for i := range 2000 {
		var sb strings.Builder
		for range rng.IntN(20) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		w := wireRequest{Model: "m", Messages: []wireMessage{{Role: "user", Content: sb.String()}}}
		want, _ := json.Marshal(&w)
		got, _ := w.appendFast(nil)
		if string(got) != string(want) {
			t.Fatalf("case %d %q:\n got %s\nwant %s", i, sb.String(), got, want)
		}
	}
}

func TestAppendFastDeclinesRareShapes(t *testing.T) {
	base := func() wireRequest {
		return wireRequest{Model: "m", Messages: []wireMessage{{Role: "user", Content: "x"}}}
	}
	tests := []struct {
		name   string
		modify func(*wireRequest)
	}{
		{"tools", func(w *wireRequest) { w.Tools = []wireTool{{Type: "function"}} }},
		{"tool choice", func(w *wireRequest) { w.ToolChoice = "auto" }},
		{"response format", func(w *wireRequest) { w.ResponseFormat = &wireRespFormat{Type: "json_object"} }},
		{"metadata", func(w *wireRequest) { w.Metadata = map[string]string{"k": "v"} }},
		{"logit bias", func(w *wireRequest) { w.LogitBias = map[string]float64{"1": 1} }},
		{"parts", func(w *wireRequest) { w.Messages[0].Content = []wirePart{{Type: "text", Text: ptr("x")}} }},
		{"tool calls", func(w *wireRequest) { w.Messages[0].ToolCalls = []wireToolCall{{ID: "c"}} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := base()
			tt.modify(&w)
			if _, ok := w.appendFast(nil); ok {
				t.Error("appendFast encoded a shape it leaves to encoding/json")
			}
		})
	}
}

func BenchmarkEncodeChatSimple(b *testing.B) {
	req := &llm.ChatRequest{Model: "gpt-4o-mini", Temperature: ptr(0.2), Messages: []llm.Message{
		{Role: llm.RoleSystem, Content: "You are a helpful assistant."},
		{Role: llm.RoleUser, Content: "Say hello in a few words."},
	}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeChat(req, false, false); err != nil {
			b.Fatal(err)
		}
	}
}

// decodeSlow is decodeChatResponse's encoding/json path, for comparison.
func decodeSlow(data []byte) (wireResponse, error) {
	var w wireResponse
	err := json.Unmarshal(data, &w)
	return w, err
}

var responseShapes = []string{
	`{"id":"a","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","refusal":null,"annotations":[]},"logprobs":null,"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3,"prompt_tokens_details":{"cached_tokens":1,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0}},"system_fingerprint":null,"service_tier":"default"}`,
	`{"id":"a","choices":[{"index":1,"message":{"role":null,"content":null,"reasoning_content":"think","reasoning":"r"},"finish_reason":null}],"usage":{"prompt_cache_hit_tokens":5}}`,
	`{"choices":[],"usage":null}`,
	`{"choices":null}`,
	` { "id" : "sp aced" , "choices" : [ { "message" : { "content" : "esc \" \\ \n \u00e9 \ud83c\udf89" } } ] } `,
	`{"ID":"case-insensitive key","choices":[{"message":{"content":"x"}}]}`,
	`{"choices":[{"message":{"Content":"x"}}]}`,
	`{"choices":[{"message":{"content":[{"type":"text","text":"parts"}]}}]}`,
	`{"choices":[{"message":{"content":"x","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}`,
	`{"choices":[{"message":{"content":"x","tool_calls":[]}}]}`,
	`{"error":{"message":"bad","type":"invalid_request_error","code":null}}`,
	`{"error":null,"choices":[{"message":{"content":"x"}}]}`,
	`{"created":1.5,"choices":[]}`,
	`{"created":"1","choices":[]}`,
	`{"created":99999999999999999999,"choices":[]}`,
	`{"created":-0,"choices":[]}`,
	`{"choices":[{"index":-3,"message":{"content":5}}]}`,
	`{"choices":[{"finish_reason":7}]}`,
	`{"choices":[null]}`,
	`{"choices":[{"message":null}]}`,
	`{"id":"dup","id":"last","choices":[{"message":{"content":"a"}},{"message":{"content":"b"}}]}`,
	`{"x\u0041":1,"choices":[]}`,
	`{"unknown":{"deep":[1,{"a":"]}"}],"s":"}"},"choices":[{"message":{"content":"ok"}}]}`,
	`{"unknown":tru,"choices":[]}`,
	`{"choices":[]} trailing`,
	`{"choices":[{"message":{"content":"bad \xff utf8"}}]}`,
	`{"id":"\u2028"}`,
	`[]`, `null`, ``, `{`, `{"choices":[{"message":{"content":"x"}]}`,
}

func TestDecodeFastAgreesWithEncodingJSON(t *testing.T) {
	inputs := append([]string{}, responseShapes...)
	for _, f := range []string{"response_unary.json", "response_deepseek.json", "response_refusal.json", "response_tool_calls.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	fast := 0
	for i, in := range inputs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			want, werr := decodeSlow([]byte(in))
			var got wireResponse
			if !got.decodeFast([]byte(in)) {
				return // encoding/json decides
			}
			fast++
			if werr != nil {
				t.Fatalf("fast path accepted %q, encoding/json says %v", in, werr)
			}
			if !reflect.DeepEqual(got.toComparable(), want.toComparable()) {
				t.Errorf("%q:\n fast %+v\n slow %+v", in, got.toComparable(), want.toComparable())
			}
		})
	}
	if fast < 8 {
		t.Errorf("only %d inputs took the fast path; it is meant for the common shapes", fast)
	}
}

// toComparable is what decodeChatResponse reads from a wireResponse.
func (w *wireResponse) toComparable() any {
	type choice struct {
		Index        int
		Message      llm.Message
		FinishReason string
	}
	cs := make([]choice, len(w.Choices))
	for i := range w.Choices {
		c := &w.Choices[i]
		cs[i] = choice{c.Index, c.Message.toLLM(false), c.FinishReason.get()}
	}
	return struct {
		ID, Model, Fingerprint string
		Created                int64
		Choices                []choice
		Usage                  llm.Usage
		Err                    bool
	}{w.ID, w.Model, w.SystemFingerprint, w.Created, cs, w.Usage.toLLM(), w.Error != nil}
}

func FuzzDecodeFast(f *testing.F) {
	for _, s := range responseShapes {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var got wireResponse
		if !got.decodeFast(data) {
			return
		}
		want, err := decodeSlow(data)
		if err != nil {
			t.Fatalf("fast path accepted %q, encoding/json says %v", data, err)
		}
		if !reflect.DeepEqual(got.toComparable(), want.toComparable()) {
			t.Fatalf("%q:\n fast %+v\n slow %+v", data, got.toComparable(), want.toComparable())
		}
	})
}

// BenchmarkDecodeChatResponseEncodingJSON is the fallback path on the same
// fixture as BenchmarkDecodeChatResponse, to keep the gap visible.
func BenchmarkDecodeChatResponseEncodingJSON(b *testing.B) {
	data := readFixture(b, "response_unary.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeSlow(data); err != nil {
			b.Fatal(err)
		}
	}
}
