package observe

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/server/metrics"
)

var tailT0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func rec(i int) gateway.Record {
	return gateway.Record{RequestID: fmt.Sprintf("r%d", i), Route: "auto"}
}

func ids(evs []Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Record.RequestID)
	}
	return out
}

func TestTail_BacklogIsTheLastEventsOldestFirst(t *testing.T) {
	tests := []struct {
		name            string
		size, published int
		backlog         int
		want            string
	}{
		{"ring not yet full", 4, 2, 10, "[r0 r1]"},
		{"ring wrapped", 4, 6, 10, "[r2 r3 r4 r5]"},
		{"backlog smaller than the ring", 4, 6, 2, "[r4 r5]"},
		{"no backlog", 4, 6, 0, "[]"},
		{"nothing published", 4, 0, 5, "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tl := NewTail(tt.size, WithTailClock(func() time.Time { return tailT0 }))
			for i := range tt.published {
				tl.Publish(rec(i))
			}
			recent, s, ok := tl.Subscribe(tt.backlog, 1)
			if !ok {
				t.Fatal("subscribe refused")
			}
			defer s.Cancel()
			if got := fmt.Sprint(ids(recent)); got != tt.want {
				t.Errorf("backlog %s, want %s", got, tt.want)
			}
			for _, e := range recent {
				if !e.Time.Equal(tailT0) {
					t.Errorf("event stamped %v, want the injected clock", e.Time)
				}
			}
		})
	}
}

// A subscriber that does not read loses events instead of blocking Publish,
// and learns how many it lost.
func TestTail_SlowReaderDropsAndNeverBlocks(t *testing.T) {
	tl := NewTail(8)
	_, slow, _ := tl.Subscribe(0, 2)
	_, fast, _ := tl.Subscribe(0, 100)
	done := make(chan struct{})
	go func() {
		for i := range 50 {
			tl.Publish(rec(i))
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Publish blocked on a subscriber that does not read")
	}
	if got := slow.Dropped(); got != 48 {
		t.Errorf("slow reader dropped %d, want 48", got)
	}
	if got := slow.Dropped(); got != 0 {
		t.Errorf("Dropped does not reset: %d", got)
	}
	if got := fast.Dropped(); got != 0 {
		t.Errorf("fast reader dropped %d, want 0", got)
	}
	if got := len(fast.C); got != 50 {
		t.Errorf("fast reader holds %d events, want 50", got)
	}
	slow.Cancel()
	fast.Cancel()
}

func TestTail_CancelAndCloseEndSubscriptions(t *testing.T) {
	tl := NewTail(4)
	_, a, _ := tl.Subscribe(0, 4)
	_, b, _ := tl.Subscribe(0, 4)
	a.Cancel()
	a.Cancel() // twice is fine
	if _, open := <-a.C; open {
		t.Fatal("a cancelled subscription's channel stays open")
	}
	if n := tl.Subscribers(); n != 1 {
		t.Fatalf("%d subscribers after one cancel, want 1", n)
	}
	tl.Close()
	if _, open := <-b.C; open {
		t.Fatal("Close leaves a subscription open")
	}
	b.Cancel() // after Close is fine
	if _, _, ok := tl.Subscribe(1, 1); ok {
		t.Fatal("Subscribe after Close succeeded")
	}
	tl.Publish(rec(1)) // after Close: no panic on closed channels
}

// The observer publishes every record to its tail.
func TestObserve_PublishesToTail(t *testing.T) {
	tl := NewTail(4)
	o := New(metrics.New(), nil, WithTail(tl))
	o.Observe(context.Background(), rec(7))
	recent, s, _ := tl.Subscribe(4, 1)
	defer s.Cancel()
	if got := fmt.Sprint(ids(recent)); got != "[r7]" {
		t.Fatalf("tail holds %s, want [r7]", got)
	}
}

func BenchmarkTailPublish(b *testing.B) {
	tl := NewTail(1000)
	for range 4 {
		_, s, _ := tl.Subscribe(0, 16) // never read: the worst case, every send drops
		defer s.Cancel()
	}
	r := rec(1)
	b.ReportAllocs()
	for b.Loop() {
		tl.Publish(r)
	}
}
