package semantic

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/internal/redisurl"
)

// Shared defaults.
const (
	DefaultSharedPrefix  = "switchyard:semantic:"
	defaultSharedTimeout = 100 * time.Millisecond
	followBlock          = time.Second
	followBatch          = 512
)

// Shared shares index writes between replicas through a Redis stream: each
// Store and ReportFalseHit is appended to it (XADD, trimmed to about the
// index's size), and every replica follows the stream from its start and
// indexes what the others wrote. The answers themselves travel through the
// exact cache's Redis level, under the entry ids. Expiry instants are
// written on the writer's injected clock and judged on the reader's.
//
// Follow starts the one goroutine; Close stops it. A Redis outage costs
// the writer one short timeout per write and leaves the follower retrying
// once a second; entries written meanwhile stay local.
type Shared struct {
	c       redis.UniversalClient
	stream  string
	origin  string
	maxLen  int64
	timeout time.Duration
	now     func() time.Time

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// SharedOption configures a Shared.
type SharedOption func(*Shared)

// WithSharedPrefix sets the key prefix (default "switchyard:semantic:").
func WithSharedPrefix(p string) SharedOption { return func(s *Shared) { s.stream = p + "log" } }

// WithSharedMaxLen bounds the stream to about n writes (default 10,000).
func WithSharedMaxLen(n int) SharedOption { return func(s *Shared) { s.maxLen = int64(n) } }

// WithSharedClock injects the clock that expiries are checked on.
func WithSharedClock(now func() time.Time) SharedOption { return func(s *Shared) { s.now = now } }

// NewShared connects lazily to addr: one node, a Sentinel master or a
// Cluster, in any form internal/redisurl reads (cache.redis_url's).
func NewShared(addr string, opts ...SharedOption) (*Shared, error) {
	if strings.TrimSpace(addr) == "" {
		return nil, errors.New("semantic: redis address is empty")
	}
	c, _, err := redisurl.New(addr, func(o *redis.UniversalOptions) {
		o.DialTimeout = defaultSharedTimeout
		o.ContextTimeoutEnabled = true
		o.MaxRetries = -1
		o.DialerRetries = 1 // the follower retries on its own, once a second
		o.DisableIdentity = true
	})
	if err != nil {
		return nil, fmt.Errorf("semantic: redis address: %w", err)
	}
	var id [8]byte
	_, _ = rand.Read(id[:])
	s := &Shared{c: c, stream: DefaultSharedPrefix + "log", origin: hex.EncodeToString(id[:]),
		maxLen: DefaultMaxEntries, timeout: defaultSharedTimeout, now: time.Now}
	for _, opt := range opts {
		opt(s)
	}
	if s.maxLen <= 0 {
		s.maxLen = DefaultMaxEntries
	}
	return s, nil
}

// Publish appends an index write.
func (s *Shared) Publish(ctx context.Context, part, id cache.Key, v []float32, expires time.Time) error {
	vb := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(vb[4*i:], math.Float32bits(x))
	}
	return s.add(ctx, map[string]any{"op": "add", "o": s.origin, "p": part[:], "id": id[:], "v": vb, "exp": expires.UnixMilli()})
}

// PublishRemove appends the removal of an entry (a false-hit report).
func (s *Shared) PublishRemove(ctx context.Context, id cache.Key) error {
	return s.add(ctx, map[string]any{"op": "del", "o": s.origin, "id": id[:]})
}

func (s *Shared) add(ctx context.Context, values map[string]any) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.c.XAdd(ctx, &redis.XAddArgs{Stream: s.stream, MaxLen: s.maxLen, Approx: true, Values: values}).Err()
	if err != nil {
		return fmt.Errorf("semantic: redis xadd: %w", err)
	}
	return nil
}

// Follow starts indexing into x what other replicas write, from the
// stream's start (so a new replica sees the entries written before it).
// onErr, when set, hears each failed read (it must not block).
func (s *Shared) Follow(x *Index, onErr func(error)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.follow(ctx, x, onErr)
}

func (s *Shared) follow(ctx context.Context, x *Index, onErr func(error)) {
	defer close(s.done)
	last := "0-0"
	for ctx.Err() == nil {
		res, err := s.c.XRead(ctx, &redis.XReadArgs{Streams: []string{s.stream, last}, Count: followBatch, Block: followBlock}).Result()
		if errors.Is(err, redis.Nil) {
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if onErr != nil {
				onErr(err)
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		for _, st := range res {
			for _, m := range st.Messages {
				last = m.ID
				s.apply(x, m.Values)
			}
		}
	}
}

// apply indexes one write of another replica; malformed or expired ones
// are skipped.
func (s *Shared) apply(x *Index, v map[string]any) {
	if str(v["o"]) == s.origin {
		return // indexed when it was written
	}
	var id cache.Key
	if b := str(v["id"]); len(b) == len(id) {
		copy(id[:], b)
	} else {
		return
	}
	switch str(v["op"]) {
	case "del":
		x.Remove(id)
	case "add":
		var part cache.Key
		p, vb := str(v["p"]), []byte(str(v["v"]))
		exp, err := strconv.ParseInt(str(v["exp"]), 10, 64)
		if len(p) != len(part) || len(vb)%4 != 0 || len(vb) == 0 || err != nil {
			return
		}
		expires := time.UnixMilli(exp)
		if !expires.After(s.now()) {
			return
		}
		copy(part[:], p)
		vec := make([]float32, len(vb)/4)
		for i := range vec {
			vec[i] = math.Float32frombits(binary.LittleEndian.Uint32(vb[4*i:]))
		}
		_ = x.Add(part, id, vec, expires)
	}
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Ping checks the server answers.
func (s *Shared) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 10*s.timeout)
	defer cancel()
	return s.c.Ping(ctx).Err()
}

// Close stops the follower and closes the connections.
func (s *Shared) Close() error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
	return s.c.Close()
}
