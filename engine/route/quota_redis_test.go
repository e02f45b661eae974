package route

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

// Two replicas of the gateway in front of the same two keys, each offered
// half of 90% of the summed quota: metering in each process lets each
// spend the whole quota, so the keys meet 429s; metering in a shared Redis
// (real, from SWITCHYARD_TEST_REDIS) keeps the fleet under it.
func TestQuotaMeteredInRedisHoldsAcrossReplicas(t *testing.T) {
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		t.Skip("SWITCHYARD_TEST_REDIS is not set: start one with `scripts/redis.sh` and export the address it prints (make test does)")
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	t.Cleanup(func() { _ = rdb.Close() })
	const rpm, perMinute = 10, 18
	for _, shared := range []bool{false, true} {
		t.Run(fmt.Sprintf("shared=%v", shared), func(t *testing.T) {
			clk := newClock()
			a, b := newRPMKey("a", rpm, clk.now), newRPMKey("b", rpm, clk.now)
			prefix := fmt.Sprintf("switchyard:test:pq:%d:", time.Now().UnixNano())
			replicas := make([]*Router, 2)
			for i := range replicas {
				pa, pb := prov("a", []string{"m"}, a), prov("b", []string{"m"}, b)
				pa.Keys[0].Quota, pb.Keys[0].Quota = Quota{RPM: rpm}, Quota{RPM: rpm}
				opts := []Option{WithClock(clk.now), WithJitter(func() float64 { return 0 })}
				if shared {
					m, err := limits.NewRedis(rdb, limits.WithClock(clk.now), limits.WithKeyPrefix(prefix))
					if err != nil {
						t.Fatal(err)
					}
					opts = append(opts, WithQuotaMeter(m))
				}
				r, err := New(Spec{
					Providers: []ProviderSpec{pa, pb},
					Routes: []RouteSpec{{Model: "pool", Strategy: "priority", Retry: RetrySpec{MaxAttempts: 2}, Targets: []TargetSpec{
						{Provider: "a", Model: "m", Priority: 1}, {Provider: "b", Model: "m", Priority: 2}}}},
				}, opts...)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = r.Close() })
				replicas[i] = r
			}
			for i := range perMinute * 5 {
				_, _, err := replicas[i%2].Chat(context.Background(), &llm.ChatRequest{Model: "pool"})
				if err != nil && shared {
					t.Fatalf("request %d: %v", i, err)
				}
				clk.advance(time.Minute / perMinute)
			}
			limited := a.limited + b.limited
			t.Logf("shared=%v: upstream 429s %d (a accepted %d, b %d)", shared, limited, a.accepted, b.accepted)
			if shared && limited != 0 {
				t.Errorf("with the meter in Redis the keys met %d 429s", limited)
			}
			if !shared && limited == 0 {
				t.Errorf("two per-process meters kept the fleet under the quota; the test cannot tell them apart")
			}
		})
	}
}
