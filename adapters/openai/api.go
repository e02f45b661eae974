package openai

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// The upstream APIs a request that did not come in as Responses can take.
const (
	APIChat      = "chat"      // POST /chat/completions
	APIResponses = "responses" // POST /responses, translated from the domain request
	APIAuto      = "auto"      // DefaultModelAPIs decides
)

// ModelAPI is one rule of the built-in list: models matching Pattern (a
// path.Match glob on the lowercased upstream model name) use Responses,
// always or only when the request carries tools with reasoning on.
type ModelAPI struct {
	Pattern string
	// ToolsWithReasoning limits the rule to requests with tools whose
	// reasoning effort is not "none": those models take either alone on
	// Chat Completions but refuse the two together ("Function tools with
	// reasoning_effort are not supported ... use /v1/responses").
	ToolsWithReasoning bool
}

// DefaultModelAPIs is the one list of OpenAI models that need the
// Responses API, from OpenAI's model pages and the 400s peers' users report
// (LiteLLM #15386, #16841; openai-openapi #541; pipecat #4043). Operators
// override it per model (Options.ModelAPI) or per provider (Options.API).
func DefaultModelAPIs() []ModelAPI {
	return []ModelAPI{
		// Served on /v1/responses only.
		{Pattern: "o1-pro*"},
		{Pattern: "o3-pro*"},
		{Pattern: "gpt-5-pro*"},
		{Pattern: "gpt-5.*-pro*"}, // gpt-5.2-pro, gpt-5.5-pro, ...
		{Pattern: "*codex*"},      // gpt-5-codex, gpt-5.1-codex-max, codex-mini-latest, ...
		{Pattern: "*deep-research*"},
		{Pattern: "computer-use-preview*"},
		// Tools and reasoning together only on /v1/responses.
		{Pattern: "gpt-5.[2-9]*", ToolsWithReasoning: true},
		{Pattern: "gpt-6*", ToolsWithReasoning: true},
	}
}

// apiChooser decides, per request, between Chat Completions and a
// translated Responses call. It is built once in New and read-only after.
type apiChooser struct {
	provider string // "", "chat" or "responses": the provider-wide choice
	exact    map[string]string
	patterns []modelRule // longest pattern first
	defaults []ModelAPI
}

type modelRule struct{ pattern, api string }

func newAPIChooser(name, api string, perModel map[string]string, defaults []ModelAPI) (*apiChooser, error) {
	a := &apiChooser{exact: map[string]string{}, defaults: defaults}
	switch api {
	case "", APIAuto:
	case APIChat, APIResponses:
		a.provider = api
	default:
		return nil, fmt.Errorf("%s: api %q: want chat, responses or auto", name, api)
	}
	for m, v := range perModel {
		if v != APIChat && v != APIResponses {
			return nil, fmt.Errorf("%s: model_api[%q] = %q: want chat or responses", name, m, v)
		}
		m = strings.ToLower(m)
		if _, err := path.Match(m, ""); err != nil {
			return nil, fmt.Errorf("%s: model_api pattern %q: %w", name, m, err)
		}
		if strings.ContainsAny(m, `*?[\`) {
			a.patterns = append(a.patterns, modelRule{m, v})
		} else {
			a.exact[m] = v
		}
	}
	// The most specific pattern wins; ties break by name so the order of a
	// YAML map never matters.
	sort.Slice(a.patterns, func(i, j int) bool {
		pi, pj := a.patterns[i].pattern, a.patterns[j].pattern
		if len(pi) != len(pj) {
			return len(pi) > len(pj)
		}
		return pi < pj
	})
	return a, nil
}

// responses reports whether req goes to /responses: an operator's rule for
// its model, else the provider-wide choice, else the built-in list.
func (a *apiChooser) responses(req *llm.ChatRequest) bool {
	model := strings.ToLower(req.Model)
	if v, ok := a.exact[model]; ok {
		return v == APIResponses
	}
	for _, r := range a.patterns {
		if ok, _ := path.Match(r.pattern, model); ok {
			return r.api == APIResponses
		}
	}
	if a.provider != "" {
		return a.provider == APIResponses
	}
	for _, d := range a.defaults {
		if ok, _ := path.Match(d.Pattern, model); ok {
			return !d.ToolsWithReasoning || toolsWithReasoning(req)
		}
	}
	return false
}

func toolsWithReasoning(req *llm.ChatRequest) bool {
	if len(req.Tools) == 0 {
		return false
	}
	if req.Thinking != nil && req.Thinking.Type == llm.ThinkingDisabled {
		return false
	}
	return req.ReasoningEffort != "none"
}
