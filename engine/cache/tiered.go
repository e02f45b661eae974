package cache

import (
	"context"
	"errors"
	"sync/atomic"
	"time"
)

// Store is a shared second level (Redis in production). A miss is
// (nil, 0, nil); ttl is the value's remaining lifetime (0 if unknown).
// Implementations bound every call with a short timeout of their own.
type Store interface {
	Get(ctx context.Context, k Key) (val []byte, ttl time.Duration, err error)
	Set(ctx context.Context, k Key, val []byte, ttl time.Duration) error
}

// DefaultRetryInterval is how long Tiered leaves a failing Store alone.
const DefaultRetryInterval = 5 * time.Second

// Tiered reads L1, then the Store, filling L1 from Store hits; it writes
// both. A Store error never reaches the caller: the read is a miss, the
// write stays in L1, and the Store is skipped for the retry interval (then
// one request probes it), so an outage costs at most one timeout per
// interval. Safe for concurrent use; starts no goroutine.
type Tiered struct {
	l1      *L1
	l2      Store
	retry   time.Duration
	now     func() time.Time
	onState func(up bool, err error)

	down      atomic.Bool
	nextProbe atomic.Int64 // unix ns; while down, the Store is skipped until then

	l1Hits, l2Hits, misses, sets, l2Errors, l2Skipped, decodeErrors atomic.Uint64
}

// Stats counts what Tiered did since it was built.
type Stats struct {
	L1Hits, L2Hits, Misses, Sets uint64
	// L2Errors counts failed Store calls (timeouts included), L2Skipped the
	// calls not made while the Store was down, DecodeErrors Store values
	// that did not decode (read as misses) and entries that did not encode.
	L2Errors, L2Skipped, DecodeErrors uint64
	// L2Down is true while the Store is being skipped.
	L2Down bool
}

// TieredOption configures a Tiered.
type TieredOption func(*Tiered)

// WithRetryInterval sets how long a failing Store is skipped (default 5s).
func WithRetryInterval(d time.Duration) TieredOption { return func(t *Tiered) { t.retry = d } }

// WithStateFunc is called when the Store goes down (up=false, with the
// error) and when it answers again (up=true), once per transition, so the
// caller can log one warning per outage. It must not block.
func WithStateFunc(f func(up bool, err error)) TieredOption {
	return func(t *Tiered) { t.onState = f }
}

// WithTieredClock injects the clock of the retry interval (tests).
func WithTieredClock(now func() time.Time) TieredOption { return func(t *Tiered) { t.now = now } }

// NewTiered puts l2 behind l1; l2 may be nil (L1 only). l1 is required.
func NewTiered(l1 *L1, l2 Store, opts ...TieredOption) (*Tiered, error) {
	if l1 == nil {
		return nil, errors.New("cache: NewTiered needs an L1")
	}
	t := &Tiered{l1: l1, l2: l2, retry: DefaultRetryInterval, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	if t.retry <= 0 {
		t.retry = DefaultRetryInterval
	}
	t.retry = min(t.retry, 10*time.Minute)
	return t, nil
}

// L1 returns the first level.
func (t *Tiered) L1() *L1 { return t.l1 }

// Get returns the entry under k from L1 or, failing that, the Store.
func (t *Tiered) Get(ctx context.Context, k Key) (*Entry, bool) {
	if e, ok := t.l1.Get(k); ok {
		t.l1Hits.Add(1)
		return e, true
	}
	if !t.useL2() {
		t.misses.Add(1)
		return nil, false
	}
	val, ttl, err := t.l2.Get(ctx, k)
	if !t.record(ctx, err) || val == nil {
		t.misses.Add(1)
		return nil, false
	}
	e := new(Entry)
	if err := e.UnmarshalBinary(val); err != nil {
		t.decodeErrors.Add(1)
		t.misses.Add(1)
		return nil, false
	}
	t.l1.Set(k, e, ttl)
	t.l2Hits.Add(1)
	return e, true
}

// Set stores e under k in L1 and the Store for ttl (0: L1's default),
// stamping e.StoredAt when it is zero. Pass a context that outlives the client if the write must not be cut
// short by a client leaving (context.WithoutCancel).
func (t *Tiered) Set(ctx context.Context, k Key, e *Entry, ttl time.Duration) {
	if ttl <= 0 {
		ttl = t.l1.DefaultTTL()
	}
	ttl = min(ttl, MaxTTL)
	if e.StoredAt.IsZero() {
		e.StoredAt = t.now()
	}
	t.sets.Add(1)
	t.l1.Set(k, e, ttl)
	if !t.useL2() {
		return
	}
	val, err := e.MarshalBinary()
	if err != nil {
		t.decodeErrors.Add(1)
		return
	}
	t.record(ctx, t.l2.Set(ctx, k, val, ttl))
}

// useL2 says whether to call the Store now: always while it is up; while
// down, only the one caller that claims the next probe slot.
func (t *Tiered) useL2() bool {
	if t.l2 == nil {
		return false
	}
	if !t.down.Load() {
		return true
	}
	now := t.now().UnixNano()
	next := t.nextProbe.Load()
	if now < next || !t.nextProbe.CompareAndSwap(next, now+int64(t.retry)) {
		t.l2Skipped.Add(1)
		return false
	}
	return true
}

// record notes a Store call's outcome and reports whether it succeeded.
// A call that failed because the caller's own context ended says nothing
// about the Store.
func (t *Tiered) record(ctx context.Context, err error) bool {
	if err == nil {
		if t.down.CompareAndSwap(true, false) && t.onState != nil {
			t.onState(true, nil)
		}
		return true
	}
	if ctx.Err() != nil {
		return false
	}
	t.l2Errors.Add(1)
	t.nextProbe.Store(t.now().Add(t.retry).UnixNano())
	if t.down.CompareAndSwap(false, true) && t.onState != nil {
		t.onState(false, err)
	}
	return false
}

// Stats returns the counters.
func (t *Tiered) Stats() Stats {
	return Stats{
		L1Hits: t.l1Hits.Load(), L2Hits: t.l2Hits.Load(), Misses: t.misses.Load(), Sets: t.sets.Load(),
		L2Errors: t.l2Errors.Load(), L2Skipped: t.l2Skipped.Load(), DecodeErrors: t.decodeErrors.Load(),
		L2Down: t.down.Load(),
	}
}
