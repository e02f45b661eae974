package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

func newServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func simpleRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: model, Temperature: ptr(0.7),
		Messages: []llm.Message{{Role: llm.RoleUser, Content: "Hello, Claude"}},
	}
}

func TestNewValidatesAndDefaults(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "defaults", opts: Options{APIKey: "k"}},
		{name: "missing key", opts: Options{}, wantErr: true},
		{name: "relative base", opts: Options{APIKey: "k", BaseURL: "api.anthropic.com"}, wantErr: true},
		{name: "ftp base", opts: Options{APIKey: "k", BaseURL: "ftp://x"}, wantErr: true},
		{name: "bad header", opts: Options{APIKey: "k", Headers: map[string]string{"a b": "c"}}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			if c.base != DefaultBaseURL || c.apiVersion != DefaultAPIVersion || c.name != DefaultName {
				t.Errorf("defaults not applied: %+v", c)
			}
			tr, ok := c.hc.Transport.(*http.Transport)
			if !ok || tr.MaxIdleConnsPerHost != 256 {
				t.Errorf("default client must pool 256 idle conns per host")
			}
		})
	}
}

func TestChatSendsHeadersAndBody(t *testing.T) {
	var gotPath string
	var gotHeader http.Header
	var gotBody []byte
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotHeader = r.URL.Path, r.Header.Clone()
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(readFixture(t, "response_text.json"))
	})
	shared := &http.Client{}
	c, err := New(Options{
		BaseURL: srv.URL + "/", APIKey: "sk-ant-test", HTTPClient: shared,
		Headers: map[string]string{"anthropic-beta": "prompt-caching-2024-07-31"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.hc != shared {
		t.Error("the shared http.Client was not used")
	}
	resp, err := c.Chat(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/v1/messages" {
		t.Errorf("path = %q", gotPath)
	}
	for k, want := range map[string]string{
		"X-Api-Key": "sk-ant-test", "Anthropic-Version": "2023-06-01",
		"Content-Type": "application/json", "Anthropic-Beta": "prompt-caching-2024-07-31",
	} {
		if got := gotHeader.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	assertJSONEqual(t, gotBody, readFixture(t, "request_simple.json"))
	if resp.Choices[0].Message.Content != "Hello! How can I help you today?" || resp.Usage.TotalTokens != 22 {
		t.Errorf("unexpected response %+v", resp)
	}
}

// An Anthropic client's betas reach the upstream after the operator's, each
// once; its anthropic-version goes too unless the operator pinned one.
func TestClientBetasAndVersionAreForwarded(t *testing.T) {
	tests := []struct {
		name        string
		headers     map[string]string
		anthropic   *llm.AnthropicOptions
		wantBeta    string
		wantVersion string
	}{
		{name: "none from another dialect", wantVersion: "2023-06-01"},
		{name: "client betas", anthropic: &llm.AnthropicOptions{Version: "2023-06-01", Betas: []string{"interleaved-thinking-2025-05-14", "context-1m-2025-08-07"}},
			wantBeta: "interleaved-thinking-2025-05-14,context-1m-2025-08-07", wantVersion: "2023-06-01"},
		{name: "merged after the operator's, each once", headers: map[string]string{"anthropic-beta": "prompt-caching-2024-07-31, context-1m-2025-08-07"},
			anthropic: &llm.AnthropicOptions{Betas: []string{"context-1m-2025-08-07", "files-api-2025-04-14"}},
			wantBeta:  "prompt-caching-2024-07-31,context-1m-2025-08-07,files-api-2025-04-14", wantVersion: "2023-06-01"},
		{name: "operator's betas alone", headers: map[string]string{"Anthropic-Beta": "prompt-caching-2024-07-31"},
			anthropic: &llm.AnthropicOptions{Version: "2023-06-01"}, wantBeta: "prompt-caching-2024-07-31", wantVersion: "2023-06-01"},
		{name: "client version", anthropic: &llm.AnthropicOptions{Version: "2099-01-01"}, wantVersion: "2099-01-01"},
		{name: "operator pinned version wins", headers: map[string]string{"anthropic-version": "2023-01-01"},
			anthropic: &llm.AnthropicOptions{Version: "2099-01-01"}, wantVersion: "2023-01-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got http.Header
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.Header.Clone()
				w.Header().Set("Content-Type", "application/json")
				_, _ = w.Write(readFixture(t, "response_text.json"))
			})
			c, err := New(Options{BaseURL: srv.URL, APIKey: "k", Headers: tt.headers})
			if err != nil {
				t.Fatal(err)
			}
			req := simpleRequest()
			req.Anthropic = tt.anthropic
			if _, err := c.Chat(context.Background(), req); err != nil {
				t.Fatal(err)
			}
			if b := strings.Join(got.Values("Anthropic-Beta"), ","); b != tt.wantBeta {
				t.Errorf("anthropic-beta %q, want %q", b, tt.wantBeta)
			}
			if v := got.Get("Anthropic-Version"); v != tt.wantVersion {
				t.Errorf("anthropic-version %q, want %q", v, tt.wantVersion)
			}
		})
	}
}

func TestUpstreamErrorsAreMapped(t *testing.T) {
	date := fixedNow.Add(30 * time.Second).Format(http.TimeFormat)
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		wantRetry time.Duration
		wantType  string
		wantMsg   string
		retryable bool
		kind      llm.Kind
	}{
		{
			name: "rate limit with retry-after seconds", status: 429,
			header: map[string]string{"Retry-After": "7"}, body: string(readFixture(t, "error_rate_limit.json")),
			wantRetry: 7 * time.Second, wantType: "rate_limit_error",
			wantMsg:   "Number of request tokens has exceeded your per-minute rate limit",
			retryable: true, kind: llm.KindRateLimited,
		},
		{
			name: "retry-after-ms wins", status: 429,
			header:    map[string]string{"Retry-After": "7", "Retry-After-Ms": "1500"},
			body:      `{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}`,
			wantRetry: 1500 * time.Millisecond, wantType: "rate_limit_error", wantMsg: "slow down",
			retryable: true, kind: llm.KindRateLimited,
		},
		{
			name: "retry-after http date", status: 529,
			header:    map[string]string{"Retry-After": date},
			body:      `{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}`,
			wantRetry: 30 * time.Second, wantType: "overloaded_error", wantMsg: "Overloaded",
			retryable: true, kind: llm.KindUnavailable,
		},
		{
			name: "invalid request", status: 400,
			body:     `{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: field required"}}`,
			wantType: "invalid_request_error", wantMsg: "max_tokens: field required", kind: llm.KindInvalidRequest,
		},
		{
			name: "non-JSON body", status: 502, body: "<html>bad gateway</html>",
			wantMsg: "<html>bad gateway</html>", retryable: true, kind: llm.KindUnavailable,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = io.WriteString(w, tt.body)
			})
			c := testClient(t, srv.URL)
			for _, call := range []func() error{
				func() error { _, err := c.Chat(context.Background(), simpleRequest()); return err },
				func() error { _, err := c.ChatStream(context.Background(), simpleRequest()); return err },
			} {
				err := call()
				var ue *llm.UpstreamError
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want *llm.UpstreamError", err)
				}
				if ue.Provider != "anthropic" || ue.Status != tt.status || ue.RetryAfter != tt.wantRetry ||
					ue.Type != tt.wantType || ue.Message != tt.wantMsg {
					t.Errorf("got %+v", ue)
				}
				if ue.Retryable() != tt.retryable || llm.KindOf(err) != tt.kind {
					t.Errorf("retryable %v kind %v", ue.Retryable(), llm.KindOf(err))
				}
			}
		})
	}
}

func TestConnectionErrorHasStatusZero(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // nothing listens there any more
	c := testClient(t, base)
	_, err := c.Chat(context.Background(), simpleRequest())
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || !ue.Retryable() {
		t.Fatalf("err = %v, want connection UpstreamError", err)
	}
}

func TestChatStreamOverHTTP(t *testing.T) {
	var gotBody map[string]any
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewDecoder(r.Body).Decode(&gotBody)
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(readFixture(t, "stream_tool_use.sse"))
	})
	c := testClient(t, srv.URL)
	s, err := c.ChatStream(context.Background(), toolsRoundTripRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if gotBody["stream"] != true {
		t.Errorf("stream flag not sent: %v", gotBody["stream"])
	}
	chunks, err := collect(s)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
	if len(chunks) != 12 || chunks[0].Choices[0].Delta.Role != llm.RoleAssistant || chunks[11].Usage == nil {
		t.Errorf("unexpected chunks %+v", chunks)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
}

func TestChatStreamFailsBeforeFirstByte(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(readFixture(t, "stream_error_first.sse"))
	})
	c := testClient(t, srv.URL)
	s, err := c.ChatStream(context.Background(), simpleRequest())
	var ue *llm.UpstreamError
	if s != nil || !errors.As(err, &ue) || ue.Status != 529 || ue.Message != "Overloaded" {
		t.Fatalf("stream %v err %v, want overloaded UpstreamError from ChatStream", s, err)
	}
}

func TestStreamCutMidway(t *testing.T) {
	full := readFixture(t, "stream_text.sse")
	cut := full[:strings.Index(string(full), "event: content_block_stop")]
	tests := []struct {
		name   string
		handle http.HandlerFunc
	}{
		{"body ends without message_stop", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write(cut)
		}},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000") // promise more than is sent
			_, _ = w.Write(cut)
			w.(http.Flusher).Flush()
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.handle)
			c := testClient(t, srv.URL)
			s, err := c.ChatStream(context.Background(), simpleRequest())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			chunks, err := collect(s)
			if len(chunks) != 3 {
				t.Errorf("got %d chunks before the cut, want 3", len(chunks))
			}
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 0 || errors.Is(err, io.EOF) {
				t.Fatalf("err = %v, want a connection UpstreamError, not a clean end", err)
			}
		})
	}
}

func TestContextCancel(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Stream bool }
		_ = json.NewDecoder(r.Body).Decode(&body)
		if !body.Stream { // unary: never answer
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		full := string(readFixture(t, "stream_text.sse"))
		_, _ = io.WriteString(w, full[:strings.Index(full, "event: content_block_start")])
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })

	t.Run("unary", func(t *testing.T) {
		c := testClient(t, srv.URL)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Chat(ctx, simpleRequest())
		if !errors.Is(err, context.DeadlineExceeded) || llm.KindOf(err) != llm.KindTimeout {
			t.Fatalf("err = %v, want wrapped context.DeadlineExceeded", err)
		}
	})
	t.Run("mid-stream", func(t *testing.T) {
		c := testClient(t, srv.URL)
		ctx, cancel := context.WithCancel(context.Background())
		s, err := c.ChatStream(ctx, simpleRequest())
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		time.AfterFunc(20*time.Millisecond, cancel)
		_, err = collect(s)
		if !errors.Is(err, context.Canceled) || llm.KindOf(err) != llm.KindCanceled {
			t.Fatalf("err = %v, want wrapped context.Canceled", err)
		}
	})
}

func TestListModels(t *testing.T) {
	var pages []string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/models" || r.Header.Get("X-Api-Key") != "sk-ant-test" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		pages = append(pages, r.URL.Query().Get("after_id"))
		if r.URL.Query().Get("after_id") == "" {
			_, _ = io.WriteString(w, `{"data":[{"type":"model","id":"claude-opus-4-1-20250805","created_at":"2025-08-05T00:00:00Z"}],"has_more":true,"last_id":"claude-opus-4-1-20250805"}`)
			return
		}
		_, _ = w.Write(readFixture(t, "models.json"))
	})
	c := testClient(t, srv.URL)
	got, err := c.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []llm.Model{
		{ID: "claude-opus-4-1-20250805", Created: time.Date(2025, 8, 5, 0, 0, 0, 0, time.UTC).Unix(), OwnedBy: "anthropic"},
		{ID: "claude-sonnet-4-5-20250929", Created: time.Date(2025, 9, 29, 0, 0, 0, 0, time.UTC).Unix(), OwnedBy: "anthropic"},
		{ID: "claude-3-5-haiku-20241022", Created: time.Date(2024, 10, 22, 0, 0, 0, 0, time.UTC).Unix(), OwnedBy: "anthropic"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("model %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(pages) != 2 || pages[1] != "claude-opus-4-1-20250805" {
		t.Errorf("pagination: %q", pages)
	}
}
