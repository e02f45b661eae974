package anthropic

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
			set := testSettings(b, Options{}) // as a Client holds them
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := set.encodeRequest(bc.req, true); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStreamDecode reports the cost per SSE event of translating a
// whole stream (the tool-use fixture: thinking, text, two tool calls).
func BenchmarkStreamDecode(b *testing.B) {
	body := readFixture(b, "stream_tool_use.sse")
	events := bytes.Count(body, []byte("\n\n"))
	c := testClient(b, "http://127.0.0.1")
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		s := newStream(c, io.NopCloser(rd), 0)
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
	c := testClient(b, "http://127.0.0.1")
	s := newStream(c, io.NopCloser(bytes.NewReader(nil)), 0)
	s.roleSent = true
	ev := []byte(`{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, world"}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, ok, err := s.handle(ev); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkStream1000Events decodes one whole 1,000-event stream per op:
// message_start, a text block of 995 deltas, message_delta, message_stop.
func BenchmarkStream1000Events(b *testing.B) {
	const events = 1000
	var body []byte
	body = append(body, "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_1\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet-4-20250514\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":9,\"output_tokens\":1}}}\n\n"...)
	body = append(body, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n"...)
	body = append(body, "event: ping\ndata: {\"type\": \"ping\"}\n\n"...)
	for i := 0; i < events-6; i++ {
		body = append(body, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\" word\"}}\n\n"...)
	}
	body = append(body, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"...)
	body = append(body, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"end_turn\",\"stop_sequence\":null},\"usage\":{\"output_tokens\":994}}\n\n"...)
	body = append(body, "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	c := testClient(b, "http://127.0.0.1")
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		rd.Reset(body)
		s := newStream(c, io.NopCloser(rd), 0)
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
