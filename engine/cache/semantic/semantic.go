package semantic

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/llm"
)

// DefaultThreshold is the cosine similarity a match needs by default:
// conservative, because a false hit answers a different question. On the
// evaluation set (testdata/eval.jsonl) it gives no false hit with the test
// embeddings.
const DefaultThreshold = 0.95

// Text returns the text of req's last turn that a semantic lookup embeds:
// the last message's content, or its text parts joined by newlines. ok is
// false when the last message is not the user's, is empty, or holds
// anything but text (an image or a file changes the question in ways the
// text does not show).
func Text(req *llm.ChatRequest) (string, bool) {
	n := len(req.Messages)
	if n == 0 {
		return "", false
	}
	m := &req.Messages[n-1]
	if m.Role != llm.RoleUser || len(m.ToolCalls) > 0 {
		return "", false
	}
	if len(m.Parts) == 0 {
		return m.Content, strings.TrimSpace(m.Content) != ""
	}
	var b strings.Builder
	b.WriteString(m.Content)
	for i, p := range m.Parts {
		if p.Type != llm.PartText {
			return "", false
		}
		if i > 0 || m.Content != "" {
			b.WriteByte('\n')
		}
		b.WriteString(p.Text)
	}
	s := b.String()
	return s, strings.TrimSpace(s) != ""
}

// UsedTools reports whether the conversation called tools (an assistant
// turn with tool calls or a tool result): its answer depends on what the
// tools returned, which a paraphrase does not share, so such requests are
// left to the exact cache unless a route allows them.
func UsedTools(req *llm.ChatRequest) bool {
	for i := range req.Messages {
		m := &req.Messages[i]
		if len(m.ToolCalls) > 0 || m.Role == llm.RoleTool || m.ToolCallID != "" {
			return true
		}
	}
	return false
}

// Publisher shares index writes with other replicas (Shared).
type Publisher interface {
	Publish(ctx context.Context, part, id cache.Key, v []float32, expires time.Time) error
	PublishRemove(ctx context.Context, id cache.Key) error
}

// Cache is the semantic cache the router consults after an exact miss.
type Cache struct {
	index *Index
	pub   Publisher
	now   func() time.Time
	ttl   time.Duration

	hits, misses, stores, falseHits, embedErrors, stale, pubErrors atomic.Uint64
}

// Option configures a Cache.
type Option func(*Cache)

// WithPublisher shares every write with other replicas.
func WithPublisher(p Publisher) Option { return func(c *Cache) { c.pub = p } }

// WithCacheClock injects the clock that entry expiries are computed on
// (the same instant goes to Redis, so replicas agree).
func WithCacheClock(now func() time.Time) Option { return func(c *Cache) { c.now = now } }

// WithDefaultTTL is the lifetime of entries stored with no TTL of their
// own: the exact cache's default, which holds their answers (default 5m).
func WithDefaultTTL(d time.Duration) Option { return func(c *Cache) { c.ttl = d } }

// New returns a Cache over index (nil: a default Index).
func New(index *Index, opts ...Option) *Cache {
	if index == nil {
		index = NewIndex()
	}
	c := &Cache{index: index, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.ttl <= 0 {
		c.ttl = cache.DefaultTTL
	}
	return c
}

// Index returns the cache's index.
func (c *Cache) Index() *Index { return c.index }

// Find returns the best match for v in part at or above threshold whose
// answer get still holds. An entry whose answer is gone (expired or
// evicted from the exact cache) is dropped and the next best tried, a few
// times at most.
func (c *Cache) Find(ctx context.Context, part cache.Key, v []float32, threshold float32,
	get func(ctx context.Context, id cache.Key) (*cache.Entry, bool)) (Match, *cache.Entry, bool) {
	for range 3 {
		m, ok := c.index.Search(part, v, threshold)
		if !ok {
			break
		}
		if e, ok := get(ctx, m.ID); ok {
			c.hits.Add(1)
			return m, e, true
		}
		c.stale.Add(1)
		c.index.Remove(m.ID)
	}
	c.misses.Add(1)
	return Match{}, nil, false
}

// Store indexes v as the query answered by the exact-cache entry id, for
// ttl, and shares it. ctx bounds the sharing only.
func (c *Cache) Store(ctx context.Context, part, id cache.Key, v []float32, ttl time.Duration) {
	if ttl <= 0 {
		ttl = c.ttl
	}
	exp := c.now().Add(min(ttl, cache.MaxTTL))
	if err := c.index.Add(part, id, v, exp); err != nil {
		return
	}
	c.stores.Add(1)
	if c.pub != nil {
		if err := c.pub.Publish(ctx, part, id, v, exp); err != nil {
			c.pubErrors.Add(1)
		}
	}
}

// ReportFalseHit takes the entry id out of semantic matching here and, when
// shared, on every replica; it stays an exact-cache entry for the request
// that made it. It reports whether the entry was indexed here.
func (c *Cache) ReportFalseHit(ctx context.Context, id cache.Key) bool {
	c.falseHits.Add(1)
	ok := c.index.Remove(id)
	if c.pub != nil {
		if err := c.pub.PublishRemove(ctx, id); err != nil {
			c.pubErrors.Add(1)
		}
	}
	return ok
}

// EmbedFailed counts a lookup skipped because the embedding call failed
// (the request is then served as a miss).
func (c *Cache) EmbedFailed() { c.embedErrors.Add(1) }

// Stats counts what the cache did since it was built.
type Stats struct {
	Hits, Misses, Stores uint64
	// FalseHits counts ReportFalseHit calls; Stale, matches whose answer
	// had left the exact cache; EmbedErrors, lookups skipped because the
	// embedding failed; PublishErrors, writes not shared.
	FalseHits, Stale, EmbedErrors, PublishErrors uint64
	Entries                                      int
	Bytes                                        int64
}

// Stats returns the counters and the index's size.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Stores: c.stores.Load(), FalseHits: c.falseHits.Load(),
		Stale: c.stale.Load(), EmbedErrors: c.embedErrors.Load(), PublishErrors: c.pubErrors.Load(),
		Entries: c.index.Len(), Bytes: c.index.Bytes(),
	}
}
