package anthropic

import (
	"github.com/switchyard/switchyard/engine/llm"
)

// minThinkingBudget is the smallest budget_tokens the API takes.
const minThinkingBudget = 1024

// reasoning derives thinking from reasoning_effort when the request has no
// explicit thinking, then drops the sampling settings thinking forbids.
//
// The budget is the effort's share of max_tokens (thinking counts against
// max_tokens, as reasoning tokens count against OpenAI's
// max_completion_tokens), at least the API's 1024 and below max_tokens. A
// request whose max_tokens leaves no room for that, or that forces a tool
// (its own or the response_format's; the API refuses forced tool use with
// thinking), is sent without thinking: the effort is a hint, the answer
// the client asked for is not. Effort "none" asks for no thinking.
func (s *settings) reasoning(req *llm.ChatRequest, w *wireRequest) error {
	if w.Thinking == nil && req.ReasoningEffort != "" && req.ReasoningEffort != "none" {
		share, ok := s.budgets[req.ReasoningEffort]
		if !ok {
			return llm.InvalidParam("reasoning_effort", "reasoning_effort %q is not one of minimal, low, medium, high", req.ReasoningEffort)
		}
		forced := w.ToolChoice != nil && (w.ToolChoice.Type == "any" || w.ToolChoice.Type == "tool")
		budget := max(int(share*float64(w.MaxTokens)), minThinkingBudget)
		if !forced && budget < w.MaxTokens {
			w.Thinking = &wireThinking{Type: llm.ThinkingEnabled, BudgetTokens: budget}
		}
	}
	if w.Thinking == nil || w.Thinking.Type == llm.ThinkingDisabled {
		return nil
	}
	// With thinking the API takes temperature only as 1, top_p only from
	// 0.95, and no top_k; the client asked for reasoning, so reasoning wins
	// over sampling settings (often a library's defaults) that would make
	// the request fail.
	if w.Temperature != nil && *w.Temperature != 1 {
		w.Temperature = nil
	}
	if w.TopP != nil && *w.TopP < 0.95 {
		w.TopP = nil
	}
	w.TopK = nil
	return nil
}
