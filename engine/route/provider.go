// Package route is the Router: it resolves a model name to a route, picks a
// target, calls the provider through its adapter and reports what happened.
package route

import (
	"context"

	"github.com/switchyard/switchyard/engine/llm"
)

// Provider is what the router needs from an adapter. Requests reach it with
// Model already rewritten to the upstream model name.
type Provider interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
}

// ModelLister is implemented by providers that can list their models.
type ModelLister interface {
	ListModels(ctx context.Context) ([]llm.Model, error)
}

// Embedder is implemented by providers that serve embeddings.
type Embedder interface {
	Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error)
}
