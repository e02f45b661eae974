package cache

import "github.com/switchyard/switchyard/engine/llm"

// Route cache policies (config routes[].cache.mode).
const (
	// PolicyOff never caches or coalesces.
	PolicyOff = "off"
	// PolicyDeterministic caches requests that ask for a repeatable answer:
	// temperature 0 or a seed. It is the default.
	PolicyDeterministic = "deterministic"
	// PolicyAll caches every request, sampled or not.
	PolicyAll = "all"
)

// Cacheable reports whether policy lets req be answered from (and stored
// in) the cache, and coalesced with identical requests in flight. An empty
// policy is the default (deterministic); an unknown one caches nothing.
func Cacheable(policy string, req *llm.ChatRequest) bool {
	switch policy {
	case PolicyAll:
		return true
	case PolicyDeterministic, "":
		return req.Seed != nil || (req.Temperature != nil && *req.Temperature == 0)
	}
	return false
}

// Directive says what a request's cache directive allows: read (answer
// from the cache) and write (store the answer). NoCache and Refresh both
// skip the read and store the fresh answer, which replaces the old one.
func Directive(cc llm.CacheControl) (read, write bool) {
	switch cc {
	case llm.CacheNoCache, llm.CacheRefresh:
		return false, true
	case llm.CacheNoStore:
		return true, false
	}
	return true, true
}
