package cache

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrClosed is returned by groups after Close.
var ErrClosed = errors.New("cache: closed")

// DefaultCallTimeout bounds a coalesced unary call when NewGroup is given
// no timeout.
const DefaultCallTimeout = 2 * time.Minute

// Group coalesces identical unary calls in flight: the first caller of a
// key starts fn, later callers of the same key wait for its result.
//
// fn runs in its own goroutine on a detached context (the first caller's
// values, not its cancellation) bounded by the group's timeout, so a caller
// that leaves does not fail the others; each caller still returns as soon
// as its own context ends. When every caller has left, fn's context is
// cancelled and the key is free for a new call.
//
// The result is shared by all callers: treat it as read-only. T is
// typically a struct of the response and the routing report.
type Group[T any] struct {
	timeout time.Duration

	mu     sync.Mutex
	calls  map[Key]*call[T]
	closed bool
	wg     sync.WaitGroup
}

type call[T any] struct {
	done    chan struct{}
	val     T
	err     error
	waiters int  // guarded by Group.mu
	over    bool // fn returned; guarded by Group.mu
	cancel  context.CancelFunc
}

// NewGroup returns a Group whose calls run at most timeout (0 or less:
// DefaultCallTimeout).
func NewGroup[T any](timeout time.Duration) *Group[T] {
	if timeout <= 0 {
		timeout = DefaultCallTimeout
	}
	return &Group[T]{timeout: timeout, calls: make(map[Key]*call[T])}
}

// Do returns fn's result for key, running fn only if no call of key is in
// flight. shared is true when this caller joined another caller's call
// (report it as coalesced). A panic in fn becomes an error for every caller.
func (g *Group[T]) Do(ctx context.Context, key Key, fn func(ctx context.Context) (T, error)) (v T, shared bool, err error) {
	if err := ctx.Err(); err != nil {
		return v, false, err
	}
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return v, false, ErrClosed
	}
	c, shared := g.calls[key]
	if !shared {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), g.timeout)
		c = &call[T]{done: make(chan struct{}), cancel: cancel}
		g.calls[key] = c
		g.wg.Add(1)
		go g.run(cctx, key, c, fn)
	}
	c.waiters++
	g.mu.Unlock()

	select {
	case <-c.done:
		return c.val, shared, c.err
	case <-ctx.Done():
		g.leave(key, c)
		return v, shared, ctx.Err()
	}
}

// leave drops a waiter; the last one out cancels an unfinished call.
func (g *Group[T]) leave(key Key, c *call[T]) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c.waiters--
	if c.waiters == 0 && !c.over {
		c.cancel()
		if g.calls[key] == c {
			delete(g.calls, key)
		}
	}
}

func (g *Group[T]) run(ctx context.Context, key Key, c *call[T], fn func(context.Context) (T, error)) {
	defer g.wg.Done()
	defer c.cancel()
	defer func() {
		if p := recover(); p != nil {
			c.err = fmt.Errorf("cache: coalesced call panicked: %v", p)
		}
		g.mu.Lock()
		c.over = true
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
}

// InFlight is the number of calls running (tests, metrics).
func (g *Group[T]) InFlight() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.calls)
}

// Close cancels every call in flight, waits for their fn to return, and
// makes later Do calls fail with ErrClosed. Waiting callers get whatever
// their fn returns on a cancelled context.
func (g *Group[T]) Close() error {
	g.mu.Lock()
	g.closed = true
	for _, c := range g.calls {
		c.cancel()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return nil
}
