package store

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"
)

type discardWriter struct{}

func (discardWriter) InsertUsage(context.Context, []UsageRecord) error { return nil }

func benchRecord() UsageRecord {
	return UsageRecord{RequestID: "req-123", TS: time.Now(), KeyID: "key-1", Route: "auto", Provider: "openai",
		Model: "gpt-4o-mini", Target: "openai/gpt-4o-mini", PromptTokens: 120, CompletionTokens: 300,
		CostNanos: usd(0.0002), LatencyMS: 850, TTFTMS: 120, Status: StatusOK, Cache: "miss", Attempts: 1, Stream: true}
}

// BenchmarkLedgerRecord is the hot-path cost a request pays to be billed: the accepted path
// (the queue is let drain outside the timer so no record is dropped).
func BenchmarkLedgerRecord(b *testing.B) {
	l := NewLedger(discardWriter{}, WithQueueSize(1<<16))
	defer l.Close(context.Background())
	rec := benchRecord()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if n++; n%(1<<15) == 0 {
			b.StopTimer()
			for l.Stats().Queued > 0 {
				runtime.Gosched()
			}
			b.StartTimer()
		}
		l.Record(rec)
	}
	if d := l.Stats().Dropped; d != 0 {
		b.Fatalf("%d dropped", d)
	}
}

// BenchmarkLedgerRecordQueueFull is the drop path: the writer is stuck.
func BenchmarkLedgerRecordQueueFull(b *testing.B) {
	hold := &fakeWriter{hold: make(chan struct{})}
	l := NewLedger(hold, WithQueueSize(1), WithBatchSize(1))
	defer l.Close(context.Background())
	defer close(hold.hold)
	rec := benchRecord()
	for range 3 {
		l.Record(rec)
	}
	b.ReportAllocs()
	for b.Loop() {
		l.Record(rec)
	}
}

// BenchmarkLedgerRecordParallel: all cores recording at once (drops counted when the single
// writer falls behind).
func BenchmarkLedgerRecordParallel(b *testing.B) {
	l := NewLedger(discardWriter{}, WithQueueSize(1<<20))
	defer l.Close(context.Background())
	rec := benchRecord()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Record(rec)
		}
	})
	b.ReportMetric(float64(l.Stats().Dropped)/float64(b.N), "dropped/op")
}

// BenchmarkInsertUsageBatch500 is one ledger flush: 500 rows, one SQLite transaction.
func BenchmarkInsertUsageBatch500(b *testing.B) {
	s, err := Open(context.Background(), Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]UsageRecord, 500)
	for i := range batch {
		batch[i] = benchRecord()
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.InsertUsage(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/row")
}

// BenchmarkInsertUsageBatch500Postgres is the same flush against Postgres (skipped unless
// SWITCHYARD_TEST_POSTGRES is set; make test-go starts one).
func BenchmarkInsertUsageBatch500Postgres(b *testing.B) {
	s, err := Open(context.Background(), Options{PostgresURL: freshPostgresSchema(b)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	batch := make([]UsageRecord, 500)
	for i := range batch {
		batch[i] = benchRecord()
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.InsertUsage(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/row")
}

// BenchmarkLedgerText is the per-field check every ledger row pays; odd text is the rare path.
func BenchmarkLedgerText(b *testing.B) {
	for _, in := range []string{"openai/gpt-4o-mini", "req\x00\xffid"} {
		b.Run(fmt.Sprintf("%q", in), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ledgerText(in)
			}
		})
	}
}
