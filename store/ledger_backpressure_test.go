package store

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestLedger_FullQueueBackPressure(t *testing.T) {
	tests := []struct {
		name        string
		wait        time.Duration
		release     time.Duration // writer unblocks after this
		records     int
		wantDropped bool
	}{
		{"writer catches up within the wait: nothing dropped", time.Second, 50 * time.Millisecond, 40, false},
		{"writer stays blocked: drops counted and warned once", 20 * time.Millisecond, -1, 40, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf syncBuf
			lg := hclog.New(&hclog.LoggerOptions{Output: &buf, Level: hclog.Warn})
			w := &fakeWriter{hold: make(chan struct{})}
			l := NewLedger(w, WithQueueSize(5), WithBatchSize(5), WithFlushInterval(time.Hour),
				WithEnqueueWait(tt.wait), WithLedgerLogger(lg))
			if tt.release > 0 {
				time.AfterFunc(tt.release, func() { close(w.hold) })
			}
			start := time.Now()
			accepted := 0
			for range tt.records {
				if l.Record(UsageRecord{}) {
					accepted++
				}
			}
			elapsed := time.Since(start)
			st := l.Stats()
			if tt.release < 0 {
				close(w.hold)
			}
			if err := l.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
			if _, rows := w.snapshot(); rows != accepted {
				t.Fatalf("wrote %d, accepted %d", rows, accepted)
			}
			warnings := strings.Count(buf.String(), "dropping records")
			if !tt.wantDropped {
				if st.Dropped != 0 || accepted != tt.records {
					t.Fatalf("accepted %d of %d, stats %+v", accepted, tt.records, st)
				}
				if elapsed < tt.release/2 {
					t.Fatalf("Record returned after %v, want it to wait for the writer", elapsed)
				}
				if warnings != 0 {
					t.Fatalf("warned %d times: %s", warnings, buf.String())
				}
				return
			}
			if st.Dropped == 0 || st.Dropped != uint64(tt.records-accepted) {
				t.Fatalf("accepted %d of %d, stats %+v", accepted, tt.records, st)
			}
			if warnings != 1 || !strings.Contains(buf.String(), "dropped_total") {
				t.Fatalf("want one rate-limited warning with the count, got %d: %s", warnings, buf.String())
			}
		})
	}
}
