package route

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// fake is a scripted provider: it fails with err (if set) and counts calls.
type fake struct {
	name  string
	err   error
	calls atomic.Int64
	// failFirstRecv makes streams die before their first chunk.
	failFirstRecv error
}

func (f *fake) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &llm.ChatResponse{ID: "x", Model: req.Model, Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: f.name}, FinishReason: "stop"}},
		Usage: llm.Usage{PromptTokens: 1000, CompletionTokens: 500, TotalTokens: 1500}}, nil
}

func (f *fake) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	f.calls.Add(1)
	if f.err != nil {
		return nil, f.err
	}
	return &fakeStream{name: f.name, first: f.failFirstRecv}, nil
}

type fakeStream struct {
	name  string
	first error
	n     int
}

func (s *fakeStream) Recv() (llm.Chunk, error) {
	if s.first != nil {
		return llm.Chunk{}, s.first
	}
	s.n++
	switch s.n {
	case 1:
		return llm.Chunk{Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: llm.RoleAssistant, Content: s.name}}}}, nil
	case 2:
		return llm.Chunk{Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: 20, TotalTokens: 30}}, nil
	}
	return llm.Chunk{}, io.EOF
}

func (s *fakeStream) Close() error { return nil }

func table(t *testing.T, a, b Provider, failover string) *Table {
	t.Helper()
	tb, err := NewTable(Spec{
		Providers: []ProviderSpec{
			{Name: "a", Provider: a, Models: []string{"m1", "shared"}, Prices: map[string]Price{"m1": {Input: 1, Output: 2}}},
			{Name: "b", Provider: b, Models: []string{"m2", "shared"}, Priority: -1},
		},
		Routes: []RouteSpec{{Model: "alias", FallbackStrategy: failover, Targets: []TargetSpec{
			{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

func TestChatFailsOverOnlyOnRetryableErrors(t *testing.T) {
	cases := []struct {
		name         string
		aErr         error
		failover     string
		wantProvider string
		wantAttempts int
		wantKind     llm.Kind
	}{
		{"healthy first target", nil, "failover", "a", 1, 0},
		{"503 fails over", &llm.UpstreamError{Provider: "a", Status: 503}, "failover", "b", 2, 0},
		{"429 fails over", &llm.UpstreamError{Provider: "a", Status: 429}, "failover", "b", 2, 0},
		{"connection error fails over", &llm.UpstreamError{Provider: "a", Err: io.ErrUnexpectedEOF}, "failover", "b", 2, 0},
		{"400 does not", &llm.UpstreamError{Provider: "a", Status: 400}, "failover", "", 1, llm.KindInvalidRequest},
		{"401 does not", &llm.UpstreamError{Provider: "a", Status: 401}, "failover", "", 1, llm.KindUnavailable},
		{"failover none", &llm.UpstreamError{Provider: "a", Status: 503}, "none", "", 1, llm.KindUnavailable},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, b := &fake{name: "a", err: tc.aErr}, &fake{name: "b"}
			r := New(table(t, a, b, tc.failover))
			resp, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"})
			if info.Attempts != tc.wantAttempts {
				t.Fatalf("attempts %d, want %d", info.Attempts, tc.wantAttempts)
			}
			if tc.wantProvider == "" {
				if err == nil || llm.KindOf(err) != tc.wantKind {
					t.Fatalf("err %v (kind %v), want kind %v", err, llm.KindOf(err), tc.wantKind)
				}
				return
			}
			if err != nil || info.Provider != tc.wantProvider || resp.Choices[0].Message.Content != tc.wantProvider {
				t.Fatalf("got %v %+v %v", resp, info, err)
			}
		})
	}
}

func TestResolveAliasPlainModelAndUnknown(t *testing.T) {
	a, b := &fake{name: "a"}, &fake{name: "b"}
	r := New(table(t, a, b, ""))
	cases := []struct {
		model, wantProvider, wantUpstream string
	}{
		{"alias", "a", "m1"},
		{"m2", "b", "m2"},
		{"shared", "b", "shared"}, // b has the lower provider priority
	}
	for _, tc := range cases {
		t.Run(tc.model, func(t *testing.T) {
			_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: tc.model})
			if err != nil || info.Provider != tc.wantProvider || info.UpstreamModel != tc.wantUpstream {
				t.Fatalf("%+v %v", info, err)
			}
		})
	}
	_, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "nope"})
	if !errors.Is(err, llm.ErrUnknownModel) || llm.KindOf(err) != llm.KindNotFound {
		t.Fatalf("unknown model: %v", err)
	}
}

func TestCostUsesPriceTable(t *testing.T) {
	r := New(table(t, &fake{name: "a"}, &fake{name: "b"}, ""))
	_, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"})
	if err != nil {
		t.Fatal(err)
	}
	// 1000 prompt tokens at $1/M + 500 completion at $2/M.
	if want := 0.002; info.CostUSD < want-1e-12 || info.CostUSD > want+1e-12 {
		t.Fatalf("cost %v, want %v", info.CostUSD, want)
	}
	if got := (Price{Input: 2, Output: 4, CachedInput: 1}).Cost(llm.Usage{PromptTokens: 1000, CachedTokens: 400, CompletionTokens: 100}); got != (600*2+400*1+100*4)/1e6 {
		t.Fatalf("cached pricing %v", got)
	}
}

func TestStreamRetriesOnlyBeforeFirstChunk(t *testing.T) {
	a := &fake{name: "a", failFirstRecv: &llm.UpstreamError{Provider: "a", Status: 502}}
	b := &fake{name: "b"}
	r := New(table(t, a, b, "failover"))
	st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "alias"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := st.Recv()
	if err != nil || c.Choices[0].Delta.Content != "b" {
		t.Fatalf("first chunk %+v %v", c, err)
	}
	for {
		if _, err := st.Recv(); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatal(err)
			}
			break
		}
	}
	if info := st.Info(); info.Attempts != 2 || info.Provider != "b" || st.Usage().TotalTokens != 30 {
		t.Fatalf("info %+v usage %+v", info, st.Usage())
	}
}

func TestSwapIsSeenByNewRequests(t *testing.T) {
	a, b := &fake{name: "a"}, &fake{name: "b"}
	r := New(table(t, a, b, ""))
	next, err := NewTable(Spec{Providers: []ProviderSpec{{Name: "b", Provider: b, Models: []string{"only"}}}})
	if err != nil {
		t.Fatal(err)
	}
	r.Swap(next)
	if _, _, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "alias"}); !errors.Is(err, llm.ErrUnknownModel) {
		t.Fatalf("old alias still served: %v", err)
	}
	if _, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "only"}); err != nil || info.Provider != "b" {
		t.Fatalf("%+v %v", info, err)
	}
}

func TestNewTableRejectsBrokenReferences(t *testing.T) {
	p := &fake{}
	cases := []struct {
		name string
		spec Spec
	}{
		{"unknown provider", Spec{Providers: []ProviderSpec{{Name: "a", Provider: p}}, Routes: []RouteSpec{{Model: "x", Targets: []TargetSpec{{Provider: "ghost"}}}}}},
		{"no targets", Spec{Providers: []ProviderSpec{{Name: "a", Provider: p}}, Routes: []RouteSpec{{Model: "x"}}}},
		{"duplicate provider", Spec{Providers: []ProviderSpec{{Name: "a", Provider: p}, {Name: "a", Provider: p}}}},
		{"unknown fallback", Spec{Providers: []ProviderSpec{{Name: "a", Provider: p}}, Routes: []RouteSpec{{Model: "x", Fallbacks: []string{"y"}, Targets: []TargetSpec{{Provider: "a"}}}}}},
		{"nil implementation", Spec{Providers: []ProviderSpec{{Name: "a"}}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := NewTable(tc.spec); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func BenchmarkRouterChat(b *testing.B) {
	tb, err := NewTable(Spec{Providers: []ProviderSpec{{Name: "a", Provider: &fake{name: "a"}, Models: []string{"m"}}}})
	if err != nil {
		b.Fatal(err)
	}
	r := New(tb)
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
