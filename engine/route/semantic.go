package route

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/cache/semantic"
	"github.com/switchyard/switchyard/engine/llm"
)

// SemanticSpec turns on a route's semantic cache (nil: off). It applies to
// the requests the route's exact cache takes (CacheSpec.Mode) and is
// consulted after an exact miss.
type SemanticSpec struct {
	// Model is the embedding model, served through this router like any
	// embeddings request (and billed as one).
	Model string
	// Dimensions, when > 0, asks the embedding model for vectors of that
	// size (OpenAI's dimensions).
	Dimensions int
	// Threshold is the cosine similarity a match needs (0: semantic.DefaultThreshold).
	Threshold float32
	// TTL of a semantic entry (0: the route's cache TTL). It never outlives
	// the exact-cache answer it points to.
	TTL time.Duration
	// Shared matches requests of every client key; by default a request
	// only matches entries its own key wrote.
	Shared bool
	// AllowTools lets conversations that called tools be matched.
	AllowTools bool
	// Timeout bounds the embedding call (0: 2s); a slow or failed one is
	// a semantic miss, never an error.
	Timeout time.Duration
}

// SemanticCache is what the router needs of the semantic cache
// (semantic.Cache).
type SemanticCache interface {
	Find(ctx context.Context, part cache.Key, v []float32, threshold float32,
		get func(ctx context.Context, id cache.Key) (*cache.Entry, bool)) (semantic.Match, *cache.Entry, bool)
	Store(ctx context.Context, part, id cache.Key, v []float32, ttl time.Duration)
	EmbedFailed()
	ReportFalseHit(ctx context.Context, id cache.Key) bool
}

// ReportSemanticFalseHit takes the entry a semantic hit named (its
// X-Switchyard-Cache-Entry) out of semantic matching, on every replica
// when entries are shared; it stays an exact-cache answer. It reports
// whether this replica had it indexed.
func (r *Router) ReportSemanticFalseHit(ctx context.Context, entry string) (bool, error) {
	id, err := hex.DecodeString(entry)
	if err != nil || len(id) != len(cache.Key{}) {
		return false, llm.InvalidParam("entry", "entry must be the %d hex digits of X-Switchyard-Cache-Entry", 2*len(cache.Key{}))
	}
	if r.sem == nil {
		return false, &llm.Error{Kind: llm.KindNotFound, Message: "no route has a semantic cache"}
	}
	return r.sem.ReportFalseHit(ctx, cache.Key(id)), nil
}

// WithSemanticCache enables the semantic cache of routes that configure
// one. It needs the response cache (WithCache): answers live there.
func WithSemanticCache(c SemanticCache) Option { return func(r *Router) { r.sem = c } }

// SemanticInfo reports a semantic lookup: the match, on a hit, and the
// embedding call it made, which reached a provider and is billed as a
// request of its own (gateway records it in the ledger).
type SemanticInfo struct {
	Similarity float32
	// Entry is the matched entry's id (the exact-cache key, hex), "" on a miss.
	Entry string
	// Embed is the embedding call's routing and cost; EmbedUsage its usage.
	// Embedded is false when no call was made (or it failed before a
	// provider answered).
	Embedded   bool
	Embed      Info
	EmbedUsage llm.Usage
}

// semLookup is one request's semantic step: the vector it was looked up
// with, kept to index the answer on a miss.
type semLookup struct {
	part cache.Key
	vec  []float32
	info *SemanticInfo
	hit  *cache.Entry
}

// semanticLookup embeds req's last user turn and looks it up, when the
// route has a semantic cache and req is eligible; nil when not consulted.
func (r *Router) semanticLookup(ctx context.Context, rt *Route, req *llm.ChatRequest) *semLookup {
	spec := rt.Cache.Semantic
	if r.sem == nil || r.cache == nil || spec == nil || spec.Model == "" {
		return nil
	}
	if !spec.AllowTools && semantic.UsedTools(req) {
		return nil
	}
	text, ok := semantic.Text(req)
	if !ok {
		return nil
	}
	scope := req.Hints.Client
	if spec.Shared {
		scope = ""
	}
	part, ok := cache.NewPartitionKey(req, rt.Name, rt.sig, scope)
	if !ok {
		return nil
	}
	timeout := spec.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	ectx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ereq := &llm.EmbeddingRequest{Model: spec.Model, Input: []string{text}, Hints: llm.Hints{Client: req.Hints.Client}}
	if spec.Dimensions > 0 {
		d := spec.Dimensions
		ereq.Dimensions = &d
	}
	resp, einfo, err := r.Embed(ectx, ereq)
	l := &semLookup{part: part, info: &SemanticInfo{Embed: einfo}}
	if resp != nil {
		l.info.Embedded, l.info.EmbedUsage = true, resp.Usage
	}
	if err != nil || len(resp.Vectors) != 1 {
		r.sem.EmbedFailed()
		return l
	}
	v := append([]float32(nil), resp.Vectors[0]...)
	if !semantic.Normalize(v) {
		r.sem.EmbedFailed()
		return l
	}
	l.vec = v
	th := spec.Threshold
	if th <= 0 {
		th = semantic.DefaultThreshold
	}
	m, e, ok := r.sem.Find(ctx, part, v, th, r.cache.Get)
	if ok {
		l.hit = e
		l.info.Similarity, l.info.Entry = m.Similarity, m.ID.String()
	}
	return l
}

// store indexes the answer stored under key (a miss that was routed).
func (l *semLookup) store(ctx context.Context, r *Router, rt *Route, req *llm.ChatRequest, key cache.Key) {
	if l == nil || l.vec == nil {
		return
	}
	ttl := cacheTTL(rt, req)
	if s := rt.Cache.Semantic.TTL; s > 0 && (ttl <= 0 || s < ttl) {
		ttl = s
	}
	r.sem.Store(ctx, l.part, key, l.vec, ttl)
}

// semanticHitInfo is the routing report of an answer served by a
// semantic match.
func semanticHitInfo(a *attempt, l *semLookup) Info {
	info := hitInfo(a, l.hit)
	info.Cache = llm.CacheSemanticHit
	info.Semantic = l.info
	return info
}

// semanticInfo is l's report, nil when no lookup was made.
func (l *semLookup) report() *SemanticInfo {
	if l == nil {
		return nil
	}
	return l.info
}
