package cache

import (
	"errors"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

func sampleResponse() *llm.ChatResponse {
	return &llm.ChatResponse{
		ID: "chatcmpl-1", Created: 1700000000, Model: "gpt-4o-mini", SystemFingerprint: "fp_1",
		Choices: []llm.Choice{
			{Index: 0, FinishReason: llm.FinishStop, Message: llm.Message{Role: llm.RoleAssistant, Content: "Paris.", ReasoningContent: "capital"}},
			{Index: 1, FinishReason: llm.FinishToolCalls, Message: llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{Index: 0, ID: "call_a", Type: "function", Name: "lookup", Arguments: `{"q":"paris"}`},
				{Index: 1, ID: "call_b", Type: "function", Name: "weather", Arguments: `{}`},
			}}},
		},
		Usage: llm.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15, CachedTokens: 2},
	}
}

// sampleChunks is a stream as an upstream sends it: role first, content
// and tool-call fragments spread over chunks, finish, then usage.
func sampleChunks() []llm.Chunk {
	id, created, model := "chatcmpl-2", int64(1700000001), "gpt-4o-mini"
	c := func(choices ...llm.ChunkChoice) llm.Chunk {
		return llm.Chunk{ID: id, Created: created, Model: model, Choices: choices}
	}
	return []llm.Chunk{
		c(llm.ChunkChoice{Index: 0, Delta: llm.Message{Role: llm.RoleAssistant}}),
		c(llm.ChunkChoice{Index: 0, Delta: llm.Message{Content: "Hel"}}),
		c(llm.ChunkChoice{Index: 0, Delta: llm.Message{Content: "lo"}}),
		c(llm.ChunkChoice{Index: 0, Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, ID: "call_1", Type: "function", Name: "f", Arguments: `{"a"`}}}}),
		c(llm.ChunkChoice{Index: 0, Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 1, ID: "call_2", Type: "function", Name: "g", Arguments: `{}`}}}}),
		c(llm.ChunkChoice{Index: 0, Delta: llm.Message{ToolCalls: []llm.ToolCall{{Index: 0, Arguments: `:1}`}}}}),
		c(llm.ChunkChoice{Index: 0, FinishReason: llm.FinishToolCalls}),
		{ID: id, Created: created, Model: model, Usage: &llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}},
	}
}

func drain(t *testing.T, st llm.Stream) []llm.Chunk {
	t.Helper()
	var out []llm.Chunk
	for {
		c, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Recv: %v", err)
		}
		out = append(out, c)
	}
}

func TestEntryServesBothWays(t *testing.T) {
	t.Run("stream replayed as stream", func(t *testing.T) {
		e := FromChunks(sampleChunks())
		if got := drain(t, e.Stream()); !reflect.DeepEqual(got, sampleChunks()) {
			t.Fatalf("replay differs:\n%+v", got)
		}
	})
	t.Run("stream assembled into a response", func(t *testing.T) {
		got := FromChunks(sampleChunks()).ChatResponse()
		want := &llm.ChatResponse{ID: "chatcmpl-2", Created: 1700000001, Model: "gpt-4o-mini",
			Choices: []llm.Choice{{Index: 0, FinishReason: llm.FinishToolCalls, Message: llm.Message{
				Role: llm.RoleAssistant, Content: "Hello", ToolCalls: []llm.ToolCall{
					{Index: 0, ID: "call_1", Type: "function", Name: "f", Arguments: `{"a":1}`},
					{Index: 1, ID: "call_2", Type: "function", Name: "g", Arguments: `{}`},
				}}}},
			Usage: llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("assembled\n%+v\nwant\n%+v", got, want)
		}
	})
	t.Run("streamed thinking keeps its signature and redacted blocks", func(t *testing.T) {
		c := func(d llm.Message) llm.Chunk { return llm.Chunk{ID: "m", Choices: []llm.ChunkChoice{{Delta: d}}} }
		got := FromChunks([]llm.Chunk{
			c(llm.Message{Role: llm.RoleAssistant, ReasoningContent: "Let me "}),
			c(llm.Message{ReasoningContent: "think."}),
			c(llm.Message{ReasoningSignature: "sig-"}),
			c(llm.Message{ReasoningSignature: "abc"}),
			c(llm.Message{RedactedReasoning: []string{"opaque"}}),
			c(llm.Message{Content: "Four."}),
		}).ChatResponse().Choices[0].Message
		want := llm.Message{Role: llm.RoleAssistant, Content: "Four.", ReasoningContent: "Let me think.", ReasoningSignature: "sig-abc",
			RedactedReasoning: []string{"opaque"}}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("assembled %+v\nwant %+v", got, want)
		}
	})
	t.Run("response replayed as a stream assembles back", func(t *testing.T) {
		e := FromResponse(sampleResponse())
		chunks := drain(t, e.Stream())
		if len(chunks) != 3 || chunks[0].Choices[0].Delta.Role != llm.RoleAssistant || chunks[2].Usage == nil || len(chunks[2].Choices) != 0 {
			t.Fatalf("unexpected chunk shape: %+v", chunks)
		}
		back := FromChunks(chunks).ChatResponse()
		want := sampleResponse()
		want.SystemFingerprint = "" // chunks do not carry it
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("round trip\n%+v\nwant\n%+v", back, want)
		}
	})
	t.Run("response copy is the caller's to change", func(t *testing.T) {
		e := FromResponse(sampleResponse())
		r := e.ChatResponse()
		r.ID = "changed"
		r.Choices[0].FinishReason = "changed"
		if e.Response.ID != "chatcmpl-1" || e.Response.Choices[0].FinishReason != llm.FinishStop {
			t.Fatal("ChatResponse exposed the stored answer")
		}
	})
	t.Run("replay after close fails", func(t *testing.T) {
		st := FromChunks(sampleChunks()).Stream()
		_ = st.Close()
		if _, err := st.Recv(); err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Recv after Close = %v", err)
		}
	})
}

func TestEntryMarshalRoundTrip(t *testing.T) {
	cases := []struct {
		name string
		e    *Entry
	}{
		{"unary", &Entry{Response: sampleResponse(), Provider: "openai", Target: "openai/k1", UpstreamModel: "gpt-4o-mini",
			StoredAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}},
		{"stream", &Entry{Chunks: sampleChunks(), StoredAt: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.e.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			var got Entry
			if err := got.UnmarshalBinary(b); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(&got, tc.e) {
				t.Fatalf("round trip\n%+v\nwant\n%+v", &got, tc.e)
			}
		})
	}
	bad := map[string]string{
		"not JSON":        `{`,
		"other version":   `{"v":2,"response":{"ID":"x"}}`,
		"neither":         `{"v":1}`,
		"both":            `{"v":1,"response":{"ID":"x"},"chunks":[{"ID":"y"}]}`,
		"wrong type":      `{"v":1,"chunks":"nope"}`,
		"missing version": `{"response":{"ID":"x"}}`,
	}
	for name, in := range bad {
		t.Run("rejects "+name, func(t *testing.T) {
			var e Entry
			if err := e.UnmarshalBinary([]byte(in)); err == nil {
				t.Fatalf("decoded %s", in)
			}
		})
	}
}

func TestEntrySizeGrowsWithContent(t *testing.T) {
	small := FromResponse(&llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Content: "x"}}}})
	big := FromResponse(&llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Content: string(make([]byte, 10000))}}}})
	if d := big.Size() - small.Size(); d != 9999 {
		t.Fatalf("size difference %d, want 9999", d)
	}
	if s := FromChunks(sampleChunks()).Size(); s < 8*80 {
		t.Fatalf("8 chunks estimated at %d bytes", s)
	}
}
