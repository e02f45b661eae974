package route

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Fan-out through the router: which targets fan out, what the client gets
// and what it is billed. The fakes are in fanout_test.go.

func fanRouter(t *testing.T, fanOut bool, p Provider, opts ...Option) *Router {
	t.Helper()
	return billRouter(t, RouteSpec{Model: "r", Strategy: "priority", FanOutN: fanOut, Targets: []TargetSpec{{Provider: "p", Model: "m"}}},
		map[string]Provider{"p": p}, opts...)
}

func TestFanOutServesNOnlyWhereTheTargetLacksIt(t *testing.T) {
	usage := func(calls int) llm.Usage {
		return llm.Usage{PromptTokens: 100 * calls, CompletionTokens: 10 * calls, TotalTokens: 110 * calls}
	}
	tests := []struct {
		name      string
		fanOut    bool
		provider  func(*nFake) Provider
		n         *int
		wantCalls int64
		wantNil   bool // every call saw n unset
		choices   int
		wantErr   string // substring; the error names n
	}{
		{"fans out n=3 to a target without n", true, func(f *nFake) Provider { return oneN{f} }, intp(3), 3, true, 3, ""},
		{"caps n at the limit", true, func(f *nFake) Provider { return oneN{f} }, intp(MaxFanOutN), MaxFanOutN, true, MaxFanOutN, ""},
		{"refuses n above the limit, calling nobody", true, func(f *nFake) Provider { return oneN{f} }, intp(MaxFanOutN + 1), 0, true, 0, "at most 16"},
		{"n=1 is one call", true, func(f *nFake) Provider { return oneN{f} }, intp(1), 1, false, 1, ""},
		{"no n is one call", true, func(f *nFake) Provider { return oneN{f} }, nil, 1, true, 1, ""},
		{"off by default: the target's own 400 names the option", false, func(f *nFake) Provider { return oneN{f} }, intp(3), 1, false, 0, "fan_out_n"},
		{"a provider without NativeN serves n itself", true, func(f *nFake) Provider { return f }, intp(3), 1, false, 1, ""},
		{"a provider saying NativeN serves n itself", true, func(f *nFake) Provider { return manyN{f} }, intp(3), 1, false, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &nFake{refuseN: true}
			r := fanRouter(t, tt.fanOut, tt.provider(f))
			_, native := tt.provider(f).(manyN)
			if _, plain := tt.provider(f).(*nFake); plain || native {
				f.refuseN = false // a native provider takes n (the fake still answers one choice)
			}
			resp, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "r", N: tt.n, Messages: billPrompt})
			if got := f.calls.Load(); got != tt.wantCalls {
				t.Fatalf("%d upstream calls, want %d", got, tt.wantCalls)
			}
			if tt.wantNil != f.allNil() {
				t.Fatalf("calls saw n %v, want all unset %v", f.ns, tt.wantNil)
			}
			if tt.wantErr != "" {
				var le *llm.Error
				if !errors.As(err, &le) || le.Param != "n" || le.Kind != llm.KindInvalidRequest || !strings.Contains(le.Message, tt.wantErr) {
					t.Fatalf("err %v, want a 400 on n saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != tt.choices {
				t.Fatalf("%d choices, want %d", len(resp.Choices), tt.choices)
			}
			seen := map[string]bool{}
			for i, c := range resp.Choices {
				if c.Index != i || seen[c.Message.Content] {
					t.Fatalf("choice %d: index %d content %q (repeated %v)", i, c.Index, c.Message.Content, seen[c.Message.Content])
				}
				seen[c.Message.Content] = true
			}
			// Every call's prompt is billed.
			if want := usage(int(tt.wantCalls)); resp.Usage != want || info.Cost != billPrice.Cost(want) {
				t.Fatalf("usage %+v cost %v, want %+v at %v", resp.Usage, info.Cost, want, billPrice.Cost(want))
			}
		})
	}
}

// Through the router: an anthropic-like target (no n, refuses it) on a
// route with the option answers n choices and bills n prompts, unary and
// streamed; a lane refused before the first chunk lets the router fail
// over, so the client never sees a partial fan-out.
func TestFanOutRouteAnswersNChoicesAndBillsNPrompts(t *testing.T) {
	want := llm.Usage{PromptTokens: 300, CompletionTokens: 30, TotalTokens: 330}
	t.Run("unary", func(t *testing.T) {
		f := &nFake{refuseN: true}
		r := fanRouter(t, true, oneN{f})
		resp, info, err := r.Chat(context.Background(), &llm.ChatRequest{Model: "r", N: intp(3), Messages: billPrompt})
		if err != nil {
			t.Fatal(err)
		}
		if len(resp.Choices) != 3 || resp.Usage != want || info.Cost != billPrice.Cost(want) || info.Attempts != 1 {
			t.Fatalf("%d choices usage %+v cost %v attempts %d", len(resp.Choices), resp.Usage, info.Cost, info.Attempts)
		}
	})
	t.Run("stream", func(t *testing.T) {
		f := &nFake{refuseN: true, chunks: 3}
		r := fanRouter(t, true, oneN{f})
		st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "r", N: intp(3), Messages: billPrompt})
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := readAll(st)
		if err != nil {
			t.Fatal(err)
		}
		_ = st.Close()
		idx := map[int]bool{}
		for _, c := range chunks {
			for _, ch := range c.Choices {
				idx[ch.Index] = true
			}
		}
		u, partial := st.Usage()
		if len(idx) != 3 || u != want || partial || st.Info().Cost != billPrice.Cost(want) {
			t.Fatalf("choices %v usage %+v (partial %v) cost %v", idx, u, partial, st.Info().Cost)
		}
	})
	t.Run("stream broken mid-way is billed n prompt estimates", func(t *testing.T) {
		f := &nFake{chunks: 20, gap: time.Millisecond, breakAt: func(c int64) int { return map[bool]int{true: 15}[c == 1] }}
		r := fanRouter(t, true, oneN{f})
		st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "r", N: intp(3), Messages: billPrompt})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := readAll(st); err == nil {
			t.Fatal("no error")
		}
		_ = st.Close()
		u, partial := st.Usage()
		if !partial || u.PromptTokens != 3*101 || !st.Info().Estimated {
			t.Fatalf("usage %+v partial %v info %+v, want 3 prompts estimated", u, partial, st.Info())
		}
	})
	t.Run("a lane refused at open fails over before any chunk", func(t *testing.T) {
		a := &nFake{fail: func(c int64) error {
			if c == 2 {
				return &llm.UpstreamError{Provider: "a", Status: 429}
			}
			return nil
		}, chunks: 2}
		b := &nFake{chunks: 2}
		r, err := New(Spec{
			Providers: []ProviderSpec{prov("a", []string{"m1"}, oneN{a}), prov("b", []string{"m2"}, oneN{b})},
			Routes: []RouteSpec{{Model: "alias", Strategy: "priority", FanOutN: true, Targets: []TargetSpec{
				{Provider: "a", Model: "m1", Priority: 1}, {Provider: "b", Model: "m2", Priority: 2}}}},
		}, WithJitter(func() float64 { return 0 }))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = r.Close() })
		st, err := r.ChatStream(context.Background(), &llm.ChatRequest{Model: "alias", N: intp(2)})
		if err != nil {
			t.Fatal(err)
		}
		chunks, err := readAll(st)
		_ = st.Close()
		if err != nil || st.Info().Provider != "b" || st.Info().Attempts != 2 {
			t.Fatalf("err %v info %+v", err, st.Info())
		}
		// Two lanes of role, two deltas and finish, then the usage: nothing of a's.
		if len(chunks) != 9 || b.calls.Load() != 2 {
			t.Fatalf("%d chunks from %d calls of b", len(chunks), b.calls.Load())
		}
		if a.closed.Load() != 1 {
			t.Fatalf("a's opened lane closed %d times", a.closed.Load())
		}
	})
}

// A fanned-out unary call that fails still bills the lanes that reached
// the provider: answered ones at their usage, cancelled ones at their
// prompt estimate; the client giving up bills every lane's prompt.
func TestFailedFanOutBillsItsOtherLanes(t *testing.T) {
	answered := llm.Usage{PromptTokens: 100, CompletionTokens: 10, TotalTokens: 110}
	prompt := llm.Usage{PromptTokens: 101, TotalTokens: 101}
	tests := []struct {
		name      string
		fail      func(int64) error
		delay     func(int64) time.Duration
		cancelAt  time.Duration
		wantExtra llm.Usage
	}{
		{"a lane refused after the others answered", func(c int64) error {
			if c == 3 {
				return &llm.UpstreamError{Provider: "p", Status: 400}
			}
			return nil
		}, nil, 0, answered.Add(answered)},
		{"a lane failing while the others are in flight", func(c int64) error {
			if c == 3 {
				return &llm.UpstreamError{Provider: "p", Status: 400}
			}
			return nil
		}, func(int64) time.Duration { return time.Second }, 0, prompt.Add(prompt)},
		{"the client gives up", nil, func(int64) time.Duration { return time.Second }, 30 * time.Millisecond, prompt.Add(prompt).Add(prompt)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gate sync.WaitGroup
			f := &nFake{delay: tt.delay, fail: tt.fail}
			if tt.delay == nil && tt.fail != nil {
				// The failing call waits for the other two to answer.
				gate.Add(2)
				inner := tt.fail
				f.fail = func(c int64) error {
					if err := inner(c); err != nil {
						gate.Wait()
						return err
					}
					return nil
				}
				f.delay = func(int64) time.Duration { gate.Done(); return 0 }
			}
			r := fanRouter(t, true, oneN{f})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAt > 0 {
				time.AfterFunc(tt.cancelAt, cancel)
			}
			_, info, err := r.Chat(ctx, &llm.ChatRequest{Model: "r", N: intp(3), Messages: billPrompt})
			if err == nil {
				t.Fatal("no error")
			}
			if info.Extra != tt.wantExtra || info.Cost != billPrice.Cost(tt.wantExtra) {
				t.Fatalf("extra %+v cost %v, want %+v at %v", info.Extra, info.Cost, tt.wantExtra, billPrice.Cost(tt.wantExtra))
			}
		})
	}
}
