package config

import (
	"strings"
	"testing"
)

func TestSemanticCacheBlockIsValidated(t *testing.T) {
	base := `
providers:
  - {name: p, type: openai-compatible, base_url: "http://127.0.0.1:1/v1", api_keys: [sk-p-0000000000000001], models: [m, emb]}
routes:
  - model: r
    targets: [{provider: p, model: m}]
    cache: `
	tests := []struct {
		name, cache, wantErr string
	}{
		{"off by default", `{mode: all}`, ""},
		{"enabled with a served model", `{mode: all, semantic: {enabled: true, model: emb}}`, ""},
		{"the route itself as the model", `{mode: all, semantic: {enabled: true, model: r}}`, ""},
		{"no model", `{mode: all, semantic: {enabled: true}}`, "routes[0].cache.semantic.model: an embedding model is required"},
		{"unserved model", `{mode: all, semantic: {enabled: true, model: nope}}`, `routes[0].cache.semantic.model: "nope" is neither a route nor a model`},
		{"cache off", `{mode: off, semantic: {enabled: true, model: emb}}`, "routes[0].cache.semantic.enabled: needs the route's cache"},
		{"threshold too low", `{semantic: {enabled: true, model: emb, threshold: 0.5}}`, "routes[0].cache.semantic.threshold: 0.5 would answer different questions"},
		{"threshold over 1", `{semantic: {threshold: 1.5}}`, "routes[0].cache.semantic.threshold: must be between 0 and 1"},
		{"unknown scope", `{semantic: {scope: global}}`, `routes[0].cache.semantic.scope: unknown value "global"`},
		{"negative dimensions", `{semantic: {dimensions: -1}}`, "routes[0].cache.semantic.dimensions: must not be negative"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(base+tc.cache+"\n"), func(string) (string, bool) { return "", false })
			if tc.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				s := c.Routes[0].Cache.Semantic
				if s.Scope != SemanticScopeKey || s.Threshold != 0.95 || s.Timeout.D() == 0 {
					t.Fatalf("defaults not applied: %+v", s)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
}
