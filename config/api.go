package config

import (
	"path"
	"strings"
)

// validateAPI checks api and model_api: values, glob syntax, and that the
// provider can serve the Responses API they may ask for.
func (p *Provider) validateAPI(k *checker, f string) {
	if p.API == "" && len(p.ModelAPI) == 0 {
		return
	}
	switch p.Type {
	case TypeOpenAI, TypeOpenAICompatible:
	default:
		k.add(f+".api", "only valid for type openai or openai-compatible")
		return
	}
	responses := p.Type == TypeOpenAI || p.ResponsesAPI
	if p.API != "" {
		k.oneOf(f+".api", p.API, []string{"auto", "chat", "responses"})
		if p.API == "responses" && !responses {
			k.add(f+".api", "responses needs responses_api: true on an openai-compatible provider")
		}
	}
	for _, m := range sortedKeys(p.ModelAPI) {
		v := p.ModelAPI[m]
		field := f + ".model_api." + m
		k.oneOf(field, v, []string{"chat", "responses"})
		if _, err := path.Match(strings.ToLower(m), ""); err != nil || m == "" {
			k.add(field, "%q is not a model name or glob pattern", m)
		}
		if v == "responses" && !responses {
			k.add(field, "responses needs responses_api: true on an openai-compatible provider")
		}
	}
}
