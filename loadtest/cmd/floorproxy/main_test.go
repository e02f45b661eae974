package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestForwardsRequestAndRelaysAnswer(t *testing.T) {
	cases := []struct {
		name, contentType, answer string
	}{
		{"unary json", "application/json", `{"ok":true}`},
		{"event stream", "text/event-stream", "data: {\"a\":1}\n\ndata: [DONE]\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var gotPath, gotAuth, gotBody string
			up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				b, _ := io.ReadAll(r.Body)
				gotPath, gotAuth, gotBody = r.URL.RequestURI(), r.Header.Get("Authorization"), string(b)
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(http.StatusCreated)
				_, _ = io.WriteString(w, tc.answer)
			}))
			t.Cleanup(up.Close)
			px := httptest.NewServer(newProxy(up.URL))
			t.Cleanup(px.Close)

			req, _ := http.NewRequest("POST", px.URL+"/v1/chat/completions?x=1", strings.NewReader(`{"model":"m"}`))
			req.Header.Set("Authorization", "Bearer k")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusCreated || string(b) != tc.answer || resp.Header.Get("Content-Type") != tc.contentType {
				t.Fatalf("answer %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
			if gotPath != "/v1/chat/completions?x=1" || gotAuth != "Bearer k" || gotBody != `{"model":"m"}` {
				t.Fatalf("upstream saw %q %q %q", gotPath, gotAuth, gotBody)
			}
		})
	}
}
