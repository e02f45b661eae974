package observe

import (
	"sync"
	"time"

	"github.com/switchyard/switchyard/engine/gateway"
)

// Event is one finished request as the live view shows it: no content.
type Event struct {
	Time   time.Time
	Record gateway.Record
}

// Tail keeps the last requests in a ring and fans each new one out to
// subscribers. Publish never blocks: a subscriber whose buffer is full loses
// the event and is told how many it lost with its next one, so a slow
// browser tab cannot slow the request path. Close ends every subscription
// (server drain).
type Tail struct {
	mu     sync.Mutex
	ring   []Event
	next   int
	full   bool
	subs   map[*Subscription]struct{}
	closed bool
	now    func() time.Time
}

// Subscription receives events on C until it is cancelled or the Tail
// closes, then C is closed.
type Subscription struct {
	C       chan Event
	t       *Tail
	dropped int64 // guarded by t.mu
}

// TailOption configures a Tail.
type TailOption func(*Tail)

// WithTailClock sets the clock that stamps events (tests).
func WithTailClock(now func() time.Time) TailOption { return func(t *Tail) { t.now = now } }

// NewTail keeps the last size events (at least 1).
func NewTail(size int, opts ...TailOption) *Tail {
	t := &Tail{ring: make([]Event, max(size, 1)), subs: map[*Subscription]struct{}{}, now: time.Now}
	for _, o := range opts {
		o(t)
	}
	return t
}

// Publish records r and offers it to every subscriber without waiting.
func (t *Tail) Publish(r gateway.Record) {
	ev := Event{Time: t.now(), Record: r}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	t.ring[t.next] = ev
	t.next = (t.next + 1) % len(t.ring)
	t.full = t.full || t.next == 0
	for s := range t.subs {
		select {
		case s.C <- ev:
		default:
			s.dropped++
		}
	}
}

// Subscribe returns up to backlog recent events (oldest first) and a
// subscription with a buffer of buf events. ok is false after Close.
func (t *Tail) Subscribe(backlog, buf int) (recent []Event, s *Subscription, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return nil, nil, false
	}
	n := t.next
	if t.full {
		n = len(t.ring)
	}
	backlog = min(max(backlog, 0), n)
	for i := backlog; i > 0; i-- {
		recent = append(recent, t.ring[(t.next-i+len(t.ring))%len(t.ring)])
	}
	s = &Subscription{C: make(chan Event, max(buf, 1)), t: t}
	t.subs[s] = struct{}{}
	return recent, s, true
}

// Dropped returns and resets how many events s lost since the last call.
func (s *Subscription) Dropped() int64 {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	d := s.dropped
	s.dropped = 0
	return d
}

// Cancel ends s; safe to call more than once and after Close.
func (s *Subscription) Cancel() {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	if _, ok := s.t.subs[s]; ok {
		delete(s.t.subs, s)
		close(s.C)
	}
}

// Subscribers is how many subscriptions are open.
func (t *Tail) Subscribers() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.subs)
}

// Close ends every subscription and refuses new ones.
func (t *Tail) Close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closed = true
	for s := range t.subs {
		delete(t.subs, s)
		close(s.C)
	}
}
