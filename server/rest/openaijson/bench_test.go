package openaijson

import (
	"testing"

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

var benchChatBody = []byte(`{
  "model": "gpt-4o-mini",
  "messages": [
    {"role": "system", "content": "You are a concise assistant. Answer in one paragraph."},
    {"role": "user", "content": "What is the capital of France, and why is it famous?"},
    {"role": "assistant", "content": "Paris. It is known for the Eiffel Tower, the Louvre and its caf\u00e9s."}
  ],
  "temperature": 0.7,
  "max_tokens": 256,
  "stream": false,
  "user": "user-1234"
}`)

func BenchmarkDecodeChatRequest(b *testing.B) {
	b.SetBytes(int64(len(benchChatBody)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeChatRequest(benchChatBody); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendChatCompletion(b *testing.B) {
	c := fixedCompletion()
	c.Switchyard = &switchyardv1.RoutingInfo{RequestId: "req_01HXYZ", Route: "fast", Strategy: "least_connections",
		Provider: "openai", Target: "openai/k1/gpt-4o-mini", UpstreamModel: "gpt-4o-mini", Attempts: 1,
		Cache: switchyardv1.CacheStatus_CACHE_STATUS_MISS, CostUsd: 0.0000135}
	buf := AppendChatCompletion(nil, c)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendChatCompletion(buf[:0], c)
	}
}

func BenchmarkAppendChunk(b *testing.B) {
	c := &switchyardv1.ChatCompletionChunk{Id: "chatcmpl-123", Created: 1694268190, Model: "gpt-4o-mini",
		SystemFingerprint: "fp_44709d6fcb",
		Choices:           []*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Content: ptr(" the Eiffel\n \"Tower\"")}}}}
	buf := AppendChunk(nil, c)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendChunk(buf[:0], c)
	}
}

func BenchmarkAppendChunkToolCall(b *testing.B) {
	c := &switchyardv1.ChatCompletionChunk{Id: "chatcmpl-123", Created: 1694268190, Model: "gpt-4o-mini",
		Choices: []*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{ToolCalls: []*switchyardv1.ToolCall{
			{Index: 0, Function: &switchyardv1.FunctionCall{Arguments: `{"location":"Par`}}}}}}}
	buf := AppendChunk(nil, c)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendChunk(buf[:0], c)
	}
}
