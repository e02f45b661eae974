package cache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

type upItem struct {
	c   llm.Chunk
	err error
}

// fakeUpstream is a stream the test feeds by hand. Like an HTTP body it
// fails when the context it was opened with ends.
type fakeUpstream struct {
	items  chan upItem
	done   <-chan struct{}
	closed atomic.Bool
}

func (u *fakeUpstream) Recv() (llm.Chunk, error) {
	select {
	case it, ok := <-u.items:
		if !ok {
			return llm.Chunk{}, io.EOF
		}
		return it.c, it.err
	case <-u.done:
		return llm.Chunk{}, context.Canceled
	}
}

func (u *fakeUpstream) Close() error { u.closed.Store(true); return nil }

// opener counts opens and hands the test each upstream it opened.
type opener struct {
	opens  atomic.Int32
	ups    chan *fakeUpstream
	gate   chan struct{} // if set, open waits for it
	err    error
	ctxErr chan error // open's context error when it returns, if set
}

func newOpener() *opener { return &opener{ups: make(chan *fakeUpstream, 16)} }

func (o *opener) open(ctx context.Context) (llm.Stream, error) {
	o.opens.Add(1)
	if o.gate != nil {
		<-o.gate
	}
	if o.err != nil {
		return nil, o.err
	}
	u := &fakeUpstream{items: make(chan upItem, 4096), done: ctx.Done()}
	o.ups <- u
	return u, nil
}

func (o *opener) next(t *testing.T) *fakeUpstream {
	t.Helper()
	select {
	case u := <-o.ups:
		return u
	case <-time.After(5 * time.Second):
		t.Fatal("no upstream opened")
		return nil
	}
}

func chunk(i int) llm.Chunk {
	return llm.Chunk{ID: "s", Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: fmt.Sprintf("tok%d ", i)}}}}
}

func chunks(from, to int) []llm.Chunk {
	var out []llm.Chunk
	for i := from; i < to; i++ {
		out = append(out, chunk(i))
	}
	return out
}

func (u *fakeUpstream) send(cs ...llm.Chunk) {
	for _, c := range cs {
		u.items <- upItem{c: c}
	}
}

// recv fails the test if a chunk takes longer than a second: a stalled
// subscriber shows up as a timeout, not a hang.
func recv(t *testing.T, s llm.Stream) (llm.Chunk, error) {
	t.Helper()
	type res struct {
		c   llm.Chunk
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := s.Recv()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-time.After(time.Second):
		t.Fatal("Recv stalled")
		return llm.Chunk{}, nil
	}
}

func readAll(s llm.Stream) ([]llm.Chunk, error) {
	var out []llm.Chunk
	for {
		c, err := s.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, c)
	}
}

func TestStreamGroupFansOneUpstreamOutToEveryCaller(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	var completed atomic.Int32
	var stored []llm.Chunk
	onComplete := func(cs []llm.Chunk) { completed.Add(1); stored = cs }

	const n = 100
	want := chunks(0, 300)
	var joined, shared atomic.Int32
	results := make([][]llm.Chunk, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, sh, err := g.Join(context.Background(), keyN(1), op.open, onComplete)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			if sh {
				shared.Add(1)
			}
			joined.Add(1)
			got, err := readAll(s)
			if err != nil {
				t.Error(err)
			}
			results[i] = got
		})
	}
	up := op.next(t)
	waitFor(t, "every caller to join", func() bool { return joined.Load() == n })
	up.send(want...)
	close(up.items)
	wg.Wait()

	for i, got := range results {
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("subscriber %d got %d chunks, want %d identical", i, len(got), len(want))
		}
	}
	if op.opens.Load() != 1 || shared.Load() != n-1 {
		t.Fatalf("opens %d, shared %d", op.opens.Load(), shared.Load())
	}
	waitFor(t, "flight to finish", func() bool { return g.InFlight() == 0 })
	if completed.Load() != 1 || !reflect.DeepEqual(stored, want) {
		t.Fatalf("onComplete ran %d times with %d chunks", completed.Load(), len(stored))
	}
	if !up.closed.Load() {
		t.Fatal("upstream not closed after its end")
	}
}

func TestStreamGroupLateJoinerReplaysThePrefix(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	first, _, err := g.Join(context.Background(), keyN(1), op.open, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	up := op.next(t)
	up.send(chunks(0, 5)...)
	for i := range 5 {
		if c, err := recv(t, first); err != nil || !reflect.DeepEqual(c, chunk(i)) {
			t.Fatalf("first chunk %d: %+v %v", i, c, err)
		}
	}
	late, shared, err := g.Join(context.Background(), keyN(1), op.open, nil)
	if err != nil || !shared {
		t.Fatalf("late join: shared=%v err=%v", shared, err)
	}
	defer late.Close()
	up.send(chunks(5, 10)...)
	close(up.items)
	got, err := readAll(late)
	if err != nil || !reflect.DeepEqual(got, chunks(0, 10)) {
		t.Fatalf("late joiner got %d chunks (%v)", len(got), err)
	}
	rest, err := readAll(first)
	if err != nil || !reflect.DeepEqual(rest, chunks(5, 10)) {
		t.Fatalf("first got %d more chunks (%v)", len(rest), err)
	}
	if op.opens.Load() != 1 {
		t.Fatalf("opens %d", op.opens.Load())
	}
}

func TestStreamGroupCutsOffASlowSubscriberWithoutStallingOthers(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute, WithSubscriberBuffer(8))
	defer g.Close()
	op := newOpener()
	fast, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
	defer fast.Close()
	slow, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
	defer slow.Close()
	up := op.next(t)

	up.send(chunk(0))
	if _, err := recv(t, slow); err != nil {
		t.Fatal(err)
	}
	// slow stops reading; fast keeps up with every chunk as it arrives.
	for i := range 20 {
		if i > 0 {
			up.send(chunk(i))
		}
		if c, err := recv(t, fast); err != nil || !reflect.DeepEqual(c, chunk(i)) {
			t.Fatalf("fast chunk %d: %v", i, err)
		}
	}
	if _, err := recv(t, slow); !errors.Is(err, ErrSlowSubscriber) {
		t.Fatalf("slow subscriber: %v, want ErrSlowSubscriber", err)
	}
	if _, err := recv(t, slow); !errors.Is(err, ErrSlowSubscriber) {
		t.Fatalf("slow subscriber after the cut: %v", err)
	}
	// No more than fast's buffer (8) arrives before it reads again: sent
	// all at once, more could overflow it before readAll starts, and fast
	// would rightly be cut as slow too.
	up.send(chunks(20, 28)...)
	close(up.items)
	rest, err := readAll(fast)
	if err != nil || !reflect.DeepEqual(rest, chunks(20, 28)) {
		t.Fatalf("fast got %d more chunks (%v)", len(rest), err)
	}
	if llm.KindOf(ErrSlowSubscriber) != llm.KindUnavailable {
		t.Fatal("ErrSlowSubscriber is not classified for the transports")
	}
}

func TestStreamGroupDrainsAtAnyPaceOnceTheUpstreamEnded(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute, WithSubscriberBuffer(4))
	defer g.Close()
	op := newOpener()
	a, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
	defer a.Close()
	up := op.next(t)
	up.send(chunks(0, 50)...)
	close(up.items)
	waitFor(t, "upstream to end", func() bool { return g.InFlight() == 0 })
	got, err := readAll(a)
	if err != nil || len(got) != 50 {
		t.Fatalf("got %d chunks (%v)", len(got), err)
	}
}

func TestStreamGroupSubscriberCancellingDoesNotBreakOthers(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	ctx, cancel := context.WithCancel(context.Background())
	leaving, _, _ := g.Join(ctx, keyN(1), op.open, nil)
	defer leaving.Close()
	staying, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
	defer staying.Close()
	up := op.next(t)
	up.send(chunks(0, 3)...)
	for range 3 {
		if _, err := recv(t, leaving); err != nil {
			t.Fatal(err)
		}
	}
	blocked := make(chan error, 1)
	go func() {
		_, err := leaving.Recv() // waits for a chunk that comes after the cancel
		blocked <- err
	}()
	cancel()
	select {
	case err := <-blocked:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled subscriber: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("cancelled subscriber still waiting")
	}
	up.send(chunks(3, 6)...)
	close(up.items)
	got, err := readAll(staying)
	if err != nil || !reflect.DeepEqual(got, chunks(0, 6)) {
		t.Fatalf("other subscriber got %d chunks (%v)", len(got), err)
	}
	if op.opens.Load() != 1 {
		t.Fatalf("opens %d", op.opens.Load())
	}
}

func TestStreamGroupClosesUpstreamWhenTheLastSubscriberLeaves(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	var completed atomic.Bool
	a, _, _ := g.Join(context.Background(), keyN(1), op.open, func([]llm.Chunk) { completed.Store(true) })
	b, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
	up := op.next(t)
	up.send(chunk(0))
	a.Close()
	a.Close() // twice is fine
	if up.closed.Load() {
		t.Fatal("upstream closed with a subscriber left")
	}
	b.Close()
	waitFor(t, "upstream to close", up.closed.Load)
	if g.InFlight() != 0 || completed.Load() {
		t.Fatalf("in flight %d, completed %v", g.InFlight(), completed.Load())
	}
	if _, err := b.Recv(); err == nil {
		t.Fatal("Recv after Close succeeded")
	}
	// The key is free: the next caller opens afresh.
	c, shared, err := g.Join(context.Background(), keyN(1), op.open, nil)
	if err != nil || shared {
		t.Fatalf("rejoin: shared=%v err=%v", shared, err)
	}
	c.Close()
	if op.opens.Load() != 2 {
		t.Fatalf("opens %d", op.opens.Load())
	}
}

func TestStreamGroupUpstreamErrorReachesEverySubscriber(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	var completed atomic.Bool
	boom := &llm.UpstreamError{Provider: "p", Status: 502, Message: "bad gateway"}
	subs := make([]*Subscriber, 3)
	for i := range subs {
		subs[i], _, _ = g.Join(context.Background(), keyN(1), op.open, func([]llm.Chunk) { completed.Store(true) })
		defer subs[i].Close()
	}
	up := op.next(t)
	up.send(chunks(0, 2)...)
	up.items <- upItem{err: boom}
	for i, s := range subs {
		got, err := readAll(s)
		if !errors.Is(err, boom) || !reflect.DeepEqual(got, chunks(0, 2)) {
			t.Fatalf("subscriber %d: %d chunks, err %v", i, len(got), err)
		}
	}
	waitFor(t, "flight to end", func() bool { return g.InFlight() == 0 })
	if completed.Load() {
		t.Fatal("a failed stream was handed over for caching")
	}
	s, shared, err := g.Join(context.Background(), keyN(1), op.open, nil)
	if err != nil || shared {
		t.Fatalf("after the error: shared=%v err=%v", shared, err)
	}
	s.Close()
}

func TestStreamGroupOpenErrorReachesEveryCaller(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	op.gate = make(chan struct{})
	op.err = &llm.Error{Kind: llm.KindRateLimited, Message: "slow down"}
	var wg sync.WaitGroup
	var started atomic.Int32
	for range 5 {
		wg.Go(func() {
			started.Add(1)
			s, _, err := g.Join(context.Background(), keyN(1), op.open, nil)
			if s != nil || !errors.Is(err, op.err) {
				t.Errorf("Join: %v, %v", s, err)
			}
		})
	}
	waitFor(t, "callers to wait on the open", func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		f := g.flights[keyN(1)]
		if f == nil {
			return false
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		return f.refs == 5
	})
	close(op.gate)
	wg.Wait()
	if op.opens.Load() != 1 {
		t.Fatalf("opens %d", op.opens.Load())
	}
}

func TestStreamGroupJoinReturnsOnItsOwnContext(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	op.gate = make(chan struct{})
	leader := make(chan *Subscriber, 1)
	go func() {
		s, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
		leader <- s
	}()
	waitFor(t, "open to start", func() bool { return op.opens.Load() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, shared, err := g.Join(ctx, keyN(1), op.open, nil); !errors.Is(err, context.DeadlineExceeded) || !shared {
		t.Fatalf("impatient joiner: shared=%v err=%v", shared, err)
	}
	close(op.gate)
	s := <-leader
	if s == nil {
		t.Fatal("leader failed")
	}
	up := op.next(t)
	up.send(chunk(0))
	close(up.items)
	if got, err := readAll(s); err != nil || len(got) != 1 {
		t.Fatalf("leader got %d chunks (%v)", len(got), err)
	}
	s.Close()
}

func TestStreamGroupJoinersDuringStoreReplayAndLaterOnesMiss(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	defer g.Close()
	op := newOpener()
	storing := make(chan struct{})
	release := make(chan struct{})
	a, _, _ := g.Join(context.Background(), keyN(1), op.open, func([]llm.Chunk) {
		close(storing)
		<-release
	})
	defer a.Close()
	up := op.next(t)
	up.send(chunks(0, 4)...)
	close(up.items)
	<-storing
	during, shared, err := g.Join(context.Background(), keyN(1), op.open, nil)
	if err != nil || !shared {
		t.Fatalf("join while storing: shared=%v err=%v", shared, err)
	}
	if got, err := readAll(during); err != nil || !reflect.DeepEqual(got, chunks(0, 4)) {
		t.Fatalf("joiner while storing got %d chunks (%v)", len(got), err)
	}
	during.Close()
	close(release)
	waitFor(t, "flight to leave", func() bool { return g.InFlight() == 0 })
	after, shared, err := g.Join(context.Background(), keyN(1), op.open, nil)
	if err != nil || shared {
		t.Fatalf("join after completion: shared=%v err=%v", shared, err)
	}
	after.Close()
	if op.opens.Load() != 2 {
		t.Fatalf("opens %d", op.opens.Load())
	}
}

func TestStreamGroupCloseStopsEverything(t *testing.T) {
	noLeaks(t)
	g := NewStreamGroup(time.Minute)
	op := newOpener()
	s, _, _ := g.Join(context.Background(), keyN(1), op.open, nil)
	defer s.Close()
	up := op.next(t)
	up.send(chunk(0))
	g.Close()
	if !up.closed.Load() {
		t.Fatal("Close returned with the upstream open")
	}
	got, err := readAll(s)
	if len(got) != 1 || err == nil {
		t.Fatalf("after Close: %d chunks, err %v", len(got), err)
	}
	if _, _, err := g.Join(context.Background(), keyN(1), op.open, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Join after Close: %v", err)
	}
}

// BenchmarkStreamFanOut measures the per-chunk cost with 16 subscribers on
// one upstream.
func BenchmarkStreamFanOut(b *testing.B) {
	const subs = 16
	g := NewStreamGroup(time.Minute, WithSubscriberBuffer(1<<30))
	defer g.Close()
	b.ReportAllocs()
	for b.Loop() {
		items := make(chan upItem, 256)
		open := func(ctx context.Context) (llm.Stream, error) {
			return &fakeUpstream{items: items, done: ctx.Done()}, nil
		}
		var wg sync.WaitGroup
		ready := make(chan struct{}, subs)
		for range subs {
			s, _, err := g.Join(context.Background(), keyN(1), open, nil)
			if err != nil {
				b.Fatal(err)
			}
			ready <- struct{}{}
			wg.Go(func() {
				defer s.Close()
				if _, err := readAll(s); err != nil {
					b.Error(err)
				}
			})
		}
		for range 256 {
			items <- upItem{c: chunk(1)}
		}
		close(items)
		wg.Wait()
		for g.InFlight() != 0 {
			time.Sleep(time.Microsecond)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*256), "ns/chunk")
}
