package fakeupstream

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// discardWriter is a flushing ResponseWriter that throws the bytes away,
// so a benchmark measures the handler, not a network.
type discardWriter struct {
	h http.Header
	n int64
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { d.n += int64(len(b)); return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Flush()                      {}

// benchHandler serves the same request b.N times in process.
func benchHandler(b *testing.B, opts Options, c call, stream bool) {
	s := New(opts)
	b.Cleanup(func() { _ = s.Close() })
	body := []byte(c.body)
	rd := bytes.NewReader(body)
	req := httptest.NewRequest(http.MethodPost, c.path, rd)
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	w := &discardWriter{h: make(http.Header)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rd.Reset(body)
		req.Body = io.NopCloser(rd)
		clear(w.h)
		s.ServeHTTP(w, req)
	}
	b.StopTimer()
	b.SetBytes(w.n / int64(b.N))
	if stream {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(opts.Knobs.words()), "ns/chunk")
	}
}

// BenchmarkOpenAIStream is the zero-latency hot path load tests use: one
// streamed answer per op, with usage, written to a discarding writer.
func BenchmarkOpenAIStream(b *testing.B) {
	for _, tokens := range []int{16, 256} {
		for _, rec := range []struct {
			name  string
			limit int
		}{{"records", 0}, {"norecords", -1}} {
			b.Run(strconv.Itoa(tokens)+"tokens/"+rec.name, func(b *testing.B) {
				benchHandler(b, Options{Knobs: Knobs{Tokens: tokens}, RecordLimit: rec.limit},
					call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Name three primes", true, "")}, true)
			})
		}
	}
}

func BenchmarkAnthropicStream(b *testing.B) {
	benchHandler(b, Options{Knobs: Knobs{Tokens: 16}, RecordLimit: -1},
		call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody("Name three primes", true, "")}, true)
}

func BenchmarkGeminiStream(b *testing.B) {
	benchHandler(b, Options{Knobs: Knobs{Tokens: 16}, RecordLimit: -1},
		call{path: "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody("Name three primes", "")}, true)
}

func BenchmarkOpenAIUnary(b *testing.B) {
	benchHandler(b, Options{Knobs: Knobs{Tokens: 16}, RecordLimit: -1},
		call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Name three primes", false, "")}, false)
}

// BenchmarkOpenAIStreamLoopback is the same stream over a real loopback
// connection with keep-alive, as a gateway sees the fake.
func BenchmarkOpenAIStreamLoopback(b *testing.B) {
	_, ts := serve(b, Options{Knobs: Knobs{Tokens: 16}, RecordLimit: -1})
	client := ts.Client()
	body := []byte(openaiBody("Name three primes", true, ""))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+"/v1/chat/completions", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer sk-bench")
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}
