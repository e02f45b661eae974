package store

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// UsageWriter is what the Ledger needs from a store: *Store implements it.
type UsageWriter interface {
	InsertUsage(ctx context.Context, recs []UsageRecord) error
}

// Ledger defaults and caps.
const (
	DefaultLedgerQueue    = 16384
	DefaultLedgerBatch    = 500
	DefaultLedgerInterval = 200 * time.Millisecond
	DefaultLedgerTimeout  = 10 * time.Second
	DefaultLedgerWait     = 250 * time.Millisecond
	maxLedgerWait         = 5 * time.Second
	ledgerWarnEvery       = 10 * time.Second
	maxLedgerQueue        = 1 << 20
	maxLedgerBatch        = 5000
	ledgerRetries         = 3
)

// LedgerOption tunes NewLedger.
type LedgerOption func(*Ledger)

// WithQueueSize sets how many records may wait for the writer (default 16384, max 1<<20).
// When it is full Record waits up to the enqueue wait (WithEnqueueWait) for space, then drops.
func WithQueueSize(n int) LedgerOption { return func(l *Ledger) { l.queue = n } }

// WithBatchSize sets the most rows per transaction (default 500, max 5000).
func WithBatchSize(n int) LedgerOption { return func(l *Ledger) { l.batch = n } }

// WithFlushInterval bounds how long a record waits for a batch to fill (default 200ms).
func WithFlushInterval(d time.Duration) LedgerOption { return func(l *Ledger) { l.interval = d } }

// WithWriteTimeout bounds one batch write attempt (default 10s).
func WithWriteTimeout(d time.Duration) LedgerOption { return func(l *Ledger) { l.timeout = d } }

// WithEnqueueWait bounds how long Record blocks for queue space when the queue is full, so a
// slow store slows callers a little before any record is lost (default 250ms, max 5s; a
// negative d never waits).
func WithEnqueueWait(d time.Duration) LedgerOption { return func(l *Ledger) { l.wait = d } }

// WithLedgerLogger receives write failures and, at most once per 10s, a warning with the running
// count of dropped records (default: discarded; both are still counted).
func WithLedgerLogger(lg hclog.Logger) LedgerOption { return func(l *Ledger) { l.log = lg } }

// Ledger records usage off the request path: Record puts the record on a bounded queue and
// returns; one goroutine writes batches, each in one transaction. A full queue applies
// back-pressure: Record waits a bounded time for space before it drops and counts the record.
type Ledger struct {
	w        UsageWriter
	queue    int
	batch    int
	interval time.Duration
	timeout  time.Duration
	wait     time.Duration
	log      hclog.Logger

	ch   chan UsageRecord
	stop chan struct{}
	done chan struct{}
	// cancel aborts in-flight writes when Close's context expires.
	cancel context.CancelFunc

	closed atomic.Bool
	// inflight counts Record calls between their closed check and their send, so Close can wait
	// for them and nothing is enqueued after the final drain.
	inflight atomic.Int64

	dropped atomic.Uint64
	// lastWarn is the UnixNano of the last dropped-records warning (0: none yet).
	lastWarn atomic.Int64
	written  atomic.Uint64
	failed   atomic.Uint64

	closeOnce sync.Once
	closeErr  error
}

// NewLedger starts the writer goroutine. Call Close to flush and stop it.
func NewLedger(w UsageWriter, opts ...LedgerOption) *Ledger {
	l := &Ledger{w: w, log: hclog.NewNullLogger()}
	for _, o := range opts {
		o(l)
	}
	if l.queue <= 0 {
		l.queue = DefaultLedgerQueue
	}
	l.queue = min(l.queue, maxLedgerQueue)
	if l.batch <= 0 {
		l.batch = DefaultLedgerBatch
	}
	l.batch = min(l.batch, maxLedgerBatch)
	if l.interval <= 0 {
		l.interval = DefaultLedgerInterval
	}
	l.interval = max(l.interval, time.Millisecond)
	if l.timeout <= 0 {
		l.timeout = DefaultLedgerTimeout
	}
	if l.wait == 0 {
		l.wait = DefaultLedgerWait
	}
	l.wait = min(max(l.wait, 0), maxLedgerWait)
	if l.log == nil {
		l.log = hclog.NewNullLogger()
	}
	l.ch = make(chan UsageRecord, l.queue)
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	base, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	go l.run(base)
	return l
}

// Record queues rec. When the queue is full it waits up to the enqueue wait for the writer to
// make space; it reports false when the record was dropped because the queue stayed full or the
// ledger is closed (see Stats().Dropped; drops are also logged, rate-limited). A zero TS is set
// to now.
func (l *Ledger) Record(rec UsageRecord) bool {
	if rec.TS.IsZero() {
		rec.TS = time.Now()
	}
	l.inflight.Add(1)
	defer l.inflight.Add(-1)
	if l.closed.Load() {
		l.drop("closed")
		return false
	}
	select {
	case l.ch <- rec:
		return true
	default:
	}
	if l.wait > 0 {
		t := time.NewTimer(l.wait)
		defer t.Stop()
		select {
		case l.ch <- rec:
			return true
		case <-t.C:
		}
	}
	l.drop("queue full")
	return false
}

// drop counts one lost record and warns at most once per ledgerWarnEvery.
func (l *Ledger) drop(reason string) {
	n := l.dropped.Add(1)
	now := time.Now().UnixNano()
	last := l.lastWarn.Load()
	if last != 0 && now-last < int64(ledgerWarnEvery) {
		return
	}
	if !l.lastWarn.CompareAndSwap(last, now) {
		return // another Record just warned
	}
	l.log.Warn("usage ledger: dropping records", "reason", reason, "dropped_total", n,
		"queue", l.queue, "wait", l.wait)
}

// LedgerStats are the ledger's counters.
type LedgerStats struct {
	Queued  int    // waiting for the writer now
	Written uint64 // rows committed
	Dropped uint64 // rejected by Record (queue full or closed)
	Failed  uint64 // lost because their batch failed after retries
}

// Stats reads the counters; safe at any time.
func (l *Ledger) Stats() LedgerStats {
	return LedgerStats{Queued: len(l.ch), Written: l.written.Load(), Dropped: l.dropped.Load(), Failed: l.failed.Load()}
}

// Close stops accepting records, writes everything queued, and stops the writer. If ctx ends
// first, in-flight writes are aborted, the rest is counted as Failed and ctx's error returned.
// Later calls return the first result.
func (l *Ledger) Close(ctx context.Context) error {
	l.closeOnce.Do(func() { l.closeErr = l.close(ctx) })
	return l.closeErr
}

func (l *Ledger) close(ctx context.Context) error {
	l.closed.Store(true)
	// A Record that passed its closed check is a few instructions from its send.
	for l.inflight.Load() > 0 {
		if ctx.Err() != nil {
			break
		}
		runtime.Gosched()
	}
	close(l.stop)
	select {
	case <-l.done:
		l.cancel()
	case <-ctx.Done():
		l.cancel()
		<-l.done
		return fmt.Errorf("store: ledger close: %w (%d rows not written)", ctx.Err(), l.failed.Load())
	}
	if n := l.failed.Load(); n > 0 {
		return fmt.Errorf("store: ledger close: %d rows failed to write", n)
	}
	return nil
}

func (l *Ledger) run(base context.Context) {
	defer close(l.done)
	batch := make([]UsageRecord, 0, l.batch)
	tick := time.NewTicker(l.interval)
	defer tick.Stop()
	for {
		select {
		case r := <-l.ch:
			batch = append(batch, r)
			// Take whatever else is already queued without going back through select.
			for len(batch) < l.batch {
				select {
				case r := <-l.ch:
					batch = append(batch, r)
					continue
				default:
				}
				break
			}
			if len(batch) >= l.batch {
				batch = l.flush(base, batch)
			}
		case <-tick.C:
			batch = l.flush(base, batch)
		case <-l.stop:
			for {
				select {
				case r := <-l.ch:
					batch = append(batch, r)
					if len(batch) >= l.batch {
						batch = l.flush(base, batch)
					}
					continue
				default:
				}
				l.flush(base, batch)
				return
			}
		}
	}
}

// flush writes batch with a few retries (SQLite busy, a Postgres failover) and returns it emptied.
func (l *Ledger) flush(base context.Context, batch []UsageRecord) []UsageRecord {
	if len(batch) == 0 {
		return batch
	}
	var err error
	for attempt := range ledgerRetries {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			case <-base.Done():
			}
		}
		if base.Err() != nil {
			err = errors.Join(err, base.Err())
			break
		}
		ctx, cancel := context.WithTimeout(base, l.timeout)
		err = l.w.InsertUsage(ctx, batch)
		cancel()
		if err == nil {
			l.written.Add(uint64(len(batch)))
			clear(batch)
			return batch[:0]
		}
	}
	l.failed.Add(uint64(len(batch)))
	l.log.Error("usage ledger: batch lost", "rows", len(batch), "error", err)
	clear(batch)
	return batch[:0]
}
