package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"

	"github.com/switchyard/switchyard/internal/redisurl"
)

// Redis defaults and caps.
const (
	DefaultRedisPrefix  = "switchyard:cache:"
	DefaultRedisTimeout = 100 * time.Millisecond
	maxRedisTimeout     = 5 * time.Second
)

// Redis is a Store on a Redis server: one string value per key, with a
// TTL. Every call is bounded by a short timeout and never retried, so an
// outage costs a request at most one timeout (and Tiered then skips Redis).
type Redis struct {
	c       redis.UniversalClient
	prefix  string
	timeout time.Duration
}

// RedisOption configures a Redis store.
type RedisOption func(*redisConfig)

type redisConfig struct {
	prefix  string
	timeout time.Duration
	pool    int
}

// WithRedisPrefix sets the key prefix (default "switchyard:cache:").
func WithRedisPrefix(p string) RedisOption { return func(c *redisConfig) { c.prefix = p } }

// WithRedisTimeout bounds each call, dial included (default 100ms, at most 5s).
func WithRedisTimeout(d time.Duration) RedisOption { return func(c *redisConfig) { c.timeout = d } }

// WithRedisPoolSize sets the connection pool size (default: go-redis's,
// 10 per CPU).
func WithRedisPoolSize(n int) RedisOption { return func(c *redisConfig) { c.pool = n } }

// NewRedis connects lazily to addr: one node, a Sentinel master or a
// Cluster, in any form internal/redisurl reads (host:port, redis://,
// rediss://, redis+sentinel://, redis+cluster://). It does not dial; use Ping to
// check the server at start.
func NewRedis(addr string, opts ...RedisOption) (*Redis, error) {
	cfg := redisConfig{prefix: DefaultRedisPrefix, timeout: DefaultRedisTimeout}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.timeout <= 0 {
		cfg.timeout = DefaultRedisTimeout
	}
	cfg.timeout = min(cfg.timeout, maxRedisTimeout)
	if strings.TrimSpace(addr) == "" {
		return nil, errors.New("cache: redis address is empty")
	}
	c, _, err := redisurl.New(addr, func(o *redis.UniversalOptions) {
		o.DialTimeout = cfg.timeout
		o.ReadTimeout = cfg.timeout
		o.WriteTimeout = cfg.timeout
		o.PoolTimeout = cfg.timeout
		o.ContextTimeoutEnabled = true
		o.MaxRetries = -1 // a retry would double the worst case; Tiered retries later
		o.DialerRetries = 1
		o.DisableIdentity = true // no CLIENT SETINFO round trip on each new connection
		o.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
		if cfg.pool > 0 {
			o.PoolSize = cfg.pool
		}
	})
	if err != nil {
		return nil, fmt.Errorf("cache: redis address: %w", err)
	}
	return &Redis{c: c, prefix: cfg.prefix, timeout: cfg.timeout}, nil
}

func (r *Redis) key(k Key) string { return r.prefix + k.String() }

// Get reads the value under k and its remaining TTL in one round trip.
func (r *Redis) Get(ctx context.Context, k Key) ([]byte, time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	key := r.key(k)
	var get *redis.StringCmd
	var pttl *redis.DurationCmd
	_, err := r.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		get = p.Get(ctx, key)
		pttl = p.PTTL(ctx, key)
		return nil
	})
	if errors.Is(err, redis.Nil) || errors.Is(get.Err(), redis.Nil) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("cache: redis get: %w", err)
	}
	val, err := get.Bytes()
	if err != nil {
		return nil, 0, fmt.Errorf("cache: redis get: %w", err)
	}
	switch ttl := pttl.Val(); ttl {
	case -2: // expired between the two commands
		return nil, 0, nil
	case -1: // no expiry (written by someone else): the reader's default
		return val, 0, nil
	default:
		return val, ttl, nil
	}
}

// Set writes val under k with ttl (at least a millisecond).
func (r *Redis) Set(ctx context.Context, k Key, val []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	if err := r.c.Set(ctx, r.key(k), val, max(ttl, time.Millisecond)).Err(); err != nil {
		return fmt.Errorf("cache: redis set: %w", err)
	}
	return nil
}

// Ping checks the server answers.
func (r *Redis) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	return r.c.Ping(ctx).Err()
}

// Close closes the connection pool.
func (r *Redis) Close() error { return r.c.Close() }
