package route

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// rpmKey is a provider key whose upstream enforces an RPM the way providers
// document theirs: a bucket of rpm requests refilled continuously.
type rpmKey struct {
	fake
	mu       sync.Mutex
	now      func() time.Time
	rpm      float64
	level    float64
	last     time.Time
	started  bool
	limited  int
	accepted int
}

func newRPMKey(name string, rpm int, now func() time.Time) *rpmKey {
	k := &rpmKey{now: now, rpm: float64(rpm)}
	k.name = name
	k.fail = func(int64) error {
		k.mu.Lock()
		defer k.mu.Unlock()
		t := k.now()
		if !k.started {
			k.level, k.started = k.rpm, true
		} else {
			k.level = min(k.rpm, k.level+t.Sub(k.last).Minutes()*k.rpm)
		}
		k.last = t
		if k.level < 1 {
			k.limited++
			return &llm.UpstreamError{Provider: name, Status: 429, RetryAfter: time.Second}
		}
		k.level--
		k.accepted++
		return nil
	}
	return k
}

// At 90% of the keys' summed quota a priority route sends everything to
// its first key until that key answers 429s; quota-aware routing spreads
// the load over both keys' headroom and then their reserves, and no call
// meets a 429. Above the summed quota the gateway refuses the excess
// itself, still without a 429 upstream.
func TestQuotaAwareRoutingAvoidsUpstream429s(t *testing.T) {
	const rpm = 10
	cases := []struct {
		name       string
		aware      bool
		perMinute  float64 // offered load, requests per minute
		want429    bool
		wantRefuse bool
	}{
		{"quota-blind at 90%", false, 18, true, false},
		{"quota-aware at 90%", true, 18, false, false},
		{"quota-aware at 70%", true, 14, false, false},
		{"quota-aware at 130%: the excess refused here", true, 26, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			a, b := newRPMKey("a", rpm, clk.now), newRPMKey("b", rpm, clk.now)
			q := Quota{}
			if tc.aware {
				q = Quota{RPM: rpm}
			}
			pa, pb := prov("a", []string{"m"}, a), prov("b", []string{"m"}, b)
			pa.Keys[0].Quota, pb.Keys[0].Quota = q, q
			r, err := New(Spec{
				Providers: []ProviderSpec{pa, pb},
				Routes: []RouteSpec{{Model: "pool", Strategy: "priority", Retry: RetrySpec{MaxAttempts: 2}, Targets: []TargetSpec{
					{Provider: "a", Model: "m", Priority: 1}, {Provider: "b", Model: "m", Priority: 2}}}},
			}, WithClock(clk.now), WithJitter(func() float64 { return 0 }))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			gap := time.Duration(float64(time.Minute) / tc.perMinute)
			refused := 0
			for i := 0; i < int(tc.perMinute*5); i++ { // five minutes
				_, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "pool"})
				var e *llm.Error
				switch {
				case err == nil:
				case errors.As(err, &e) && e.Code == "provider_quota_exhausted":
					if e.RetryAfter <= 0 {
						t.Errorf("refusal without a Retry-After: %v", err)
					}
					refused++
				default:
					t.Fatalf("request %d: %v", i, err)
				}
				clk.advance(gap)
			}
			limited := a.limited + b.limited
			if got := limited > 0; got != tc.want429 {
				t.Errorf("upstream 429s = %d (a %d, b %d accepted), want any: %v", limited, a.accepted, b.accepted, tc.want429)
			}
			if got := refused > 0; got != tc.wantRefuse {
				t.Errorf("refused here = %d, want any: %v", refused, tc.wantRefuse)
			}
			if tc.aware && tc.perMinute > 0.8*2*rpm && r.QuotaStats().ReservePicks == 0 {
				t.Errorf("above the summed headroom, no pick drew on a reserve: %+v", r.QuotaStats())
			}
			if tc.aware && b.accepted == 0 {
				t.Errorf("the second key served nothing (a %d)", a.accepted)
			}
		})
	}
}

func TestQuotaSplitKeepsTheSumAndBothTiers(t *testing.T) {
	cases := []struct {
		q             Quota
		mainR, resR   int
		mainT, resT   int
		reserveIsZero bool
	}{
		{Quota{RPM: 10}, 8, 2, 0, 0, false},
		{Quota{RPM: 10, TPM: 1000, Headroom: 0.5}, 5, 5, 500, 500, false},
		{Quota{RPM: 1}, 1, 0, 0, 0, true},
		{Quota{RPM: 3, Headroom: 2}, 2, 1, 0, 0, false}, // out of range: the default
		{Quota{TPM: 100, Headroom: 1}, 0, 0, 100, 0, true},
	}
	for _, tc := range cases {
		m, r := tc.q.split()
		if m.RPM != tc.mainR || r.RPM != tc.resR || m.TPM != tc.mainT || r.TPM != tc.resT {
			t.Errorf("%+v: main %+v reserve %+v", tc.q, m, r)
		}
		if m.RPM+r.RPM != tc.q.RPM || m.TPM+r.TPM != tc.q.TPM {
			t.Errorf("%+v: tiers do not sum to the quota", tc.q)
		}
		if (r.RPM == 0 && r.TPM == 0) != tc.reserveIsZero {
			t.Errorf("%+v: reserve %+v", tc.q, r)
		}
	}
}

func BenchmarkRouterChatWithQuota(b *testing.B) {
	p := prov("a", []string{"m"}, &fake{name: "a"})
	p.Keys[0].Quota = Quota{RPM: 1 << 30, TPM: 1 << 30}
	r, err := New(Spec{Providers: []ProviderSpec{p}})
	if err != nil {
		b.Fatal(err)
	}
	req := &llm.ChatRequest{Model: "m"}
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := r.Chat(ctx, req); err != nil {
				b.Fatal(err)
			}
		}
	})
}
