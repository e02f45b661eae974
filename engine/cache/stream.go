package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Stream group defaults.
const (
	DefaultStreamTimeout = 10 * time.Minute
	DefaultStreamBuffer  = 1024
)

// ErrSlowSubscriber ends a subscriber that fell more than the buffer
// behind a live upstream.
var ErrSlowSubscriber = &llm.Error{Kind: llm.KindUnavailable, Code: "stream_consumer_too_slow",
	Message: "the stream was shared with identical requests and this client read too slowly to keep up"}

// errSubscriberClosed is Recv's error after Close.
var errSubscriberClosed = errors.New("cache: shared stream closed")

// StreamGroup fans one upstream stream out to every identical request in
// flight.
//
// The first caller of a key opens the upstream (on a detached context, as
// Group does) and a pump goroutine reads it into an append-only chunk log.
// Every caller gets its own Subscriber that reads the log from the start
// (a late joiner first replays what was already received) and then follows
// live. The pump never waits for subscribers, so a slow one cannot stall
// the others; a subscriber more than the buffer (in chunks) behind the
// live edge while the upstream is still producing is cut off with
// ErrSlowSubscriber. Once the upstream has ended, subscribers drain the
// log at their own pace.
//
// On a clean end (io.EOF) the leader's onComplete receives the whole chunk
// list, so the caller can store it, and then the key leaves the group:
// later callers should find it in the cache. On an upstream error every
// subscriber gets that error after the chunks before it, and the key
// leaves the group. When every subscriber has left before the end, the
// upstream is cancelled and closed.
//
// Close cancels every flight and waits for the pumps to stop.
type StreamGroup struct {
	timeout time.Duration
	buffer  int

	mu      sync.Mutex
	flights map[Key]*flight
	closed  bool
	wg      sync.WaitGroup
}

// StreamOption configures a StreamGroup.
type StreamOption func(*StreamGroup)

// WithSubscriberBuffer sets how many chunks a subscriber may lag behind a
// live upstream before it is cut off (default 1024).
func WithSubscriberBuffer(n int) StreamOption { return func(g *StreamGroup) { g.buffer = n } }

// NewStreamGroup returns a StreamGroup whose upstream streams run at most
// timeout (0 or less: DefaultStreamTimeout).
func NewStreamGroup(timeout time.Duration, opts ...StreamOption) *StreamGroup {
	g := &StreamGroup{timeout: timeout, flights: make(map[Key]*flight)}
	for _, o := range opts {
		o(g)
	}
	if g.timeout <= 0 {
		g.timeout = DefaultStreamTimeout
	}
	if g.buffer <= 0 {
		g.buffer = DefaultStreamBuffer
	}
	return g
}

// flight is one upstream stream and its chunk log.
type flight struct {
	key    Key
	cancel context.CancelFunc
	opened chan struct{} // closed once open returned

	mu      sync.Mutex
	source  llm.Stream
	openErr error
	chunks  []llm.Chunk
	done    bool  // the upstream ended
	err     error // how: io.EOF or the upstream's error
	refs    int   // callers in Join plus subscribers not yet gone
	changed chan struct{}
	waiting bool // someone waits on changed
}

// wake tells waiting subscribers the log or state changed. Holds f.mu.
func (f *flight) wake() {
	if f.waiting {
		close(f.changed)
		f.changed = make(chan struct{})
		f.waiting = false
	}
}

// Join returns a stream of key's answer, opening the upstream with open
// unless a stream of key is in flight. It returns once the upstream is open
// (open returned), so open's errors (say, no healthy target) come back
// here, to every caller waiting on it. shared is true when this caller
// joined another caller's stream (report it as coalesced).
//
// onComplete (may be nil) is the leader's: a joiner's is ignored. It runs
// on the pump goroutine after a clean end, with the complete chunk list,
// which is read-only. It should not block for long: late callers wait on
// the flight until it returns, then miss the group and should hit the
// cache it just filled.
//
// ctx bounds this caller only: when it ends, this caller's stream ends
// (Recv returns ctx's error) and it leaves the flight. The caller must
// Close the Subscriber when done with it, whatever happened: Close
// releases its hold on the flight and on ctx.
func (g *StreamGroup) Join(ctx context.Context, key Key, open func(ctx context.Context) (llm.Stream, error),
	onComplete func(chunks []llm.Chunk)) (*Subscriber, bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, false, err
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil, false, ErrClosed
	}
	f, shared := g.flights[key]
	if !shared {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
		f = &flight{key: key, cancel: cancel, opened: make(chan struct{}), changed: make(chan struct{})}
		g.flights[key] = f
		g.wg.Add(1)
		go g.pump(fctx, f, open, onComplete)
	}
	f.mu.Lock()
	f.refs++
	f.mu.Unlock()
	g.mu.Unlock()

	select {
	case <-f.opened:
	case <-ctx.Done():
		g.leave(f)
		return nil, shared, ctx.Err()
	}
	f.mu.Lock()
	if f.openErr != nil {
		err := f.openErr
		f.mu.Unlock()
		g.leave(f)
		return nil, shared, err
	}
	s := &Subscriber{g: g, f: f, base: len(f.chunks), gone: make(chan struct{})}
	f.mu.Unlock()
	s.stop = context.AfterFunc(ctx, func() { s.end(ctx.Err()) })
	return s, shared, nil
}

// leave drops a reference; the last one out abandons an unfinished flight.
func (g *StreamGroup) leave(f *flight) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refs--
	if f.refs == 0 && !f.done {
		f.cancel()
		if g.flights[f.key] == f {
			delete(g.flights, f.key)
		}
	}
}

// remove takes a finished flight out of the group.
func (g *StreamGroup) remove(f *flight) {
	g.mu.Lock()
	if g.flights[f.key] == f {
		delete(g.flights, f.key)
	}
	g.mu.Unlock()
}

func (g *StreamGroup) pump(ctx context.Context, f *flight, open func(context.Context) (llm.Stream, error), onComplete func([]llm.Chunk)) {
	defer g.wg.Done()
	defer f.cancel()
	defer g.remove(f)

	st, err := safeOpen(ctx, open)
	f.mu.Lock()
	f.source, f.openErr = st, err
	f.mu.Unlock()
	close(f.opened)
	if err != nil {
		return
	}
	defer st.Close()
	for {
		c, err := st.Recv()
		f.mu.Lock()
		if err != nil {
			f.done, f.err = true, err
			f.wake()
			chunks := f.chunks
			f.mu.Unlock()
			if errors.Is(err, io.EOF) && onComplete != nil && len(chunks) > 0 {
				onComplete(chunks)
			}
			return
		}
		f.chunks = append(f.chunks, c)
		f.wake()
		f.mu.Unlock()
	}
}

func safeOpen(ctx context.Context, open func(context.Context) (llm.Stream, error)) (st llm.Stream, err error) {
	defer func() {
		if p := recover(); p != nil {
			st, err = nil, fmt.Errorf("cache: opening a shared stream panicked: %v", p)
		}
	}()
	st, err = open(ctx)
	if err == nil && st == nil {
		err = errors.New("cache: open returned neither a stream nor an error")
	}
	return st, err
}

// InFlight is the number of upstream streams shared now (tests, metrics).
func (g *StreamGroup) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.flights)
}

// Close cancels every upstream stream, waits for the pumps to stop, and
// makes later Join calls fail with ErrClosed. Subscribers still reading
// get the upstream's cancellation error after the chunks before it.
func (g *StreamGroup) Close() error {
	g.mu.Lock()
	g.closed = true
	for _, f := range g.flights {
		f.cancel()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return nil
}

// Subscriber is one caller's view of a shared stream. It implements
// llm.Stream; Recv is for one goroutine, Close may be called from any.
type Subscriber struct {
	g    *StreamGroup
	f    *flight
	next int // index of the next chunk to return
	base int // log length at join: the replayed prefix does not count as lag
	stop func() bool

	// guarded by f.mu
	err  error // set when this subscriber is gone: closed, cancelled, cut off
	gone chan struct{}
}

// Recv returns the next chunk, io.EOF after the last, or the upstream's
// error, ErrSlowSubscriber, or the caller's context error.
func (s *Subscriber) Recv() (llm.Chunk, error) {
	f := s.f
	for {
		f.mu.Lock()
		if s.err != nil {
			err := s.err
			f.mu.Unlock()
			return llm.Chunk{}, err
		}
		if n := len(f.chunks); s.next < n {
			if !f.done && n-max(s.next, s.base) > s.g.buffer {
				f.mu.Unlock()
				s.end(ErrSlowSubscriber)
				return llm.Chunk{}, ErrSlowSubscriber
			}
			c := f.chunks[s.next]
			s.next++
			f.mu.Unlock()
			return c, nil
		}
		if f.done {
			err := f.err
			f.mu.Unlock()
			return llm.Chunk{}, err
		}
		f.waiting = true
		changed := f.changed
		f.mu.Unlock()
		select {
		case <-changed:
		case <-s.gone:
		}
	}
}

// Close leaves the shared stream; the upstream is cancelled when the last
// subscriber leaves before its end. Safe to call more than once.
func (s *Subscriber) Close() error {
	s.stop() // set before Join returned; the AfterFunc itself never reads it
	s.end(errSubscriberClosed)
	return nil
}

// end makes this subscriber gone with err (the first reason wins) and
// drops its reference once.
func (s *Subscriber) end(err error) {
	f := s.f
	f.mu.Lock()
	first := s.err == nil
	if first {
		s.err = err
		close(s.gone)
	}
	f.mu.Unlock()
	if first {
		s.g.leave(f)
	}
}

// Source is the upstream stream shared by this subscriber's flight, for
// reading its metadata (the router's routing report, say). Never Recv or
// Close it.
func (s *Subscriber) Source() llm.Stream {
	s.f.mu.Lock()
	defer s.f.mu.Unlock()
	return s.f.source
}
