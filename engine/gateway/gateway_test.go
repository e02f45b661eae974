package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

func TestBillableUsageSkipsAnswersTheUpstreamDidNotMake(t *testing.T) {
	u := llm.Usage{PromptTokens: 10, CompletionTokens: 20}
	extra := llm.Usage{PromptTokens: 5}
	for _, tc := range []struct {
		name string
		info route.Info
		want llm.Usage
	}{
		{"miss", route.Info{Cache: llm.CacheMiss}, u},
		{"bypass", route.Info{Cache: llm.CacheBypass}, u},
		{"hit", route.Info{Cache: llm.CacheHit}, llm.Usage{}},
		{"coalesced, paid by another", route.Info{Cache: llm.CacheCoalesced}, llm.Usage{}},
		{"coalesced, paid by this one", route.Info{Cache: llm.CacheCoalesced, Cost: 1}, u},
		{"hedged: the losing lane too", route.Info{Cache: llm.CacheBypass, Cost: 1, Extra: extra}, u.Add(extra)},
	} {
		if got := billable(tc.info, u); got != tc.want {
			t.Errorf("%s: billable %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// fakeRouter answers every request with one usage and cost.
type fakeRouter struct {
	usage llm.Usage
	cost  llm.Money
}

func (f *fakeRouter) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, route.Info, error) {
	return &llm.ChatResponse{Usage: f.usage}, route.Info{Route: req.Model, Cost: f.cost, Cache: llm.CacheBypass}, nil
}

func (f *fakeRouter) ChatStream(ctx context.Context, req *llm.ChatRequest) (*route.Stream, error) {
	return nil, errors.New("not used")
}

func (f *fakeRouter) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, route.Info, error) {
	return &llm.EmbeddingResponse{Usage: f.usage}, route.Info{Route: req.Model, Cost: f.cost}, nil
}

type recorder struct {
	mu      sync.Mutex
	recs    []Record
	started int
}

func (r *recorder) RequestStarted()  { r.mu.Lock(); r.started++; r.mu.Unlock() }
func (r *recorder) RequestFinished() {}
func (r *recorder) Observe(_ context.Context, rec Record) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { c.t = c.t.Add(10 * time.Millisecond); return c.t }

// Every request is admitted, settled exactly once and recorded once, with
// its dialect, whichever entry point served it; a refusal is recorded too.
func TestLifecycleAdmitsSettlesAndRecordsOnce(t *testing.T) {
	bud, err := budget.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	gate, err := access.NewGate(fixedEstimator{}, limits.NewMemory(), bud)
	if err != nil {
		t.Fatal(err)
	}
	key := &access.Key{ID: "k", Budget: &budget.Budget{Name: "b", Limit: llm.USD(1), Period: budget.Daily}}
	rr := &fakeRouter{usage: llm.Usage{PromptTokens: 10, CompletionTokens: 5}, cost: llm.USD(0.4)}
	obs := &recorder{}
	clk := &fakeClock{}
	g := New(rr, nil, WithAdmission(gate), WithObserver(obs), WithClock(clk.now))
	headers := map[string]string{}
	call := Call{RequestID: "r1", Client: "k", Key: key, Dialect: "anthropic", SetHeader: func(k, v string) { headers[k] = v }}

	if _, _, err := g.Chat(context.Background(), call, &llm.ChatRequest{Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := g.Embed(context.Background(), call, &llm.EmbeddingRequest{Model: "m", Input: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	// $0.80 spent of $1: the next one is still admitted (budget left), the
	// one after is refused.
	if _, _, err := g.Chat(context.Background(), call, &llm.ChatRequest{Model: "m"}); err != nil {
		t.Fatal(err)
	}
	_, _, err = g.Chat(context.Background(), call, &llm.ChatRequest{Model: "m"})
	if llm.KindOf(err) != llm.KindRateLimited {
		t.Fatalf("want budget_exceeded, got %v", err)
	}
	if spent, _ := bud.Spent(context.Background(), "k", budget.Daily); spent != llm.USD(1.2) {
		t.Fatalf("spent %v, want 1.2 (three settles of 0.4, once each)", spent)
	}
	if len(obs.recs) != 4 || obs.started != 3 {
		t.Fatalf("%d records, %d started; want 4 and 3", len(obs.recs), obs.started)
	}
	for i, rec := range obs.recs {
		if rec.Dialect != "anthropic" || rec.RequestID != "r1" || rec.Client != "k" || rec.Latency != 10*time.Millisecond {
			t.Errorf("record %d: %+v", i, rec)
		}
	}
	if !obs.recs[1].Embedding || obs.recs[3].Status != "rate_limited" || obs.recs[0].Cost != llm.USD(0.4) {
		t.Errorf("records %+v", obs.recs)
	}
}

type fixedEstimator struct{}

func (fixedEstimator) Estimate(req *llm.ChatRequest) (access.Estimate, error) {
	return access.Estimate{Route: req.Model, PromptTokens: 10, MaxOutputTokens: 5, MaxCost: llm.USD(0.1)}, nil
}

// BenchmarkChat is the lifecycle's own cost around a router that answers at
// once: admission with a key (memory limits and budget), settle, record.
func BenchmarkChat(b *testing.B) {
	bud, _ := budget.NewMemory()
	gate, err := access.NewGate(fixedEstimator{}, limits.NewMemory(), bud)
	if err != nil {
		b.Fatal(err)
	}
	key := &access.Key{ID: "k", Budget: &budget.Budget{Name: "b", Limit: llm.USD(1e9), Period: budget.Monthly}}
	g := New(&fakeRouter{usage: llm.Usage{PromptTokens: 10, CompletionTokens: 5}, cost: 100}, nil, WithAdmission(gate))
	call := Call{RequestID: "r", Client: "k", Key: key, Dialect: "openai"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := g.Chat(ctx, call, &llm.ChatRequest{Model: "m"}); err != nil {
			b.Fatal(err)
		}
	}
}

func TestCountTokensEstimatesFourBytesAToken(t *testing.T) {
	g := New(&fakeRouter{}, nil)
	tests := []struct {
		name string
		req  llm.ChatRequest
		want int
	}{
		{"empty", llm.ChatRequest{}, 0},
		{"one short message", llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: "Say hello"}}}, 7},
		{"400 bytes", llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: strings.Repeat("x", 400)}}}, 104},
		{"tools count", llm.ChatRequest{Tools: []llm.Tool{{Name: "get_weather", Description: "weather", Parameters: []byte(`{"type":"object"}`)}}}, 9},
	}
	for _, tt := range tests {
		got, err := g.CountTokens(context.Background(), Call{}, &tt.req)
		if err != nil || got != tt.want {
			t.Errorf("%s: %d %v, want %d", tt.name, got, err, tt.want)
		}
	}
}

// sizingEstimator reports the prompt of the probe admission is given.
type sizingEstimator struct{ saw *int }

func (e sizingEstimator) Estimate(req *llm.ChatRequest) (access.Estimate, error) {
	n := 0
	for _, m := range req.Messages {
		n += len(m.Content)
	}
	*e.saw = n
	return access.Estimate{Route: req.Model}, nil
}

// Token-id embedding input is sized for admission by its ids (three bytes
// each, as text is counted), not as an empty prompt that limits and
// budgets would wave through.
func TestEmbedSizesTokenInputForAdmission(t *testing.T) {
	bud, err := budget.NewMemory()
	if err != nil {
		t.Fatal(err)
	}
	var saw int
	gate, err := access.NewGate(sizingEstimator{&saw}, limits.NewMemory(), bud)
	if err != nil {
		t.Fatal(err)
	}
	g := New(&fakeRouter{}, nil, WithAdmission(gate))
	long := make([]int, 20000) // longer than one pad: split across messages
	req := &llm.EmbeddingRequest{Model: "m", InputTokens: [][]int{{1, 2, 3}, long}, Input: nil}
	key := &access.Key{ID: "k", Budget: &budget.Budget{Name: "b", Limit: llm.USD(1), Period: budget.Daily}}
	if _, _, err := g.Embed(context.Background(), Call{Client: "k", Key: key}, req); err != nil {
		t.Fatal(err)
	}
	if want := 3 * (3 + 20000); saw != want {
		t.Fatalf("admission saw a prompt of %d bytes, want %d", saw, want)
	}
}
