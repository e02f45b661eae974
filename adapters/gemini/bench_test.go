package gemini

import (
	"bytes"
	"io"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func BenchmarkEncodeRequest(b *testing.B) {
	for _, bc := range []struct {
		name string
		req  *llm.ChatRequest
	}{
		{"simple", simpleRequest()},
		{"tools", toolsRoundTripRequest()},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := encodeRequest(bc.req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamDecode reports the cost per SSE event of translating a
// whole stream (the tool-call fixture: thought, text, two calls, usage).
func BenchmarkStreamDecode(b *testing.B) {
	body := readFixture(b, "stream_tool_calls.sse")
	events := bytes.Count(body, []byte("\r\n\r\n"))
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		s := newStream("gemini", io.NopCloser(rd), "m", 0)
		for {
			if _, err := s.Recv(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}

func BenchmarkDecodeEvent(b *testing.B) {
	s := newStream("gemini", io.NopCloser(bytes.NewReader(nil)), "m", 0)
	ev := []byte(`{"candidates": [{"content": {"parts": [{"text": "Hello, world"}],"role": "model"},"index": 0}],"usageMetadata": {"promptTokenCount": 8,"totalTokenCount": 8},"modelVersion": "gemini-2.5-flash","responseId": "mAitaLmkHPPlz7IPvtfUqQ4"}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.handle(ev); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkStream1000Events decodes one whole 1,000-event stream per op.
func BenchmarkStream1000Events(b *testing.B) {
	const events = 1000
	var body []byte
	for i := 0; i < events-1; i++ {
		body = append(body, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \" word\"}],\"role\": \"model\"},\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"totalTokenCount\": 9},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"r1\"}\r\n\r\n"...)
	}
	body = append(body, "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \".\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],\"usageMetadata\": {\"promptTokenCount\": 9,\"candidatesTokenCount\": 1000,\"totalTokenCount\": 1009},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"r1\"}\r\n\r\n"...)
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		s := newStream("gemini", io.NopCloser(rd), "m", 0)
		for {
			if _, err := s.Recv(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}
