package limits

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/testclock"
)

// fakeClock is a settable clock safe for concurrent reads.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(testclock.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

type backend struct {
	name string
	make func(t *testing.T, clk *fakeClock) Limiter
}

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

func backends() []backend {
	return []backend{
		{"memory", func(t *testing.T, clk *fakeClock) Limiter { return NewMemory(WithClock(clk.Now)) }},
		{"redis", func(t *testing.T, clk *fakeClock) Limiter {
			rdb := redisClient(t)
			// A unique prefix per test keeps runs independent without FLUSHDB.
			prefix := fmt.Sprintf("sytest:rl:%d:", rand.Int64())
			l, err := NewRedis(rdb, WithClock(clk.Now), WithKeyPrefix(prefix))
			if err != nil {
				t.Fatal(err)
			}
			return l
		}},
	}
}

// step is one action in a scenario: advance the clock, then reserve (and
// optionally settle) and check the outcome.
type step struct {
	advance   time.Duration
	key       string // default "k"
	est       int
	settle    int // settle with this many tokens when >= 0 (set settleSet)
	settleSet bool
	allowed   bool
	// checked only when > -1
	remReq, remTok int
	retryAfter     time.Duration // checked on denials when non-zero
}

func TestLimiterScenarios(t *testing.T) {
	tests := []struct {
		name  string
		lim   Limits
		steps []step
	}{
		{
			name: "request bucket empties then refills one request per 20s at 3 rpm",
			lim:  Limits{RPM: 3},
			steps: []step{
				{allowed: true, remReq: 2, remTok: -1},
				{allowed: true, remReq: 1, remTok: -1},
				{allowed: true, remReq: 0, remTok: -1},
				{allowed: false, remReq: 0, remTok: -1, retryAfter: 20 * time.Second},
				{advance: 19 * time.Second, allowed: false, remReq: -1, remTok: -1},
				{advance: time.Second, allowed: true, remReq: 0, remTok: -1},
			},
		},
		{
			name: "token estimate larger than remaining is denied",
			lim:  Limits{TPM: 1000},
			steps: []step{
				{est: 600, allowed: true, remReq: -1, remTok: 400},
				{est: 500, allowed: false, remReq: -1, remTok: 400, retryAfter: 6 * time.Second},
				{est: 400, allowed: true, remReq: -1, remTok: 0},
			},
		},
		{
			name: "settling below the estimate returns tokens",
			lim:  Limits{TPM: 1000},
			steps: []step{
				{est: 900, settle: 100, settleSet: true, allowed: true, remReq: -1, remTok: 900},
				{est: 900, allowed: true, remReq: -1, remTok: 0},
			},
		},
		{
			name: "settling above the estimate charges the difference",
			lim:  Limits{TPM: 1000},
			steps: []step{
				{est: 100, settle: 700, settleSet: true, allowed: true, remReq: -1, remTok: 300},
				{est: 400, allowed: false, remReq: -1, remTok: 300},
				{est: 300, allowed: true, remReq: -1, remTok: 0},
			},
		},
		{
			name: "both limits: the tighter one denies",
			lim:  Limits{RPM: 100, TPM: 50},
			steps: []step{
				{est: 40, allowed: true, remReq: 99, remTok: 10},
				{est: 40, allowed: false, remReq: 99, remTok: 10},
			},
		},
		{
			name: "estimate above TPM waits for a full bucket instead of never fitting",
			lim:  Limits{TPM: 100},
			steps: []step{
				{est: 10, allowed: true, remReq: -1, remTok: 90},
				{est: 5000, allowed: false, remReq: -1, remTok: 90},
				{advance: 6 * time.Second, est: 5000, allowed: true, remReq: -1, remTok: 0},
			},
		},
		{
			name: "keys are independent",
			lim:  Limits{RPM: 1},
			steps: []step{
				{key: "a", allowed: true, remReq: 0, remTok: -1},
				{key: "a", allowed: false, remReq: -1, remTok: -1},
				{key: "b", allowed: true, remReq: 0, remTok: -1},
			},
		},
		{
			name: "refill never exceeds capacity",
			lim:  Limits{RPM: 2},
			steps: []step{
				{allowed: true, remReq: 1, remTok: -1},
				{advance: time.Hour, allowed: true, remReq: 1, remTok: -1},
			},
		},
	}
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					clk := newFakeClock()
					l := be.make(t, clk)
					ctx := context.Background()
					for i, s := range tt.steps {
						clk.Advance(s.advance)
						key := s.key
						if key == "" {
							key = "k"
						}
						res, err := l.Reserve(ctx, key, tt.lim, s.est)
						var st Status
						if s.allowed {
							if err != nil {
								t.Fatalf("step %d: Reserve: %v", i, err)
							}
							if s.settleSet {
								if err := res.Settle(ctx, s.settle); err != nil {
									t.Fatalf("step %d: Settle: %v", i, err)
								}
								// Read the settled state through a zero-cost probe.
								res, err = l.Reserve(ctx, key, Limits{RPM: 0, TPM: tt.lim.TPM}, 0)
								if err != nil {
									t.Fatalf("step %d: probe: %v", i, err)
								}
							}
							st = res.Status()
						} else {
							var le *llm.Error
							if !errors.As(err, &le) || le.Kind != llm.KindRateLimited {
								t.Fatalf("step %d: want KindRateLimited, got %v", i, err)
							}
							if le.RetryAfter <= 0 {
								t.Fatalf("step %d: RetryAfter = %v", i, le.RetryAfter)
							}
							if s.retryAfter != 0 && (le.RetryAfter < s.retryAfter-time.Millisecond || le.RetryAfter > s.retryAfter+time.Millisecond) {
								t.Fatalf("step %d: RetryAfter = %v, want %v", i, le.RetryAfter, s.retryAfter)
							}
							var ok bool
							if st, ok = StatusOf(err); !ok {
								t.Fatalf("step %d: StatusOf found no status in %v", i, err)
							}
						}
						if s.remReq > -1 && st.RemainingRequests != s.remReq {
							t.Fatalf("step %d: remaining requests %d, want %d", i, st.RemainingRequests, s.remReq)
						}
						if s.remTok > -1 && st.RemainingTokens != s.remTok {
							t.Fatalf("step %d: remaining tokens %d, want %d", i, st.RemainingTokens, s.remTok)
						}
					}
				})
			}
		})
	}
}

func TestUnlimitedNeedsNoState(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			l := be.make(t, newFakeClock())
			for range 1000 {
				r, err := l.Reserve(context.Background(), "k", Limits{}, 1e6)
				if err != nil {
					t.Fatal(err)
				}
				if err := r.Settle(context.Background(), 5); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func TestConcurrentReservesAllowExactlyTheLimit(t *testing.T) {
	for _, be := range backends() {
		t.Run(be.name, func(t *testing.T) {
			l := be.make(t, newFakeClock()) // frozen clock: no refill mid-test
			var allowed, denied atomic.Int64
			var wg sync.WaitGroup
			for range 1000 {
				wg.Go(func() {
					_, err := l.Reserve(context.Background(), "shared", Limits{RPM: 100}, 0)
					switch {
					case err == nil:
						allowed.Add(1)
					case llm.KindOf(err) == llm.KindRateLimited:
						denied.Add(1)
					default:
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if allowed.Load() != 100 || denied.Load() != 900 {
				t.Fatalf("allowed %d denied %d, want 100/900", allowed.Load(), denied.Load())
			}
		})
	}
}

func TestMemoryEvictsRefilledBuckets(t *testing.T) {
	clk := newFakeClock()
	m := NewMemory(WithClock(clk.Now), WithSweepInterval(time.Second))
	for i := range 500 {
		if _, err := m.Reserve(context.Background(), fmt.Sprintf("k%d", i), Limits{RPM: 60, TPM: 600}, 10); err != nil {
			t.Fatal(err)
		}
	}
	if m.Len() != 500 {
		t.Fatalf("Len = %d, want 500", m.Len())
	}
	// After a minute every bucket has refilled; the first touch of each
	// shard sweeps them. 2000 fresh keys reach all 64 shards.
	clk.Advance(61 * time.Second)
	for i := range 2000 {
		if _, err := m.Reserve(context.Background(), fmt.Sprintf("new%d", i), Limits{RPM: 60}, 0); err != nil {
			t.Fatal(err)
		}
	}
	if n := m.Len(); n != 2000 {
		t.Fatalf("Len = %d after an idle minute, want 2000 (the old 500 evicted)", n)
	}
}

func TestRedisKeysExpire(t *testing.T) {
	rdb := redisClient(t)
	prefix := fmt.Sprintf("sytest:rl:%d:", rand.Int64())
	l, err := NewRedis(rdb, WithKeyPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Reserve(context.Background(), "k", Limits{RPM: 60, TPM: 6000}, 100); err != nil {
		t.Fatal(err)
	}
	ttl, err := rdb.PTTL(context.Background(), prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	// One request of 60 refills in 1s, 100 tokens of 6000 in 1s: + 1s grace.
	if ttl <= 0 || ttl > 2100*time.Millisecond {
		t.Fatalf("PTTL = %v, want (0, 2.1s]", ttl)
	}
}

func TestStatusHeaders(t *testing.T) {
	tests := []struct {
		name string
		st   Status
		want map[string]string
	}{
		{
			name: "both dimensions",
			st:   Status{LimitRequests: 60, RemainingRequests: 59, ResetRequests: time.Second, LimitTokens: 150000, RemainingTokens: 149984, ResetTokens: 6*time.Millisecond + 400*time.Microsecond},
			want: map[string]string{
				HeaderLimitRequests: "60", HeaderRemainingRequests: "59", HeaderResetRequests: "1s",
				HeaderLimitTokens: "150000", HeaderRemainingTokens: "149984", HeaderResetTokens: "7ms",
			},
		},
		{
			name: "negative remaining (token debt) reads as zero",
			st:   Status{LimitTokens: 1000, RemainingTokens: -300, ResetTokens: 78 * time.Second},
			want: map[string]string{HeaderLimitTokens: "1000", HeaderRemainingTokens: "0", HeaderResetTokens: "1m18s"},
		},
		{name: "unlimited has no headers", st: Status{}, want: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string]string{}
			tt.st.Headers(func(k, v string) { got[k] = v })
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func BenchmarkMemoryReserve(b *testing.B) {
	m := NewMemory()
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("client-%d", i)
	}
	lim := Limits{RPM: 1 << 30, TPM: 1 << 30}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(len(keys))
		for pb.Next() {
			r, err := m.Reserve(ctx, keys[i%len(keys)], lim, 100)
			if err != nil {
				b.Fatal(err)
			}
			_ = r.Settle(ctx, 90)
			i++
		}
	})
}
