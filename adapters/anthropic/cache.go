package anthropic

// maxCacheBreakpoints is how many cache_control blocks the API takes.
const maxCacheBreakpoints = 4

// BetaExtendedCacheTTL is the anthropic-beta flag that introduced the
// one-hour cache lifetime; sent whenever a breakpoint asks for "1h", which
// is harmless where the lifetime is generally available.
const BetaExtendedCacheTTL = "extended-cache-ttl-2025-04-11"

// autoCachePoint puts one cache breakpoint after the tools and system
// prompt (the request's stable prefix: Anthropic caches tools, then system,
// then messages) when the settings ask for it, the request marks none of
// its own (a client that places breakpoints knows its prompt better), and
// the prefix is estimated at least autoCache tokens (bytes/4, the usual
// estimate; Anthropic ignores breakpoints under its per-model minimum, so
// a low threshold costs nothing but the 1.25× write).
func (s *settings) autoCachePoint(w *wireRequest) {
	if n, _ := countBreakpoints(w); s.autoCache <= 0 || n > 0 {
		return
	}
	size := 0
	for _, t := range w.Tools {
		size += len(t.Name) + len(t.Description) + len(t.InputSchema)
	}
	var sys []wireBlock
	switch v := w.System.(type) {
	case string:
		size += len(v)
		if v != "" {
			sys = []wireBlock{{Type: "text", Text: v}}
		}
	case []wireBlock:
		sys = v
		for _, b := range v {
			size += len(b.Text)
		}
	}
	if size/4 < s.autoCache {
		return
	}
	hint := &wireCache{Type: "ephemeral"}
	switch {
	case len(sys) > 0:
		sys[len(sys)-1].CacheControl = hint
		w.System = sys
	case len(w.Tools) > 0:
		w.Tools[len(w.Tools)-1].CacheControl = hint
	}
}

// countBreakpoints counts the cache_control marks of a request and
// reports whether one asks for the one-hour lifetime.
func countBreakpoints(w *wireRequest) (n int, long bool) {
	mark := func(c *wireCache) {
		if c != nil {
			n++
			long = long || c.TTL == "1h"
		}
	}
	var walk func([]wireBlock)
	walk = func(blocks []wireBlock) {
		for _, b := range blocks {
			mark(b.CacheControl)
			if inner, ok := b.Content.([]wireBlock); ok {
				walk(inner)
			}
		}
	}
	for _, t := range w.Tools {
		mark(t.CacheControl)
	}
	if sys, ok := w.System.([]wireBlock); ok {
		walk(sys)
	}
	for _, m := range w.Messages {
		walk(m.blocks)
	}
	return n, long
}
