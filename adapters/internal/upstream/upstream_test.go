package upstream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/switchyard/switchyard/engine/llm"
)

// answer serves one canned response and records the request it was given.
type answer struct {
	status int
	header http.Header
	body   string
	err    error
	got    *http.Request
}

func (a *answer) RoundTrip(r *http.Request) (*http.Response, error) {
	a.got = r
	if a.err != nil {
		return nil, a.err
	}
	h := a.header
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{StatusCode: a.status, Header: h, ContentLength: int64(len(a.body)),
		Body: io.NopCloser(strings.NewReader(a.body)), Request: r}, nil
}

func newClient(rt http.RoundTripper, opts Options) *Client {
	opts.Name = "prov"
	opts.HTTP = &http.Client{Transport: rt}
	return New(opts)
}

func TestSendSetsProviderHeadersAfterItsOwn(t *testing.T) {
	cases := []struct {
		name    string
		headers [][2]string
		body    []byte
		accept  string
		extra   [][2]string
		want    map[string]string // "" means absent
	}{
		{"json body and accept", [][2]string{{"Authorization", "Bearer k"}}, []byte(`{}`), "application/json", nil,
			map[string]string{"Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer k"}},
		{"no body sends no content type", [][2]string{{"X-Api-Key", "k"}}, nil, "", nil,
			map[string]string{"Content-Type": "", "Accept": "", "X-Api-Key": "k"}},
		{"later headers replace earlier ones", [][2]string{{"Authorization", "Bearer k"}, {"Authorization", "Custom x"}, {"Accept", "text/plain"}},
			[]byte(`{}`), "text/event-stream", nil, map[string]string{"Authorization": "Custom x", "Accept": "text/plain"}},
		{"a call's own headers come last", [][2]string{{"X-Api-Key", "k"}, {"Anthropic-Beta", "op-beta"}}, []byte(`{}`), "",
			[][2]string{{"Anthropic-Beta", "op-beta,client-beta"}}, map[string]string{"X-Api-Key": "k", "Anthropic-Beta": "op-beta,client-beta"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := &answer{status: 200}
			c := newClient(a, Options{Headers: tc.headers})
			resp, err := c.Send(context.Background(), http.MethodPost, "http://up.test/x", tc.body, tc.accept, tc.extra...)
			if err != nil {
				t.Fatal(err)
			}
			DrainClose(resp.Body)
			for k, v := range tc.want {
				if got := a.got.Header.Get(k); got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
		})
	}
}

func TestSendMapsFailures(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name       string
		ctx        context.Context
		ans        *answer
		statusErr  StatusErrorFunc
		wantStatus int // of the *llm.UpstreamError; -1: not one
		wantMsg    string
		wantCtx    error
	}{
		{name: "connection failure is status 0", ctx: context.Background(),
			ans: &answer{err: errors.New("connection refused")}, wantStatus: 0},
		{name: "own cancellation stays the ctx error", ctx: canceled,
			ans: &answer{err: context.Canceled}, wantStatus: -1, wantCtx: context.Canceled},
		{name: "plain error body without a format", ctx: context.Background(),
			ans: &answer{status: 502, body: "  <html>bad gateway</html>\n"}, wantStatus: 502, wantMsg: "<html>bad gateway</html>"},
		{name: "empty error body gets the status text", ctx: context.Background(),
			ans: &answer{status: 503}, wantStatus: 503, wantMsg: "Service Unavailable"},
		{name: "provider format gets status, headers and body", ctx: context.Background(),
			ans: &answer{status: 429, header: http.Header{"X-Why": {"quota"}}, body: `{"e":1}`},
			statusErr: func(status int, h http.Header, body []byte) error {
				return &llm.UpstreamError{Status: status, Message: h.Get("X-Why") + " " + string(body)}
			}, wantStatus: 429, wantMsg: `quota {"e":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(tc.ans, Options{StatusError: tc.statusErr})
			resp, err := c.Send(tc.ctx, http.MethodGet, "http://up.test/x", nil, "")
			if err == nil {
				resp.Body.Close()
				t.Fatal("no error")
			}
			var ue *llm.UpstreamError
			isUE := errors.As(err, &ue)
			if tc.wantStatus < 0 {
				if isUE || !errors.Is(err, tc.wantCtx) {
					t.Fatalf("err = %v, want the ctx error %v", err, tc.wantCtx)
				}
				return
			}
			if !isUE || ue.Status != tc.wantStatus || ue.Message != tc.wantMsg {
				t.Fatalf("err = %#v, want status %d message %q", err, tc.wantStatus, tc.wantMsg)
			}
		})
	}
}

func TestSendBoundsTheErrorBody(t *testing.T) {
	var got int
	c := newClient(&answer{status: 500, body: strings.Repeat("x", 10<<10)}, Options{MaxErrorBody: 1 << 10,
		StatusError: func(status int, _ http.Header, body []byte) error {
			got = len(body)
			return &llm.UpstreamError{Status: status}
		}})
	if _, err := c.Send(context.Background(), http.MethodGet, "http://up.test/x", nil, ""); err == nil {
		t.Fatal("no error")
	}
	if got != 1<<10 {
		t.Fatalf("status error saw %d bytes, want the 1 KiB bound", got)
	}
}

// TestSendFollowsRedirectsOnTheDirectPath: the transport is called
// directly, yet a redirect is still followed as http.Client would.
func TestSendFollowsRedirectsOnTheDirectPath(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusPermanentRedirect)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_, _ = w.Write(append([]byte(r.URL.Path+" "+r.Header.Get("X-Api-Key")+" "), b...))
	}))
	t.Cleanup(srv.Close)
	c := New(Options{Name: "prov", HTTP: srv.Client(), Headers: [][2]string{{"X-Api-Key", "k"}}})
	if !c.direct {
		t.Fatal("a plain client should take the direct path")
	}
	resp, err := c.Send(context.Background(), http.MethodPost, srv.URL+"/old", []byte(`{"a":1}`), "")
	if err != nil {
		t.Fatal(err)
	}
	data, err := c.ReadBody(context.Background(), resp)
	if err != nil || string(data) != `/new k {"a":1}` {
		t.Fatalf("got %q, %v", data, err)
	}
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name       string
		body       string
		decode     func([]byte) (string, error)
		want       string
		wantStatus int
		wantMsg    string
	}{
		{"decoded", "hello", func(b []byte) (string, error) { return string(b), nil }, "hello", 0, ""},
		{"plain decode error", "x", func([]byte) (string, error) { return "", errors.New("bad json") },
			"", 200, "invalid response body: bad json"},
		{"decoder's own upstream error keeps its message and gets the status", "x",
			func([]byte) (string, error) { return "", &llm.UpstreamError{Message: "malformed model list"} },
			"", 200, "malformed model list"},
		{"decoder's own status wins", "x",
			func([]byte) (string, error) { return "", &llm.UpstreamError{Status: 429, Message: "quota"} },
			"", 429, "quota"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(&answer{status: 200, body: tc.body}, Options{})
			resp, err := c.Send(context.Background(), http.MethodGet, "http://up.test/x", nil, "")
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(context.Background(), c, resp, tc.decode)
			if tc.wantStatus == 0 {
				if err != nil || got != tc.want {
					t.Fatalf("got %q, %v", got, err)
				}
				return
			}
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) || ue.Provider != "prov" || ue.Status != tc.wantStatus || ue.Message != tc.wantMsg {
				t.Fatalf("err = %#v", err)
			}
		})
	}
}

func TestReadBodyFailures(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name    string
		ctx     context.Context
		body    io.Reader
		size    int64
		wantMsg string
		wantCtx bool
	}{
		{"cut connection is status 0", context.Background(), iotest.ErrReader(io.ErrUnexpectedEOF), -1, "", false},
		{"own cancellation stays the ctx error", canceled, iotest.ErrReader(context.Canceled), -1, "", true},
		{"over the bound", context.Background(), io.LimitReader(zeros{}, MaxResponseBytes+10), -1, "response body too large", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Options{Name: "prov"})
			resp := &http.Response{StatusCode: 200, ContentLength: tc.size, Body: io.NopCloser(tc.body)}
			_, err := c.ReadBody(tc.ctx, resp)
			var ue *llm.UpstreamError
			if tc.wantCtx {
				if errors.As(err, &ue) || !errors.Is(err, context.Canceled) {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.As(err, &ue) || ue.Message != tc.wantMsg {
				t.Fatalf("err = %#v", err)
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

func TestReadLimitedInto(t *testing.T) {
	cases := []struct {
		name    string
		in      string
		size    int64
		limit   int64
		want    string
		wantErr error
	}{
		{"known length", "abcdef", 6, 100, "abcdef", nil},
		{"unknown length", strings.Repeat("z", 5000), -1, 1 << 20, strings.Repeat("z", 5000), nil},
		{"wrong length still reads to EOF", "abcdef", 2, 100, "abcdef", nil},
		{"exactly the limit", "abcd", -1, 4, "abcd", nil},
		{"over the limit", "abcde", -1, 4, "abcd", ErrTooLarge},
		{"empty", "", 0, 4, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// One byte per Read exercises the growth path.
			got, err := ReadLimitedInto(make([]byte, 3), iotest.OneByteReader(strings.NewReader(tc.in)), tc.size, tc.limit)
			if string(got) != tc.want || !errors.Is(err, tc.wantErr) {
				t.Fatalf("got %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestReadLimitedIntoReusesALargeEnoughBuffer(t *testing.T) {
	buf := make([]byte, 0, 64)
	got, err := ReadLimitedInto(buf, strings.NewReader("hello"), 5, 100)
	if err != nil || &got[0] != &buf[:1][0] {
		t.Fatalf("buffer not reused (err %v)", err)
	}
}

func TestPlainMessage(t *testing.T) {
	cases := []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"trimmed", 502, "\n  upstream exploded \n", "upstream exploded"},
		{"empty gets the status text", 429, " ", "Too Many Requests"},
		{"cut to 512 bytes", 500, strings.Repeat("a", 600), strings.Repeat("a", 512)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PlainMessage(tc.status, []byte(tc.body)); got != tc.want {
				t.Fatalf("got %q", got)
			}
		})
	}
}

func TestNewHTTPClientPool(t *testing.T) {
	cases := []struct{ in, want int }{
		{0, DefaultMaxIdleConnsPerHost}, {-1, DefaultMaxIdleConnsPerHost}, {8, 8}, {1 << 30, MaxIdleConnsPerHostCap},
	}
	for _, tc := range cases {
		tr := NewHTTPClient(tc.in, -1).Transport.(*http.Transport)
		if tr.MaxIdleConnsPerHost != tc.want || tr.ResponseHeaderTimeout != 0 || tr.HTTP2 == nil {
			t.Errorf("NewHTTPClient(%d): idle/host %d, header timeout %v", tc.in, tr.MaxIdleConnsPerHost, tr.ResponseHeaderTimeout)
		}
	}
}

// BenchmarkSendDecode is the shared unary path without a network: build
// and send a call with auth headers, read the answer into a reused buffer.
func BenchmarkSendDecode(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 600)
	a := &answer{status: 200, body: string(body)}
	c := newClient(a, Options{Headers: [][2]string{{"Authorization", "Bearer k"}, {"X-Extra", "1"}}})
	ctx := context.Background()
	req := []byte(`{"model":"m"}`)
	length := func(b []byte) (int, error) { return len(b), nil }
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Send(ctx, http.MethodPost, "http://up.test/v1/chat/completions", req, "application/json")
		if err != nil {
			b.Fatal(err)
		}
		if n, err := Decode(ctx, c, resp, length); err != nil || n != len(body) {
			b.Fatal(n, err)
		}
	}
}
