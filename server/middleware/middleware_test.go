package middleware

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestRequestIDIsKeptWhenSaneAndReplacedOtherwise(t *testing.T) {
	cases := []struct {
		name, incoming string
		keep           bool
	}{
		{"none", "", false},
		{"client id", "abc-123", true},
		{"with a newline", "abc\nINFO fake log line", false},
		{"too long", strings.Repeat("a", 200), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var seen string
			h := Wrap(hclog.NewNullLogger(), 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = RequestID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if tc.incoming != "" {
				req.Header.Set(RequestIDHeader, tc.incoming)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if got := rec.Header().Get(RequestIDHeader); got != seen || seen == "" {
				t.Fatalf("header %q, context %q", got, seen)
			}
			if (seen == tc.incoming) != tc.keep {
				t.Fatalf("kept=%v, want %v (id %q)", seen == tc.incoming, tc.keep, seen)
			}
		})
	}
}

func TestPanicBecomesA500AndBodyLimitApplies(t *testing.T) {
	h := Wrap(hclog.NewNullLogger(), 4, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/panic" {
			panic("boom")
		}
		buf := make([]byte, 16)
		_, err := r.Body.Read(buf)
		if err == nil {
			_, err = r.Body.Read(buf)
		}
		if err != nil && strings.Contains(err.Error(), "too large") {
			w.WriteHeader(http.StatusRequestEntityTooLarge)
		}
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/panic", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), "server_error") {
		t.Fatalf("panic: %d %s", rec.Code, rec.Body)
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/", strings.NewReader("0123456789")))
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("body limit: %d", rec.Code)
	}
}

func TestHTTP2RequestsAreServedLikeHTTP1(t *testing.T) {
	for _, major := range []int{1, 2} {
		t.Run(fmt.Sprintf("HTTP/%d", major), func(t *testing.T) {
			var seen string
			h := Wrap(hclog.NewNullLogger(), 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = RequestID(r.Context())
				w.WriteHeader(http.StatusTeapot)
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.ProtoMajor = major
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusTeapot || seen == "" || rec.Header().Get(RequestIDHeader) != seen {
				t.Fatalf("status %d, id %q, header %q", rec.Code, seen, rec.Header().Get(RequestIDHeader))
			}
		})
	}
}

// deepCall uses about 300 bytes of stack per level, like the frames of a
// request's decode and upstream round trip.
//
//go:noinline
func deepCall(n int) int {
	var pad [256]byte
	pad[n&255] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deepCall(n-1) + int(pad[n&255])
}

// BenchmarkWrapFreshGoroutine serves each request on a new goroutine, as
// net/http does for HTTP/2, with a handler needing ~24 KB of stack: HTTP/2
// requests get their stack grown once up front, HTTP/1 ones (served on a
// long-lived connection goroutine in real use) are left to grow it frame
// by frame.
func BenchmarkWrapFreshGoroutine(b *testing.B) {
	for _, major := range []int{1, 2} {
		b.Run(fmt.Sprintf("HTTP%d", major), func(b *testing.B) {
			h := Wrap(hclog.NewNullLogger(), 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				deepCall(80)
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.ProtoMajor = major
			rec := httptest.NewRecorder()
			done := make(chan struct{})
			b.ReportAllocs()
			for b.Loop() {
				go func() {
					h.ServeHTTP(rec, req)
					done <- struct{}{}
				}()
				<-done
			}
		})
	}
}

func TestNewRequestIDIsWellFormedAndUnique(t *testing.T) {
	seen := make(map[string]bool, 10000)
	for i := 0; i < 10000; i++ {
		id := NewRequestID()
		if len(id) != 28 || !strings.HasPrefix(id, "req_") || strings.Trim(id[4:], "0123456789abcdef") != "" {
			t.Fatalf("malformed id %q", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated after %d", id, i)
		}
		seen[id] = true
	}
}

func BenchmarkNewRequestID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = NewRequestID()
	}
}
