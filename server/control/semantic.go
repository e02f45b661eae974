package control

import (
	"context"
	"fmt"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/cache/semantic"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/metrics"
)

// buildSemantic makes the semantic cache's index, shared through Redis
// when the response cache is. It is built whether or not a route turns it
// on, so a reload that enables one needs no restart: an index nobody
// writes costs nothing, and the Redis follower starts only once a route
// enables the cache (followSemantic).
func (c *Control) buildSemantic(rc config.ResponseCache) error {
	x := semantic.NewIndex(semantic.WithMaxEntries(rc.Semantic.MaxEntries), semantic.WithMaxBytes(rc.Semantic.MaxBytes))
	opts := []semantic.Option{semantic.WithDefaultTTL(rc.TTL.D())}
	if rc.RedisURL != "" {
		sh, err := semantic.NewShared(rc.RedisURL, semantic.WithSharedMaxLen(max(rc.Semantic.MaxEntries, semantic.DefaultMaxEntries)))
		if err != nil {
			return fmt.Errorf("cache.redis_url: %w", err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if err := sh.Ping(ctx); err != nil {
			c.log.Warn("redis unreachable at start; semantic cache entries stay in process until it answers", "error", err)
		}
		c.semShared, c.semIndex = sh, x
		opts = append(opts, semantic.WithPublisher(sh))
	}
	c.semantic = semantic.New(x, opts...)
	return nil
}

// followSemantic starts indexing what other replicas write once a route of
// cfg enables the semantic cache (idempotent).
func (c *Control) followSemantic(cfg *config.Config) {
	if c.semShared == nil {
		return
	}
	for _, r := range cfg.Routes {
		if r.Cache.Semantic.Enabled {
			var warned time.Time
			c.semShared.Follow(c.semIndex, func(err error) {
				// One line a minute at most while Redis is away.
				if now := c.now(); now.Sub(warned) > time.Minute {
					warned = now
					c.log.Warn("reading the shared semantic cache from redis failed; retrying", "error", err)
				}
			})
			return
		}
	}
}

// Semantic returns the semantic cache (its stats, false-hit reports).
func (c *Control) Semantic() *semantic.Cache { return c.semantic }

// semanticSpec is a route's semantic block as the router runs it, nil
// when off.
func semanticSpec(s config.Semantic) *route.SemanticSpec {
	if !s.Enabled {
		return nil
	}
	return &route.SemanticSpec{Model: s.Model, Dimensions: s.Dimensions, Threshold: float32(s.Threshold), TTL: s.TTL.D(),
		Shared: s.Scope == config.SemanticScopeShared, AllowTools: s.AllowTools, Timeout: s.Timeout.D()}
}

// SemanticCounts is the semantic cache's counters for metrics.
func (c *Control) SemanticCounts() metrics.SemanticCounts {
	s := c.semantic.Stats()
	return metrics.SemanticCounts{Hits: s.Hits, Misses: s.Misses, FalseHitReports: s.FalseHits, EmbedErrors: s.EmbedErrors, Stale: s.Stale, Entries: s.Entries}
}
