package anthropic

import (
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// BenchmarkEncodeMessage is the unary answer's encoding; decode and the
// stream event are benchmarked beside the codec's tests.
func BenchmarkEncodeMessage(b *testing.B) {
	resp := &llm.ChatResponse{Model: "sim", Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: strings.Repeat("word ", 100)}, FinishReason: llm.FinishStop}},
		Usage: llm.Usage{PromptTokens: 30, CompletionTokens: 100}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeMessage(resp, "auto", "msg_1"); err != nil {
			b.Fatal(err)
		}
	}
}
