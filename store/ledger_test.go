package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLedger_ConcurrentRecordsAllWrittenOnClose(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			s := b.open(t)
			l := NewLedger(s)
			const goroutines, per = 8, 1250
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					for i := range per {
						if !l.Record(UsageRecord{KeyID: "k", Provider: "p", LatencyMS: int64(g*per + i)}) {
							t.Error("record dropped")
							return
						}
					}
				})
			}
			wg.Wait()
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			var n, distinct int
			s.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT latency_ms) FROM usage`).Scan(&n, &distinct)
			if n != goroutines*per || distinct != goroutines*per {
				t.Fatalf("rows %d distinct %d, want %d", n, distinct, goroutines*per)
			}
			st := l.Stats()
			if st.Written != goroutines*per || st.Dropped != 0 || st.Failed != 0 || st.Queued != 0 {
				t.Fatalf("stats %+v", st)
			}
		})
	}
}

// fakeWriter records batch sizes and can be held to fill the queue.
type fakeWriter struct {
	mu      sync.Mutex
	batches []int
	rows    int
	hold    chan struct{} // InsertUsage waits on it when non-nil
	fail    atomic.Int32  // fail this many calls
}

func (f *fakeWriter) InsertUsage(ctx context.Context, recs []UsageRecord) error {
	if f.hold != nil {
		select {
		case <-f.hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if f.fail.Add(-1) >= 0 {
		return errors.New("database is locked")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, len(recs))
	f.rows += len(recs)
	return nil
}

func (f *fakeWriter) snapshot() ([]int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.batches...), f.rows
}

func TestLedger_FullQueueDropsWithoutBlocking(t *testing.T) {
	w := &fakeWriter{hold: make(chan struct{})}
	l := NewLedger(w, WithQueueSize(10), WithBatchSize(5), WithFlushInterval(time.Hour), WithEnqueueWait(-1))
	start := time.Now()
	accepted := 0
	for range 1000 {
		if l.Record(UsageRecord{}) {
			accepted++
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Record blocked for %v", d)
	}
	st := l.Stats()
	// The writer may hold one batch of up to 5 taken off the queue; the queue holds 10.
	if accepted < 10 || accepted > 15 || st.Dropped != uint64(1000-accepted) {
		t.Fatalf("accepted %d, stats %+v", accepted, st)
	}
	close(w.hold)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, rows := w.snapshot(); rows != accepted {
		t.Fatalf("wrote %d, accepted %d", rows, accepted)
	}
}

func TestLedger_BatchesBySizeAndInterval(t *testing.T) {
	t.Run("size", func(t *testing.T) {
		w := &fakeWriter{}
		l := NewLedger(w, WithBatchSize(50), WithFlushInterval(time.Hour))
		for range 500 {
			l.Record(UsageRecord{})
		}
		deadline := time.Now().Add(5 * time.Second)
		for l.Stats().Written < 500 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		batches, rows := w.snapshot()
		if rows != 500 {
			t.Fatalf("rows %d before Close with an hour-long interval", rows)
		}
		for _, b := range batches {
			if b > 50 {
				t.Fatalf("batch of %d over the cap", b)
			}
		}
		l.Close(context.Background())
	})
	t.Run("interval", func(t *testing.T) {
		w := &fakeWriter{}
		l := NewLedger(w, WithBatchSize(500), WithFlushInterval(10*time.Millisecond))
		defer l.Close(context.Background())
		l.Record(UsageRecord{})
		deadline := time.Now().Add(5 * time.Second)
		for l.Stats().Written < 1 && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		if _, rows := w.snapshot(); rows != 1 {
			t.Fatal("a lone record was not flushed by the interval")
		}
	})
}

func TestLedger_RetriesTransientFailure(t *testing.T) {
	w := &fakeWriter{}
	w.fail.Store(2) // fails twice, third attempt succeeds
	l := NewLedger(w)
	l.Record(UsageRecord{})
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := l.Stats(); st.Written != 1 || st.Failed != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestLedger_PersistentFailureCountedAndReported(t *testing.T) {
	w := &fakeWriter{}
	w.fail.Store(1 << 30)
	l := NewLedger(w)
	l.Record(UsageRecord{})
	l.Record(UsageRecord{})
	if err := l.Close(context.Background()); err == nil {
		t.Fatal("Close hid lost rows")
	}
	if st := l.Stats(); st.Failed != 2 || st.Written != 0 {
		t.Fatalf("%+v", st)
	}
}

func TestLedger_RecordAfterCloseIsDropped(t *testing.T) {
	w := &fakeWriter{}
	l := NewLedger(w)
	if err := l.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l.Record(UsageRecord{}) {
		t.Fatal("record accepted after Close")
	}
	if l.Stats().Dropped != 1 {
		t.Fatal("drop not counted")
	}
	if err := l.Close(context.Background()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestLedger_CloseGivesUpWhenContextEnds(t *testing.T) {
	w := &fakeWriter{hold: make(chan struct{})} // the database never answers
	l := NewLedger(w)
	l.Record(UsageRecord{})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := l.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v past its deadline", d)
	}
	if l.Stats().Failed != 1 {
		t.Fatalf("%+v", l.Stats())
	}
}

func TestLedger_RecordRacingCloseIsWrittenOrCounted(t *testing.T) {
	for range 20 {
		w := &fakeWriter{}
		l := NewLedger(w, WithQueueSize(1<<16))
		var accepted atomic.Int64
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 2000 {
					if l.Record(UsageRecord{}) {
						accepted.Add(1)
					}
				}
			})
		}
		time.Sleep(time.Millisecond)
		if err := l.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		_, rows := w.snapshot()
		st := l.Stats()
		if int64(rows) != accepted.Load() || uint64(rows)+st.Dropped != 8000 {
			t.Fatalf("rows %d accepted %d dropped %d", rows, accepted.Load(), st.Dropped)
		}
	}
}
