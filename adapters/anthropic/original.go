package anthropic

import (
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

// settings are the translation options of one Client, validated and
// defaulted once in New; they are read-only afterwards.
type settings struct {
	native     []string // model names; a trailing * matches a prefix
	nativeBeta bool
	budgets    map[string]float64
	autoCache  int
	maxPart    int
	// ignoreLogprobs: see Options.IgnoreLogprobs.
	ignoreLogprobs bool
}

func newSettings(o Options) (settings, error) {
	s := settings{native: o.NativeStructuredOutput, nativeBeta: o.StructuredOutputBeta, autoCache: o.AutoCacheTokens, maxPart: o.MaxPartBytes,
		ignoreLogprobs: o.IgnoreLogprobs}
	if s.maxPart <= 0 {
		s.maxPart = DefaultMaxPartBytes
	}
	s.budgets = DefaultThinkingBudget()
	for effort, f := range o.ThinkingBudget {
		if !(f >= 0 && f < 1) {
			return settings{}, fmt.Errorf("anthropic: thinking budget for %q must be in [0, 1), got %v", effort, f)
		}
		s.budgets[effort] = f
	}
	if s.autoCache < 0 {
		return settings{}, fmt.Errorf("anthropic: AutoCacheTokens must not be negative")
	}
	return s, nil
}

// nativeFor reports whether model takes output_config.format.
func (s *settings) nativeFor(model string) bool {
	for _, m := range s.native {
		if p, ok := strings.CutSuffix(m, "*"); ok && strings.HasPrefix(model, p) || m == model {
			return true
		}
	}
	return false
}

// plan is what the answer's decoding and the call's headers need to know
// about how a request was translated.
type plan struct {
	// jsonTool names the tool that carries a response_format's JSON: its
	// input is the answer's text, not a tool call.
	jsonTool string
	// betas are anthropic-beta flags the translation relies on.
	betas []string
}

// encode is the upstream body: a request that came in as Anthropic
// Messages goes as its client wrote it (cache_control, betas' fields,
// thinking blocks and signatures, fields not known yet), with only the
// model and the stream flag set; any other is built from the domain request.
func (s *settings) encode(req *llm.ChatRequest, stream bool) ([]byte, plan, error) {
	if o := req.Original; o != nil && o.Dialect == llm.DialectAnthropic {
		b, err := upstream.OriginalBody(o, req.Model, stream)
		return b, plan{}, err
	}
	return s.encodeRequest(req, stream)
}
