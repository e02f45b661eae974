// Package breaker is a per-target circuit breaker with rate-limit cooldown.
//
// Closed: calls flow; it opens when the failure ratio over a sliding window
// reaches a threshold (with a minimum number of calls), or, when configured,
// after N consecutive failures. Open: no calls until the open time passes; each re-open
// doubles the open time up to a cap. Half-open: a limited number of probe
// calls; enough successes close it, a failure re-opens it.
//
// A 429 does not trip the breaker: the target cools for its Retry-After and
// is simply not picked until then.
package breaker

import (
	"sync"
	"sync/atomic"
	"time"
)

// State is the breaker state.
type State int32

// States.
const (
	Closed State = iota
	Open
	HalfOpen
)

func (s State) String() string {
	switch s {
	case Open:
		return "open"
	case HalfOpen:
		return "half_open"
	}
	return "closed"
}

// Config tunes a breaker. Zero fields take the defaults.
type Config struct {
	// ConsecutiveFailures trips after that many failures in a row; 0 (the
	// default) disables the rule. At a 30% random error rate five in a row
	// come every few hundred calls, so a default streak rule trips healthy-
	// but-flaky targets that retries would have served; the ratio rule
	// judges the rate instead.
	ConsecutiveFailures int
	FailureRatio        float64       // default 0.5
	MinRequests         int           // calls in the window before the ratio counts; default 20
	Window              time.Duration // default 10s
	OpenTime            time.Duration // first open period; default 5s
	MaxOpenTime         time.Duration // cap for the doubling; default 2m
	HalfOpenProbes      int           // concurrent probes, and successes needed to close; default 1
	DefaultCooldown     time.Duration // a 429 without Retry-After cools this long; default 1s
}

func (c Config) withDefaults() Config {
	c.ConsecutiveFailures = max(c.ConsecutiveFailures, 0)
	if c.FailureRatio <= 0 || c.FailureRatio > 1 {
		c.FailureRatio = 0.5
	}
	if c.MinRequests <= 0 {
		c.MinRequests = 20
	}
	if c.Window <= 0 {
		c.Window = 10 * time.Second
	}
	if c.OpenTime <= 0 {
		c.OpenTime = 5 * time.Second
	}
	if c.MaxOpenTime < c.OpenTime {
		c.MaxOpenTime = max(2*time.Minute, c.OpenTime)
	}
	if c.HalfOpenProbes <= 0 {
		c.HalfOpenProbes = 1
	}
	if c.DefaultCooldown <= 0 {
		c.DefaultCooldown = time.Second
	}
	return c
}

// Outcome is what a call did to the target's health.
type Outcome int

// Outcomes. Neutral is for errors that say nothing about the target (the
// client's bad request, its cancellation). Rejected is the upstream refusing
// our credentials: a bad key is not a random failure, so it opens the
// breaker at once instead of counting towards the ratio.
const (
	Success Outcome = iota
	Failure
	RateLimited
	Neutral
	Rejected
)

const buckets = 10

// Breaker guards one target. Allow/Available are lock-free; Record takes a
// per-breaker mutex.
type Breaker struct {
	cfg Config
	now func() time.Time

	state     atomic.Int32
	openUntil atomic.Int64 // unix ns
	coolUntil atomic.Int64 // unix ns
	probes    atomic.Int32 // probes in flight (half-open)

	mu        sync.Mutex
	consec    int
	opens     int // consecutive open periods, for the backoff
	successes int // half-open successes
	win       [buckets]struct {
		start      int64
		ok, failed int
	}
}

// Option configures a Breaker.
type Option func(*Breaker)

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(b *Breaker) { b.now = now } }

// New returns a closed breaker.
func New(cfg Config, opts ...Option) *Breaker {
	b := &Breaker{cfg: cfg.withDefaults(), now: time.Now}
	for _, o := range opts {
		o(b)
	}
	return b
}

// Available reports, without side effects, whether a call could be allowed
// now. Pickers use it to build their exclusion set.
func (b *Breaker) Available(now time.Time) bool {
	ns := now.UnixNano()
	if ns < b.coolUntil.Load() {
		return false
	}
	switch State(b.state.Load()) {
	case Open:
		return ns >= b.openUntil.Load()
	case HalfOpen:
		return int(b.probes.Load()) < b.cfg.HalfOpenProbes
	}
	return true
}

// Allow reserves a call. probe says it is a half-open probe; every allowed
// call must be followed by exactly one Record with the same probe flag.
func (b *Breaker) Allow() (ok, probe bool) {
	now := b.now().UnixNano()
	if now < b.coolUntil.Load() {
		return false, false
	}
	for {
		switch s := State(b.state.Load()); s {
		case Closed:
			return true, false
		case Open:
			if now < b.openUntil.Load() {
				return false, false
			}
			if b.state.CompareAndSwap(int32(Open), int32(HalfOpen)) {
				b.mu.Lock()
				b.successes = 0
				b.mu.Unlock()
			}
			continue
		case HalfOpen:
			n := b.probes.Add(1)
			if int(n) > b.cfg.HalfOpenProbes {
				b.probes.Add(-1)
				return false, false
			}
			return true, true
		}
	}
}

// Record reports the outcome of an allowed call. retryAfter is used for
// RateLimited (0 takes the default cooldown).
func (b *Breaker) Record(probe bool, o Outcome, retryAfter time.Duration) {
	now := b.now()
	ns := now.UnixNano()
	if probe {
		defer b.probes.Add(-1)
	}
	if o == RateLimited {
		if retryAfter <= 0 {
			retryAfter = b.cfg.DefaultCooldown
		}
		until := ns + int64(retryAfter)
		for {
			cur := b.coolUntil.Load()
			if until <= cur || b.coolUntil.CompareAndSwap(cur, until) {
				break
			}
		}
		return
	}
	if o == Neutral {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	st := State(b.state.Load())
	if o == Rejected {
		if st == Closed || (probe && st == HalfOpen) {
			b.tripLocked(ns)
		}
		return
	}
	if probe && st == HalfOpen {
		if o == Failure {
			b.tripLocked(ns)
			return
		}
		b.successes++
		if b.successes >= b.cfg.HalfOpenProbes {
			b.state.Store(int32(Closed))
			b.opens, b.consec = 0, 0
			b.win = [buckets]struct {
				start      int64
				ok, failed int
			}{}
		}
		return
	}
	if st != Closed {
		return // a call that started before the trip; it says nothing new
	}
	bk := b.bucketLocked(ns)
	if o == Success {
		b.consec = 0
		bk.ok++
		return
	}
	b.consec++
	bk.failed++
	if b.cfg.ConsecutiveFailures > 0 && b.consec >= b.cfg.ConsecutiveFailures {
		b.tripLocked(ns)
		return
	}
	ok, failed := b.windowLocked(ns)
	if total := ok + failed; total >= b.cfg.MinRequests && float64(failed)/float64(total) >= b.cfg.FailureRatio {
		b.tripLocked(ns)
	}
}

func (b *Breaker) tripLocked(ns int64) {
	open := b.cfg.OpenTime << uint(min(b.opens, 20))
	if open > b.cfg.MaxOpenTime || open <= 0 {
		open = b.cfg.MaxOpenTime
	}
	b.opens++
	b.consec = 0
	b.openUntil.Store(ns + int64(open))
	b.state.Store(int32(Open))
}

func (b *Breaker) bucketLocked(ns int64) *struct {
	start      int64
	ok, failed int
} {
	width := int64(b.cfg.Window) / buckets
	start := ns - ns%width
	bk := &b.win[(start/width)%buckets]
	if bk.start != start {
		bk.start, bk.ok, bk.failed = start, 0, 0
	}
	return bk
}

func (b *Breaker) windowLocked(ns int64) (ok, failed int) {
	for _, bk := range b.win {
		if ns-bk.start < int64(b.cfg.Window) {
			ok += bk.ok
			failed += bk.failed
		}
	}
	return ok, failed
}

// Snapshot is a breaker's state for status pages.
type Snapshot struct {
	State     State
	OpenUntil time.Time // when Open
	CoolUntil time.Time // zero unless cooling
}

// Cooling reports whether the target is cooling after a 429.
func (s Snapshot) Cooling(now time.Time) bool { return now.Before(s.CoolUntil) }

// Snapshot reads the state.
func (b *Breaker) Snapshot() Snapshot {
	s := Snapshot{State: State(b.state.Load())}
	if s.State == Open {
		s.OpenUntil = time.Unix(0, b.openUntil.Load())
	}
	if c := b.coolUntil.Load(); c > b.now().UnixNano() {
		s.CoolUntil = time.Unix(0, c)
	}
	return s
}
