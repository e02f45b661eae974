package route

import (
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// TestPriceCostSplitsThePromptOnce covers the prompt-cache arithmetic:
// reads, 5-minute and 1-hour writes each priced once, inside PromptTokens,
// with Anthropic's multipliers when no write price is configured, and no
// count — however inconsistent — making a cost negative or counting a
// token twice.
func TestPriceCostSplitsThePromptOnce(t *testing.T) {
	sonnet := Price{Input: 3, Output: 15, CachedInput: 0.3, CacheWrite: 3.75, CacheWrite1h: 6}
	tests := []struct {
		name  string
		price Price
		usage llm.Usage
		want  llm.Money
	}{
		{"plain prompt and output", sonnet, llm.Usage{PromptTokens: 1000, CompletionTokens: 100}, 3_000_000 + 1_500_000},
		{"cache read at the read price", sonnet, llm.Usage{PromptTokens: 1000, CachedTokens: 900}, 300_000 + 270_000},
		{"5m write at the write price", sonnet, llm.Usage{PromptTokens: 1000, CacheCreationTokens: 1000}, 3_750_000},
		{"1h write at the 1h price", sonnet, llm.Usage{PromptTokens: 1000, CacheCreationTokens: 1000, CacheCreation1hTokens: 1000}, 6_000_000},
		{"read, both writes and the rest", sonnet,
			llm.Usage{PromptTokens: 4000, CachedTokens: 1000, CacheCreationTokens: 2000, CacheCreation1hTokens: 500, CompletionTokens: 10},
			3_000_000 + 300_000 + 5_625_000 + 3_000_000 + 150_000},
		{"write defaults to 1.25x input", Price{Input: 3}, llm.Usage{PromptTokens: 1000, CacheCreationTokens: 1000}, 3_750_000},
		{"1h write defaults to 2x input", Price{Input: 3}, llm.Usage{PromptTokens: 1000, CacheCreationTokens: 1000, CacheCreation1hTokens: 1000}, 6_000_000},
		{"read defaults to input", Price{Input: 3}, llm.Usage{PromptTokens: 1000, CachedTokens: 1000}, 3_000_000},
		{"writes beyond the prompt are not billed", sonnet, llm.Usage{PromptTokens: 100, CacheCreationTokens: 5000}, 375_000},
		{"reads and writes beyond the prompt: reads first", sonnet, llm.Usage{PromptTokens: 100, CachedTokens: 80, CacheCreationTokens: 80}, 24_000 + 75_000},
		{"1h beyond the writes is capped", sonnet, llm.Usage{PromptTokens: 100, CacheCreationTokens: 10, CacheCreation1hTokens: 50}, 270_000 + 60_000},
		{"negative counts are nothing", sonnet, llm.Usage{PromptTokens: -5, CachedTokens: -1, CacheCreationTokens: -3, CacheCreation1hTokens: -2, CompletionTokens: -7}, 0},
		{"reasoning tokens are inside the completion, priced once", sonnet, llm.Usage{CompletionTokens: 1000, ReasoningTokens: 800}, 15_000_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.price.Cost(tt.usage)
			if got != tt.want {
				t.Fatalf("Cost = %d (%s), want %d (%s)", int64(got), got, int64(tt.want), tt.want)
			}
			if got < 0 {
				t.Fatalf("negative cost %d", got)
			}
		})
	}
}

func BenchmarkPriceCost(b *testing.B) {
	p := Price{Input: 3, Output: 15, CachedInput: 0.3}
	u := llm.Usage{PromptTokens: 4000, CachedTokens: 1000, CacheCreationTokens: 2000, CacheCreation1hTokens: 500, CompletionTokens: 10}
	b.ReportAllocs()
	var sink llm.Money
	for b.Loop() {
		sink += p.Cost(u)
	}
	_ = sink
}
