package route

import (
	"context"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// A 429 cools the key that answered it, for its Retry-After; the provider's
// other keys keep serving, and the route moves to the next provider only
// when every key of the first is cooling.
func TestRateLimitCoolsOneKeyNotTheProvider(t *testing.T) {
	cases := []struct {
		name        string
		limited     int // how many of p's three keys answer 429 to their first call
		wantFromQ   bool
		wantPCalls  int64 // calls to p's keys inside the cooldown, 429s included
		wantPStatus map[string]string
	}{
		{"one key limited: the other two serve", 1, false, -1,
			map[string]string{"k0": "cooling", "k1": "healthy", "k2": "healthy"}},
		{"two keys limited: the third serves", 2, false, -1,
			map[string]string{"k0": "cooling", "k1": "cooling", "k2": "healthy"}},
		{"every key limited: the next provider serves", 3, true, 3,
			map[string]string{"k0": "cooling", "k1": "cooling", "k2": "cooling"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			const retryAfter = time.Second
			keys := make([]*fake, 3)
			impls := make([]Provider, 3)
			for i := range keys {
				limit := i < tc.limited
				keys[i] = &fake{name: "p", fail: func(n int64) error {
					if limit && n == 1 {
						return &llm.UpstreamError{Provider: "p", Status: 429, RetryAfter: retryAfter}
					}
					return nil
				}}
				impls[i] = keys[i]
			}
			q := &fake{name: "q"}
			r, err := New(Spec{
				Providers: []ProviderSpec{prov("p", []string{"m"}, impls...), prov("q", []string{"m"}, q)},
				Routes: []RouteSpec{{Model: "pool", Strategy: "priority", Retry: RetrySpec{MaxAttempts: 5}, Targets: []TargetSpec{
					{Provider: "p", Model: "m", Priority: 1}, {Provider: "q", Model: "m", Priority: 2}}}},
			}, WithClock(clk.now), WithJitter(func() float64 { return 0 }))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			// Enough requests for every limited key to be picked once, all
			// inside the cooldown (10 ms apart).
			const n = 60
			fromQ := 0
			for i := 0; i < n; i++ {
				_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "pool"})
				if err != nil {
					t.Fatalf("request %d: %v", i, err)
				}
				if info.Provider == "q" {
					fromQ++
				}
				clk.advance(10 * time.Millisecond)
			}
			for i := 0; i < tc.limited; i++ {
				if c := keys[i].calls.Load(); c != 1 {
					t.Fatalf("limited key k%d got %d calls inside its Retry-After, want only the one that was limited", i, c)
				}
			}
			if tc.wantFromQ != (fromQ > 0) {
				t.Fatalf("%d of %d requests went to the next provider", fromQ, n)
			}
			if tc.wantFromQ && fromQ < n-tc.limited {
				t.Fatalf("only %d of %d requests served by q with every p key cooling", fromQ, n)
			}
			var pCalls int64
			for _, k := range keys {
				pCalls += k.calls.Load()
			}
			if tc.wantPCalls >= 0 && pCalls != tc.wantPCalls {
				t.Fatalf("p's keys got %d calls, want %d", pCalls, tc.wantPCalls)
			}
			for _, ps := range r.Status() {
				if ps.Name != "p" {
					continue
				}
				if ps.Healthy == (tc.limited == len(keys)) {
					t.Fatalf("p healthy=%v with %d of %d keys cooling", ps.Healthy, tc.limited, len(keys))
				}
				for _, ks := range ps.Keys {
					if ks.State != tc.wantPStatus[ks.ID] {
						t.Fatalf("key %s state %q, want %q", ks.ID, ks.State, tc.wantPStatus[ks.ID])
					}
				}
			}
			// After the Retry-After every key serves again.
			clk.advance(retryAfter)
			for i := 0; i < 30; i++ {
				if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "pool"}); err != nil {
					t.Fatalf("after cooldown: %v", err)
				}
			}
			for i, k := range keys {
				if k.calls.Load() < 2 && i < tc.limited {
					t.Fatalf("key k%d not used again after its cooldown", i)
				}
			}
		})
	}
}
