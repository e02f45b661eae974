package control

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
)

// TestUsageCostPerProvider is the golden usage → cost table: a provider's
// real answer (its usage block as the API sends it) through the adapter the
// registry builds, priced with the built-in price table, as the gateway
// bills it. Cache reads and writes and reasoning tokens are each counted
// once: in the prompt for the cache, in the completion for reasoning.
func TestUsageCostPerProvider(t *testing.T) {
	tests := []struct {
		name      string
		typ       string
		model     string
		body      string
		wantUsage llm.Usage
		wantCost  llm.Money // nano-USD
	}{
		{
			name:  "anthropic cache read and 5m write",
			typ:   config.TypeAnthropic,
			model: "claude-sonnet-4-20250514",
			body: `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",
				"usage":{"input_tokens":21,"cache_creation_input_tokens":1800,"cache_read_input_tokens":188086,"cache_creation":{"ephemeral_5m_input_tokens":1800,"ephemeral_1h_input_tokens":0},"output_tokens":5}}`,
			wantUsage: llm.Usage{PromptTokens: 189907, CompletionTokens: 5, TotalTokens: 189912, CachedTokens: 188086, CacheCreationTokens: 1800},
			// 21×$3 + 188086×$0.30 + 1800×$3.75 + 5×$15, per million
			wantCost: 63_000 + 56_425_800 + 6_750_000 + 75_000,
		},
		{
			name:  "anthropic 1h and 5m writes, thinking inside output",
			typ:   config.TypeAnthropic,
			model: "claude-sonnet-4-20250514",
			body: `{"id":"msg_2","type":"message","role":"assistant","model":"claude-sonnet-4-20250514","content":[{"type":"thinking","thinking":"t","signature":"s"},{"type":"text","text":"ok"}],"stop_reason":"end_turn",
				"usage":{"input_tokens":10,"cache_creation_input_tokens":3000,"cache_read_input_tokens":0,"cache_creation":{"ephemeral_5m_input_tokens":1000,"ephemeral_1h_input_tokens":2000},"output_tokens":400}}`,
			wantUsage: llm.Usage{PromptTokens: 3010, CompletionTokens: 400, TotalTokens: 3410, CacheCreationTokens: 3000, CacheCreation1hTokens: 2000},
			// 10×$3 + 1000×$3.75 + 2000×$6 + 400×$15
			wantCost: 30_000 + 3_750_000 + 12_000_000 + 6_000_000,
		},
		{
			name:  "anthropic without cache fields",
			typ:   config.TypeAnthropic,
			model: "claude-3-5-haiku-20241022",
			body: `{"id":"msg_3","type":"message","role":"assistant","model":"claude-3-5-haiku-20241022","content":[{"type":"text","text":"ok"}],"stop_reason":"end_turn",
				"usage":{"input_tokens":1000,"output_tokens":100}}`,
			wantUsage: llm.Usage{PromptTokens: 1000, CompletionTokens: 100, TotalTokens: 1100},
			wantCost:  800_000 + 400_000,
		},
		{
			name:  "openai cached_tokens inside prompt_tokens, reasoning inside completion",
			typ:   config.TypeOpenAI,
			model: "o4-mini",
			body: `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"o4-mini","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
				"usage":{"prompt_tokens":2000,"completion_tokens":500,"total_tokens":2500,"prompt_tokens_details":{"cached_tokens":1536},"completion_tokens_details":{"reasoning_tokens":448}}}`,
			wantUsage: llm.Usage{PromptTokens: 2000, CompletionTokens: 500, TotalTokens: 2500, CachedTokens: 1536, ReasoningTokens: 448},
			// 464×$1.10 + 1536×$0.275 + 500×$4.40
			wantCost: 510_400 + 422_400 + 2_200_000,
		},
		{
			name:  "gemini cachedContentTokenCount inside promptTokenCount, thoughts added to output",
			typ:   config.TypeGemini,
			model: "gemini-2.5-flash",
			body: `{"candidates":[{"content":{"role":"model","parts":[{"text":"ok"}]},"finishReason":"STOP","index":0}],"modelVersion":"gemini-2.5-flash",
				"usageMetadata":{"promptTokenCount":5000,"candidatesTokenCount":100,"thoughtsTokenCount":300,"totalTokenCount":5400,"cachedContentTokenCount":4000}}`,
			wantUsage: llm.Usage{PromptTokens: 5000, CompletionTokens: 400, TotalTokens: 5400, CachedTokens: 4000, ReasoningTokens: 300},
			// 1000×$0.30 + 4000×$0.075 + 400×$2.50
			wantCost: 300_000 + 300_000 + 1_000_000,
		},
	}
	reg := Builtin()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			p := config.Provider{Name: tt.typ, Type: tt.typ, BaseURL: srv.URL, Models: []string{tt.model}}
			prov, err := reg.build(p, "key", srv.Client())
			if err != nil {
				t.Fatal(err)
			}
			resp, err := prov.Chat(context.Background(), &llm.ChatRequest{Model: tt.model, Messages: []llm.Message{{Role: llm.RoleUser, Content: "hi"}}})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Usage != tt.wantUsage {
				t.Fatalf("usage %+v, want %+v", resp.Usage, tt.wantUsage)
			}
			if got := routePrice(p.EffectivePrices()[tt.model]).Cost(resp.Usage); got != tt.wantCost {
				t.Fatalf("cost %d nano-USD (%s), want %d (%s)", int64(got), got, int64(tt.wantCost), tt.wantCost)
			}
		})
	}
}
