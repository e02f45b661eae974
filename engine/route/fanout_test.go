package route

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// nFake is a provider that answers one choice per call, numbered by call
// (content "c<call>", stream deltas "c<call>-<k>"). It records the n each
// call saw and each call's context; refuseN answers n != 1 with the 400
// Anthropic's adapter gives. It has no NativeN method: wrap it in oneN (no
// native n) or manyN (says it has one).
type nFake struct {
	refuseN bool
	chunks  int                            // content chunks per stream
	gap     time.Duration                  // before each stream chunk after the first
	delay   func(call int64) time.Duration // before a unary answer / a stream's first chunk
	fail    func(call int64) error         // a unary call's error, or a stream's before its first chunk
	breakAt func(call int64) int           // a stream fails after this many chunks (0: never)
	noUsage bool

	calls  atomic.Int64
	closed atomic.Int64
	mu     sync.Mutex
	ns     []*int
	ctxs   []context.Context
}

type oneN struct{ *nFake }

func (oneN) NativeN() bool { return false }

type manyN struct{ *nFake }

func (manyN) NativeN() bool { return true }

var errBroken = &llm.UpstreamError{Provider: "p", Status: 502, Message: "connection reset"}

func (f *nFake) begin(ctx context.Context, req *llm.ChatRequest) (int64, error) {
	call := f.calls.Add(1)
	f.mu.Lock()
	f.ns, f.ctxs = append(f.ns, req.N), append(f.ctxs, ctx)
	f.mu.Unlock()
	if f.refuseN && req.N != nil && *req.N != 1 {
		return call, llm.InvalidParam("n", "anthropic returns one choice per request; n must be 1")
	}
	if f.fail != nil {
		if err := f.fail(call); err != nil {
			return call, err
		}
	}
	return call, nil
}

func (f *nFake) usage() llm.Usage {
	return llm.Usage{PromptTokens: 100, CompletionTokens: 10, TotalTokens: 110}
}

func (f *nFake) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	call, err := f.begin(ctx, req)
	if err != nil {
		return nil, err
	}
	if f.delay != nil {
		if err := sleepCtx(ctx, f.delay(call)); err != nil {
			return nil, err
		}
	}
	return &llm.ChatResponse{ID: fmt.Sprintf("id%d", call), Model: req.Model,
		Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: fmt.Sprintf("c%d", call)}, FinishReason: llm.FinishStop}},
		Usage:   f.usage()}, nil
}

func (f *nFake) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	call, err := f.begin(ctx, req)
	if err != nil {
		return nil, err
	}
	s := &nStream{f: f, ctx: ctx, call: call}
	if f.breakAt != nil {
		s.breakAt = f.breakAt(call)
	}
	return s, nil
}

// nStream: role, chunks content deltas, finish, usage, EOF.
type nStream struct {
	f       *nFake
	ctx     context.Context
	call    int64
	i       int
	breakAt int
}

func (s *nStream) Recv() (llm.Chunk, error) {
	d := s.f.gap
	if s.i == 0 && s.f.delay != nil {
		d = s.f.delay(s.call)
	}
	if err := sleepCtx(s.ctx, d); err != nil {
		return llm.Chunk{}, err
	}
	if err := s.ctx.Err(); err != nil {
		return llm.Chunk{}, err
	}
	if s.breakAt > 0 && s.i == s.breakAt {
		return llm.Chunk{}, errBroken
	}
	s.i++
	id := fmt.Sprintf("id%d", s.call)
	switch n := s.f.chunks; {
	case s.i == 1:
		return llm.Chunk{ID: id, Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: llm.RoleAssistant}}}}, nil
	case s.i <= n+1:
		return llm.Chunk{ID: id, Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: fmt.Sprintf("c%d-%d ", s.call, s.i-1)}}}}, nil
	case s.i == n+2:
		return llm.Chunk{ID: id, Choices: []llm.ChunkChoice{{FinishReason: llm.FinishStop}}}, nil
	case s.i == n+3 && !s.f.noUsage:
		u := s.f.usage()
		return llm.Chunk{ID: id, Usage: &u}, nil
	}
	return llm.Chunk{}, io.EOF
}

func (s *nStream) Close() error { s.f.closed.Add(1); return nil }

func intp(v int) *int { return &v }

// allNil reports whether every call saw n unset.
func (f *nFake) allNil() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.ns {
		if n != nil {
			return false
		}
	}
	return true
}

func TestMergeChatReindexesInLaneOrderAndSumsUsage(t *testing.T) {
	choice := func(idx int, s string) llm.Choice {
		return llm.Choice{Index: idx, Message: llm.Message{Role: llm.RoleAssistant, Content: s}, FinishReason: llm.FinishStop}
	}
	u := func(p, c int) llm.Usage {
		return llm.Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c, CachedTokens: p / 2}
	}
	tests := []struct {
		name  string
		in    []*llm.ChatResponse
		want  []string
		usage llm.Usage
	}{
		{"one choice each", []*llm.ChatResponse{
			{ID: "a", Model: "m", Choices: []llm.Choice{choice(0, "x")}, Usage: u(10, 1)},
			{ID: "b", Model: "m2", Choices: []llm.Choice{choice(0, "y")}, Usage: u(10, 2)},
			{ID: "c", Choices: []llm.Choice{choice(0, "z")}, Usage: u(12, 3)},
		}, []string{"x", "y", "z"}, u(32, 6)},
		{"a lane with none, a lane with two", []*llm.ChatResponse{
			{ID: "a", Model: "m", Choices: []llm.Choice{choice(0, "x"), choice(1, "x2")}, Usage: u(10, 1)},
			{ID: "b", Usage: u(10, 0)},
			{ID: "c", Choices: []llm.Choice{choice(0, "z")}, Usage: u(10, 1)},
		}, []string{"x", "x2", "z"}, u(30, 2)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mergeChat(tt.in)
			if got.ID != "a" || got.Model != "m" || got.Usage != tt.usage {
				t.Fatalf("id %q model %q usage %+v, want a, m, %+v", got.ID, got.Model, got.Usage, tt.usage)
			}
			if len(got.Choices) != len(tt.want) {
				t.Fatalf("%d choices, want %d", len(got.Choices), len(tt.want))
			}
			for i, c := range got.Choices {
				if c.Index != i || c.Message.Content != tt.want[i] {
					t.Fatalf("choice %d = %d %q, want %q", i, c.Index, c.Message.Content, tt.want[i])
				}
			}
			if tt.in[0].Choices[0].Index != 0 {
				t.Fatal("merge changed a lane's answer")
			}
		})
	}
}

// readAll reads a stream to its end or error.
func readAll(st llm.Stream) ([]llm.Chunk, error) {
	var out []llm.Chunk
	for {
		c, err := st.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = nil
			}
			return out, err
		}
		out = append(out, c)
	}
}

func TestFanOutStreamMergesLanes(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		gap     time.Duration
		delay   func(int64) time.Duration
		noUsage bool
	}{
		{"three lanes interleaved", 3, time.Millisecond, nil, false},
		{"first chunks arrive out of lane order", 4, 0, func(c int64) time.Duration { return time.Duration(5-c) * 3 * time.Millisecond }, false},
		{"no usage reported: no usage chunk", 2, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &nFake{chunks: 5, gap: tt.gap, delay: tt.delay, noUsage: tt.noUsage}
			fo := &fanOut{p: f, n: tt.n, provider: "p"}
			st, err := fo.ChatStream(context.Background(), &llm.ChatRequest{Model: "m", N: intp(tt.n)})
			if err != nil {
				t.Fatal(err)
			}
			chunks, err := readAll(st)
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Close(); err != nil {
				t.Fatal(err)
			}
			if !f.allNil() || f.calls.Load() != int64(tt.n) || f.closed.Load() != int64(tt.n) {
				t.Fatalf("calls %d (n %v), closed %d", f.calls.Load(), f.ns, f.closed.Load())
			}
			// The first n chunks are each lane's first, in lane order.
			for i := 0; i < tt.n; i++ {
				c := chunks[i].Choices
				if len(c) != 1 || c[0].Index != i || c[0].Delta.Role != llm.RoleAssistant {
					t.Fatalf("chunk %d = %+v, want lane %d's role chunk", i, chunks[i], i)
				}
			}
			var usages int
			next := make([]int, tt.n)     // next content delta expected per lane
			caller := make([]int64, tt.n) // the upstream call behind each lane
			for i, c := range chunks {
				if c.ID != chunks[0].ID {
					t.Fatalf("chunk %d id %q, want the first's %q", i, c.ID, chunks[0].ID)
				}
				if c.Usage != nil {
					usages++
					if i != len(chunks)-1 || len(c.Choices) != 0 {
						t.Fatalf("usage in chunk %d of %d: %+v", i, len(chunks), c)
					}
					want := llm.Usage{PromptTokens: 100 * tt.n, CompletionTokens: 10 * tt.n, TotalTokens: 110 * tt.n}
					if *c.Usage != want {
						t.Fatalf("usage %+v, want %+v", *c.Usage, want)
					}
					continue
				}
				for _, ch := range c.Choices {
					if ch.Delta.Content == "" {
						continue
					}
					var call int64
					var k int
					if _, err := fmt.Sscanf(ch.Delta.Content, "c%d-%d", &call, &k); err != nil {
						t.Fatal(err)
					}
					if caller[ch.Index] == 0 {
						caller[ch.Index] = call
					}
					next[ch.Index]++
					if call != caller[ch.Index] || k != next[ch.Index] {
						t.Fatalf("lane %d got %q, want call %d delta %d: a lane's chunks mixed or reordered", ch.Index, ch.Delta.Content, caller[ch.Index], next[ch.Index])
					}
				}
			}
			for lane, k := range next {
				if k != 5 {
					t.Fatalf("lane %d relayed %d of 5 deltas", lane, k)
				}
			}
			if want := map[bool]int{false: 1, true: 0}[tt.noUsage]; usages != want {
				t.Fatalf("%d usage chunks, want %d", usages, want)
			}
		})
	}
}

// A lane that fails fails the stream: before the first chunk (the router
// may still retry elsewhere) or after it; the other lanes are cancelled
// and every opened stream is closed.
func TestFanOutStreamLaneErrorFailsTheStreamAndCancelsTheOthers(t *testing.T) {
	tests := []struct {
		name       string
		fail       func(int64) error
		breakAt    func(int64) int
		wantChunks bool // the first Recv succeeds
		wantErr    error
		wantOpened int64
	}{
		{"a lane refused at open", func(c int64) error {
			if c == 2 {
				return &llm.UpstreamError{Provider: "p", Status: 429}
			}
			return nil
		}, nil, false, nil, 2},
		{"a lane broken mid-stream", nil, func(c int64) int {
			if c == 2 {
				return 30 // well after every lane's first chunk
			}
			return 0
		}, true, errBroken, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &nFake{chunks: 50, gap: time.Millisecond, fail: tt.fail, breakAt: tt.breakAt}
			fo := &fanOut{p: f, n: 3, provider: "p"}
			st, err := fo.ChatStream(context.Background(), &llm.ChatRequest{Model: "m", N: intp(3)})
			if err != nil {
				t.Fatal(err)
			}
			_, ferr := st.Recv()
			if (ferr == nil) != tt.wantChunks {
				t.Fatalf("first Recv err %v, want success %v", ferr, tt.wantChunks)
			}
			_, err = readAll(st)
			if err == nil {
				t.Fatal("the stream ended cleanly with a lane failed")
			}
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("err %v, want the lane's upstream error", err)
			}
			if _, again := st.Recv(); again == nil {
				t.Fatal("Recv after the failure succeeded")
			}
			_ = st.Close()
			f.mu.Lock()
			defer f.mu.Unlock()
			for i, ctx := range f.ctxs {
				if ctx.Err() == nil {
					t.Fatalf("lane context %d not cancelled", i)
				}
			}
			if got := f.closed.Load(); got != tt.wantOpened {
				t.Fatalf("%d streams closed, want every opened one (%d)", got, tt.wantOpened)
			}
		})
	}
}

// A lane that ends before sending anything is a 502, not a short answer.
func TestFanOutStreamLaneEndingEmptyIs502(t *testing.T) {
	s := newFanStream(2, "p", func() {})
	s.events <- laneEvent{lane: 0, chunk: llm.Chunk{Choices: []llm.ChunkChoice{{}}}}
	s.events <- laneEvent{lane: 1, err: io.EOF}
	_, err := s.Recv()
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 502 {
		t.Fatalf("err %v, want a 502", err)
	}
}

func TestFanOutStreamCloseCancelsEveryLane(t *testing.T) {
	f := &nFake{chunks: 1000, gap: time.Millisecond}
	fo := &fanOut{p: f, n: 4, provider: "p"}
	st, err := fo.ChatStream(context.Background(), &llm.ChatRequest{Model: "m", N: intp(4)})
	if err != nil {
		t.Fatal(err)
	}
	for range 6 {
		if _, err := st.Recv(); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { _ = st.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, ctx := range f.ctxs {
		if ctx.Err() == nil {
			t.Fatalf("lane %d still running after Close", i)
		}
	}
	if f.closed.Load() != 4 {
		t.Fatalf("%d of 4 lane streams closed", f.closed.Load())
	}
	if _, err := st.Recv(); err == nil {
		t.Fatal("Recv after Close succeeded")
	}
	_ = st.Close() // twice is fine
}

// BenchmarkFanOutStream is the merge's cost: four lanes of 100 content
// chunks each into one stream, against reading the same four upstream
// streams one after the other with no merge (the fakes' own allocations,
// one a chunk, are in both).
func BenchmarkFanOutStream(b *testing.B) {
	p := &benchLanes{chunks: 100}
	req := &llm.ChatRequest{Model: "m", N: intp(4)}
	ctx := context.Background()
	drain := func(b *testing.B, st llm.Stream) {
		for {
			if _, err := st.Recv(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
		_ = st.Close()
	}
	b.Run("merged", func(b *testing.B) {
		fo := &fanOut{p: p, n: 4, provider: "p"}
		b.ReportAllocs()
		for b.Loop() {
			st, err := fo.ChatStream(ctx, req)
			if err != nil {
				b.Fatal(err)
			}
			drain(b, st)
		}
	})
	b.Run("sequential-baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for range 4 {
				st, _ := p.ChatStream(ctx, req)
				drain(b, st)
			}
		}
	})
}

// benchLanes streams preallocated chunks with no delay.
type benchLanes struct{ chunks int }

func (p *benchLanes) Chat(context.Context, *llm.ChatRequest) (*llm.ChatResponse, error) {
	return nil, errors.New("unused")
}

func (p *benchLanes) ChatStream(context.Context, *llm.ChatRequest) (llm.Stream, error) {
	return &benchLane{n: p.chunks}, nil
}

type benchLane struct{ n, i int }

func (s *benchLane) Recv() (llm.Chunk, error) {
	s.i++
	switch {
	case s.i <= s.n:
		// A chunk owns its memory, as adapters' do: one allocation each.
		return llm.Chunk{ID: "x", Choices: []llm.ChunkChoice{{Delta: llm.Message{Content: "word "}}}}, nil
	case s.i == s.n+1:
		return llm.Chunk{ID: "x", Usage: &llm.Usage{PromptTokens: 10, CompletionTokens: s.n, TotalTokens: 10 + s.n}}, nil
	}
	return llm.Chunk{}, io.EOF
}

func (s *benchLane) Close() error { return nil }
