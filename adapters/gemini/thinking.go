package gemini

import (
	"maps"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// SkipSignature is the dummy thoughtSignature Google documents for a
// functionCall part whose real signature is unknown (a history written by
// another provider, or one the client rebuilt): Gemini 3 refuses a
// function-call step without a signature, and accepts this one in its place.
const SkipSignature = "skip_thought_signature_validator"

// DefaultMaxPartBytes caps one inline part (image, document, audio) after
// base64 decoding: Gemini takes at most 20 MB of inline data per request,
// so a larger part could only fail upstream, after its upload.
const DefaultMaxPartBytes = 20 << 20

// DefaultThinkingLevelModels are the model name prefixes that take
// thinkingLevel rather than a token budget (Gemini 3 and later; 2.5 takes
// only thinkingBudget).
var DefaultThinkingLevelModels = []string{"gemini-3"}

// DefaultEffortBudgets map a reasoning effort to thinkingBudget for models
// that take a budget. Budgets stay within every 2.5 model's range (Flash
// allows up to 24576), and match the effort the Gemini ingress derives
// from a budget, so an effort survives a round trip through both.
func DefaultEffortBudgets() map[string]int {
	return map[string]int{"none": 0, "minimal": 512, "low": 2048, "medium": 8192, "high": 24576, "xhigh": 24576}
}

// DefaultEffortLevels map a reasoning effort to thinkingLevel. Gemini 3 Pro
// cannot stop thinking, so "none" asks for the least there is; xhigh has
// no counterpart every model takes, so it is high.
func DefaultEffortLevels() map[string]string {
	return map[string]string{"none": "MINIMAL", "minimal": "MINIMAL", "low": "LOW", "medium": "MEDIUM", "high": "HIGH", "xhigh": "HIGH"}
}

// translation holds what turns a domain request into a Gemini body beyond
// the request itself; built once by New, read-only afterwards.
type translation struct {
	levelModels   []string
	budgets       map[string]int
	levels        map[string]string
	maxPartBytes  int
	omitThoughts  bool
	noSigFallback bool
}

// sigKind prefixes the signatures this adapter issues (ToolCall.Signature):
// the provider kind, not the configured Name, so a signature issued by one
// Gemini provider goes back to any other.
const sigKind = "gemini"

func newTranslation(o *Options) *translation {
	t := &translation{
		levelModels:   o.ThinkingLevelModels,
		budgets:       DefaultEffortBudgets(),
		levels:        DefaultEffortLevels(),
		maxPartBytes:  o.MaxPartBytes,
		omitThoughts:  o.OmitThoughts,
		noSigFallback: o.NoSignatureFallback,
	}
	if t.levelModels == nil {
		t.levelModels = DefaultThinkingLevelModels
	}
	maps.Copy(t.budgets, o.EffortBudgets)
	maps.Copy(t.levels, o.EffortLevels)
	if t.maxPartBytes == 0 {
		t.maxPartBytes = DefaultMaxPartBytes
	}
	return t
}

// defaults is the translation of a Client with zero Options.
func defaults() *translation { return newTranslation(&Options{}) }

func (t *translation) takesLevel(model string) bool {
	m := strings.TrimPrefix(model, "models/")
	for _, p := range t.levelModels {
		if strings.HasPrefix(m, p) {
			return true
		}
	}
	return false
}

// thinkingConfig maps the request's reasoning settings. A model that takes
// levels gets the effort as a level; otherwise an explicit Thinking wins
// (its budget as it is, disabled as 0, adaptive as -1, dynamic) over the
// effort's budget. Gemini 3 still reads a budget, so Thinking alone works
// there too; the two are never sent together, which Gemini refuses.
// Thoughts are asked back whenever the model may think, so they arrive as
// ReasoningContent rather than not at all.
func (t *translation) thinkingConfig(req *llm.ChatRequest) (*gThinkingConfig, error) {
	effort := strings.ToLower(req.ReasoningEffort)
	if effort == "" && req.Thinking == nil {
		return nil, nil
	}
	if effort != "" && t.takesLevel(req.Model) {
		level, ok := t.levels[effort]
		if !ok {
			return nil, llm.InvalidParam("reasoning_effort", "reasoning_effort %q has no Gemini thinkingLevel", req.ReasoningEffort)
		}
		return &gThinkingConfig{ThinkingLevel: level, IncludeThoughts: !t.omitThoughts}, nil
	}
	var budget int
	if th := req.Thinking; th != nil {
		switch th.Type {
		case llm.ThinkingEnabled:
			budget = th.BudgetTokens
		case llm.ThinkingDisabled:
			budget = 0
		case llm.ThinkingAdaptive:
			budget = -1
		default:
			return nil, llm.InvalidParam("thinking", "unknown thinking type %q", th.Type)
		}
	} else {
		b, ok := t.budgets[effort]
		if !ok {
			return nil, llm.InvalidParam("reasoning_effort", "reasoning_effort %q has no Gemini thinkingBudget", req.ReasoningEffort)
		}
		budget = b
	}
	return &gThinkingConfig{ThinkingBudget: &budget, IncludeThoughts: budget != 0 && !t.omitThoughts}, nil
}

// fillSignatures gives each model turn's first functionCall part a
// signature when it has none: Gemini 3 validates the first call of every
// step, and a history from another provider (or a client that dropped the
// id's signature) has none to give.
func (t *translation) fillSignatures(contents []gContent) {
	if t.noSigFallback {
		return
	}
	for i := range contents {
		if contents[i].Role != "model" {
			continue
		}
		for j := range contents[i].Parts {
			p := &contents[i].Parts[j]
			if p.FunctionCall == nil {
				continue
			}
			if p.ThoughtSignature == "" {
				p.ThoughtSignature = SkipSignature
			}
			break
		}
	}
}
