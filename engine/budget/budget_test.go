package budget

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/testclock"
)

type fakeClock struct{ ns atomic.Int64 }

func newFakeClock(t time.Time) *fakeClock {
	c := &fakeClock{}
	c.ns.Store(t.UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Set(t time.Time)         { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func redisClient(t testing.TB) *redis.Client {
	t.Helper()
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		t.Skip("SWITCHYARD_TEST_REDIS is not set: start one with `scripts/redis.sh` and export the address it prints (make test does)")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	t.Cleanup(func() { _ = rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s: %v", addr, err)
	}
	return rdb
}

type backend struct {
	name string
	make func(t *testing.T, opts ...Option) Budgeter
}

func backends() []backend {
	return []backend{
		{"memory", func(t *testing.T, opts ...Option) Budgeter {
			m, err := NewMemory(opts...)
			if err != nil {
				t.Fatal(err)
			}
			return m
		}},
		{"redis", func(t *testing.T, opts ...Option) Budgeter {
			rdb := redisClient(t)
			prefix := fmt.Sprintf("sytest:budget:%d:", rand.Int64())
			r, err := NewRedis(rdb, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}},
	}
}

var noon = testclock.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)

func TestReserveAndSettle(t *testing.T) {
	daily := Budget{Name: "team-a daily", Limit: llm.USD(10), Period: Daily}
	monthly := Budget{Name: "team-a monthly", Limit: llm.USD(10), Period: Monthly}
	type op struct {
		at      time.Time // zero: keep the clock
		b       Budget
		est     float64
		settle  float64 // settled immediately when >= 0
		wantErr bool
	}
	tests := []struct {
		name      string
		ops       []op
		period    Period
		wantSpent float64
	}{
		{
			name:      "holds count against the budget until settled",
			ops:       []op{{b: daily, est: 6, settle: -1}, {b: daily, est: 4, settle: -1}, {b: daily, est: 0.01, wantErr: true}},
			period:    Daily,
			wantSpent: 0,
		},
		{
			name:      "settling below the estimate frees the difference",
			ops:       []op{{b: daily, est: 9, settle: 2}, {b: daily, est: 8, settle: 8}, {b: daily, est: 0.01, wantErr: true}},
			period:    Daily,
			wantSpent: 10,
		},
		{
			name:      "a request is admitted while any budget is left, so spend passes the limit by at most its cost",
			ops:       []op{{b: daily, est: 9, settle: 9}, {b: daily, est: 5, settle: 4}, {b: daily, est: 0.000001, wantErr: true}},
			period:    Daily,
			wantSpent: 13,
		},
		{
			name:      "exactly the limit fits, a micro-dollar more does not",
			ops:       []op{{b: daily, est: 10, settle: 9.999999}, {b: daily, est: 0.000001, settle: 0.000001}, {b: daily, est: 0.000001, wantErr: true}},
			period:    Daily,
			wantSpent: 10,
		},
		{
			name: "a new UTC day starts from zero",
			ops: []op{
				{at: testclock.Date(2026, 11, 24, 23, 59, 59, 0, time.UTC), b: daily, est: 10, settle: 10},
				{b: daily, est: 1, wantErr: true},
				{at: testclock.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC), b: daily, est: 3, settle: 3},
			},
			period:    Daily,
			wantSpent: 3,
		},
		{
			name: "a month accumulates across days and resets on the 1st",
			ops: []op{
				{at: testclock.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), b: monthly, est: 4, settle: 4},
				{at: testclock.Date(2026, 11, 30, 23, 0, 0, 0, time.UTC), b: monthly, est: 6, settle: 6},
				{b: monthly, est: 0.5, wantErr: true},
				{at: testclock.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), b: monthly, est: 1, settle: 1.5},
			},
			period:    Monthly,
			wantSpent: 1.5,
		},
		{
			name:      "daily and monthly budgets of one key are separate accounts",
			ops:       []op{{b: daily, est: 10, settle: 10}, {b: monthly, est: 10, settle: 7}},
			period:    Monthly,
			wantSpent: 7,
		},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					clk := newFakeClock(noon)
					bg := be.make(t, WithClock(clk.Now))
					ctx := context.Background()
					for i, o := range tt.ops {
						if !o.at.IsZero() {
							clk.Set(o.at)
						}
						h, err := bg.Reserve(ctx, "key-1", o.b, llm.USD(o.est))
						if o.wantErr {
							var le *llm.Error
							if !errors.As(err, &le) || le.Kind != llm.KindRateLimited || le.Code != "budget_exceeded" {
								t.Fatalf("op %d: want budget_exceeded, got %v", i, err)
							}
							if !strings.Contains(le.Message, o.b.Name) || !strings.Contains(le.Message, "per "+o.b.Period.String()) {
								t.Fatalf("op %d: message %q does not name budget and period", i, le.Message)
							}
							if le.RetryAfter <= 0 || le.RetryAfter > 31*24*time.Hour {
								t.Fatalf("op %d: RetryAfter %v", i, le.RetryAfter)
							}
							continue
						}
						if err != nil {
							t.Fatalf("op %d: %v", i, err)
						}
						if o.settle >= 0 {
							if err := h.Settle(ctx, llm.USD(o.settle)); err != nil {
								t.Fatal(err)
							}
						}
					}
					got, err := bg.Spent(ctx, "key-1", tt.period)
					if err != nil {
						t.Fatal(err)
					}
					if got != llm.USD(tt.wantSpent) {
						t.Fatalf("Spent = %v, want %v", got, tt.wantSpent)
					}
				})
			}
		})
	}
}

func TestRetryAfterPointsAtPeriodEnd(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			clk := newFakeClock(testclock.Date(2026, 11, 24, 18, 0, 0, 0, time.UTC))
			bg := be.make(t, WithClock(clk.Now))
			b := Budget{Name: "x", Limit: llm.USD(1), Period: Daily}
			h, err := bg.Reserve(context.Background(), "k", b, llm.USD(1))
			if err != nil {
				t.Fatal(err)
			}
			_ = h.Settle(context.Background(), llm.USD(1))
			_, err = bg.Reserve(context.Background(), "k", b, llm.USD(0.5))
			if got := llm.RetryAfter(err); got != 6*time.Hour {
				t.Fatalf("RetryAfter = %v, want 6h (to UTC midnight)", got)
			}
		})
	}
}

func TestConcurrentReservesNeverOvershoot(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			clk := newFakeClock(noon)
			bg := be.make(t, WithClock(clk.Now))
			ctx := context.Background()
			b := Budget{Name: "shared", Limit: llm.USD(50), Period: Daily}
			reserveAll := func(n int) []Hold {
				var mu sync.Mutex
				var holds []Hold
				var wg sync.WaitGroup
				for range n {
					wg.Go(func() {
						h, err := bg.Reserve(ctx, "k", b, llm.USD(1))
						if err != nil {
							if llm.KindOf(err) != llm.KindRateLimited {
								t.Error(err)
							}
							return
						}
						mu.Lock()
						holds = append(holds, h)
						mu.Unlock()
					})
				}
				wg.Wait()
				return holds
			}
			holds := reserveAll(200)
			if len(holds) != 50 {
				t.Fatalf("%d reserves succeeded, want exactly 50", len(holds))
			}
			var wg sync.WaitGroup
			for _, h := range holds {
				wg.Go(func() {
					if err := h.Settle(ctx, llm.USD(0.5)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if spent, _ := bg.Spent(ctx, "k", Daily); spent != llm.USD(25) {
				t.Fatalf("Spent = %v, want 25", spent)
			}
			// $25 left: 25 more $1 reserves fit.
			if more := reserveAll(200); len(more) != 25 {
				t.Fatalf("%d further reserves succeeded, want 25", len(more))
			}
		})
	}
}

func TestThresholdsFireOncePerPeriod(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			type alert struct {
				key       string
				threshold float64
				spent     float64
			}
			var mu sync.Mutex
			var alerts []alert
			clk := newFakeClock(noon)
			bg := be.make(t, WithClock(clk.Now), WithThresholds(func(key string, b Budget, f float64, spent llm.Money) {
				mu.Lock()
				alerts = append(alerts, alert{key, f, spent.Dollars()})
				mu.Unlock()
			}, 0.8, 0.5, 1))
			ctx := context.Background()
			b := Budget{Name: "d", Limit: llm.USD(10), Period: Daily}
			spend := func(usd float64) {
				t.Helper()
				h, err := bg.Reserve(ctx, "k", b, llm.USD(usd))
				if err != nil {
					t.Fatal(err)
				}
				if err := h.Settle(ctx, llm.USD(usd)); err != nil {
					t.Fatal(err)
				}
			}
			spend(4)   // 40%: nothing
			spend(1)   // 50%: crosses 0.5
			spend(0.5) // 55%: nothing new
			spend(3)   // 85%: crosses 0.8
			spend(1.5) // 100%: crosses 1
			clk.Set(noon.Add(24 * time.Hour))
			spend(9) // next day, 90%: 0.5 and 0.8 again
			want := []alert{{"k", 0.5, 5}, {"k", 0.8, 8.5}, {"k", 1, 10}, {"k", 0.5, 9}, {"k", 0.8, 9}}
			if fmt.Sprint(alerts) != fmt.Sprint(want) {
				t.Fatalf("alerts %v\nwant   %v", alerts, want)
			}
		})
	}
}

func TestConcurrentSettlesCrossEachThresholdOnce(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			var fired atomic.Int64
			bg := be.make(t, WithThresholds(func(string, Budget, float64, llm.Money) { fired.Add(1) }, 0.8))
			ctx := context.Background()
			b := Budget{Name: "d", Limit: llm.USD(100), Period: Monthly}
			var wg sync.WaitGroup
			for range 100 {
				wg.Go(func() {
					h, err := bg.Reserve(ctx, "k", b, llm.USD(1))
					if err != nil {
						t.Error(err)
						return
					}
					if err := h.Settle(ctx, llm.USD(1)); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if fired.Load() != 1 {
				t.Fatalf("threshold fired %d times, want 1", fired.Load())
			}
		})
	}
}

func TestOptionsAreValidated(t *testing.T) {
	tests := []struct {
		name string
		opts []Option
	}{
		{"threshold above one", []Option{WithThresholds(func(string, Budget, float64, llm.Money) {}, 1.5)}},
		{"threshold zero", []Option{WithThresholds(func(string, Budget, float64, llm.Money) {}, 0)}},
		{"thresholds without callback", []Option{WithThresholds(nil, 0.8)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := NewMemory(tt.opts...); err == nil {
				t.Fatal("NewMemory accepted invalid options")
			}
		})
	}
}

func TestMemoryDropsEndedPeriods(t *testing.T) {
	clk := newFakeClock(noon)
	m, err := NewMemory(WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b := Budget{Limit: llm.USD(10), Period: Daily}
	var open Hold
	for i := range 100 {
		h, err := m.Reserve(ctx, fmt.Sprintf("k%d", i), b, llm.USD(1))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			open = h // still held at midnight: must survive the sweep
			continue
		}
		_ = h.Settle(ctx, llm.USD(1))
	}
	clk.Advance(24 * time.Hour)
	if _, err := m.Reserve(ctx, "fresh", b, llm.USD(1)); err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	n := len(m.accounts)
	m.mu.Unlock()
	if n != 2 {
		t.Fatalf("%d accounts after the day ended, want 2 (the open hold and the fresh key)", n)
	}
	if err := open.Settle(ctx, llm.USD(1)); err != nil {
		t.Fatal(err)
	}
}

func BenchmarkMemoryReserveSettle(b *testing.B) {
	m, err := NewMemory()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	bud := Budget{Name: "bench", Limit: llm.USD(1e9), Period: Monthly}
	b.ReportAllocs()
	for b.Loop() {
		h, err := m.Reserve(ctx, "k", bud, llm.USD(0.01))
		if err != nil {
			b.Fatal(err)
		}
		_ = h.Settle(ctx, llm.USD(0.005))
	}
}

func TestMemorySeedsAccountsFromSpendSoFar(t *testing.T) {
	clk := newFakeClock(testclock.Date(2026, 11, 24, 15, 0, 0, 0, time.UTC))
	var calls []time.Time
	seed := func(_ context.Context, key string, start time.Time) (llm.Money, error) {
		calls = append(calls, start)
		if key == "broken" {
			return 0, errors.New("db down")
		}
		return llm.USD(9.5), nil
	}
	bg, err := NewMemory(WithClock(clk.Now), WithSeed(seed))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	b := Budget{Name: "d", Limit: llm.USD(10), Period: Daily}
	h, err := bg.Reserve(ctx, "k", b, llm.USD(1))
	if err != nil {
		t.Fatal(err)
	}
	_ = h.Settle(ctx, llm.USD(0.6))
	if _, err := bg.Reserve(ctx, "k", b, llm.USD(1)); llm.KindOf(err) != llm.KindRateLimited {
		t.Fatalf("after seeded 9.5 + 0.6: want budget_exceeded, got %v", err)
	}
	if spent, _ := bg.Spent(ctx, "k", Daily); spent != llm.USD(10.1) {
		t.Fatalf("Spent = %v, want 10.1", spent)
	}
	if len(calls) != 1 || !calls[0].Equal(testclock.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("seed calls %v, want one from UTC midnight", calls)
	}
	mb := Budget{Name: "m", Limit: llm.USD(100), Period: Monthly}
	if _, err := bg.Reserve(ctx, "k", mb, llm.USD(1)); err != nil {
		t.Fatal(err)
	}
	if got := calls[len(calls)-1]; !got.Equal(testclock.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("monthly seed from %v, want the 1st", got)
	}
	if _, err := bg.Reserve(ctx, "broken", b, llm.USD(1)); llm.KindOf(err) != llm.KindUnavailable {
		t.Fatalf("seed failure: want unavailable, got %v", err)
	}
}
