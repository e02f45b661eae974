package config

import (
	"fmt"
	"time"
)

// validateSemantic checks a route's cache.semantic block (f is the route's
// cache field). Whether the embedding model is served is checked with the
// routes (validateSemanticModels), which know every name.
func validateSemantic(k *checker, f string, c Cache) {
	s := c.Semantic
	f += ".semantic"
	k.oneOf(f+".scope", s.Scope, []string{SemanticScopeKey, SemanticScopeShared})
	k.nonNegative(f+".ttl", s.TTL)
	k.nonNegative(f+".timeout", s.Timeout)
	if s.Threshold < 0 || s.Threshold > 1 {
		k.add(f+".threshold", "must be between 0 and 1 (got %g)", s.Threshold)
	} else if s.Threshold > 0 && s.Threshold < 0.8 {
		// Below this, paraphrase and near-miss overlap for every embedding
		// model we measured: a different question would be answered.
		k.add(f+".threshold", "%g would answer different questions from the cache; use at least 0.8 (default 0.95)", s.Threshold)
	}
	if s.Dimensions < 0 {
		k.add(f+".dimensions", "must not be negative")
	}
	if !s.Enabled {
		return
	}
	if s.Model == "" {
		k.add(f+".model", "an embedding model is required when enabled")
	}
	if c.Mode == CacheOff {
		k.add(f+".enabled", "needs the route's cache (cache.mode is off): semantic answers are stored there")
	}
}

// validateSemanticModels checks each enabled semantic cache names a model
// the gateway serves: a route or a model a provider lists.
func validateSemanticModels(k *checker, routes []Route, served map[string]bool) {
	aliases := map[string]bool{}
	for _, rt := range routes {
		aliases[rt.Model] = true
	}
	for i, rt := range routes {
		s := rt.Cache.Semantic
		if s.Enabled && s.Model != "" && !aliases[s.Model] && !served[s.Model] {
			k.add(fmt.Sprintf("routes[%d].cache.semantic.model", i), "%q is neither a route nor a model listed by a provider", s.Model)
		}
	}
}

// semanticDefaults fills a semantic block's unset fields (enabled or not,
// so the routing API shows what would apply).
func semanticDefaults(s *Semantic) {
	if s.Scope == "" {
		s.Scope = SemanticScopeKey
	}
	if s.Threshold == 0 {
		s.Threshold = 0.95
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(2 * time.Second)
	}
}
