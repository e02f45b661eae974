package fakeupstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sync"
)

// anthropicCache remembers the prompt prefixes the fake has "cached", so a
// request with cache_control reports a cache write the first time its
// prefix is seen and a cache read after, as Anthropic does: deterministic
// for a given sequence of requests. Bounded: it forgets everything past
// maxCachedPrefixes rather than grow under a load test.
type anthropicCache struct {
	mu   sync.Mutex
	seen map[uint64]struct{}
}

const maxCachedPrefixes = 1 << 16

// hit reports whether key was seen before, and records it.
func (c *anthropicCache) hit(key uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil || len(c.seen) >= maxCachedPrefixes {
		c.seen = make(map[uint64]struct{})
	}
	_, ok := c.seen[key]
	c.seen[key] = struct{}{}
	return ok
}

// anCacheUse is the cache part of an answer's usage.
type anCacheUse struct {
	read, write int
	ttl1h       bool
}

// cacheBlock is a content or system block as the cache walk reads it.
type cacheBlock struct {
	Type         string      `json:"type"`
	Text         string      `json:"text"`
	Content      textContent `json:"content"`
	CacheControl *struct {
		TTL string `json:"ttl"`
	} `json:"cache_control"`
	Source *struct {
		Type      string `json:"type"`
		MediaType string `json:"media_type"`
	} `json:"source"`
}

// anthropicPrefix walks a Messages body in the API's cache order (tools,
// system, messages) and returns the prompt words up to and including the
// last block with cache_control (words counted as the fake counts the
// prompt: text of system and messages; tools count none), that block's
// ttl, and a key for the prefix. It also checks document blocks as the API
// does, returning the error message for a bad one.
func anthropicPrefix(body []byte) (words int, ttl string, key uint64, marked bool, bad string) {
	var req struct {
		Model  string            `json:"model"`
		Tools  []json.RawMessage `json:"tools"`
		System json.RawMessage   `json:"system"`
		Msgs   []struct {
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil {
		return 0, "", 0, false, ""
	}
	h := fnv.New64a()
	h.Write([]byte(req.Model))
	n := 0
	mark := func(raw []byte, cc *struct {
		TTL string `json:"ttl"`
	}) {
		h.Write(raw)
		if cc != nil {
			words, ttl, key, marked = n, cc.TTL, h.Sum64(), true
		}
	}
	for _, t := range req.Tools {
		var tl struct {
			CacheControl *struct {
				TTL string `json:"ttl"`
			} `json:"cache_control"`
		}
		_ = json.Unmarshal(t, &tl)
		mark(t, tl.CacheControl)
	}
	walk := func(raw json.RawMessage, where string) string {
		if len(raw) == 0 || raw[0] != '[' {
			n += countWords(string(textContent(rawString(raw))))
			h.Write(raw)
			return ""
		}
		var blocks []json.RawMessage
		if json.Unmarshal(raw, &blocks) != nil {
			return ""
		}
		for j, rb := range blocks {
			var b cacheBlock
			if err := json.Unmarshal(rb, &b); err != nil {
				continue
			}
			if b.Type == "document" {
				if msg := checkDocument(&b, fmt.Sprintf("%s.%d", where, j)); msg != "" {
					return msg
				}
			}
			n += countWords(b.Text) + countWords(string(b.Content))
			mark(rb, b.CacheControl)
		}
		return ""
	}
	if msg := walk(req.System, "system"); msg != "" {
		return 0, "", 0, false, msg
	}
	for i, m := range req.Msgs {
		if msg := walk(m.Content, fmt.Sprintf("messages.%d.content", i)); msg != "" {
			return 0, "", 0, false, msg
		}
	}
	return words, ttl, key, marked, ""
}

// rawString is a JSON string's value ("" for anything else).
func rawString(raw json.RawMessage) string {
	var s string
	_ = json.Unmarshal(raw, &s)
	return s
}

// checkDocument validates a document block's source as the API does.
func checkDocument(b *cacheBlock, where string) string {
	if b.Source == nil {
		return where + ".source: Field required"
	}
	switch b.Source.Type {
	case "base64":
		if b.Source.MediaType != "application/pdf" {
			return where + ".source.base64.media_type: Input should be 'application/pdf'"
		}
	case "text":
		if b.Source.MediaType != "text/plain" {
			return where + ".source.text.media_type: Input should be 'text/plain'"
		}
	case "url", "file", "content":
	default:
		return fmt.Sprintf("%s.source: Input tag '%s' found using 'type' does not match any of the expected tags: 'base64', 'content', 'file', 'text', 'url'", where, b.Source.Type)
	}
	return ""
}

// cacheUse is what a request's cache_control earns: a write of its
// prefix the first time, a read after.
func (s *Server) cacheUse(body []byte) (anCacheUse, string) {
	// Most load-test bodies have neither: skip the second decode.
	if !bytes.Contains(body, []byte(`"cache_control"`)) && !bytes.Contains(body, []byte(`"document"`)) {
		return anCacheUse{}, ""
	}
	words, ttl, key, marked, bad := anthropicPrefix(body)
	if bad != "" || !marked || words == 0 {
		return anCacheUse{}, bad
	}
	if s.anCache.hit(key) {
		return anCacheUse{read: words}, ""
	}
	return anCacheUse{write: words, ttl1h: ttl == "1h"}, ""
}

// usage is the answer's Anthropic usage with the cache split out of the
// prompt: input_tokens excludes what was read or written.
func (c anCacheUse) usage(prompt, output int) anUsage {
	u := anUsage{InputTokens: max(prompt-c.read-c.write, 0), CacheReadInputTokens: c.read, CacheCreationInputTokens: c.write, OutputTokens: output}
	if c.write > 0 {
		u.CacheCreation = &anCacheCreation{}
		if c.ttl1h {
			u.CacheCreation.Ephemeral1h = c.write
		} else {
			u.CacheCreation.Ephemeral5m = c.write
		}
	}
	return u
}
