package simulator_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

// The simulator must satisfy the router's seams without importing them.
var (
	_ route.Provider    = (*simulator.Provider)(nil)
	_ route.ModelLister = (*simulator.Provider)(nil)
	_ route.Embedder    = (*simulator.Provider)(nil)
)

var models = []string{"sim-small", "sim-large"}

func user(text string) llm.Message { return llm.Message{Role: llm.RoleUser, Content: text} }

func chatReq(model string, msgs ...llm.Message) *llm.ChatRequest {
	return &llm.ChatRequest{Model: model, Messages: msgs}
}

func intp(n int) *int { return &n }

// collected is everything a stream produced.
type collected struct {
	chunks  []llm.Chunk
	content string
	finish  string
	usage   *llm.Usage
	args    string
}

func drain(t *testing.T, s llm.Stream) (collected, error) {
	t.Helper()
	var c collected
	for {
		ch, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return c, nil
		}
		if err != nil {
			return c, err
		}
		c.chunks = append(c.chunks, ch)
		if ch.Usage != nil {
			c.usage = ch.Usage
		}
		for _, cc := range ch.Choices {
			c.content += cc.Delta.Content
			for _, tc := range cc.Delta.ToolCalls {
				c.args += tc.Arguments
			}
			if cc.FinishReason != "" {
				c.finish = cc.FinishReason
			}
		}
	}
}

func mustChat(t *testing.T, p *simulator.Provider, req *llm.ChatRequest) *llm.ChatResponse {
	t.Helper()
	resp, err := p.Chat(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func mustStream(t *testing.T, p *simulator.Provider, req *llm.ChatRequest) collected {
	t.Helper()
	s, err := p.ChatStream(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := drain(t, s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRepliesAreDeterministic(t *testing.T) {
	p := simulator.New("sim", models)
	other := simulator.New("sim", models)
	base := chatReq("sim-small", user("What is a gateway?"))
	tests := []struct {
		name string
		a, b *llm.ChatRequest
		same bool
	}{
		{"same request twice", base, chatReq("sim-small", user("What is a gateway?")), true},
		{"different message", base, chatReq("sim-small", user("What is a router?")), false},
		{"different model", base, chatReq("sim-large", user("What is a gateway?")), false},
		{"extra message", base, chatReq("sim-small", llm.Message{Role: llm.RoleSystem, Content: "be brief"}, user("What is a gateway?")), false},
		{"role matters", base, chatReq("sim-small", llm.Message{Role: llm.RoleAssistant, Content: "What is a gateway?"}), false},
		{"sampling options do not matter", base, &llm.ChatRequest{Model: "sim-small", Messages: base.Messages, Temperature: new(float64)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustChat(t, p, tt.a)
			b := mustChat(t, other, tt.b)
			ta, tb := a.Choices[0].Message.Content, b.Choices[0].Message.Content
			if (ta == tb) != tt.same {
				t.Fatalf("same=%v, want %v:\n%s\n%s", ta == tb, tt.same, ta, tb)
			}
			if (a.ID == b.ID) != tt.same {
				t.Errorf("IDs %s and %s: same=%v, want %v", a.ID, b.ID, a.ID == b.ID, tt.same)
			}
			if !strings.HasPrefix(ta, "Simulated reply from "+tt.a.Model+": ") {
				t.Errorf("reply %q lacks the prefix", ta)
			}
		})
	}
}

func TestStreamMatchesUnary(t *testing.T) {
	p := simulator.New("sim", models, simulator.WithResponseTokens(12))
	tests := []struct {
		name string
		req  *llm.ChatRequest
	}{
		{"plain", chatReq("sim-small", user("hello"))},
		{"max tokens cuts the answer", &llm.ChatRequest{Model: "sim-small", Messages: []llm.Message{user("hello")}, MaxTokens: intp(5)}},
		{"one word", &llm.ChatRequest{Model: "sim-large", Messages: []llm.Message{user("x")}, Metadata: map[string]string{simulator.MetaTokens: "1"}}},
		{"long answer", &llm.ChatRequest{Model: "sim-large", Messages: []llm.Message{user("x")}, Metadata: map[string]string{simulator.MetaTokens: "300"}}},
		{"multimodal conversation", chatReq("sim-large",
			llm.Message{Role: llm.RoleSystem, Content: "sys"},
			llm.Message{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: "look"}, {Type: llm.PartImage, ImageURL: "https://x/y.png"}}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := mustChat(t, p, tt.req)
			got := mustStream(t, p, tt.req)
			if got.content != resp.Choices[0].Message.Content {
				t.Fatalf("stream text %q\nunary text  %q", got.content, resp.Choices[0].Message.Content)
			}
			if got.finish != resp.Choices[0].FinishReason {
				t.Errorf("finish %q vs %q", got.finish, resp.Choices[0].FinishReason)
			}
			if got.usage == nil || *got.usage != resp.Usage {
				t.Errorf("stream usage %+v, unary %+v", got.usage, resp.Usage)
			}
			checkStreamShape(t, got, resp.Usage.CompletionTokens)
			// Every chunk of one stream shares one id, and every completion
			// gets its own, as real upstreams do.
			for _, ch := range got.chunks {
				if ch.ID != got.chunks[0].ID || ch.Model != tt.req.Model {
					t.Errorf("chunk id/model %s/%s, want %s/%s", ch.ID, ch.Model, got.chunks[0].ID, tt.req.Model)
				}
			}
			if got.chunks[0].ID == resp.ID || !strings.HasPrefix(resp.ID, "chatcmpl-sim-") {
				t.Errorf("ids not unique per completion: stream %s, unary %s", got.chunks[0].ID, resp.ID)
			}
		})
	}
}

// checkStreamShape: role chunk, one chunk per word, finish chunk, usage chunk.
func checkStreamShape(t *testing.T, c collected, words int) {
	t.Helper()
	n := len(c.chunks)
	if n != words+3 {
		t.Fatalf("%d chunks, want %d words + role + finish + usage", n, words)
	}
	first := c.chunks[0]
	if len(first.Choices) != 1 || first.Choices[0].Delta.Role != llm.RoleAssistant || first.Choices[0].Delta.Content != "" {
		t.Errorf("first chunk %+v, want role assistant and empty content", first)
	}
	for i, ch := range c.chunks[1 : n-2] {
		d := ch.Choices[0].Delta
		if d.Role != "" || ch.Choices[0].FinishReason != "" || ch.Usage != nil {
			t.Errorf("content chunk %d carries more than content: %+v", i, ch)
		}
		last := i == words-1
		word := strings.TrimSuffix(d.Content, " ")
		if word == "" || strings.Contains(word, " ") && !strings.HasSuffix(word, ":") || last != !strings.HasSuffix(d.Content, " ") {
			t.Errorf("content chunk %d = %q, want one word followed by a space unless last", i, d.Content)
		}
	}
	fin := c.chunks[n-2]
	if len(fin.Choices) != 1 || fin.Choices[0].FinishReason == "" || fin.Choices[0].Delta.Content != "" {
		t.Errorf("finish chunk %+v", fin)
	}
	last := c.chunks[n-1]
	if len(last.Choices) != 0 || last.Usage == nil {
		t.Errorf("last chunk %+v, want usage and no choices", last)
	}
}

func TestRecvAfterEOFKeepsReturningEOF(t *testing.T) {
	p := simulator.New("sim", nil)
	s, err := p.ChatStream(context.Background(), chatReq("m", user("hi")))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drain(t, s); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("Recv after the end = %v, want io.EOF", err)
		}
	}
	if s.Close() != nil || s.Close() != nil {
		t.Fatal("Close is not idempotent")
	}
}

func TestUsage(t *testing.T) {
	p := simulator.New("sim", nil, simulator.WithResponseTokens(10))
	tests := []struct {
		name       string
		msgs       []llm.Message
		wantPrompt int
	}{
		{"empty message counts one", []llm.Message{user("")}, 1},
		{"short message counts one", []llm.Message{user("hi")}, 1},
		{"forty characters are ten tokens", []llm.Message{user(strings.Repeat("a", 40))}, 10},
		{"at least one per message", []llm.Message{user("a"), user("b"), user("c")}, 3},
		{"text parts count", []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartText, Text: strings.Repeat("b", 20)}, {Type: llm.PartText, Text: strings.Repeat("c", 20)}}}}, 10},
		{"an image adds 85", []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{{Type: llm.PartImage, ImageURL: "https://x/i.png"}}}}, 86},
		{"tool calls count", []llm.Message{{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{Name: "abcd", Arguments: strings.Repeat("x", 36)}}}}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := mustChat(t, p, &llm.ChatRequest{Model: "m", Messages: tt.msgs})
			u := resp.Usage
			words := len(strings.Fields(resp.Choices[0].Message.Content))
			if u.PromptTokens != tt.wantPrompt || u.CompletionTokens != words || u.CompletionTokens != 10 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
				t.Fatalf("usage %+v, want prompt %d, completion 10 (%d words), total the sum", u, tt.wantPrompt, words)
			}
		})
	}
}

func TestMaxTokens(t *testing.T) {
	p := simulator.New("sim", nil) // 24 words by default
	tests := []struct {
		name       string
		max        *int
		wantWords  int
		wantFinish string
	}{
		{"unset", nil, 24, llm.FinishStop},
		{"below the answer length", intp(5), 5, llm.FinishLength},
		{"one", intp(1), 1, llm.FinishLength},
		{"equal to the answer length", intp(24), 24, llm.FinishStop},
		{"above the answer length", intp(1000), 24, llm.FinishStop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, MaxTokens: tt.max}
			resp := mustChat(t, p, req)
			if got := resp.Usage.CompletionTokens; got != tt.wantWords {
				t.Errorf("completion tokens %d, want %d", got, tt.wantWords)
			}
			if got := len(strings.Fields(resp.Choices[0].Message.Content)); got != tt.wantWords {
				t.Errorf("%d words, want %d", got, tt.wantWords)
			}
			if got := resp.Choices[0].FinishReason; got != tt.wantFinish {
				t.Errorf("finish %q, want %q", got, tt.wantFinish)
			}
			if s := mustStream(t, p, req); s.finish != tt.wantFinish || s.usage.CompletionTokens != tt.wantWords {
				t.Errorf("stream finish %q with %d tokens", s.finish, s.usage.CompletionTokens)
			}
		})
	}
	t.Run("zero is refused", func(t *testing.T) {
		_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, MaxTokens: intp(0)})
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) || ue.Status != 400 {
			t.Fatalf("got %v", err)
		}
	})
}

func TestToolCalls(t *testing.T) {
	p := simulator.New("sim", nil)
	search := llm.Tool{Type: "function", Name: "search"}
	weather := llm.Tool{Type: "function", Name: "get_weather", Parameters: json.RawMessage(
		`{"type":"object","properties":{"unit":{"type":"string"},"city":{"type":"string"}},"required":["city"]}`)}
	counter := llm.Tool{Type: "function", Name: "count", Parameters: json.RawMessage(
		`{"type":"object","properties":{"n":{"type":["integer","null"]}}}`)}
	tools := []llm.Tool{search, weather, counter}
	tests := []struct {
		name     string
		choice   *llm.ToolChoice
		wantTool string // empty: a text answer
		wantKey  string
	}{
		{"required calls the first tool", &llm.ToolChoice{Mode: "required"}, "search", "query"},
		{"named function", &llm.ToolChoice{Function: "get_weather"}, "get_weather", "city"},
		{"argument type follows the schema", &llm.ToolChoice{Function: "count"}, "count", "n"},
		{"auto answers in text", &llm.ToolChoice{Mode: "auto"}, "", ""},
		{"none answers in text", &llm.ToolChoice{Mode: "none"}, "", ""},
		{"no choice answers in text", nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("weather in Paris?")}, Tools: tools, ToolChoice: tt.choice}
			resp := mustChat(t, p, req)
			msg := resp.Choices[0].Message
			if tt.wantTool == "" {
				if len(msg.ToolCalls) != 0 || msg.Content == "" || resp.Choices[0].FinishReason != llm.FinishStop {
					t.Fatalf("want a text answer, got %+v", resp.Choices[0])
				}
				return
			}
			if resp.Choices[0].FinishReason != llm.FinishToolCalls || len(msg.ToolCalls) != 1 || msg.Content != "" {
				t.Fatalf("want one tool call, got %+v", resp.Choices[0])
			}
			tc := msg.ToolCalls[0]
			if tc.Name != tt.wantTool || tc.Type != "function" || !strings.HasPrefix(tc.ID, "call_") || len(tc.ID) != len("call_")+12 {
				t.Errorf("tool call %+v", tc)
			}
			var args map[string]any
			if err := json.Unmarshal([]byte(tc.Arguments), &args); err != nil || len(args) != 1 {
				t.Fatalf("arguments %q: %v", tc.Arguments, err)
			}
			v, ok := args[tt.wantKey]
			if !ok {
				t.Fatalf("arguments %q lack %q", tc.Arguments, tt.wantKey)
			}
			if _, isNum := v.(float64); isNum != (tt.wantTool == "count") {
				t.Errorf("argument %v has the wrong type", v)
			}
			if resp.Usage.CompletionTokens < 1 || resp.Usage.TotalTokens != resp.Usage.PromptTokens+resp.Usage.CompletionTokens {
				t.Errorf("usage %+v", resp.Usage)
			}
			if again := mustChat(t, p, req); again.Choices[0].Message.ToolCalls[0] != tc {
				t.Errorf("tool call not deterministic: %+v vs %+v", again.Choices[0].Message.ToolCalls[0], tc)
			}

			s := mustStream(t, p, req)
			if s.finish != llm.FinishToolCalls || s.args != tc.Arguments || s.content != "" {
				t.Fatalf("stream finish %q args %q content %q", s.finish, s.args, s.content)
			}
			var deltas []llm.ToolCall
			for _, ch := range s.chunks {
				for _, cc := range ch.Choices {
					deltas = append(deltas, cc.Delta.ToolCalls...)
				}
			}
			if len(deltas) < 2 {
				t.Fatalf("want a header delta and argument fragments, got %+v", deltas)
			}
			head := deltas[0]
			if head.ID != tc.ID || head.Type != "function" || head.Name != tc.Name || head.Arguments != "" {
				t.Errorf("first delta %+v", head)
			}
			for i, d := range deltas {
				if d.Index != 0 {
					t.Errorf("delta %d has index %d", i, d.Index)
				}
				if i > 0 && (d.ID != "" || d.Name != "" || d.Arguments == "") {
					t.Errorf("fragment %d = %+v", i, d)
				}
			}
			if *s.usage != resp.Usage {
				t.Errorf("stream usage %+v, unary %+v", *s.usage, resp.Usage)
			}
		})
	}
	t.Run("unknown named function is a 400", func(t *testing.T) {
		_, err := p.Chat(context.Background(), &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, Tools: tools, ToolChoice: &llm.ToolChoice{Function: "nope"}})
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) || ue.Status != 400 || ue.Retryable() {
			t.Fatalf("got %v", err)
		}
	})
}

func TestFaultOverrides(t *testing.T) {
	p := simulator.New("sim", nil, simulator.WithResponseTokens(10))
	tests := []struct {
		name       string
		md         map[string]string
		wantStatus int // 0: success
		wantRetry  time.Duration
		retryable  bool
	}{
		{"503 with retry after", map[string]string{simulator.MetaFailStatus: "503", simulator.MetaRetryAfter: "2"}, 503, 2 * time.Second, true},
		{"429 with fractional retry after", map[string]string{simulator.MetaFailStatus: "429", simulator.MetaRetryAfter: "0.5"}, 429, 500 * time.Millisecond, true},
		{"400 is not retryable", map[string]string{simulator.MetaFailStatus: "400"}, 400, 0, false},
		{"retry after alone does nothing", map[string]string{simulator.MetaRetryAfter: "3"}, 0, 0, false},
		{"bad status", map[string]string{simulator.MetaFailStatus: "200"}, 400, 0, false},
		{"status not a number", map[string]string{simulator.MetaFailStatus: "boom"}, 400, 0, false},
		{"bad retry after", map[string]string{simulator.MetaFailStatus: "503", simulator.MetaRetryAfter: "-1"}, 400, 0, false},
		{"bad tokens", map[string]string{simulator.MetaTokens: "0"}, 400, 0, false},
		{"too many tokens", map[string]string{simulator.MetaTokens: "5000"}, 400, 0, false},
		{"bad delay", map[string]string{simulator.MetaDelay: "soon"}, 400, 0, false},
		{"bad fail after", map[string]string{simulator.MetaFailAfterTokens: "-2"}, 400, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, Metadata: tt.md}
			_, chatErr := p.Chat(context.Background(), req)
			st, streamErr := p.ChatStream(context.Background(), req)
			if st != nil {
				st.Close()
			}
			for name, err := range map[string]error{"Chat": chatErr, "ChatStream": streamErr} {
				if tt.wantStatus == 0 {
					if err != nil {
						t.Errorf("%s: %v", name, err)
					}
					continue
				}
				var ue *llm.UpstreamError
				if !errors.As(err, &ue) {
					t.Fatalf("%s: want *llm.UpstreamError, got %v", name, err)
				}
				if ue.Status != tt.wantStatus || ue.RetryAfter != tt.wantRetry || ue.Provider != "sim" {
					t.Errorf("%s: got %+v", name, ue)
				}
				if tt.wantStatus != 400 && ue.Retryable() != tt.retryable {
					t.Errorf("%s: retryable %v", name, ue.Retryable())
				}
			}
		})
	}
}

func TestTokensAndDelayOverrides(t *testing.T) {
	// A one-minute token delay would time the test out unless the request's
	// override replaces it.
	p := simulator.New("sim", nil, simulator.WithTokenDelay(time.Minute))
	req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")},
		Metadata: map[string]string{simulator.MetaTokens: "7", simulator.MetaDelay: "0s"}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := p.Chat(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(strings.Fields(resp.Choices[0].Message.Content)); n != 7 || resp.Usage.CompletionTokens != 7 {
		t.Fatalf("%d words, %d tokens; want 7", n, resp.Usage.CompletionTokens)
	}
	if s := mustStream(t, p, req); len(strings.Fields(s.content)) != 7 {
		t.Fatalf("stream %q", s.content)
	}
}

func TestFailAfterTokens(t *testing.T) {
	p := simulator.New("sim", nil, simulator.WithResponseTokens(10))
	tests := []struct {
		name        string
		after       string
		wantContent int // content chunks before the error; -1: no error
	}{
		{"after three chunks", "3", 3},
		{"before any content", "0", 0},
		{"after the last chunk never fails", "10", -1},
		{"beyond the answer never fails", "50", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("q")}, Metadata: map[string]string{simulator.MetaFailAfterTokens: tt.after}}
			s, err := p.ChatStream(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := drain(t, s)
			_, chatErr := p.Chat(context.Background(), req)
			if tt.wantContent < 0 {
				if err != nil || chatErr != nil {
					t.Fatalf("stream %v, chat %v", err, chatErr)
				}
				return
			}
			for name, e := range map[string]error{"stream": err, "chat": chatErr} {
				var ue *llm.UpstreamError
				if !errors.As(e, &ue) || ue.Status != 502 || !ue.Retryable() {
					t.Fatalf("%s: want a 502 UpstreamError, got %v", name, e)
				}
			}
			if len(got.chunks) != 1+tt.wantContent {
				t.Fatalf("%d chunks before the error, want role + %d", len(got.chunks), tt.wantContent)
			}
			if got.usage != nil || got.finish != "" {
				t.Errorf("a broken stream sent finish %q usage %v", got.finish, got.usage)
			}
			if _, again := s.Recv(); !errors.Is(again, err) {
				t.Errorf("the error is not sticky: %v", again)
			}
		})
	}
}

func TestFailRate(t *testing.T) {
	tests := []struct {
		name     string
		rate     float64
		min, max int // failures out of 1000
	}{
		{"zero never fails", 0, 0, 0},
		{"thirty percent", 0.3, 240, 360},
		{"five percent", 0.05, 25, 80},
		{"one always fails", 1, 1000, 1000},
		{"above one is capped", 7, 1000, 1000},
		{"negative is zero", -1, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := simulator.New("sim", nil, simulator.WithFailures(tt.rate, 429, 3*time.Second), simulator.WithRand(42))
			var failures atomic.Int64
			var wg sync.WaitGroup
			for w := range 8 {
				wg.Go(func() {
					for i := w; i < 1000; i += 8 {
						_, err := p.Chat(context.Background(), chatReq("m", user("q")))
						if err == nil {
							continue
						}
						var ue *llm.UpstreamError
						if !errors.As(err, &ue) || ue.Status != 429 || ue.RetryAfter != 3*time.Second {
							t.Errorf("unexpected error %v", err)
						}
						failures.Add(1)
					}
				})
			}
			wg.Wait()
			if n := int(failures.Load()); n < tt.min || n > tt.max {
				t.Fatalf("%d failures of 1000, want %d-%d", n, tt.min, tt.max)
			}
		})
	}
	t.Run("same seed, same sequence", func(t *testing.T) {
		seq := func(seed uint64) string {
			p := simulator.New("sim", nil, simulator.WithFailures(0.5, 503, 0), simulator.WithRand(seed))
			var b strings.Builder
			for range 64 {
				if _, err := p.Chat(context.Background(), chatReq("m", user("q"))); err != nil {
					b.WriteByte('x')
				} else {
					b.WriteByte('.')
				}
			}
			return b.String()
		}
		if seq(1) != seq(1) {
			t.Fatal("same seed gave different sequences")
		}
		if seq(1) == seq(2) {
			t.Fatal("different seeds gave the same sequence")
		}
	})
	t.Run("invalid status becomes 503", func(t *testing.T) {
		p := simulator.New("sim", nil, simulator.WithFailures(1, 200, 0))
		_, err := p.Chat(context.Background(), chatReq("m", user("q")))
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) || ue.Status != 503 {
			t.Fatalf("got %v", err)
		}
	})
}

func TestCancellation(t *testing.T) {
	slow := simulator.New("sim", nil, simulator.WithTTFT(time.Minute), simulator.WithTokenDelay(time.Minute))
	const prompt = time.Second

	t.Run("mid-stream cancel returns promptly", func(t *testing.T) {
		p := simulator.New("sim", nil, simulator.WithTokenDelay(time.Minute))
		ctx, cancel := context.WithCancel(context.Background())
		s, err := p.ChatStream(ctx, chatReq("m", user("q")))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		for range 2 { // role chunk, then the first word (TTFT is 0)
			if _, err := s.Recv(); err != nil {
				t.Fatal(err)
			}
		}
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		_, err = s.Recv()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want context.Canceled", err)
		}
		if d := time.Since(start); d > prompt {
			t.Fatalf("Recv took %v after cancel", d)
		}
		if _, again := s.Recv(); !errors.Is(again, context.Canceled) {
			t.Fatalf("after cancel Recv = %v", again)
		}
	})
	t.Run("deadline during TTFT", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		s, err := slow.ChatStream(ctx, chatReq("m", user("q")))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.Recv(); err != nil { // the role chunk comes at once
			t.Fatal(err)
		}
		start := time.Now()
		if _, err := s.Recv(); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > prompt {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("close from another goroutine wakes Recv", func(t *testing.T) {
		s, err := slow.ChatStream(context.Background(), chatReq("m", user("q")))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(20*time.Millisecond, func() { s.Close() })
		start := time.Now()
		if _, err := s.Recv(); err == nil || errors.Is(err, io.EOF) {
			t.Fatalf("Recv after Close = %v, want an error", err)
		}
		if d := time.Since(start); d > prompt {
			t.Fatalf("took %v", d)
		}
		if s.Close() != nil {
			t.Fatal("second Close failed")
		}
	})
	t.Run("unary cancel returns promptly", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(20*time.Millisecond, cancel)
		start := time.Now()
		if _, err := slow.Chat(ctx, chatReq("m", user("q"))); !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
		if d := time.Since(start); d > prompt {
			t.Fatalf("took %v", d)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := slow.Chat(ctx, chatReq("m", user("q"))); !errors.Is(err, context.Canceled) {
			t.Fatalf("Chat: %v", err)
		}
		if _, err := slow.ChatStream(ctx, chatReq("m", user("q"))); !errors.Is(err, context.Canceled) {
			t.Fatalf("ChatStream: %v", err)
		}
		if _, err := slow.Embed(ctx, &llm.EmbeddingRequest{Model: "m", Input: []string{"a"}}); !errors.Is(err, context.Canceled) {
			t.Fatalf("Embed: %v", err)
		}
	})
}

func TestDelaysAreApplied(t *testing.T) {
	p := simulator.New("sim", nil, simulator.WithTTFT(30*time.Millisecond), simulator.WithTokenDelay(5*time.Millisecond), simulator.WithResponseTokens(5))
	least := 30*time.Millisecond + 4*5*time.Millisecond
	start := time.Now()
	mustChat(t, p, chatReq("m", user("q")))
	if d := time.Since(start); d < least {
		t.Errorf("Chat took %v, want at least %v", d, least)
	}
	start = time.Now()
	mustStream(t, p, chatReq("m", user("q")))
	if d := time.Since(start); d < least {
		t.Errorf("stream took %v, want at least %v", d, least)
	}
}

func TestUnknownModel(t *testing.T) {
	p := simulator.New("sim", models)
	ctx := context.Background()
	_, chatErr := p.Chat(ctx, chatReq("gpt-4o", user("q")))
	_, streamErr := p.ChatStream(ctx, chatReq("gpt-4o", user("q")))
	_, embedErr := p.Embed(ctx, &llm.EmbeddingRequest{Model: "gpt-4o", Input: []string{"a"}})
	for name, err := range map[string]error{"Chat": chatErr, "ChatStream": streamErr, "Embed": embedErr} {
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) || ue.Status != 404 || !strings.Contains(ue.Message, `model "gpt-4o" not found`) {
			t.Errorf("%s: got %v", name, err)
		}
		if llm.KindOf(err) != llm.KindNotFound {
			t.Errorf("%s: kind %v", name, llm.KindOf(err))
		}
	}
	t.Run("no model list serves any model", func(t *testing.T) {
		open := simulator.New("sim", nil)
		if _, err := open.Chat(ctx, chatReq("whatever-1", user("q"))); err != nil {
			t.Fatal(err)
		}
	})
}

func TestInvalidRequests(t *testing.T) {
	p := simulator.New("sim", nil)
	tests := []struct {
		name string
		req  *llm.ChatRequest
	}{
		{"nil request", nil},
		{"no model", chatReq("", user("q"))},
		{"no messages", chatReq("m")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Chat(context.Background(), tt.req)
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 400 {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestEmbed(t *testing.T) {
	p := simulator.New("sim", models)
	ctx := context.Background()
	tests := []struct {
		name    string
		dims    *int
		wantDim int
	}{
		{"default dimensions", nil, 16},
		{"custom dimensions", intp(64), 64},
		{"one dimension", intp(1), 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &llm.EmbeddingRequest{Model: "sim-small", Input: []string{"alpha", "beta", "alpha"}, Dimensions: tt.dims}
			resp, err := p.Embed(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Vectors) != 3 || resp.Model != "sim-small" {
				t.Fatalf("response %+v", resp)
			}
			for i, v := range resp.Vectors {
				if len(v) != tt.wantDim {
					t.Fatalf("vector %d has %d dimensions", i, len(v))
				}
				var norm float64
				for _, x := range v {
					norm += float64(x) * float64(x)
				}
				if math.Abs(norm-1) > 1e-5 {
					t.Errorf("vector %d has squared norm %v", i, norm)
				}
			}
			if !equalVec(resp.Vectors[0], resp.Vectors[2]) {
				t.Error("the same input gave different vectors")
			}
			if tt.wantDim > 1 && equalVec(resp.Vectors[0], resp.Vectors[1]) {
				t.Error("different inputs gave the same vector")
			}
			again, _ := p.Embed(ctx, req)
			if !equalVec(again.Vectors[1], resp.Vectors[1]) {
				t.Error("not deterministic across calls")
			}
			if resp.Usage.PromptTokens != 3 || resp.Usage.TotalTokens != 3 {
				t.Errorf("usage %+v", resp.Usage)
			}
		})
	}
	for name, req := range map[string]*llm.EmbeddingRequest{
		"no input":       {Model: "sim-small"},
		"zero dims":      {Model: "sim-small", Input: []string{"a"}, Dimensions: intp(0)},
		"too many dims":  {Model: "sim-small", Input: []string{"a"}, Dimensions: intp(100000)},
		"no model given": {Input: []string{"a"}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := p.Embed(ctx, req)
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 400 {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func equalVec(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestListModels(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	p := simulator.New("sim", []string{"sim-small", "sim-large", "sim-small", ""}, simulator.WithClock(func() time.Time { return at }))
	got, err := p.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{{ID: "sim-small", Created: at.Unix(), OwnedBy: "sim"}, {ID: "sim-large", Created: at.Unix(), OwnedBy: "sim"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	resp := mustChat(t, p, chatReq("sim-small", user("q")))
	if resp.Created != at.Unix() {
		t.Errorf("created %d", resp.Created)
	}
}

func TestNewCapsResponseTokens(t *testing.T) {
	tests := []struct {
		in, want int
	}{
		{0, 24}, {-5, 24}, {1, 1}, {100, 100}, {1 << 20, 4096},
	}
	for _, tt := range tests {
		p := simulator.New("", nil, simulator.WithResponseTokens(tt.in))
		resp := mustChat(t, p, chatReq("m", user("q")))
		if resp.Usage.CompletionTokens != tt.want {
			t.Errorf("WithResponseTokens(%d): %d tokens, want %d", tt.in, resp.Usage.CompletionTokens, tt.want)
		}
		if p.Name() != "simulator" {
			t.Errorf("empty name became %q", p.Name())
		}
	}
}

func BenchmarkChat(b *testing.B) {
	p := simulator.New("sim", models)
	req := chatReq("sim-small", llm.Message{Role: llm.RoleSystem, Content: "You are terse."}, user("Explain routing gateways in one paragraph."))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChatStream(b *testing.B) {
	p := simulator.New("sim", models)
	req := chatReq("sim-small", llm.Message{Role: llm.RoleSystem, Content: "You are terse."}, user("Explain routing gateways in one paragraph."))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := p.ChatStream(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := s.Recv(); err != nil {
				if !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
				break
			}
		}
		s.Close()
	}
}

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		key     string
		refused bool
	}{
		{"no key", "", false},
		{"any key", "sk-sim-0001", false},
		{"bad prefix", simulator.BadKeyPrefix + "0001", true},
		{"bad elsewhere is fine", "sk-bad-0001", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := simulator.New("sim", models, simulator.WithAPIKey(tc.key))
			_, chatErr := p.Chat(ctx, chatReq("sim-small", user("q")))
			_, streamErr := p.ChatStream(ctx, chatReq("sim-small", user("q")))
			_, embedErr := p.Embed(ctx, &llm.EmbeddingRequest{Model: "sim-small", Input: []string{"a"}})
			for name, err := range map[string]error{"Chat": chatErr, "ChatStream": streamErr, "Embed": embedErr} {
				if !tc.refused {
					if err != nil {
						t.Errorf("%s: %v", name, err)
					}
					continue
				}
				var ue *llm.UpstreamError
				if !errors.As(err, &ue) || ue.Status != 401 || !ue.AuthFailed() || !strings.Contains(ue.Message, simulator.BadKeyPrefix) {
					t.Errorf("%s: got %v, want a 401 naming the bad-key prefix", name, err)
				}
			}
		})
	}
}

// WithAutoTool: the model calls the tool unasked once per turn, then
// answers the tool's result in text, as an agent's model does.
func TestAutoTool(t *testing.T) {
	p := simulator.New("sim", nil, simulator.WithAutoTool("get_weather"))
	weather := llm.Tool{Type: "function", Name: "get_weather"}
	other := llm.Tool{Type: "function", Name: "search"}
	result := llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", Content: "18C"}
	for _, tc := range []struct {
		name     string
		tools    []llm.Tool
		choice   *llm.ToolChoice
		msgs     []llm.Message
		wantTool string
	}{
		{"offered, no choice", []llm.Tool{other, weather}, nil, []llm.Message{user("hi")}, "get_weather"},
		{"offered, auto", []llm.Tool{weather}, &llm.ToolChoice{Mode: "auto"}, []llm.Message{user("hi")}, "get_weather"},
		{"none wins", []llm.Tool{weather}, &llm.ToolChoice{Mode: "none"}, []llm.Message{user("hi")}, ""},
		{"not offered", []llm.Tool{other}, nil, []llm.Message{user("hi")}, ""},
		{"answers the result", []llm.Tool{weather}, nil, []llm.Message{user("hi"), result}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := mustChat(t, p, &llm.ChatRequest{Model: "m", Messages: tc.msgs, Tools: tc.tools, ToolChoice: tc.choice})
			var got string
			if calls := resp.Choices[0].Message.ToolCalls; len(calls) == 1 {
				got = calls[0].Name
			}
			if got != tc.wantTool {
				t.Fatalf("called %q, want %q (%+v)", got, tc.wantTool, resp.Choices[0])
			}
		})
	}
}

// WithThinking: a request that asks for thinking gets a signed reasoning
// text, the same unary and streamed (reasoning, then its signature, before
// the text); one that does not, or a simulator without the option, none.
func TestThinking(t *testing.T) {
	thinker := simulator.New("sim", nil, simulator.WithThinking(true))
	enabled := &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024}
	for _, tc := range []struct {
		name     string
		p        *simulator.Provider
		thinking *llm.Thinking
		want     bool
	}{
		{"enabled", thinker, enabled, true},
		{"adaptive", thinker, &llm.Thinking{Type: llm.ThinkingAdaptive}, true},
		{"disabled", thinker, &llm.Thinking{Type: llm.ThinkingDisabled}, false},
		{"not asked", thinker, nil, false},
		{"option off", simulator.New("sim", nil), enabled, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("What is 2+2?")}, Thinking: tc.thinking}
			m := mustChat(t, tc.p, req).Choices[0].Message
			if got := m.ReasoningContent != "" && strings.HasPrefix(m.ReasoningSignature, "simsig_"); got != tc.want {
				t.Fatalf("thinking %v, want %v: %+v", got, tc.want, m)
			}
			st := mustStream(t, tc.p, req)
			var reasoning, sig string
			var order []string
			for _, c := range st.chunks {
				for _, ch := range c.Choices {
					d := ch.Delta
					reasoning += d.ReasoningContent
					sig += d.ReasoningSignature
					switch {
					case d.ReasoningContent != "":
						order = append(order, "thinking")
					case d.ReasoningSignature != "":
						order = append(order, "signature")
					case d.Content != "" && (len(order) == 0 || order[len(order)-1] != "text"):
						order = append(order, "text")
					}
				}
			}
			if reasoning != m.ReasoningContent || sig != m.ReasoningSignature || st.content != m.Content {
				t.Fatalf("stream %q %q %q, unary %q %q %q", reasoning, sig, st.content, m.ReasoningContent, m.ReasoningSignature, m.Content)
			}
			want := "text"
			if tc.want {
				want = "thinking signature text"
			}
			if strings.Join(order, " ") != want {
				t.Fatalf("stream order %v, want %s", order, want)
			}
		})
	}
}

// Signed reasoning handed back must come back unchanged.
func TestThinkingSignatureIsChecked(t *testing.T) {
	p := simulator.New("sim", nil, simulator.WithThinking(true))
	req := &llm.ChatRequest{Model: "m", Messages: []llm.Message{user("hi")}, Thinking: &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024}}
	first := mustChat(t, p, req).Choices[0].Message
	for _, tc := range []struct {
		name    string
		mutate  func(m *llm.Message)
		wantErr bool
	}{
		{"intact", func(*llm.Message) {}, false},
		{"text altered", func(m *llm.Message) { m.ReasoningContent += "!" }, true},
		{"signature altered", func(m *llm.Message) { m.ReasoningSignature += "0" }, true},
		{"unsigned (another provider's)", func(m *llm.Message) { m.ReasoningSignature = "" }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			back := first
			tc.mutate(&back)
			next := *req
			next.Messages = []llm.Message{user("hi"), back, user("and?")}
			_, err := p.Chat(context.Background(), &next)
			var ue *llm.UpstreamError
			if tc.wantErr != (err != nil) || (err != nil && (!errors.As(err, &ue) || ue.Status != 400)) {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
