package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// loopReader repeats data forever, so a stream benchmark measures Recv alone.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

func (r *loopReader) Close() error { return nil }

func benchRequest() *llm.ChatRequest {
	req := simpleRequest()
	req.Messages = append(req.Messages,
		llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "call_1", Name: "get_weather", Arguments: `{"location":"Paris"}`}}},
		llm.Message{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"temperature_c":14}`},
	)
	req.Tools = []llm.Tool{{Name: "get_weather", Description: "Get current temperature.", Parameters: weatherParams()}}
	req.ToolChoice = &llm.ToolChoice{Mode: "auto"}
	return req
}

func BenchmarkEncodeChat(b *testing.B) {
	req := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeChat(req, true, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeChatWithExtra(b *testing.B) {
	req := benchRequest()
	req.Extra = map[string]json.RawMessage{"service_tier": json.RawMessage(`"flex"`)}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeChat(req, true, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeChatResponse(b *testing.B) {
	data := readFixture(b, "response_unary.json")
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeChatResponse(data); err != nil {
			b.Fatal(err)
		}
	}
}

// benchStream measures one Recv per iteration: allocs/op is per chunk.
func benchStream(b *testing.B, event string) {
	s := newStream("bench", &loopReader{data: []byte(event)})
	b.SetBytes(int64(len(event)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Recv(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkStreamRecvContentChunk(b *testing.B) {
	benchStream(b, `data: {"id":"chatcmpl-BmFkG6Z0r6kXv2cR3a1sYqJ9nP8oL","object":"chat.completion.chunk","created":1750800000,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_34a54ae93c","choices":[{"index":0,"delta":{"content":" world"},"logprobs":null,"finish_reason":null}],"usage":null,"obfuscation":"jdKXm8"}`+"\n\n")
}

func BenchmarkStreamRecvToolCallChunk(b *testing.B) {
	benchStream(b, `data: {"id":"chatcmpl-BnRq8W3lZ5tS0vY1x2c3d4e5f6g7h","object":"chat.completion.chunk","created":1751000000,"model":"gpt-4.1-2025-04-14","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"function":{"arguments":"cation\":"}}]},"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n")
}

// BenchmarkChatRoundTrip is the adapter's whole unary path over loopback
// HTTP/1.1 keep-alive: encode, send, read, decode.
func BenchmarkChatRoundTrip(b *testing.B) {
	data := readFixture(b, "response_unary.json")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}))
	b.Cleanup(srv.Close)
	c, err := New(Options{BaseURL: srv.URL, APIKey: "k"})
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Chat(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStream1000Chunks decodes one whole 1,000-chunk stream per op
// (content deltas, finish, usage, [DONE]); ns/chunk and allocs/chunk are
// the per-chunk costs.
func BenchmarkStream1000Chunks(b *testing.B) {
	const chunks = 1000
	var body []byte
	for i := 0; i < chunks-2; i++ {
		body = append(body, `data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1750800000,"model":"gpt-4o-mini-2024-07-18","system_fingerprint":"fp_34a54ae93c","choices":[{"index":0,"delta":{"content":" word"},"logprobs":null,"finish_reason":null}],"usage":null}`+"\n\n"...)
	}
	body = append(body, `data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1750800000,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}`+"\n\n"...)
	body = append(body, `data: {"id":"chatcmpl-B1","object":"chat.completion.chunk","created":1750800000,"model":"gpt-4o-mini-2024-07-18","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":998,"total_tokens":1007}}`+"\n\ndata: [DONE]\n\n"...)
	rd := bytes.NewReader(body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		s := newStream("bench", io.NopCloser(rd))
		n := 0
		for {
			if _, err := s.Recv(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
			n++
		}
		if n != chunks {
			b.Fatalf("decoded %d chunks", n)
		}
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/chunks, "ns/chunk")
}

// BenchmarkStreamRecvLogprobsChunk is a content chunk that carries
// logprobs (one token, two alternatives): the price of asking for them.
func BenchmarkStreamRecvLogprobsChunk(b *testing.B) {
	benchStream(b, `data: {"id":"chatcmpl-BqLq1","object":"chat.completion.chunk","created":1751500001,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"delta":{"content":"Hi"},"logprobs":{"content":[{"token":"Hi","logprob":-0.0009,"bytes":[72,105],"top_logprobs":[{"token":"Hi","logprob":-0.0009,"bytes":[72,105]},{"token":"Hello","logprob":-7.25,"bytes":[72,101,108,108,111]}]}],"refusal":null},"finish_reason":null}],"usage":null}`+"\n\n")
}

// BenchmarkEncodeResponses is the Chat-to-Responses translation of a tool
// turn (system, user with a file, a call and its result, a schema).
func BenchmarkEncodeResponses(b *testing.B) {
	req := toolTurnRequest()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encodeResponses(req, true); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResponsesStream decodes one recorded Responses event stream
// (19 events: reasoning summary, text, completed) per op.
func BenchmarkResponsesStream(b *testing.B) {
	data := readFixture(b, "responses/stream_reasoning_text.sse")
	rd := bytes.NewReader(data)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(data)
		s := &responsesStream{provider: "bench", body: io.NopCloser(rd), calls: map[string]int{}}
		s.sse.Init(s.body, sseBufferSize)
		for {
			if _, err := s.Recv(); err != nil {
				if err != io.EOF {
					b.Fatal(err)
				}
				break
			}
		}
	}
}
