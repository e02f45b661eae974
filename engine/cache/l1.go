package cache

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// L1 defaults and caps.
const (
	DefaultMaxEntries = 10_000
	DefaultMaxBytes   = 64 << 20
	DefaultTTL        = 5 * time.Minute
	// MaxTTL caps every TTL (route default or per request).
	MaxTTL = 7 * 24 * time.Hour
)

// L1 is the in-process cache: an LRU bounded by entry count and by an
// estimate of bytes, with a TTL per entry. Safe for concurrent use.
//
// It uses expirable.LRU without the LRU's own TTL: that TTL is one for the
// whole cache and its janitor goroutine cannot be stopped (v2 has no
// Close). Each item carries its deadline instead; an expired item reads as
// a miss and is dropped then, or ages out under LRU and byte pressure.
// So L1 starts no goroutine and needs no Close.
type L1 struct {
	lru      *expirable.LRU[Key, *item]
	maxBytes int64
	ttl      time.Duration
	now      func() time.Time
	bytes    atomic.Int64

	wmu sync.Mutex // serialises writers, so replace-and-account is atomic
}

type item struct {
	e       *Entry
	size    int64
	expires int64 // unix nanoseconds
}

// L1Option configures an L1.
type L1Option func(*l1Config)

type l1Config struct {
	entries int
	bytes   int64
	ttl     time.Duration
	now     func() time.Time
}

// WithMaxEntries bounds the number of entries (default 10000).
func WithMaxEntries(n int) L1Option { return func(c *l1Config) { c.entries = n } }

// WithMaxBytes bounds the estimated bytes of all entries (default 64 MiB).
// An entry larger than the bound is not stored.
func WithMaxBytes(n int64) L1Option { return func(c *l1Config) { c.bytes = n } }

// WithDefaultTTL sets the TTL used when Set is given none (default 5m,
// capped at MaxTTL).
func WithDefaultTTL(d time.Duration) L1Option { return func(c *l1Config) { c.ttl = d } }

// WithL1Clock injects the clock that decides expiry (tests).
func WithL1Clock(now func() time.Time) L1Option { return func(c *l1Config) { c.now = now } }

// NewL1 builds an L1; zero or negative bounds take the defaults.
func NewL1(opts ...L1Option) *L1 {
	cfg := l1Config{}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.entries <= 0 {
		cfg.entries = DefaultMaxEntries
	}
	if cfg.bytes <= 0 {
		cfg.bytes = DefaultMaxBytes
	}
	if cfg.ttl <= 0 {
		cfg.ttl = DefaultTTL
	}
	cfg.ttl = min(cfg.ttl, MaxTTL)
	if cfg.now == nil {
		cfg.now = time.Now
	}
	c := &L1{maxBytes: cfg.bytes, ttl: cfg.ttl, now: cfg.now}
	c.lru = expirable.NewLRU(cfg.entries, func(_ Key, it *item) { c.bytes.Add(-it.size) }, 0)
	return c
}

// DefaultTTL is the TTL Set uses when given none.
func (c *L1) DefaultTTL() time.Duration { return c.ttl }

// Get returns the live entry under k.
func (c *L1) Get(k Key) (*Entry, bool) {
	it, ok := c.lru.Get(k)
	if !ok {
		return nil, false
	}
	if c.now().UnixNano() >= it.expires {
		c.dropExpired(k, it)
		return nil, false
	}
	return it.e, true
}

// dropExpired removes it unless a writer replaced it meanwhile.
func (c *L1) dropExpired(k Key, it *item) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if cur, ok := c.lru.Peek(k); ok && cur == it {
		c.lru.Remove(k)
	}
}

// Set stores e under k for ttl (0 or less: the default TTL; capped at
// MaxTTL), replacing what was there, then evicts the least recently used
// entries until both bounds hold.
func (c *L1) Set(k Key, e *Entry, ttl time.Duration) {
	if ttl <= 0 {
		ttl = c.ttl
	}
	ttl = min(ttl, MaxTTL)
	size := int64(e.Size())
	if size > c.maxBytes {
		c.Remove(k) // never serve an older answer the caller meant to replace
		return
	}
	it := &item{e: e, size: size, expires: c.now().Add(ttl).UnixNano()}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	// Remove first: Add on an existing key replaces the value without the
	// eviction callback, which would leave its bytes counted.
	c.lru.Remove(k)
	c.bytes.Add(size)
	c.lru.Add(k, it)
	for c.bytes.Load() > c.maxBytes {
		if _, _, ok := c.lru.RemoveOldest(); !ok {
			break
		}
	}
}

// Remove drops the entry under k.
func (c *L1) Remove(k Key) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.lru.Remove(k)
}

// Len is the number of entries held, expired ones included until dropped.
func (c *L1) Len() int { return c.lru.Len() }

// Bytes is the estimated size of the entries held.
func (c *L1) Bytes() int64 { return c.bytes.Load() }
