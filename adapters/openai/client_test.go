package openai

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Local copies of the engine/route seams; the adapter must not import the
// router, but must satisfy it.
type (
	provider interface {
		Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error)
		ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
	}
	modelLister interface {
		ListModels(ctx context.Context) ([]llm.Model, error)
	}
	embedder interface {
		Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error)
	}
)

var (
	_ provider    = (*Client)(nil)
	_ modelLister = (*Client)(nil)
	_ embedder    = (*Client)(nil)
	_ llm.Stream  = (*stream)(nil)
)

// captured is what a test server saw of one request.
type captured struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// newServer starts a server that records each request and answers with h.
func newServer(t *testing.T, h http.HandlerFunc) (*httptest.Server, func() []captured) {
	t.Helper()
	var mu sync.Mutex
	var reqs []captured
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, captured{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b})
		mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func() []captured {
		mu.Lock()
		defer mu.Unlock()
		return append([]captured(nil), reqs...)
	}
}

func newClient(t *testing.T, opts Options) *Client {
	t.Helper()
	c, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func fixtureHandler(t *testing.T, status int, contentType, fixture string) http.HandlerFunc {
	data := readFixture(t, fixture)
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(data)
	}
}

func TestChatSendsHeadersAndDecodes(t *testing.T) {
	srv, seen := newServer(t, fixtureHandler(t, 200, "application/json", "response_unary.json"))
	c := newClient(t, Options{BaseURL: srv.URL + "/v1/", APIKey: "sk-test",
		Headers: map[string]string{"OpenAI-Organization": "org-1", "x-trace": "t"}})

	resp, err := c.Chat(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	if resp.Choices[0].Message.Content == "" || resp.Usage.CachedTokens != 1920 {
		t.Fatalf("decoded %+v", resp)
	}
	r := seen()[0]
	checks := map[string][2]string{
		"method":        {r.Method, http.MethodPost},
		"path":          {r.Path, "/v1/chat/completions"},
		"authorization": {r.Header.Get("Authorization"), "Bearer sk-test"},
		"content-type":  {r.Header.Get("Content-Type"), "application/json"},
		"accept":        {r.Header.Get("Accept"), "application/json"},
		"extra header":  {r.Header.Get("Openai-Organization"), "org-1"},
		"extra header2": {r.Header.Get("X-Trace"), "t"},
		"no api-key":    {r.Header.Get("Api-Key"), ""},
	}
	for name, c := range checks {
		if c[0] != c[1] {
			t.Errorf("%s = %q, want %q", name, c[0], c[1])
		}
	}
	golden(t, "request_simple.json", r.Body)
}

func TestChatStreamOverHTTP(t *testing.T) {
	srv, seen := newServer(t, fixtureHandler(t, 200, "text/event-stream", "stream_content.sse"))
	c := newClient(t, Options{Name: "deepseek", BaseURL: srv.URL, APIKey: "k"})
	s, err := c.ChatStream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := collect(t, s)
	if err != io.EOF {
		t.Fatalf("end = %v", err)
	}
	last := chunks[len(chunks)-1]
	if last.Usage == nil || last.Usage.TotalTokens != 29 {
		t.Fatalf("last chunk %+v, want usage", last)
	}
	r := seen()[0]
	if r.Header.Get("Accept") != "text/event-stream" {
		t.Errorf("accept = %q", r.Header.Get("Accept"))
	}
	golden(t, "request_stream.json", r.Body)
}

func TestAzureAddressing(t *testing.T) {
	srv, seen := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/chat/completions") && strings.Contains(r.Header.Get("Accept"), "event-stream"):
			fixtureHandler(t, 200, "text/event-stream", "stream_content.sse")(w, r)
		case strings.HasSuffix(r.URL.Path, "/chat/completions"):
			fixtureHandler(t, 200, "application/json", "response_tool_calls.json")(w, r)
		case strings.HasSuffix(r.URL.Path, "/embeddings"):
			fixtureHandler(t, 200, "application/json", "embeddings_response.json")(w, r)
		default:
			fixtureHandler(t, 200, "application/json", "models_response.json")(w, r)
		}
	})
	// The pasted endpoint often ends in /openai; it must not double.
	c := newClient(t, Options{Azure: true, BaseURL: srv.URL + "/openai/", APIKey: "azure-key",
		APIVersion: "2024-10-21", LegacyMaxTokens: true})
	req := &llm.ChatRequest{
		Model: "gpt-4o-prod",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You answer with a tool call."},
			{Role: llm.RoleUser, Content: "Look up order 8812."},
		},
		MaxTokens:  ptr(800),
		Tools:      []llm.Tool{{Name: "lookup_order", Parameters: json.RawMessage(`{"type":"object","properties":{"id":{"type":"string"}},"required":["id"]}`)}},
		ToolChoice: &llm.ToolChoice{Function: "lookup_order"},
	}
	ctx := context.Background()
	if _, err := c.Chat(ctx, req); err != nil {
		t.Fatal(err)
	}
	s, err := c.ChatStream(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect(t, s); err != io.EOF {
		t.Fatal(err)
	}
	if _, err := c.Embed(ctx, &llm.EmbeddingRequest{Model: "embed/deploy", Input: []string{"a", "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListModels(ctx); err != nil {
		t.Fatal(err)
	}

	reqs := seen()
	wantPaths := []string{
		"/openai/deployments/gpt-4o-prod/chat/completions",
		"/openai/deployments/gpt-4o-prod/chat/completions",
		"/openai/deployments/embed%2Fdeploy/embeddings",
		"/openai/models",
	}
	for i, r := range reqs {
		if r.Path != wantPaths[i] || r.RawQuery != "api-version=2024-10-21" {
			t.Errorf("request %d: %s?%s, want %s?api-version=2024-10-21", i, r.Path, r.RawQuery, wantPaths[i])
		}
		if r.Header.Get("Api-Key") != "azure-key" || r.Header.Get("Authorization") != "" {
			t.Errorf("request %d: api-key %q authorization %q", i, r.Header.Get("Api-Key"), r.Header.Get("Authorization"))
		}
	}
	golden(t, "request_azure.json", reqs[0].Body)
	var streamBody map[string]any
	_ = json.Unmarshal(reqs[1].Body, &streamBody)
	if streamBody["stream"] != true || !reflect.DeepEqual(streamBody["stream_options"], map[string]any{"include_usage": true}) {
		t.Errorf("azure stream body lacks stream/include_usage: %s", reqs[1].Body)
	}
}

func TestUpstreamStatusMapping(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		header      map[string]string
		fixture     string
		body        string
		wantType    string
		wantCode    string
		wantMsg     string // prefix
		wantRetry   time.Duration
		wantKind    llm.Kind
		wantRetries bool
	}{
		{name: "400 invalid request", status: 400, fixture: "error_invalid_request.json",
			wantType: "invalid_request_error", wantCode: "invalid_type", wantMsg: "Invalid type for 'messages[0].content'",
			wantKind: llm.KindInvalidRequest},
		{name: "401 bad key", status: 401, fixture: "error_invalid_api_key.json",
			wantType: "invalid_request_error", wantCode: "invalid_api_key", wantMsg: "Incorrect API key provided",
			wantKind: llm.KindUnavailable, wantRetries: true},
		{name: "429 with retry-after seconds", status: 429, fixture: "error_rate_limit.json",
			header:   map[string]string{"Retry-After": "7"},
			wantType: "tokens", wantCode: "rate_limit_exceeded", wantMsg: "Rate limit reached for gpt-4o",
			wantRetry: 7 * time.Second, wantKind: llm.KindRateLimited, wantRetries: true},
		{name: "429 retry-after-ms wins over seconds", status: 429, fixture: "error_rate_limit.json",
			header:   map[string]string{"Retry-After": "2", "retry-after-ms": "1500"},
			wantType: "tokens", wantCode: "rate_limit_exceeded", wantMsg: "Rate limit",
			wantRetry: 1500 * time.Millisecond, wantKind: llm.KindRateLimited, wantRetries: true},
		{name: "429 retry-after HTTP date", status: 429, fixture: "error_rate_limit.json",
			header:   map[string]string{"Retry-After": "Sun, 06 Nov 1994 08:49:37 GMT"},
			wantType: "tokens", wantCode: "rate_limit_exceeded", wantMsg: "Rate limit",
			wantRetry: 30 * time.Second, wantKind: llm.KindRateLimited, wantRetries: true},
		{name: "500 server error", status: 500, fixture: "error_server.json",
			wantType: "server_error", wantMsg: "The server had an error", wantKind: llm.KindUnavailable, wantRetries: true},
		{name: "502 HTML page", status: 502, body: "<html>\n<head><title>502 Bad Gateway</title></head>\n</html>",
			wantMsg: "<html> <head><title>502 Bad Gateway</title></head> </html>", wantKind: llm.KindUnavailable, wantRetries: true},
		{name: "503 empty body", status: 503, header: map[string]string{"Retry-After": "1"},
			wantMsg: "Service Unavailable", wantRetry: time.Second, wantKind: llm.KindUnavailable, wantRetries: true},
		{name: "404 ollama string error", status: 404, body: `{"error":"model \"llama9\" not found, try pulling it first"}`,
			wantMsg: `model "llama9" not found`, wantKind: llm.KindNotFound},
		{name: "422 FastAPI detail", status: 422, body: `{"detail":[{"loc":["body","messages"],"msg":"field required"}]}`,
			wantMsg: `[{"loc":["body","messages"]`, wantKind: llm.KindInvalidRequest},
		{name: "400 numeric code", status: 400, body: `{"error":{"message":"bad","type":"BadRequestError","code":400}}`,
			wantType: "BadRequestError", wantCode: "400", wantMsg: "bad", wantKind: llm.KindInvalidRequest},
		{name: "400 array-wrapped (Gemini compat)", status: 400, body: `[{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}]`,
			wantCode: "400", wantMsg: "API key not valid", wantKind: llm.KindInvalidRequest},
	}
	now := time.Date(1994, 11, 6, 8, 49, 7, 0, time.UTC)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			if tt.fixture != "" {
				body = readFixture(t, tt.fixture)
			}
			srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tt.status)
				_, _ = w.Write(body)
			})
			c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
			c.now = func() time.Time { return now }

			for _, call := range []struct {
				name string
				fn   func() error
			}{
				{"Chat", func() error { _, err := c.Chat(context.Background(), simpleRequest()); return err }},
				{"ChatStream", func() error { _, err := c.ChatStream(context.Background(), simpleRequest()); return err }},
				{"ListModels", func() error { _, err := c.ListModels(context.Background()); return err }},
			} {
				err := call.fn()
				var ue *llm.UpstreamError
				if !errors.As(err, &ue) {
					t.Fatalf("%s: err = %v, want *llm.UpstreamError", call.name, err)
				}
				if ue.Provider != "openai" || ue.Status != tt.status || ue.Type != tt.wantType || ue.Code != tt.wantCode ||
					!strings.HasPrefix(ue.Message, tt.wantMsg) || ue.RetryAfter != tt.wantRetry {
					t.Fatalf("%s: got %+v\nwant status %d type %q code %q msg %q… retry %v",
						call.name, ue, tt.status, tt.wantType, tt.wantCode, tt.wantMsg, tt.wantRetry)
				}
				if got := llm.KindOf(err); got != tt.wantKind {
					t.Errorf("%s: kind %v, want %v", call.name, got, tt.wantKind)
				}
				if ue.Retryable() != tt.wantRetries {
					t.Errorf("%s: retryable %v, want %v", call.name, ue.Retryable(), tt.wantRetries)
				}
			}
		})
	}
}

func TestRetryAfterParsing(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		header map[string]string
		want   time.Duration
	}{
		{"absent", nil, 0},
		{"seconds", map[string]string{"Retry-After": "20"}, 20 * time.Second},
		{"fractional seconds", map[string]string{"Retry-After": "0.5"}, 500 * time.Millisecond},
		{"http date in the future", map[string]string{"Retry-After": now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second},
		{"http date in the past", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0},
		{"milliseconds", map[string]string{"retry-after-ms": "250"}, 250 * time.Millisecond},
		{"milliseconds preferred", map[string]string{"retry-after-ms": "250", "Retry-After": "1"}, 250 * time.Millisecond},
		{"bad milliseconds fall back to seconds", map[string]string{"retry-after-ms": "soon", "Retry-After": "3"}, 3 * time.Second},
		{"garbage", map[string]string{"Retry-After": "later"}, 0},
		{"negative", map[string]string{"Retry-After": "-5"}, 0},
		{"NaN", map[string]string{"Retry-After": "NaN"}, 0},
		{"huge is capped", map[string]string{"Retry-After": "1e300"}, maxRetryAfter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			for k, v := range tt.header {
				h.Set(k, v)
			}
			if got := retryAfter(h, now); got != tt.want {
				t.Fatalf("retryAfter = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStreamAnsweredWithJSON(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"error":{"message":"quota exceeded","type":"insufficient_quota","code":"insufficient_quota"}}`))
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	_, err := c.ChatStream(context.Background(), simpleRequest())
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 429 || ue.Code != "insufficient_quota" {
		t.Fatalf("err = %v", err)
	}

	srv2, _ := newServer(t, fixtureHandler(t, 200, "application/json", "response_unary.json"))
	c2 := newClient(t, Options{BaseURL: srv2.URL, APIKey: "k"})
	if _, err := c2.ChatStream(context.Background(), simpleRequest()); !errors.As(err, &ue) ||
		!strings.Contains(ue.Message, "expected an event stream") {
		t.Fatalf("err = %v", err)
	}
}

func TestContextEndsCall(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})

	t.Run("deadline before the answer", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		defer cancel()
		_, err := c.Chat(ctx, simpleRequest())
		var ue *llm.UpstreamError
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ue) {
			t.Fatalf("err = %v, want the ctx error and not an upstream error", err)
		}
	})
	t.Run("cancel before the stream starts", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(30*time.Millisecond, cancel)
		_, err := c.ChatStream(ctx, simpleRequest())
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestContextCancelMidStream(t *testing.T) {
	const ev = `data: {"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}` + "\n\n"
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, ev)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := c.ChatStream(ctx, simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, cancel)
	_, err = s.Recv()
	var ue *llm.UpstreamError
	if !errors.Is(err, context.Canceled) || errors.As(err, &ue) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestCloseUnblocksRecv(t *testing.T) {
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	s, err := c.ChatStream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, func() { _ = s.Close() })
	if _, err := s.Recv(); !errors.Is(err, errStreamClosed) {
		t.Fatalf("err = %v, want errStreamClosed", err)
	}
}

func TestServerDropsStream(t *testing.T) {
	const ev = `data: {"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}` + "\n\n"
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, ev)
		w.(http.Flusher).Flush()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close() // mid-chunk: the client sees a broken body
		}
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	s, err := c.ChatStream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	chunks, err := collect(t, s)
	var ue *llm.UpstreamError
	if len(chunks) != 1 || !errors.As(err, &ue) || ue.Status != 0 || !ue.Retryable() {
		t.Fatalf("chunks %d, err %v; want 1 chunk then a connection error", len(chunks), err)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := newClient(t, Options{BaseURL: "http://" + addr + "/v1"})
	_, err = c.Chat(context.Background(), simpleRequest())
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || ue.Err == nil || !ue.Retryable() {
		t.Fatalf("err = %#v, want UpstreamError{Status 0, Err}", err)
	}
}

// TestStreamReturnsConnectionToPool checks the drain after [DONE]: without
// it every HTTP/1.1 stream would cost a new connection.
func TestStreamReturnsConnectionToPool(t *testing.T) {
	events := strings.SplitAfter(string(readFixture(t, "stream_content.sse")), "\n\n")
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range events { // chunked, as a real stream: no Content-Length
			_, _ = io.WriteString(w, ev)
			w.(http.Flusher).Flush()
		}
		// The end of the chunked body arrives a moment after [DONE], as it
		// does over a real network.
		time.Sleep(20 * time.Millisecond)
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	var reused []bool
	for range 3 {
		ctx := httptrace.WithClientTrace(context.Background(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) },
		})
		s, err := c.ChatStream(ctx, simpleRequest())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := collect(t, s); err != io.EOF {
			t.Fatal(err)
		}
		_ = s.Close()
	}
	if !reflect.DeepEqual(reused, []bool{false, true, true}) {
		t.Fatalf("connection reuse %v, want [false true true]", reused)
	}
}

func TestDoneEndsStreamWhenServerHoldsBodyOpen(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, _ := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, `data: {"choices":[{"index":0,"delta":{"content":"x"}}]}`+"\n\ndata: [DONE]\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	s, err := c.ChatStream(context.Background(), simpleRequest())
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	chunks, err := collect(t, s)
	if err != io.EOF || len(chunks) != 1 {
		t.Fatalf("%d chunks, end %v; want 1 chunk and io.EOF", len(chunks), err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("clean end took %v", d)
	}
}

func TestConcurrentCallsShareOneClient(t *testing.T) {
	srv, seen := newServer(t, fixtureHandler(t, 200, "application/json", "response_unary.json"))
	c := newClient(t, Options{BaseURL: srv.URL, APIKey: "k"})
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Go(func() {
			_, err := c.Chat(context.Background(), simpleRequest())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := len(seen()); n != 16 {
		t.Fatalf("server saw %d requests", n)
	}
}

func TestListModelsAndEmbed(t *testing.T) {
	srv, seen := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/models" {
			fixtureHandler(t, 200, "application/json", "models_response.json")(w, r)
			return
		}
		fixtureHandler(t, 200, "application/json", "embeddings_response.json")(w, r)
	})
	c := newClient(t, Options{BaseURL: srv.URL + "/v1", APIKey: "k"})
	models, err := c.ListModels(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantModels := []llm.Model{
		{ID: "gpt-4o-mini", Created: 1721172741, OwnedBy: "system"},
		{ID: "text-embedding-3-small", Created: 1705948997, OwnedBy: "system"},
		{ID: "ft:gpt-4o-mini-2024-07-18:acme::9xYz", Created: 1730000000, OwnedBy: "user-abc123"},
	}
	if !reflect.DeepEqual(models, wantModels) {
		t.Fatalf("models %+v", models)
	}
	emb, err := c.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-3-small",
		Input: []string{"first", "second"}, Dimensions: ptr(3)})
	if err != nil {
		t.Fatal(err)
	}
	if emb.Vectors[1][0] != 0.25 || emb.Usage.PromptTokens != 8 {
		t.Fatalf("embeddings %+v", emb)
	}
	reqs := seen()
	if reqs[0].Method != http.MethodGet || reqs[0].Path != "/v1/models" || len(reqs[0].Body) != 0 {
		t.Errorf("models request %+v", reqs[0])
	}
	if reqs[1].Path != "/v1/embeddings" {
		t.Errorf("embeddings path %q", reqs[1].Path)
	}
	assertJSONEqual(t, reqs[1].Body, []byte(`{"model":"text-embedding-3-small","input":["first","second"],"encoding_format":"float","dimensions":3}`))

	_, err = c.Embed(context.Background(), &llm.EmbeddingRequest{Model: "m", Input: []string{"only one"}})
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 200 || !strings.Contains(ue.Message, "2 embeddings for 1 inputs") {
		t.Fatalf("count mismatch err = %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
		check   func(t *testing.T, c *Client)
	}{
		{name: "defaults to OpenAI", opts: Options{APIKey: "k"}, check: func(t *testing.T, c *Client) {
			if c.chatURL != "https://api.openai.com/v1/chat/completions" || c.Name() != "openai" || c.http == nil {
				t.Fatalf("%+v", c)
			}
		}},
		{name: "trailing slash trimmed", opts: Options{BaseURL: "https://api.deepseek.com/", APIKey: "k", Name: "deepseek"},
			check: func(t *testing.T, c *Client) {
				if c.chatURL != "https://api.deepseek.com/chat/completions" || c.Name() != "deepseek" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "azure defaults version and name", opts: Options{Azure: true, BaseURL: "https://r.openai.azure.com", APIKey: "k"},
			check: func(t *testing.T, c *Client) {
				if c.apiVersion != DefaultAzureAPIVersion || c.Name() != "azure" || c.auth != "" || c.apiKey != "k" {
					t.Fatalf("%+v", c)
				}
			}},
		{name: "keyless local ollama", opts: Options{BaseURL: "http://localhost:11434/v1"}},
		{name: "keyless loopback", opts: Options{BaseURL: "http://127.0.0.1:8000/v1"}},
		{name: "keyless private address", opts: Options{BaseURL: "http://10.0.3.7:8000/v1"}},
		{name: "keyless compose service", opts: Options{BaseURL: "http://vllm:8000/v1"}},
		{name: "keyless public host", opts: Options{BaseURL: "https://api.groq.com/openai/v1"}, wantErr: true},
		{name: "azure without base", opts: Options{Azure: true, APIKey: "k"}, wantErr: true},
		{name: "bad scheme", opts: Options{BaseURL: "ftp://x.example.com", APIKey: "k"}, wantErr: true},
		{name: "no host", opts: Options{BaseURL: "https://", APIKey: "k"}, wantErr: true},
		{name: "unparsable", opts: Options{BaseURL: "http://[::1", APIKey: "k"}, wantErr: true},
		{name: "query in base", opts: Options{BaseURL: "https://x.example.com/v1?a=b", APIKey: "k"}, wantErr: true},
		{name: "bad header name", opts: Options{APIKey: "k", Headers: map[string]string{"bad header": "v"}}, wantErr: true},
		{name: "header value injection", opts: Options{APIKey: "k", Headers: map[string]string{"X-A": "v\r\nX-B: w"}}, wantErr: true},
		{name: "key with newline", opts: Options{APIKey: "k\nX-Evil: 1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestNewHTTPClientPool(t *testing.T) {
	tests := []struct {
		in, want int
	}{{0, DefaultMaxIdleConnsPerHost}, {-3, DefaultMaxIdleConnsPerHost}, {64, 64}, {1 << 30, maxIdleConnsPerHostCap}}
	for _, tt := range tests {
		hc := NewHTTPClient(tt.in, 5*time.Second)
		tr, ok := hc.Transport.(*http.Transport)
		if !ok {
			t.Fatalf("transport %T", hc.Transport)
		}
		if tr.MaxIdleConnsPerHost != tt.want || !tr.ForceAttemptHTTP2 || tr.ResponseHeaderTimeout != 5*time.Second {
			t.Errorf("NewHTTPClient(%d): idle/host %d h2 %v header timeout %v", tt.in, tr.MaxIdleConnsPerHost,
				tr.ForceAttemptHTTP2, tr.ResponseHeaderTimeout)
		}
		if hc.Timeout != 0 {
			t.Errorf("client timeout %v would cut long streams", hc.Timeout)
		}
	}
}

func TestExcerpt(t *testing.T) {
	long := strings.Repeat("é", excerptBytes) // 2 bytes each: the cut lands mid-rune
	got := excerpt([]byte(long))
	if !strings.HasSuffix(got, "…") || strings.ContainsRune(got, '\uFFFD') || len(got) > excerptBytes+len("…") {
		t.Fatalf("excerpt of long body: %d bytes, %q…", len(got), got[:20])
	}
	if got := excerpt([]byte("  a\n\tb  ")); got != "a b" {
		t.Fatalf("excerpt = %q", got)
	}
	if got := excerpt([]byte("bad \xff utf8")); got != "bad \uFFFD utf8" {
		t.Fatalf("excerpt = %q", got)
	}
}

// TestRedirectsAreFollowed: the adapter calls the transport directly (see
// Client.do) but still follows an upstream's redirect like http.Client.
func TestRedirectsAreFollowed(t *testing.T) {
	answer := fixtureHandler(t, 200, "application/json", "response_unary.json")
	srv, seen := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old/chat/completions" {
			http.Redirect(w, r, "/v1/chat/completions", http.StatusPermanentRedirect)
			return
		}
		answer(w, r)
	})
	for _, tc := range []struct {
		name string
		hc   *http.Client
	}{
		{"shared transport called directly", nil},
		{"client with a timeout", &http.Client{Timeout: 5 * time.Second}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(seen())
			c := newClient(t, Options{BaseURL: srv.URL + "/old", APIKey: "sk-test", HTTPClient: tc.hc})
			resp, err := c.Chat(context.Background(), simpleRequest())
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].Message.Content == "" {
				t.Fatalf("decoded %+v", resp)
			}
			// The direct path sends the redirected request again through
			// http.Client (one extra request, on a path APIs do not take).
			got := seen()[before:]
			last := got[len(got)-1]
			if len(got) < 2 || last.Path != "/v1/chat/completions" || last.Method != http.MethodPost ||
				last.Header.Get("Authorization") != "Bearer sk-test" || string(last.Body) != string(got[0].Body) || len(last.Body) == 0 {
				t.Fatalf("requests seen: %+v", got)
			}
		})
	}
}

func TestTransportErrorKeepsHTTPClientShape(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	c := newClient(t, Options{BaseURL: "http://" + addr + "/v1"})
	_, err = c.Chat(context.Background(), simpleRequest())
	var ue *url.Error
	if !errors.As(err, &ue) || ue.Op != "Post" || ue.URL != "http://"+addr+"/v1/chat/completions" {
		t.Fatalf("err = %#v, want a *url.Error for Post", err)
	}
}
