package openai

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// TestFrameMatchesOpenAIsStream: whatever a target's framing, the client
// sees OpenAI's — role first, finish_reason alone on an empty delta, usage
// last with no choices.
func TestFrameMatchesOpenAIsStream(t *testing.T) {
	u := &llm.Usage{PromptTokens: 3, CompletionTokens: 2}
	call := llm.ToolCall{Index: 0, ID: "c1", Type: "function", Name: "f", Arguments: `{"a":1}`}
	cases := []struct {
		name         string
		in           llm.Chunk
		first, usage bool
		want         []string // per piece: the choices' JSON, then "+usage" when it carries usage
	}{
		{"plain content passes as is", llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "hi"}}}}, false, false,
			[]string{`[{"index":0,"delta":{"content":"hi"},"logprobs":null,"finish_reason":null}]`}},
		{"first chunk gets the role", llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "hi"}}}}, true, false,
			[]string{`[{"index":0,"delta":{"role":"assistant","content":"hi"},"logprobs":null,"finish_reason":null}]`}},
		{"finish on the last content chunk (Gemini) is split off",
			llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "end"}, FinishReason: "stop"}}}, false, false,
			[]string{`[{"index":0,"delta":{"content":"end"},"logprobs":null,"finish_reason":null}]`,
				`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`}},
		{"a whole tool call with its finish is split off",
			llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{ToolCalls: []llm.ToolCall{call}}, FinishReason: "tool_calls"}}}, false, false,
			[]string{`[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f","arguments":"{\"a\":1}"}}]},"logprobs":null,"finish_reason":null}]`,
				`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"tool_calls"}]`}},
		{"a bare finish chunk stays one", llm.Chunk{Choices: []llm.ChunkChoice{{FinishReason: "stop"}}}, false, false,
			[]string{`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`}},
		{"usage on a content chunk moves to a chunk of its own",
			llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "end"}, FinishReason: "stop"}}, Usage: u}, false, true,
			[]string{`[{"index":0,"delta":{"content":"end"},"logprobs":null,"finish_reason":null}]`,
				`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`, `[]+usage`}},
		{"usage nobody asked for is not sent",
			llm.Chunk{Choices: []llm.ChunkChoice{{FinishReason: "stop"}}, Usage: u}, false, false,
			[]string{`[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]`}},
		{"a usage-only chunk stays one", llm.Chunk{Usage: u}, false, true, []string{`[]+usage`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := frame(nil, &tc.in, tc.first, tc.usage)
			if len(got) != len(tc.want) {
				t.Fatalf("%d pieces, want %d: %+v", len(got), len(tc.want), got)
			}
			for i := range got {
				b := string(appendChunk(nil, &got[i], tc.usage, nil, ""))
				choices := b[strings.Index(b, `"choices":`)+len(`"choices":`):]
				desc, hasUsage := choices, strings.Contains(choices, `"usage":`)
				if hasUsage {
					desc = desc[:strings.Index(desc, `,"usage":`)] + "+usage"
				} else {
					desc = strings.TrimSuffix(desc, "}")
				}
				if desc != tc.want[i] {
					t.Errorf("piece %d:\n got %s\nwant %s", i, desc, tc.want[i])
				}
			}
		})
	}
	// The input chunk is not changed under the caller.
	in := llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "x"}, FinishReason: "stop"}}}
	frame(nil, &in, true, false)
	if in.Choices[0].FinishReason != "stop" || in.Choices[0].Delta.Role != "" {
		t.Fatalf("frame changed its input: %+v", in.Choices[0])
	}
}

func TestAppendLogprobs(t *testing.T) {
	lp := &llm.Logprobs{Content: []llm.TokenLogprob{
		{Token: "Hi", Logprob: -0.25, Bytes: []int{72, 105}, TopLogprobs: []llm.TopLogprob{{Token: "Hey", Logprob: -1.5, Bytes: []int{72, 101, 121}}}},
		{Token: "!", Logprob: 0},
	}}
	got := string(appendLogprobs(nil, lp))
	want := `{"content":[{"token":"Hi","logprob":-0.25,"bytes":[72,105],"top_logprobs":[{"token":"Hey","logprob":-1.5,"bytes":[72,101,121]}]},` +
		`{"token":"!","logprob":0,"bytes":null,"top_logprobs":[]}],"refusal":null}`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	if s := string(appendLogprobs(nil, nil)); s != "null" {
		t.Fatalf("nil logprobs: %s", s)
	}
}

// Anthropic's signed thinking rides in LiteLLM's thinking_blocks, out and
// back in, so a Chat Completions client that returns the message as it
// came keeps the signature a tool-use turn needs.
func TestThinkingBlocksRoundTrip(t *testing.T) {
	m := llm.Message{Role: llm.RoleAssistant, ReasoningContent: "Let me think.", ReasoningSignature: "sig==", RedactedReasoning: []string{"enc1"},
		ToolCalls: []llm.ToolCall{{ID: "toolu_1", Type: "function", Name: "f", Arguments: "{}"}}}
	out := string(appendMessage(nil, &m))
	want := `"reasoning_content":"Let me think.","thinking_blocks":[{"type":"thinking","thinking":"Let me think.","signature":"sig=="},{"type":"redacted_thinking","data":"enc1"}]}`
	if !strings.HasSuffix(out, want) {
		t.Fatalf("message %s\nwant suffix %s", out, want)
	}
	req, err := decodeChat([]byte(`{"model":"m","messages":[{"role":"user","content":"q"},` + out + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	got := req.Messages[1]
	if got.ReasoningContent != m.ReasoningContent || got.ReasoningSignature != m.ReasoningSignature ||
		len(got.RedactedReasoning) != 1 || got.RedactedReasoning[0] != "enc1" {
		t.Fatalf("decoded %+v", got)
	}
	// Without reasoning_content the blocks' text is the reasoning.
	req, err = decodeChat([]byte(`{"model":"m","messages":[{"role":"assistant","content":"a","thinking_blocks":[{"type":"thinking","thinking":"T","signature":"S"}]}]}`))
	if err != nil || req.Messages[0].ReasoningContent != "T" || req.Messages[0].ReasoningSignature != "S" {
		t.Fatalf("decoded %+v, %v", req.Messages, err)
	}
	// A stream delta carries the signature fragment alone.
	d := string(appendDelta(nil, &llm.Message{ReasoningSignature: "frag"}))
	if d != `{"thinking_blocks":[{"type":"thinking","thinking":"","signature":"frag"}]}` {
		t.Fatalf("delta %s", d)
	}
	if d := string(appendDelta(nil, &llm.Message{ReasoningContent: "x"})); d != `{"reasoning_content":"x"}` {
		t.Fatalf("plain reasoning delta %s", d)
	}
}
