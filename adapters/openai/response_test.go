package openai

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeChatResponseGolden(t *testing.T) {
	tests := []struct {
		fixture string
		want    *llm.ChatResponse
	}{
		{"response_unary.json", &llm.ChatResponse{
			ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Created: 1741569952, Model: "o4-mini-2025-04-16",
			SystemFingerprint: "fp_b3f1157249",
			Choices: []llm.Choice{{Index: 0, FinishReason: llm.FinishStop, Message: llm.Message{
				Role: llm.RoleAssistant, Content: "Hello! How can I assist you today?\n\nI can \"quote\" things, too."}}},
			Usage: llm.Usage{PromptTokens: 2006, CompletionTokens: 300, TotalTokens: 2306, CachedTokens: 1920, ReasoningTokens: 192},
		}},
		{"response_tool_calls.json", &llm.ChatResponse{
			ID: "chatcmpl-BkWOrQ1Bo0gW6ozD4dfTlbmPZgFCL", Created: 1750356665, Model: "gpt-4.1-2025-04-14",
			SystemFingerprint: "fp_51e1070cf2",
			Choices: []llm.Choice{{Index: 0, FinishReason: llm.FinishToolCalls, Message: llm.Message{
				Role: llm.RoleAssistant,
				ToolCalls: []llm.ToolCall{
					{Index: 0, ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Type: "function", Name: "get_weather", Arguments: `{"location":"Paris, France"}`},
					{Index: 1, ID: "call_ABCDEFGHIJKLMNOPQRSTUVWX", Type: "function", Name: "get_weather", Arguments: `{"location":"Bogotá, Colombia"}`},
				}}}},
			Usage: llm.Usage{PromptTokens: 66, CompletionTokens: 48, TotalTokens: 114},
		}},
		{"response_refusal.json", &llm.ChatResponse{
			ID: "chatcmpl-9nYAG9LPNonX8DAyrkwYfemr3C8HC", Created: 1721596428, Model: "gpt-4o-2024-08-06",
			SystemFingerprint: "fp_3407719c7f",
			Choices: []llm.Choice{{FinishReason: llm.FinishStop, Message: llm.Message{
				Role: llm.RoleAssistant, Refusal: "I'm sorry, I cannot assist with that request."}}},
			Usage: llm.Usage{PromptTokens: 81, CompletionTokens: 11, TotalTokens: 92},
		}},
		{"response_deepseek.json", &llm.ChatResponse{
			ID: "930c60df-bf64-41c9-a88e-3ec75f81e00e", Created: 1738040000, Model: "deepseek-reasoner",
			SystemFingerprint: "fp_7e73fd9a08",
			Choices: []llm.Choice{{FinishReason: llm.FinishStop, Message: llm.Message{
				Role: llm.RoleAssistant, Content: "9.11 is smaller than 9.8.",
				ReasoningContent: "Compare the tenths: 1 < 8, so 9.11 < 9.8."}}},
			// DeepSeek reports cache hits in its own field.
			Usage: llm.Usage{PromptTokens: 20, CompletionTokens: 150, TotalTokens: 170, CachedTokens: 16, ReasoningTokens: 131},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := decodeChatResponse(readFixture(t, tt.fixture))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("decoded\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestDecodeChatResponseVariants(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    llm.Message
		usage   llm.Usage
		wantErr bool
	}{
		{name: "content as parts array (Mistral-style)",
			body: `{"choices":[{"message":{"role":"assistant","content":[{"type":"text","text":"a"},{"type":"thinking","text":"x"},{"type":"text","text":"b"}]}}]}`,
			want: llm.Message{Role: llm.RoleAssistant, Content: "ab"}},
		{name: "reasoning field (OpenRouter)",
			body: `{"choices":[{"message":{"content":"ok","reasoning":"because"}}]}`,
			want: llm.Message{Role: llm.RoleAssistant, Content: "ok", ReasoningContent: "because"}},
		{name: "total computed when missing",
			body:  `{"choices":[{"message":{"role":"assistant","content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":4}}`,
			want:  llm.Message{Role: llm.RoleAssistant, Content: "x"},
			usage: llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}},
		{name: "escaped and non-ASCII content",
			body: `{"choices":[{"message":{"role":"assistant","content":"caf\u00e9 \ud83d\ude00 ü \"q\""}}]}`,
			want: llm.Message{Role: llm.RoleAssistant, Content: "café 😀 ü \"q\""}},
		{name: "no choices", body: `{"id":"x","choices":[]}`, wantErr: true},
		{name: "not JSON", body: `<html>`, wantErr: true},
		{name: "content of a wrong type", body: `{"choices":[{"message":{"content":5}}]}`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeChatResponse([]byte(tt.body))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("want error, got %+v", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got.Choices[0].Message, tt.want) {
				t.Errorf("message %+v, want %+v", got.Choices[0].Message, tt.want)
			}
			if tt.usage != (llm.Usage{}) && got.Usage != tt.usage {
				t.Errorf("usage %+v, want %+v", got.Usage, tt.usage)
			}
		})
	}
}

func TestDecodeChatResponseErrorWith200(t *testing.T) {
	_, err := decodeChatResponse([]byte(`{"error":{"message":"model overloaded","type":"overloaded_error","code":null}}`))
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v, want *llm.UpstreamError", err)
	}
	if ue.Status != 529 || ue.Message != "model overloaded" || !ue.Retryable() {
		t.Fatalf("got %+v", ue)
	}
}

func TestDecodeEmbedding(t *testing.T) {
	got, err := decodeEmbedding(readFixture(t, "embeddings_response.json"), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.EmbeddingResponse{
		Model:   "text-embedding-3-small",
		Vectors: [][]float32{{0.0023064255, -0.009327292, -0.0028842222}, {0.25, -0.5, 0.125}},
		Usage:   llm.Usage{PromptTokens: 8, TotalTokens: 8},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}

	// 0.25, -0.5 as little-endian float32, base64: what a server sends when
	// it ignores encoding_format.
	b64, err := decodeEmbedding([]byte(`{"data":[{"index":0,"embedding":"AACAPgAAAL8="}]}`), 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(b64.Vectors, [][]float32{{0.25, -0.5}}) {
		t.Fatalf("base64 vectors %v", b64.Vectors)
	}

	for name, body := range map[string]string{
		"fewer vectors than inputs": `{"data":[{"index":0,"embedding":[1]}]}`,
		"index out of range":        `{"data":[{"index":0,"embedding":[1]},{"index":2,"embedding":[1]}]}`,
		"repeated index":            `{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[1]}]}`,
		"bad base64":                `{"data":[{"index":0,"embedding":"!!"},{"index":1,"embedding":[1]}]}`,
	} {
		if _, err := decodeEmbedding([]byte(body), 2); err == nil {
			t.Errorf("%s: want error", name)
		}
	}
}

func TestCachedStringReusesAndClears(t *testing.T) {
	var c cachedString
	for _, in := range []string{`"abc"`, `"abc"`, `"a\"b"`, `null`, `"x"`} {
		if err := c.UnmarshalJSON([]byte(in)); err != nil {
			t.Fatal(err)
		}
	}
	if c.get() != "x" {
		t.Fatalf("get = %q", c.get())
	}
	_ = c.UnmarshalJSON([]byte(`"x"`))
	c.unset()
	if c.get() != "" {
		t.Fatalf("after unset get = %q", c.get())
	}
	id := []byte(`"chatcmpl-123"`)
	allocs := testing.AllocsPerRun(100, func() { _ = c.UnmarshalJSON(id) })
	if allocs != 0 {
		t.Fatalf("repeated value allocates %v times", allocs)
	}
}
