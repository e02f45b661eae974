package limits

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

const (
	shardCount = 64
	// defaultSweep is how often a shard drops buckets that have refilled.
	defaultSweep = time.Minute
)

// Option configures a Memory or Redis limiter.
type Option func(*options)

type options struct {
	now    func() time.Time
	sweep  time.Duration
	prefix string
}

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(o *options) { o.now = now } }

// WithSweepInterval sets how often idle buckets are evicted from memory
// (Memory only). Minimum one second.
func WithSweepInterval(d time.Duration) Option { return func(o *options) { o.sweep = d } }

// WithKeyPrefix sets the Redis key prefix (Redis only).
func WithKeyPrefix(p string) Option { return func(o *options) { o.prefix = p } }

func buildOptions(opts []Option) options {
	o := options{now: time.Now, sweep: defaultSweep, prefix: "switchyard:rl:"}
	for _, fn := range opts {
		fn(&o)
	}
	if o.now == nil {
		o.now = time.Now
	}
	o.sweep = max(o.sweep, time.Second)
	return o
}

// Memory is the in-process Limiter. Keys hash to one of 64 mutex-guarded
// shards, so unrelated clients rarely contend. A bucket that has refilled
// is indistinguishable from a missing one, so sweeps drop those and memory
// stays proportional to the clients active in the last minute.
type Memory struct {
	now    func() time.Time
	sweep  time.Duration
	seed   maphash.Seed
	shards [shardCount]shard
}

type shard struct {
	mu        sync.Mutex
	buckets   map[string]*bucket
	nextSweep time.Time
	_         [64]byte // keep neighbouring shards' locks off one cache line
}

type bucket struct {
	req, tok float64
	last     time.Time
	lim      Limits
}

// NewMemory returns an in-process Limiter. It starts no goroutines.
func NewMemory(opts ...Option) *Memory {
	o := buildOptions(opts)
	m := &Memory{now: o.now, sweep: o.sweep, seed: maphash.MakeSeed()}
	for i := range m.shards {
		m.shards[i].buckets = make(map[string]*bucket)
	}
	return m
}

// refill brings b up to now under lim, resizing it if the limits changed.
func (b *bucket) refill(now time.Time, lim Limits) {
	el := now.Sub(b.last).Seconds()
	if el < 0 {
		el = 0
	}
	b.req = refillLevel(b.req, b.lim.RPM, lim.RPM, el)
	b.tok = refillLevel(b.tok, b.lim.TPM, lim.TPM, el)
	b.lim = lim
	b.last = now
}

func refillLevel(level float64, oldCap, newCap int, elapsedSec float64) float64 {
	if newCap <= 0 {
		return 0
	}
	if oldCap <= 0 { // was unlimited: start full
		return float64(newCap)
	}
	level += elapsedSec * float64(newCap) / 60
	return min(level, float64(newCap))
}

// full reports whether b has refilled completely by now (so can go).
func (b *bucket) full(now time.Time) bool {
	el := now.Sub(b.last)
	return el >= timeToFull(b.req, b.lim.RPM) && el >= timeToFull(b.tok, b.lim.TPM)
}

func (m *Memory) shard(key string) *shard {
	return &m.shards[maphash.String(m.seed, key)%shardCount]
}

// Reserve implements Limiter.
func (m *Memory) Reserve(_ context.Context, key string, lim Limits, estTokens int) (Reservation, error) {
	if err := validate(key, lim, estTokens); err != nil {
		return nil, err
	}
	if lim.RPM == 0 && lim.TPM == 0 {
		return noReservation{}, nil
	}
	now := m.now()
	need := tokenNeed(lim, estTokens)
	s := m.shard(key)

	s.mu.Lock()
	if !now.Before(s.nextSweep) {
		s.sweepLocked(now)
		s.nextSweep = now.Add(m.sweep)
	}
	b := s.buckets[key]
	if b == nil {
		b = &bucket{req: float64(lim.RPM), tok: float64(lim.TPM), last: now, lim: lim}
		s.buckets[key] = b
	} else {
		b.refill(now, lim)
	}
	st := take(b, lim, need)
	s.mu.Unlock()

	if !st.allowed {
		return nil, denied(key, lim, st)
	}
	return &memReservation{m: m, key: key, est: need, lim: lim, st: st.status(lim)}, nil
}

// take is the token-bucket decision on a refilled bucket.
func take(b *bucket, lim Limits, need int) bucketState {
	var wait time.Duration
	ok := true
	if lim.RPM > 0 && b.req < 1 {
		ok = false
		wait = max(wait, time.Duration((1-b.req)*float64(time.Minute)/float64(lim.RPM)))
	}
	if lim.TPM > 0 && b.tok < float64(need) {
		ok = false
		wait = max(wait, time.Duration((float64(need)-b.tok)*float64(time.Minute)/float64(lim.TPM)))
	}
	if ok {
		if lim.RPM > 0 {
			b.req--
		}
		if lim.TPM > 0 {
			b.tok -= float64(need)
		}
	}
	return bucketState{allowed: ok, req: b.req, tok: b.tok, wait: wait}
}

func (s *shard) sweepLocked(now time.Time) {
	for k, b := range s.buckets {
		if b.full(now) {
			delete(s.buckets, k)
		}
	}
}

// Len is the number of buckets held in memory (tests, metrics).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		s := &m.shards[i]
		s.mu.Lock()
		n += len(s.buckets)
		s.mu.Unlock()
	}
	return n
}

type memReservation struct {
	m       *Memory
	key     string
	est     int
	lim     Limits
	st      Status
	settled bool
}

func (r *memReservation) Status() Status { return r.st }

func (r *memReservation) Settle(_ context.Context, actualTokens int) error {
	if r.settled {
		return nil
	}
	r.settled = true
	diff := r.est - max(actualTokens, 0)
	if diff == 0 || r.lim.TPM == 0 {
		return nil
	}
	now := r.m.now()
	s := r.m.shard(r.key)
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.buckets[r.key]
	if b == nil {
		if diff > 0 {
			return nil // swept as full: a refund has nowhere to go
		}
		b = &bucket{req: float64(r.lim.RPM), tok: float64(r.lim.TPM), last: now, lim: r.lim}
		s.buckets[r.key] = b
	} else {
		b.refill(now, b.lim)
	}
	if b.lim.TPM > 0 {
		// Overruns may push the bucket negative: the debt delays the
		// client's next requests, which is the point of charging it.
		b.tok = min(b.tok+float64(diff), float64(b.lim.TPM))
	}
	return nil
}

// noReservation is returned when no limit applies.
type noReservation struct{}

func (noReservation) Status() Status                    { return Status{} }
func (noReservation) Settle(context.Context, int) error { return nil }
