package config

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateAPI(t *testing.T) {
	const compat = `
providers:
  - name: local
    type: openai-compatible
    base_url: http://127.0.0.1:8000/v1
    api_keys: [unused]
    models: [m]
`
	const oai = `
providers:
  - name: oai
    type: openai
    api_keys: [sk-test-0123456789]
    models: [gpt-x]
`
	for _, tt := range []struct {
		name, yaml, field, msg string
	}{
		{"openai with api and model_api is valid", oai + "    api: chat\n    model_api: {\"o3-pro*\": responses, gpt-x: chat}\n", "", ""},
		{"auto is valid", oai + "    api: auto\n", "", ""},
		{"unknown api", oai + "    api: graphql\n", "providers[0].api", `unknown value "graphql"`},
		{"unknown model api", oai + "    model_api: {gpt-x: rest}\n", "providers[0].model_api.gpt-x", `unknown value "rest"`},
		{"bad glob", oai + "    model_api: {\"gpt-[\": chat}\n", "providers[0].model_api.gpt-[", "not a model name or glob"},
		{"compatible without responses_api cannot ask for responses", compat + "    api: responses\n", "providers[0].api", "responses_api: true"},
		{"compatible model rule needs responses_api too", compat + "    model_api: {m: responses}\n", "providers[0].model_api.m", "responses_api: true"},
		{"compatible with responses_api may", compat + "    responses_api: true\n    api: responses\n", "", ""},
		{"compatible may pin chat", compat + "    model_api: {m: chat}\n", "", ""},
		{"not for anthropic", "\nproviders:\n  - name: a\n    type: anthropic\n    api_keys: [sk-ant-0123456789]\n    api: chat\n", "providers[0].api", "only valid for type openai"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), fakeEnv(nil))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %T: %v", err, err)
			}
			for _, fe := range ve.Errors {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.msg) {
					return
				}
			}
			t.Fatalf("no error at %s containing %q; got:\n%v", tt.field, tt.msg, err)
		})
	}
}
