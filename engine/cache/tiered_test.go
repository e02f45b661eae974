package cache

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memStore is an in-memory Store with a switchable failure.
type memStore struct {
	mu    sync.Mutex
	vals  map[Key][]byte
	ttls  map[Key]time.Duration
	fail  error
	calls atomic.Int64
}

func newMemStore() *memStore {
	return &memStore{vals: map[Key][]byte{}, ttls: map[Key]time.Duration{}}
}

func (m *memStore) Get(_ context.Context, k Key) ([]byte, time.Duration, error) {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, 0, m.fail
	}
	return m.vals[k], m.ttls[k], nil
}

func (m *memStore) Set(_ context.Context, k Key, v []byte, ttl time.Duration) error {
	m.calls.Add(1)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.vals[k], m.ttls[k] = v, ttl
	return nil
}

func (m *memStore) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

type stateLog struct {
	mu     sync.Mutex
	events []bool
}

func (s *stateLog) f(up bool, _ error) {
	s.mu.Lock()
	s.events = append(s.events, up)
	s.mu.Unlock()
}

func (s *stateLog) get() []bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]bool(nil), s.events...)
}

func TestTieredReadsThroughAndFillsL1(t *testing.T) {
	clk := newFakeClock()
	store := newMemStore()
	writer, _ := NewTiered(NewL1(), store)
	k := keyN(1)
	writer.Set(context.Background(), k, textEntry("answer"), time.Minute)
	if store.ttls[k] != time.Minute {
		t.Fatalf("store TTL %v", store.ttls[k])
	}
	store.ttls[k] = 2 * time.Second // as if most of the minute had passed

	reader, _ := NewTiered(NewL1(WithL1Clock(clk.Now)), store, WithTieredClock(clk.Now))
	e, ok := reader.Get(context.Background(), k)
	if !ok || e.ChatResponse().Choices[0].Message.Content != "answer" {
		t.Fatalf("L2 read: %v %+v", ok, e)
	}
	calls := store.calls.Load()
	if _, ok := reader.Get(context.Background(), k); !ok || store.calls.Load() != calls {
		t.Fatal("second read did not come from L1")
	}
	clk.Advance(2 * time.Second)
	if _, ok := reader.L1().Get(k); ok {
		t.Fatal("L1 copy outlived the store's remaining TTL")
	}
	st := reader.Stats()
	if st.L2Hits != 1 || st.L1Hits != 1 || st.Misses != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestTieredDegradesToL1WhileStoreFails(t *testing.T) {
	clk := newFakeClock()
	store := newMemStore()
	var log stateLog
	c, _ := NewTiered(NewL1(WithL1Clock(clk.Now)), store, WithTieredClock(clk.Now),
		WithRetryInterval(5*time.Second), WithStateFunc(log.f))
	ctx := context.Background()
	c.Set(ctx, keyN(1), textEntry("before"), time.Hour)

	store.setFail(errors.New("connection refused"))
	if _, ok := c.Get(ctx, keyN(2)); ok {
		t.Fatal("hit from a failing store")
	}
	c.Set(ctx, keyN(3), textEntry("during"), time.Hour)
	calls := store.calls.Load()
	for range 10 {
		c.Get(ctx, keyN(4))
		c.Set(ctx, keyN(5), textEntry("x"), time.Hour)
	}
	if store.calls.Load() != calls {
		t.Fatalf("store called %d times while down", store.calls.Load()-calls)
	}
	if _, ok := c.Get(ctx, keyN(3)); !ok {
		t.Fatal("write during the outage did not reach L1")
	}
	if _, ok := c.Get(ctx, keyN(1)); !ok {
		t.Fatal("L1 entry lost during the outage")
	}
	st := c.Stats()
	if st.L2Errors != 1 || st.L2Skipped != 21 || !st.L2Down {
		t.Fatalf("stats during outage %+v", st)
	}

	// Still failing at the first probe: one call, stays down, no new event.
	clk.Advance(5 * time.Second)
	c.Get(ctx, keyN(6))
	if store.calls.Load() != calls+1 || c.Stats().L2Errors != 2 {
		t.Fatalf("probe: calls +%d, stats %+v", store.calls.Load()-calls, c.Stats())
	}
	// Recovered: the next probe succeeds and traffic resumes.
	store.setFail(nil)
	clk.Advance(5 * time.Second)
	c.Set(ctx, keyN(7), textEntry("after"), time.Hour)
	c.Get(ctx, keyN(8))
	if c.Stats().L2Down || store.calls.Load() != calls+3 {
		t.Fatalf("after recovery: calls +%d, stats %+v", store.calls.Load()-calls, c.Stats())
	}
	if got := log.get(); len(got) != 2 || got[0] || !got[1] {
		t.Fatalf("state events %v, want [down up]", got)
	}
}

func TestTieredProbesWithOneCaller(t *testing.T) {
	clk := newFakeClock()
	store := newMemStore()
	c, _ := NewTiered(NewL1(), store, WithTieredClock(clk.Now), WithRetryInterval(time.Second))
	store.setFail(errors.New("down"))
	c.Get(context.Background(), keyN(1))
	clk.Advance(time.Second)
	before := store.calls.Load()
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() { c.Get(context.Background(), keyN(2)) })
	}
	wg.Wait()
	if n := store.calls.Load() - before; n != 1 {
		t.Fatalf("%d probes, want 1", n)
	}
}

func TestTieredIgnoresCallerCancellation(t *testing.T) {
	store := newMemStore()
	store.setFail(context.Canceled)
	c, _ := NewTiered(NewL1(), store)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c.Get(ctx, keyN(1))
	if st := c.Stats(); st.L2Down || st.L2Errors != 0 {
		t.Fatalf("a caller leaving marked the store down: %+v", st)
	}
}

func TestTieredTreatsUndecodableValuesAsMisses(t *testing.T) {
	store := newMemStore()
	store.vals[keyN(1)] = []byte(`{"v":99}`)
	c, _ := NewTiered(NewL1(), store)
	if _, ok := c.Get(context.Background(), keyN(1)); ok {
		t.Fatal("served an undecodable value")
	}
	if st := c.Stats(); st.DecodeErrors != 1 || st.Misses != 1 || st.L2Down {
		t.Fatalf("stats %+v", st)
	}
}

func TestTieredWithoutStore(t *testing.T) {
	if _, err := NewTiered(nil, nil); err == nil {
		t.Fatal("NewTiered accepted a nil L1")
	}
	c, err := NewTiered(NewL1(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Set(context.Background(), keyN(1), textEntry("x"), 0)
	if _, ok := c.Get(context.Background(), keyN(1)); !ok {
		t.Fatal("miss")
	}
}

// A Redis that accepts connections and never answers must cost one
// timeout, after which it is skipped.
func TestTieredBoundsAHangingRedis(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns sync.WaitGroup
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop); ln.Close(); conns.Wait() })
	go func() {
		for {
			cn, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Go(func() { <-stop; cn.Close() })
		}
	}()
	r, err := NewRedis(ln.Addr().String(), WithRedisTimeout(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	c, _ := NewTiered(NewL1(), r)
	ctx := context.Background()

	start := time.Now()
	if _, ok := c.Get(ctx, keyN(1)); ok {
		t.Fatal("hit")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("first read took %v with a 50ms timeout", d)
	}
	start = time.Now()
	for range 100 {
		c.Get(ctx, keyN(1))
		c.Set(ctx, keyN(2), textEntry("x"), time.Minute)
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("200 calls with Redis down took %v", d)
	}
	if st := c.Stats(); st.L2Errors != 1 || !st.L2Down {
		t.Fatalf("stats %+v", st)
	}
}
