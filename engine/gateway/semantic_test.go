package gateway

import (
	"context"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

// semRouter answers from the semantic cache after an embedding call.
type semRouter struct{ fakeRouter }

func (s *semRouter) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, route.Info, error) {
	return &llm.ChatResponse{Usage: llm.Usage{PromptTokens: 10, CompletionTokens: 5}}, route.Info{Route: req.Model, Cache: llm.CacheSemanticHit,
		Semantic: &route.SemanticInfo{Similarity: 0.97, Entry: "abc", Embedded: true, EmbedUsage: llm.Usage{PromptTokens: 4, TotalTokens: 4},
			Embed: route.Info{Route: "emb", Provider: "p", Target: "p/k/emb", UpstreamModel: "emb", Cost: 7}}}, nil
}

func TestSemanticHitRecordsTheEmbeddingAsItsOwnBilledRequest(t *testing.T) {
	rec := &recorder{}
	g := New(&semRouter{}, nil, WithObserver(rec))
	if _, info, err := g.Chat(context.Background(), Call{RequestID: "r1", Client: "k", Dialect: "openai"}, &llm.ChatRequest{Model: "m"}); err != nil || info.Cache != llm.CacheSemanticHit {
		t.Fatal(err)
	}
	if len(rec.recs) != 2 {
		t.Fatalf("%d records", len(rec.recs))
	}
	chat, emb := rec.recs[0], rec.recs[1]
	if chat.Cache != "semantic_hit" || chat.Cost != 0 || chat.Embedding {
		t.Fatalf("chat record %+v", chat)
	}
	if !emb.Embedding || emb.RequestID != "r1" || emb.Client != "k" || emb.Model != "emb" || emb.Cost != 7 || emb.Usage.PromptTokens != 4 {
		t.Fatalf("embedding record %+v", emb)
	}
	if got := billable(route.Info{Cache: llm.CacheSemanticHit}, llm.Usage{PromptTokens: 10}); got != (llm.Usage{}) {
		t.Fatalf("a semantic hit took %+v from the allowance", got)
	}
}
