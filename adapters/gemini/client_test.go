package gemini

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

func testClient(t testing.TB, base string) *Client {
	t.Helper()
	c, err := New(Options{BaseURL: base, APIKey: "AIza-test"})
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return fixedNow }
	return c
}

func TestNewValidatesAndDefaults(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{name: "defaults", opts: Options{APIKey: "k"}},
		{name: "missing key", opts: Options{}, wantErr: true},
		{name: "relative base", opts: Options{APIKey: "k", BaseURL: "generativelanguage.googleapis.com"}, wantErr: true},
		{name: "base with query", opts: Options{APIKey: "k", BaseURL: "https://x/?key=1"}, wantErr: true},
		{name: "bad header", opts: Options{APIKey: "k", Headers: map[string]string{"x": "a\nb"}}, wantErr: true},
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
			if c.base != DefaultBaseURL || c.name != DefaultName {
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
	var gotPath, gotQuery string
	var gotHeader http.Header
	var gotBody []byte
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery, gotHeader = r.URL.Path, r.URL.RawQuery, r.Header.Clone()
		gotBody, _ = io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		_, _ = w.Write(readFixture(t, "response_text.json"))
	})
	shared := &http.Client{}
	c, err := New(Options{BaseURL: srv.URL, APIKey: "AIza-test", HTTPClient: shared, Headers: map[string]string{"X-Goog-User-Project": "proj"}})
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
	if gotPath != "/v1beta/models/gemini-2.5-flash:generateContent" || gotQuery != "" {
		t.Errorf("path = %q query %q", gotPath, gotQuery)
	}
	for k, want := range map[string]string{"X-Goog-Api-Key": "AIza-test", "Content-Type": "application/json", "X-Goog-User-Project": "proj"} {
		if got := gotHeader.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	assertJSONEqual(t, gotBody, readFixture(t, "request_simple.json"))
	if resp.Choices[0].Message.Content != "AI learns patterns from data to make predictions." || resp.Usage.TotalTokens != 18 {
		t.Errorf("unexpected response %+v", resp)
	}
}

func TestUpstreamErrorsAreMapped(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		header    map[string]string
		body      string
		wantRetry time.Duration
		wantType  string
		wantCode  string
		wantMsg   string
		kind      llm.Kind
	}{
		{
			name: "resource exhausted with RetryInfo", status: 429, body: string(readFixture(t, "error_resource_exhausted.json")),
			header:    map[string]string{"Retry-After": "30"}, // RetryInfo is more precise and wins
			wantRetry: 2 * time.Second, wantType: "RESOURCE_EXHAUSTED",
			wantMsg: "You exceeded your current quota, please check your plan and billing details.", kind: llm.KindRateLimited,
		},
		{
			name: "retry-after header without RetryInfo", status: 503, header: map[string]string{"Retry-After": "5"},
			body:      `{"error":{"code":503,"message":"The model is overloaded. Please try again later.","status":"UNAVAILABLE"}}`,
			wantRetry: 5 * time.Second, wantType: "UNAVAILABLE", wantMsg: "The model is overloaded. Please try again later.", kind: llm.KindUnavailable,
		},
		{
			name: "invalid key with ErrorInfo reason", status: 400, body: string(readFixture(t, "error_invalid_key.json")),
			wantType: "INVALID_ARGUMENT", wantCode: "API_KEY_INVALID", wantMsg: "API key not valid. Please pass a valid API key.", kind: llm.KindUnavailable, // our key is bad: a provider failure, failed over
		},
		{
			name: "array-shaped error", status: 404,
			body:     `[{"error":{"code":404,"message":"models/nope is not found","status":"NOT_FOUND"}}]`,
			wantType: "NOT_FOUND", wantMsg: "models/nope is not found", kind: llm.KindNotFound,
		},
		{
			name: "non-JSON body", status: 500, body: "upstream exploded",
			wantMsg: "upstream exploded", kind: llm.KindUnavailable,
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
				if ue.Provider != "gemini" || ue.Status != tt.status || ue.RetryAfter != tt.wantRetry ||
					ue.Type != tt.wantType || ue.Code != tt.wantCode || ue.Message != tt.wantMsg {
					t.Errorf("got %+v", ue)
				}
				if llm.KindOf(err) != tt.kind {
					t.Errorf("kind %v, want %v", llm.KindOf(err), tt.kind)
				}
			}
		})
	}
}

func TestConnectionErrorHasStatusZero(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	c := testClient(t, base)
	_, err := c.Chat(context.Background(), simpleRequest())
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || !ue.Retryable() {
		t.Fatalf("err = %v, want connection UpstreamError", err)
	}
}

func TestChatStreamOverHTTP(t *testing.T) {
	var gotPath, gotQuery string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath, gotQuery = r.URL.Path, r.URL.RawQuery
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(readFixture(t, "stream_tool_calls.sse"))
	})
	c := testClient(t, srv.URL)
	s, err := c.ChatStream(context.Background(), toolsRoundTripRequest())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if gotPath != "/v1beta/models/gemini-2.5-pro:streamGenerateContent" || gotQuery != "alt=sse" {
		t.Errorf("path %q query %q", gotPath, gotQuery)
	}
	chunks, err := collect(s)
	if !errors.Is(err, io.EOF) {
		t.Fatalf("err = %v", err)
	}
	if len(chunks) != 5 || chunks[0].Choices[0].Delta.Role != llm.RoleAssistant || chunks[4].Usage == nil {
		t.Errorf("unexpected chunks %+v", chunks)
	}
}

func TestChatStreamFailsBeforeFirstByte(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = io.WriteString(w, "data: {\"error\": {\"code\": 429, \"message\": \"Resource has been exhausted\", \"status\": \"RESOURCE_EXHAUSTED\", \"details\": [{\"@type\": \"type.googleapis.com/google.rpc.RetryInfo\", \"retryDelay\": \"1.5s\"}]}}\r\n\r\n")
	})
	c := testClient(t, srv.URL)
	s, err := c.ChatStream(context.Background(), simpleRequest())
	var ue *llm.UpstreamError
	if s != nil || !errors.As(err, &ue) || ue.Status != 429 || ue.RetryAfter != 1500*time.Millisecond {
		t.Fatalf("stream %v err %v, want 429 UpstreamError from ChatStream", s, err)
	}
}

func TestStreamCutMidway(t *testing.T) {
	full := string(readFixture(t, "stream_text.sse"))
	cut := full[:strings.LastIndex(full, "data: ")] // everything but the finishing event
	tests := []struct {
		name   string
		handle http.HandlerFunc
	}{
		{"body ends without a finish reason", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, cut)
		}},
		{"connection dropped", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			_, _ = io.WriteString(w, cut)
			w.(http.Flusher).Flush()
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
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
			if len(chunks) != 2 {
				t.Errorf("got %d chunks before the cut, want 2", len(chunks))
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
		// Reading the body lets the server notice the client going away.
		_, _ = io.Copy(io.Discard, r.Body)
		if !strings.HasSuffix(r.URL.Path, ":streamGenerateContent") {
			<-r.Context().Done()
			return
		}
		full := string(readFixture(t, "stream_text.sse"))
		_, _ = io.WriteString(w, full[:strings.Index(full, "\r\n\r\n")+4])
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
	t.Run("recv after close", func(t *testing.T) {
		c := testClient(t, srv.URL)
		s, err := c.ChatStream(context.Background(), simpleRequest())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Recv(); err != nil {
			t.Fatal(err)
		}
		_ = s.Close()
		if _, err := s.Recv(); !errors.Is(err, errStreamClosed) {
			t.Fatalf("Recv after Close = %v", err)
		}
	})
}

func TestListModels(t *testing.T) {
	var tokens []string
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1beta/models" || r.Header.Get("X-Goog-Api-Key") != "AIza-test" {
			http.Error(w, "bad", http.StatusBadRequest)
			return
		}
		tok := r.URL.Query().Get("pageToken")
		tokens = append(tokens, tok)
		if tok == "" {
			_, _ = io.WriteString(w, `{"models":[{"name":"models/gemini-2.5-pro"}],"nextPageToken":"Chxtb2RlbHMv"}`)
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
		{ID: "gemini-2.5-pro", OwnedBy: "google"},
		{ID: "gemini-2.5-flash", OwnedBy: "google"},
		{ID: "text-embedding-004", OwnedBy: "google"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("model %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if len(tokens) != 2 || tokens[1] != "Chxtb2RlbHMv" {
		t.Errorf("pagination tokens %q", tokens)
	}
}

func TestEmbed(t *testing.T) {
	var gotPath string
	var gotBody map[string]any
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		gotPath = r.URL.Path
		_ = json.NewDecoder(r.Body).Decode(&gotBody)
		_, _ = w.Write(readFixture(t, "embed_response.json"))
	})
	c := testClient(t, srv.URL)
	resp, err := c.Embed(context.Background(), &llm.EmbeddingRequest{
		Model: "text-embedding-004", Input: []string{"hello", "world"}, Dimensions: ptr(3),
	})
	if err != nil {
		t.Fatal(err)
	}
	if gotPath != "/v1beta/models/text-embedding-004:batchEmbedContents" {
		t.Errorf("path %q", gotPath)
	}
	wantBody := `{"requests":[
		{"model":"models/text-embedding-004","content":{"parts":[{"text":"hello"}]},"outputDimensionality":3},
		{"model":"models/text-embedding-004","content":{"parts":[{"text":"world"}]},"outputDimensionality":3}]}`
	b, _ := json.Marshal(gotBody)
	assertJSONEqual(t, b, []byte(wantBody))
	want := [][]float32{{0.013168523, -0.008711934, -0.046782676}, {-0.0231, 0.0412, 0.0099}}
	if resp.Model != "text-embedding-004" || len(resp.Vectors) != 2 {
		t.Fatalf("resp %+v", resp)
	}
	for i := range want {
		for j := range want[i] {
			if resp.Vectors[i][j] != want[i][j] {
				t.Errorf("vector[%d][%d] = %v, want %v", i, j, resp.Vectors[i][j], want[i][j])
			}
		}
	}

	t.Run("count mismatch is an upstream error", func(t *testing.T) {
		_, err := c.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-004", Input: []string{"a", "b", "c"}})
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("empty input rejected", func(t *testing.T) {
		_, err := c.Embed(context.Background(), &llm.EmbeddingRequest{Model: "text-embedding-004"})
		if llm.KindOf(err) != llm.KindInvalidRequest {
			t.Fatalf("err = %v", err)
		}
	})
}
