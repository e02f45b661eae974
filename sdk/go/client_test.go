package switchyard_test

import (
	"context"
	"errors"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	switchyard "github.com/switchyard/switchyard/sdk/go"
)

var protocols = []switchyard.Protocol{switchyard.Connect, switchyard.GRPC, switchyard.GRPCWeb}

func newClient(t testing.TB, opts ...switchyard.Option) *switchyard.Client {
	t.Helper()
	c, err := switchyard.NewClient(gatewayURL, opts...)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func chatRequest(model, text string, meta map[string]string) *switchyardv1.CreateChatCompletionRequest {
	return &switchyardv1.CreateChatCompletionRequest{
		Model:    model,
		Messages: []*switchyardv1.ChatMessage{switchyard.SystemMessage("Be brief."), switchyard.UserMessage(text)},
		Metadata: meta,
	}
}

// collect drains a stream into its content text and chunks.
func collect(t *testing.T, seq func(func(*switchyardv1.ChatCompletionChunk, error) bool)) (string, []*switchyardv1.ChatCompletionChunk, error) {
	t.Helper()
	var text strings.Builder
	var chunks []*switchyardv1.ChatCompletionChunk
	for chunk, err := range seq {
		if err != nil {
			if chunk != nil {
				t.Errorf("error %v yielded with a non-nil chunk", err)
			}
			return text.String(), chunks, err
		}
		chunks = append(chunks, chunk)
		for _, ch := range chunk.GetChoices() {
			text.WriteString(ch.GetDelta().GetContent())
		}
	}
	return text.String(), chunks, nil
}

func TestChatAnswersOverEveryProtocol(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
			resp, err := c.Chat(context.Background(), chatRequest("auto", "Hello there", nil))
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			if len(resp.GetChoices()) != 1 {
				t.Fatalf("choices = %d, want 1", len(resp.GetChoices()))
			}
			msg := resp.GetChoices()[0].GetMessage()
			if msg.GetRole() != "assistant" || !strings.HasPrefix(msg.GetContent(), "Simulated reply from sim-small") {
				t.Errorf("message = %q/%q, want an assistant reply from sim-small", msg.GetRole(), msg.GetContent())
			}
			if got := resp.GetChoices()[0].GetFinishReason(); got != "stop" {
				t.Errorf("finish_reason = %q, want stop", got)
			}
			sw := resp.GetSwitchyard()
			if sw.GetRoute() != "auto" || sw.GetProvider() != "sim" || sw.GetUpstreamModel() != "sim-small" || sw.GetAttempts() != 1 {
				t.Errorf("routing info = %v, want route auto served by sim/sim-small in one attempt", sw)
			}
			u := resp.GetUsage()
			if u.GetCompletionTokens() != 12 || u.GetTotalTokens() != u.GetPromptTokens()+u.GetCompletionTokens() {
				t.Errorf("usage = %v, want 12 completion tokens and a consistent total", u)
			}
			if sw.GetCostUsd() <= 0 {
				t.Errorf("cost_usd = %v, want > 0 from the price table", sw.GetCostUsd())
			}
		})
	}
}

func TestChatStreamYieldsTheUnaryAnswer(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
			ctx := context.Background()
			unary, err := c.Chat(ctx, chatRequest("sim-large", "Count to five", nil))
			if err != nil {
				t.Fatalf("Chat: %v", err)
			}
			req := chatRequest("sim-large", "Count to five", nil)
			req.StreamOptions = &switchyardv1.StreamOptions{IncludeUsage: true}
			text, chunks, err := collect(t, c.ChatStream(ctx, req))
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			if want := unary.GetChoices()[0].GetMessage().GetContent(); text != want {
				t.Errorf("streamed text = %q, want the unary answer %q", text, want)
			}
			if len(chunks) < 3 {
				t.Fatalf("got %d chunks, want a token-by-token stream", len(chunks))
			}
			if role := chunks[0].GetChoices()[0].GetDelta().GetRole(); role != "assistant" {
				t.Errorf("first chunk role = %q, want assistant", role)
			}
			last := chunks[len(chunks)-1]
			if len(last.GetChoices()) != 0 || last.GetUsage().GetCompletionTokens() != 12 {
				t.Errorf("last chunk = %v, want a usage-only chunk with 12 completion tokens", last)
			}
			var finish string
			for _, ch := range chunks {
				for _, choice := range ch.GetChoices() {
					if choice.FinishReason != nil {
						finish = choice.GetFinishReason()
					}
				}
			}
			if finish != "stop" {
				t.Errorf("finish_reason = %q, want stop", finish)
			}
		})
	}
}

// trackingTransport records, for every call, whether the response body was
// closed and whether the request's context was cancelled: what an abandoned
// stream must do so the gateway stops generating into it.
type trackingTransport struct {
	base  http.RoundTripper
	mu    sync.Mutex
	calls []*trackedCall
}

type trackedCall struct {
	ctx    context.Context
	closed atomic.Bool
}

type trackedBody struct {
	io.ReadCloser
	call *trackedCall
}

func (b *trackedBody) Close() error {
	b.call.closed.Store(true)
	return b.ReadCloser.Close()
}

func (tt *trackingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	call := &trackedCall{ctx: req.Context()}
	tt.mu.Lock()
	tt.calls = append(tt.calls, call)
	tt.mu.Unlock()
	resp, err := tt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &trackedBody{ReadCloser: resp.Body, call: call}
	return resp, nil
}

func (tt *trackingTransport) only(t *testing.T) *trackedCall {
	t.Helper()
	tt.mu.Lock()
	defer tt.mu.Unlock()
	if len(tt.calls) != 1 {
		t.Fatalf("%d HTTP calls, want 1", len(tt.calls))
	}
	return tt.calls[0]
}

func newTrackingTransport(p switchyard.Protocol) *trackingTransport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	if p == switchyard.GRPC {
		var protos http.Protocols
		protos.SetUnencryptedHTTP2(true)
		base.Protocols = &protos
	}
	return &trackingTransport{base: base}
}

func TestBreakingOutOfChatStreamCancelsTheCall(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tt := newTrackingTransport(p)
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey),
				switchyard.WithHTTPClient(&http.Client{Transport: tt}))
			ctx := context.Background()

			// 300 words 100ms apart: reading it all would take 30s.
			slow := chatRequest("sim-small", "Tell me a long story",
				map[string]string{"simulator.tokens": "300", "simulator.delay": "100ms"})
			start := time.Now()
			n := 0
			for chunk, err := range c.ChatStream(ctx, slow) {
				if err != nil {
					t.Fatalf("stream: %v", err)
				}
				if chunk.GetChoices()[0].GetDelta().GetContent() != "" {
					n++
				}
				if n == 2 {
					break
				}
			}
			if n != 2 {
				t.Fatalf("read %d content chunks before the stream ended, want 2", n)
			}
			if elapsed := time.Since(start); elapsed > 5*time.Second {
				t.Errorf("breaking out took %s; the loop should return at once", elapsed)
			}
			call := tt.only(t)
			if call.ctx.Err() == nil {
				t.Error("the request context is still live after the break: the gateway keeps generating")
			}
			if !call.closed.Load() {
				t.Error("the response body was not closed after the break")
			}
			// The client keeps working after an abandoned stream.
			if _, err := c.Chat(ctx, chatRequest("sim-small", "still there?", nil)); err != nil {
				t.Errorf("Chat after the break: %v", err)
			}
		})
	}
}

func TestChatStreamReleasesTheCallAfterTheLastChunk(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			tt := newTrackingTransport(p)
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey),
				switchyard.WithHTTPClient(&http.Client{Transport: tt}))
			if _, _, err := collect(t, c.ChatStream(context.Background(), chatRequest("sim-small", "hi", nil))); err != nil {
				t.Fatalf("stream: %v", err)
			}
			call := tt.only(t)
			if !call.closed.Load() || call.ctx.Err() == nil {
				t.Errorf("after a complete stream: body closed %v, context done %v; want both", call.closed.Load(), call.ctx.Err() != nil)
			}
		})
	}
}

func TestModels(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
			ctx := context.Background()
			models, err := c.ListModels(ctx)
			if err != nil {
				t.Fatalf("ListModels: %v", err)
			}
			byID := map[string]*switchyardv1.Model{}
			for _, m := range models {
				byID[m.GetId()] = m
			}
			for _, id := range []string{"auto", "flaky", "sim-small", "sim-large"} {
				if byID[id] == nil {
					t.Errorf("ListModels lacks %q (got %d models)", id, len(models))
				}
			}
			if !byID["auto"].GetAlias() || byID["sim-small"].GetAlias() {
				t.Errorf("alias flags: auto=%v sim-small=%v, want true/false", byID["auto"].GetAlias(), byID["sim-small"].GetAlias())
			}

			m, err := c.GetModel(ctx, "sim-large")
			if err != nil {
				t.Fatalf("GetModel: %v", err)
			}
			if m.GetId() != "sim-large" || m.GetOwnedBy() != "sim" || !slices.Equal(m.GetProviders(), []string{"sim"}) {
				t.Errorf("GetModel(sim-large) = %v", m)
			}

			_, err = c.GetModel(ctx, "no-such-model")
			if !switchyard.IsNotFound(err) {
				t.Errorf("GetModel(no-such-model) error = %v, want NotFound", err)
			}
		})
	}
}

func TestEmbeddings(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
			ctx := context.Background()
			req := &switchyardv1.CreateEmbeddingsRequest{Model: "sim-small", Input: []string{"alpha", "beta", "alpha"}}
			resp, err := c.Embeddings(ctx, req)
			if err != nil {
				t.Fatalf("Embeddings: %v", err)
			}
			data := resp.GetData()
			if len(data) != 3 {
				t.Fatalf("got %d embeddings, want 3", len(data))
			}
			for i, e := range data {
				if int(e.GetIndex()) != i || len(e.GetEmbedding()) != 16 {
					t.Errorf("embedding %d: index %d, %d dims; want index %d, 16 dims", i, e.GetIndex(), len(e.GetEmbedding()), i)
				}
				var norm float64
				for _, v := range e.GetEmbedding() {
					norm += float64(v) * float64(v)
				}
				if math.Abs(norm-1) > 1e-3 {
					t.Errorf("embedding %d has squared norm %v, want a unit vector", i, norm)
				}
			}
			if !slices.Equal(data[0].GetEmbedding(), data[2].GetEmbedding()) || slices.Equal(data[0].GetEmbedding(), data[1].GetEmbedding()) {
				t.Error("equal inputs must embed equally and different inputs differently")
			}
			if resp.GetUsage().GetPromptTokens() <= 0 {
				t.Errorf("usage = %v, want prompt tokens", resp.GetUsage())
			}
		})
	}
}

func TestAPIKey(t *testing.T) {
	cases := []struct {
		name   string
		opts   []switchyard.Option
		wantOK bool
	}{
		{"correct key", []switchyard.Option{switchyard.WithAPIKey(testAPIKey)}, true},
		{"missing key", nil, false},
		{"wrong key", []switchyard.Option{switchyard.WithAPIKey("sk-wrong-key-0123456789")}, false},
	}
	for _, p := range protocols {
		for _, tc := range cases {
			t.Run(p.String()+"/"+tc.name, func(t *testing.T) {
				c := newClient(t, append([]switchyard.Option{switchyard.WithProtocol(p)}, tc.opts...)...)
				ctx := context.Background()
				check := func(what string, err error) {
					t.Helper()
					switch {
					case tc.wantOK && err != nil:
						t.Errorf("%s: %v, want success", what, err)
					case !tc.wantOK && !switchyard.IsUnauthenticated(err):
						t.Errorf("%s: error %v (code %v), want Unauthenticated", what, err, connect.CodeOf(err))
					}
				}
				_, err := c.Chat(ctx, chatRequest("auto", "hi", nil))
				check("Chat", err)
				_, _, err = collect(t, c.ChatStream(ctx, chatRequest("auto", "hi", nil)))
				check("ChatStream", err)
				_, err = c.ListModels(ctx)
				check("ListModels", err)
				_, err = c.Embeddings(ctx, &switchyardv1.CreateEmbeddingsRequest{Model: "sim-small", Input: []string{"x"}})
				check("Embeddings", err)
				// The raw clients share the interceptor that sends the key.
				_, err = c.ModelService().ListModels(ctx, &switchyardv1.ListModelsRequest{})
				check("ModelService().ListModels", err)
				// Admin services need the admin key, which no client key is.
				_, err = c.RoutingConfigService().GetRoutingConfig(ctx, &switchyardv1.GetRoutingConfigRequest{})
				if !switchyard.IsUnauthenticated(err) && connect.CodeOf(err) != connect.CodePermissionDenied {
					t.Errorf("RoutingConfigService with a client key: %v, want Unauthenticated or PermissionDenied", err)
				}
			})
		}
	}
}

func TestErrorsCarryTheirCode(t *testing.T) {
	// req builds the request for one protocol and one call ("unary" or
	// "stream"): a rate-limited target stays ejected for its Retry-After, so
	// every rate-limit call needs a target of its own (see testdata).
	cases := []struct {
		name  string
		req   func(p switchyard.Protocol, call string) *switchyardv1.CreateChatCompletionRequest
		code  connect.Code
		is    func(error) bool
		check func(t *testing.T, err error)
	}{
		{
			name: "unknown model",
			req: func(switchyard.Protocol, string) *switchyardv1.CreateChatCompletionRequest {
				return chatRequest("no-such-model", "hi", nil)
			},
			code: connect.CodeNotFound, is: switchyard.IsNotFound,
		},
		{
			name: "message without role",
			req: func(switchyard.Protocol, string) *switchyardv1.CreateChatCompletionRequest {
				return &switchyardv1.CreateChatCompletionRequest{Model: "auto",
					Messages: []*switchyardv1.ChatMessage{{Content: switchyard.UserMessage("hi").Content}}}
			},
			code: connect.CodeInvalidArgument, is: switchyard.IsInvalidArgument,
			check: func(t *testing.T, err error) {
				if got := switchyard.InvalidParam(err); got != "messages[0].role" {
					t.Errorf("InvalidParam = %q, want messages[0].role", got)
				}
			},
		},
		{
			name: "upstream rate limit",
			req: func(p switchyard.Protocol, call string) *switchyardv1.CreateChatCompletionRequest {
				return chatRequest("limited-"+p.String()+"-"+call, "hi",
					map[string]string{"simulator.fail_status": "429", "simulator.retry_after": "7"})
			},
			code: connect.CodeResourceExhausted, is: switchyard.IsRateLimited,
			check: func(t *testing.T, err error) {
				if d, ok := switchyard.RetryAfter(err); !ok || d != 7*time.Second {
					t.Errorf("RetryAfter = %v, %v; want 7s, true", d, ok)
				}
			},
		},
		{
			name: "upstream unavailable on every target",
			req: func(switchyard.Protocol, string) *switchyardv1.CreateChatCompletionRequest {
				return chatRequest("flaky", "hi", map[string]string{"simulator.fail_status": "503"})
			},
			code: connect.CodeUnavailable, is: switchyard.IsUnavailable,
		},
	}
	for _, p := range protocols {
		c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
		for _, tc := range cases {
			t.Run(p.String()+"/"+tc.name, func(t *testing.T) {
				ctx := context.Background()
				_, unaryErr := c.Chat(ctx, tc.req(p, "unary"))
				text, chunks, streamErr := collect(t, c.ChatStream(ctx, tc.req(p, "stream")))
				if len(chunks) != 0 || text != "" {
					t.Errorf("stream yielded %d chunks before failing, want none", len(chunks))
				}
				for what, err := range map[string]error{"Chat": unaryErr, "ChatStream": streamErr} {
					if got := connect.CodeOf(err); got != tc.code || !tc.is(err) {
						t.Errorf("%s: error %v has code %v, want %v", what, err, got, tc.code)
					}
					var ce *connect.Error
					if !errors.As(err, &ce) {
						t.Errorf("%s: error %T is not a *connect.Error", what, err)
					}
					if tc.check != nil && err != nil {
						tc.check(t, err)
					}
				}
			})
		}
	}
}

func TestWithTimeoutBoundsUnaryAndStreamingCalls(t *testing.T) {
	for _, p := range protocols {
		t.Run(p.String(), func(t *testing.T) {
			c := newClient(t, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey),
				switchyard.WithTimeout(time.Second))
			ctx := context.Background()
			// The slow call needs 20 × 250ms, far past the timeout; the fast
			// one a few ms, inside it even on a loaded machine.
			slow := chatRequest("sim-small", "slow", map[string]string{"simulator.tokens": "20", "simulator.delay": "250ms"})
			start := time.Now()
			_, err := c.Chat(ctx, slow)
			if got := connect.CodeOf(err); got != connect.CodeDeadlineExceeded {
				t.Errorf("Chat: error %v (code %v), want DeadlineExceeded", err, got)
			}
			_, chunks, err := collect(t, c.ChatStream(ctx, slow))
			if got := connect.CodeOf(err); got != connect.CodeDeadlineExceeded {
				t.Errorf("ChatStream: error %v (code %v), want DeadlineExceeded", err, got)
			}
			if len(chunks) == 0 {
				t.Error("the stream should have yielded some chunks before its deadline")
			}
			if elapsed := time.Since(start); elapsed > 4*time.Second {
				t.Errorf("two calls with a 1s timeout took %s", elapsed)
			}
			// A fast call fits the timeout.
			if _, err := c.Chat(ctx, chatRequest("sim-small", "fast", nil)); err != nil {
				t.Errorf("fast Chat: %v", err)
			}
		})
	}
}

func TestNewClientRejectsBadSettings(t *testing.T) {
	cases := []struct {
		name string
		url  string
		opts []switchyard.Option
		want string
	}{
		{"no scheme", "127.0.0.1:8080", nil, "scheme"},
		{"wrong scheme", "ftp://127.0.0.1:8080", nil, "scheme must be http or https"},
		{"no host", "http://", nil, "missing host"},
		{"unparsable", "http://[::1", nil, "base URL"},
		{"unknown protocol", "http://127.0.0.1:8080", []switchyard.Option{switchyard.WithProtocol(switchyard.Protocol(9))}, "unknown protocol Protocol(9)"},
		{"negative timeout", "http://127.0.0.1:8080", []switchyard.Option{switchyard.WithTimeout(-time.Second)}, "timeout"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := switchyard.NewClient(tc.url, tc.opts...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("NewClient(%q) = %v, %v; want an error mentioning %q", tc.url, c, err, tc.want)
			}
		})
	}
}

func TestBaseURLPathIsKeptAsPrefix(t *testing.T) {
	// A trailing slash must not produce "//switchyard.v1..." paths.
	c := newClient(t, switchyard.WithAPIKey(testAPIKey))
	slash, err := switchyard.NewClient(gatewayURL+"/", switchyard.WithAPIKey(testAPIKey))
	if err != nil {
		t.Fatal(err)
	}
	defer slash.Close()
	for name, cl := range map[string]*switchyard.Client{"plain": c, "trailing slash": slash} {
		if _, err := cl.ListModels(context.Background()); err != nil {
			t.Errorf("%s: ListModels: %v", name, err)
		}
	}
	// A gateway mounted under a prefix is reached under it: here no such
	// mount exists, so the call must fail rather than ignore the path.
	prefixed, err := switchyard.NewClient(gatewayURL+"/behind/proxy", switchyard.WithAPIKey(testAPIKey))
	if err != nil {
		t.Fatal(err)
	}
	defer prefixed.Close()
	if _, err := prefixed.ListModels(context.Background()); err == nil {
		t.Error("ListModels under an unmounted prefix succeeded; the path prefix was dropped")
	}
}

func TestMessageHelpers(t *testing.T) {
	cases := []struct {
		msg  *switchyardv1.ChatMessage
		role string
	}{
		{switchyard.UserMessage("u"), "user"},
		{switchyard.SystemMessage("s"), "system"},
		{switchyard.AssistantMessage("a"), "assistant"},
	}
	for _, tc := range cases {
		t.Run(tc.role, func(t *testing.T) {
			if tc.msg.GetRole() != tc.role || tc.msg.Content == nil || *tc.msg.Content != tc.role[:1] {
				t.Errorf("message = %v, want role %q with content %q", tc.msg, tc.role, tc.role[:1])
			}
		})
	}
}

func TestProtocolString(t *testing.T) {
	want := map[switchyard.Protocol]string{switchyard.Connect: "connect", switchyard.GRPC: "grpc", switchyard.GRPCWeb: "grpcweb", switchyard.Protocol(7): "Protocol(7)"}
	for p, s := range want {
		if p.String() != s {
			t.Errorf("%d.String() = %q, want %q", int(p), p.String(), s)
		}
	}
}

func BenchmarkChat(b *testing.B) {
	for _, p := range protocols {
		b.Run(p.String(), func(b *testing.B) {
			c := newClient(b, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
			// No simulated latency: this measures the SDK and the round trip.
			req := chatRequest("sim-small", "bench", map[string]string{"simulator.delay": "0s"})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Chat(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkChatStream(b *testing.B) {
	for _, p := range protocols {
		b.Run(p.String(), func(b *testing.B) {
			c := newClient(b, switchyard.WithProtocol(p), switchyard.WithAPIKey(testAPIKey))
			req := chatRequest("sim-small", "bench", map[string]string{"simulator.delay": "0s"})
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				for _, err := range c.ChatStream(ctx, req) {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}
