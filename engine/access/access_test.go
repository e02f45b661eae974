package access

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

type fixedEstimator struct {
	e   Estimate
	err error
}

func (f fixedEstimator) Estimate(*llm.ChatRequest) (Estimate, error) { return f.e, f.err }

func newGate(t *testing.T, e Estimate) *Gate {
	t.Helper()
	bud, err := budget.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	g, err := NewGate(fixedEstimator{e: e}, limits.NewMemory(), bud)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func req(model string) *llm.ChatRequest {
	return &llm.ChatRequest{Model: model, Messages: []llm.Message{{Role: "user", Content: "hi"}}}
}

func TestAdmitPolicy(t *testing.T) {
	est := Estimate{Route: "fast", PromptTokens: 10, MaxOutputTokens: 100, MaxCost: llm.USD(0.001)}
	tests := []struct {
		name     string
		key      *Key
		model    string
		wantKind llm.Kind
		wantCode string
	}{
		{"no key admits", nil, "gpt-4o", 0, ""},
		{"unrestricted key admits", &Key{ID: "k"}, "gpt-4o", 0, ""},
		{"allowed model", &Key{ID: "k", AllowedModels: []string{"gpt-4o"}}, "gpt-4o", 0, ""},
		{"allowed via the route name", &Key{ID: "k", AllowedModels: []string{"fast"}}, "gpt-4o", 0, ""},
		{"model not allowed", &Key{ID: "k", AllowedModels: []string{"claude"}}, "gpt-4o", llm.KindPermissionDenied, "model_not_allowed"},
		{"route allowed", &Key{ID: "k", AllowedRoutes: []string{"fast"}}, "gpt-4o", 0, ""},
		{"route not allowed", &Key{ID: "k", AllowedRoutes: []string{"slow"}}, "gpt-4o", llm.KindPermissionDenied, "route_not_allowed"},
		{"zero budget refuses", &Key{ID: "k", Budget: &budget.Budget{Name: "b", Limit: 0}}, "gpt-4o", llm.KindRateLimited, "budget_exceeded"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := newGate(t, est)
			tk, err := g.Admit(context.Background(), tt.key, req(tt.model))
			if tt.wantKind == 0 {
				if err != nil {
					t.Fatalf("Admit: %v", err)
				}
				if err := tk.Settle(context.Background(), llm.Usage{PromptTokens: 5}, 0); err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *llm.Error
			if !errors.As(err, &le) || le.Kind != tt.wantKind || le.Code != tt.wantCode {
				t.Fatalf("Admit error %v, want kind %v code %s", err, tt.wantKind, tt.wantCode)
			}
		})
	}
}

func TestAdmitRateLimitReportsStatusAndRefusesTheExtraRequest(t *testing.T) {
	g := newGate(t, Estimate{Route: "r", PromptTokens: 1, MaxOutputTokens: 1})
	k := &Key{ID: "k", Limits: limits.Limits{RPM: 3}}
	for i := range 3 {
		tk, err := g.Admit(context.Background(), k, req("m"))
		if err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
		if st := tk.Status(); st.LimitRequests != 3 || st.RemainingRequests != 2-i {
			t.Fatalf("request %d status %+v", i+1, st)
		}
	}
	_, err := g.Admit(context.Background(), k, req("m"))
	st, ok := limits.StatusOf(err)
	if llm.KindOf(err) != llm.KindRateLimited || !ok || st.RemainingRequests != 0 || llm.RetryAfter(err) <= 0 {
		t.Fatalf("4th request: err %v status %+v", err, st)
	}
}

func TestConcurrentBudgetSpendStaysWithinOneRequest(t *testing.T) {
	// 50 concurrent requests whose worst case is $0.004 and real cost
	// $0.003 against a $0.01 budget.
	maxCost, realCost, limit := llm.USD(0.004), llm.USD(0.003), llm.USD(0.01)
	g := newGate(t, Estimate{Route: "r", PromptTokens: 100, MaxOutputTokens: 1000, MaxCost: maxCost})
	k := &Key{ID: "k", Budget: &budget.Budget{Name: "tiny", Limit: limit, Period: budget.Daily}}
	var (
		mu      sync.Mutex
		spent   llm.Money
		refused int
		wg      sync.WaitGroup
	)
	start := make(chan struct{})
	for range 50 {
		wg.Go(func() {
			<-start
			tk, err := g.Admit(context.Background(), k, req("m"))
			if err != nil {
				if llm.KindOf(err) != llm.KindRateLimited {
					t.Error(err)
				}
				mu.Lock()
				refused++
				mu.Unlock()
				return
			}
			time.Sleep(time.Millisecond)
			_ = tk.Settle(context.Background(), llm.Usage{PromptTokens: 100, CompletionTokens: 700}, realCost)
			mu.Lock()
			spent += realCost
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	if spent > limit+maxCost {
		t.Fatalf("spent $%s > budget $%s + one request $%s", spent, limit, maxCost)
	}
	if refused == 0 || refused == 50 {
		t.Fatalf("refused %d of 50", refused)
	}
}

func TestKeyAddressPolicy(t *testing.T) {
	nets, err := ParseIPAllowlist([]string{"10.0.0.0/8", "192.168.1.7", "::1", "2001:db8::/32"})
	if err != nil {
		t.Fatal(err)
	}
	k := &Key{ID: "k", IPAllowlist: nets}
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"10.1.2.3:5555", true}, {"[::ffff:10.1.2.3]:80", true}, {"192.168.1.7:1", true}, {"192.168.1.8:1", false},
		{"[::1]:9", true}, {"[2001:db8::5]:443", true}, {"127.0.0.1:80", false}, {"garbage", false}, {"10.0.0.1", true},
	} {
		if got := k.AllowsAddr(tc.addr); got != tc.ok {
			t.Errorf("AllowsAddr(%q) = %v, want %v", tc.addr, got, tc.ok)
		}
	}
	if (&Key{}).AllowsAddr("garbage") != true {
		t.Error("no allowlist must allow any address")
	}
	if _, err := ParseIPAllowlist([]string{"10.0.0.0/33"}); err == nil {
		t.Error("bad CIDR accepted")
	}
	if _, err := ParseIPAllowlist([]string{"example.com"}); err == nil {
		t.Error("host name accepted")
	}
}

func BenchmarkAdmitUnrestricted(b *testing.B) {
	g := newGate(&testing.T{}, Estimate{})
	k := &Key{ID: "k"}
	r := req("m")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, _ = g.Admit(ctx, k, r)
	}
}

func BenchmarkAdmitWithLimitsAndBudget(b *testing.B) {
	g := newGate(&testing.T{}, Estimate{Route: "r", PromptTokens: 10, MaxOutputTokens: 10, MaxCost: 1})
	k := &Key{ID: "k", Limits: limits.Limits{RPM: 1 << 30, TPM: 1 << 30}, Budget: &budget.Budget{Name: "b", Limit: llm.USD(1e9)}}
	r := req("m")
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		tk, err := g.Admit(ctx, k, r)
		if err != nil {
			b.Fatal(err)
		}
		_ = tk.Settle(ctx, llm.Usage{PromptTokens: 10}, 1)
	}
}
