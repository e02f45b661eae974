package fakeupstream

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPriceFeedServesBothFormatsAndChangesOnPost(t *testing.T) {
	s := New(Options{Prices: map[string]FeedPrice{"openai/gpt-4o": {Input: 2.5, Output: 10, CachedInput: 1.25}}})
	get := func(q string) string {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/_control/prices"+q, nil))
		if rec.Code != 200 {
			t.Fatalf("GET %s: %d %s", q, rec.Code, rec.Body)
		}
		return strings.TrimSpace(rec.Body.String())
	}
	for _, tc := range []struct{ name, query, want string }{
		{"openrouter", "", `{"data":[{"id":"openai/gpt-4o","pricing":{"prompt":"0.0000025","completion":"0.00001","input_cache_read":"0.00000125"}}]}`},
		{"litellm", "?format=litellm", `{"openai/gpt-4o":{"input_cost_per_token":0.0000025,"output_cost_per_token":0.00001,"cache_read_input_token_cost":0.00000125,"mode":"chat"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := get(tc.query); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/_control/prices", strings.NewReader(`{"x/m":{"input":1,"output":2}}`)))
	if rec.Code != 200 {
		t.Fatalf("POST: %d %s", rec.Code, rec.Body)
	}
	if got := get(""); got != `{"data":[{"id":"x/m","pricing":{"prompt":"0.000001","completion":"0.000002"}}]}` {
		t.Errorf("after POST: %s", got)
	}
	s.Reset()
	if p := s.Prices(); len(p) != 1 || p["openai/gpt-4o"].Input != 2.5 {
		t.Errorf("after reset: %+v", p)
	}
}
