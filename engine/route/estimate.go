package route

import (
	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/llm"
)

// DefaultMaxOutputTokens bounds the completion of a request that sets no
// max_tokens, for rate-limit and budget reservations (settled with the
// real usage afterwards).
const DefaultMaxOutputTokens = 4096

// Estimate sizes req for admission (access.Estimator): the route it
// resolves to, a prompt-token bound, and the cost at the priciest target
// of the route and its fallbacks, so a budget hold covers the worst case.
func (r *Router) Estimate(req *llm.ChatRequest) (access.Estimate, error) {
	rt, err := r.Table().Resolve(req.Model, req.Hints.Route)
	if err != nil {
		return access.Estimate{}, err
	}
	e := access.Estimate{Route: rt.Name, PromptTokens: promptTokenBound(req), MaxOutputTokens: DefaultMaxOutputTokens}
	if req.MaxTokens != nil {
		// An explicit 0 is a prompt with no completion (embeddings).
		e.MaxOutputTokens = max(*req.MaxTokens, 0)
	}
	u := llm.Usage{PromptTokens: e.PromptTokens, CompletionTokens: e.MaxOutputTokens}
	for _, g := range rt.groups {
		for _, tg := range g.targets {
			e.MaxCost = max(e.MaxCost, tg.Price.Cost(u))
		}
	}
	for _, ru := range rt.rules { // whichever rule the request meets when routed
		for _, tg := range ru.variant.groups[0].targets {
			e.MaxCost = max(e.MaxCost, tg.Price.Cost(u))
		}
	}
	return e, nil
}

// promptTokenBound over-counts on purpose (3 bytes a token, where English
// averages 4): a reservation that is too small lets concurrent requests
// overspend, one too large is returned at settle.
func promptTokenBound(req *llm.ChatRequest) int {
	n := 0
	for i := range req.Messages {
		m := &req.Messages[i]
		n += len(m.Content) + 12
		for _, p := range m.Parts {
			n += len(p.Text)
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return n/3 + 1
}
