package middleware

import (
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
