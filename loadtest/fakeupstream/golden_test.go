package fakeupstream

import (
	"bytes"
	"flag"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the testdata/*.golden files")

// TestGoldenWireOutput pins the exact bytes of each format's answers, so a
// change to the wire output is a reviewed diff of testdata/. Each case runs
// on a fresh Server, whose ids start at 1, with a fixed clock.
func TestGoldenWireOutput(t *testing.T) {
	tests := []struct {
		golden string
		c      call
	}{
		{"openai_unary.json", call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Name three primes", false, `,"max_tokens":3`)}},
		{"openai_stream.sse", call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Name three primes", true, `,"max_tokens":3`)}},
		{"openai_stream_tools.sse", call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Weather?", true, weatherTools+`,"tool_choice":"required"`)}},
		{"openai_error_429.json", withHeaders(call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Hi", false, "")}, "X-Fake-Status", "429", "X-Fake-Retry-After", "2")},
		{"anthropic_unary.json", call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Name three primes", false, `,"max_tokens":3`)}},
		{"anthropic_stream.sse", call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Name three primes", true, `,"max_tokens":3`)}},
		{"anthropic_stream_tools.sse", call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Weather?", true, anthropicTools+`,"tool_choice":{"type":"any"}`)}},
		{"anthropic_error_529.json", withHeaders(call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Hi", false, "")}, "X-Fake-Status", "529")},
		{"gemini_unary.json", call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: geminiBody("Name three primes", `,"generationConfig":{"maxOutputTokens":3}`)}},
		{"gemini_stream.sse", call{path: "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody("Name three primes", `,"generationConfig":{"maxOutputTokens":3}`)}},
		{"gemini_stream_tools.sse", call{path: "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody("Weather?", geminiTools+`,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}`)}},
		{"gemini_error_429.json", withHeaders(call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: geminiBody("Hi", "")}, "X-Fake-Status", "429", "X-Fake-Retry-After", "2")},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			s := New(Options{Now: fixedNow})
			t.Cleanup(func() { _ = s.Close() })
			req := httptest.NewRequest("POST", tt.c.path, strings.NewReader(tt.c.body))
			for k, v := range tt.c.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			got := rec.Body.Bytes()
			file := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (run with -update to accept):\n got: %s\nwant: %s", file, got, want)
			}
		})
	}
}
