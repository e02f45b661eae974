package openai

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// body is an io.ReadCloser over fixed bytes that counts Close calls.
type body struct {
	io.Reader
	closes atomic.Int32
}

func (b *body) Close() error { b.closes.Add(1); return nil }

func streamOf(s string) (*stream, *body) {
	b := &body{Reader: strings.NewReader(s)}
	return newStream("openai", b), b
}

// collect reads a stream to its end, with a bound so a looping decoder
// fails the test instead of hanging it.
func collect(t testing.TB, s llm.Stream) ([]llm.Chunk, error) {
	t.Helper()
	var out []llm.Chunk
	for range 10000 {
		c, err := s.Recv()
		if err != nil {
			return out, err
		}
		out = append(out, c)
	}
	t.Fatal("stream did not end")
	return nil, nil
}

func TestStreamGolden(t *testing.T) {
	const idC, modelC = "chatcmpl-BmFkG6Z0r6kXv2cR3a1sYqJ9nP8oL", "gpt-4o-mini-2024-07-18"
	content := func(delta llm.Message, finish string) llm.Chunk {
		return llm.Chunk{ID: idC, Created: 1750800000, Model: modelC,
			Choices: []llm.ChunkChoice{{Index: 0, Delta: delta, FinishReason: finish}}}
	}
	const idT, modelT = "chatcmpl-BnRq8W3lZ5tS0vY1x2c3d4e5f6g7h", "gpt-4.1-2025-04-14"
	tool := func(tc llm.ToolCall, role llm.Role) llm.Chunk {
		return llm.Chunk{ID: idT, Created: 1751000000, Model: modelT,
			Choices: []llm.ChunkChoice{{Delta: llm.Message{Role: role, ToolCalls: []llm.ToolCall{tc}}}}}
	}
	tests := []struct {
		fixture string
		want    []llm.Chunk
	}{
		{"stream_content.sse", []llm.Chunk{
			content(llm.Message{Role: llm.RoleAssistant}, ""),
			content(llm.Message{Content: "Hello"}, ""),
			content(llm.Message{Content: "! How can I"}, ""),
			content(llm.Message{Content: " help \"you\"\ntoday?"}, ""),
			content(llm.Message{}, llm.FinishStop),
			{ID: idC, Created: 1750800000, Model: modelC,
				Usage: &llm.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29}},
		}},
		{"stream_tool_calls.sse", []llm.Chunk{
			tool(llm.ToolCall{Index: 0, ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Type: "function", Name: "get_weather"}, llm.RoleAssistant),
			tool(llm.ToolCall{Index: 0, Arguments: `{"lo`}, ""),
			tool(llm.ToolCall{Index: 0, Arguments: `cation":"Paris, France"}`}, ""),
			tool(llm.ToolCall{Index: 1, ID: "call_ABCDEFGHIJKLMNOPQRSTUVWX", Type: "function", Name: "get_weather"}, ""),
			tool(llm.ToolCall{Index: 1, Arguments: `{"location":`}, ""),
			tool(llm.ToolCall{Index: 1, Arguments: `"Bogotá, Colombia"}`}, ""),
			{ID: idT, Created: 1751000000, Model: modelT, Choices: []llm.ChunkChoice{{FinishReason: llm.FinishToolCalls}}},
			{ID: idT, Created: 1751000000, Model: modelT,
				Usage: &llm.Usage{PromptTokens: 66, CompletionTokens: 48, TotalTokens: 114, CachedTokens: 64}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s, b := streamOf(string(readFixture(t, tt.fixture)))
			got, err := collect(t, s)
			if err != io.EOF {
				t.Fatalf("end = %v, want io.EOF", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("chunks differ\ngot  %+v\nwant %+v", got, tt.want)
			}
			if _, err := s.Recv(); err != io.EOF {
				t.Fatalf("Recv after end = %v, want io.EOF again", err)
			}
			if b.closes.Load() != 1 {
				t.Fatalf("body closed %d times at EOF, want 1", b.closes.Load())
			}
		})
	}
}

// TestStreamChunksOwnTheirMemory guards the buffer reuse: a chunk kept by
// the caller must not change when later events are decoded.
func TestStreamChunksOwnTheirMemory(t *testing.T) {
	s, _ := streamOf(string(readFixture(t, "stream_tool_calls.sse")))
	first, err := s.Recv()
	if err != nil {
		t.Fatal(err)
	}
	snapshot := first.Choices[0].Delta.ToolCalls[0]
	if _, err := collect(t, s); err != io.EOF {
		t.Fatal(err)
	}
	if first.Choices[0].Delta.ToolCalls[0] != snapshot || first.Choices[0].Delta.Role != llm.RoleAssistant {
		t.Fatalf("first chunk changed: %+v", first.Choices[0])
	}
}

func TestSSEFraming(t *testing.T) {
	const c1 = `{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}`
	const c2 = `{"id":"a","choices":[{"index":0,"delta":{"content":"y"},"finish_reason":"stop"}]}`
	want := []string{"x", "y"}
	tests := []struct {
		name string
		in   string
	}{
		{"data with space", "data: " + c1 + "\n\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
		{"data without space", "data:" + c1 + "\n\ndata:" + c2 + "\n\ndata:[DONE]\n\n"},
		{"CRLF", "data: " + c1 + "\r\n\r\ndata: " + c2 + "\r\n\r\ndata: [DONE]\r\n\r\n"},
		{"comments and keep-alives", ": OPENROUTER PROCESSING\n\n\n\ndata: " + c1 + "\n\n: ping\n\n\n\ndata: " + c2 + "\n\n:\n\ndata: [DONE]\n\n"},
		{"multi-line data joined with newline", "data: {\"id\":\"a\",\ndata: \"choices\":[{\"index\":0,\"delta\":{\"content\":\"x\"}}]}\n\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
		{"event, id and retry fields ignored", "event: message\nid: 1\nretry: 10\ndata: " + c1 + "\n\nid: 2\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
		{"leading BOM", "\xEF\xBB\xBFdata: " + c1 + "\n\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
		{"events without blank separators at EOF", "data: " + c1 + "\n\ndata: " + c2 + "\n\ndata: [DONE]"},
		{"DONE with trailing newline only", "data: " + c1 + "\n\ndata: " + c2 + "\n\ndata: [DONE]\n"},
		{"empty choices preamble skipped (Azure)", `data: {"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{}}]}` + "\n\ndata: " + c1 + "\n\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
		{"blank tails and empty data events between values", "data: " + c1 + "  \t\n\ndata:\n\ndata:  \n\ndata:   " + c2 + "\n\ndata: [DONE]\n\n"},
		{"event split over many data lines", "data: {\ndata: \"id\": \"a\",\ndata: \"choices\": [{\"index\": 0,\ndata: \"delta\": {\"content\": \"x\"}}]\ndata: }\n\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
		{"line longer than the read buffer", "data: " + strings.Replace(c1, `"id":"a"`, `"id":"a","pad":"`+strings.Repeat("p", 3*sseBufferSize)+`"`, 1) + "\n\ndata: " + c2 + "\n\ndata: [DONE]\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, _ := streamOf(tt.in)
			got, err := collect(t, s)
			if err != io.EOF {
				t.Fatalf("end = %v, want io.EOF", err)
			}
			var texts []string
			for _, c := range got {
				texts = append(texts, c.Choices[0].Delta.Content)
			}
			if !reflect.DeepEqual(texts, want) {
				t.Fatalf("contents %q, want %q", texts, want)
			}
		})
	}
}

func TestStreamFailures(t *testing.T) {
	const c1 = `{"id":"a","choices":[{"index":0,"delta":{"content":"x"}}]}`
	tests := []struct {
		name       string
		in         string
		wantChunks int
		check      func(t *testing.T, err error)
	}{
		{"ends without DONE", "data: " + c1 + "\n\n", 1, wantTruncated},
		{"empty body", "", 0, wantTruncated},
		{"cut inside an event", "data: " + c1 + "\n\ndata: {\"id\":\"a\",\"choi", 1, wantTruncated},
		{"cut inside DONE", "data: " + c1 + "\n\ndata: [DO", 1, wantTruncated},
		{"only comments", ": keep-alive\n\n: keep-alive\n\n", 0, wantTruncated},
		{"error object mid-stream", "data: " + c1 + "\n\n" +
			`data: {"error":{"message":"The server had an error while processing your request.","type":"server_error","param":null,"code":null}}` + "\n\n",
			1, wantUpstream(500, "server_error", "", "The server had an error while processing your request.")},
		{"error event with numeric code (OpenRouter)", `data: {"id":"x","error":{"code":502,"message":"Provider returned error"},"choices":[{"index":0,"delta":{"content":""},"finish_reason":"error"}]}` + "\n\n",
			0, wantUpstream(502, "", "502", "Provider returned error")},
		{"event: error with bare object", "event: error\ndata: {\"message\":\"overloaded\",\"type\":\"overloaded_error\"}\n\n",
			0, wantUpstream(529, "overloaded_error", "", "overloaded")},
		{"event: error with text", "event: error\ndata: upstream exploded\n\n",
			0, wantUpstream(500, "", "", "upstream exploded")},
		{"rate limit error event", `data: {"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}` + "\n\n",
			0, wantUpstream(429, "requests", "rate_limit_exceeded", "slow down")},
		{"malformed JSON event", "data: {not json}\n\ndata: [DONE]\n\n", 0, wantMalformed(nil)},
		{"two JSON values in one event", "data: " + c1 + " " + c1 + "\n\ndata: [DONE]\n\n", 0, wantMalformed(errTrailingData)},
		{"garbage after the value", "data: " + c1 + "}\n\ndata: [DONE]\n\n", 0, wantMalformed(errTrailingData)},
		{"scalar event", "data: 42\n\ndata: [DONE]\n\n", 0, wantMalformed(nil)},
		{"negative tool call index", `data: {"choices":[{"index":0,"delta":{"tool_calls":[{"index":-1,"function":{"arguments":"x"}}]}}]}` + "\n\n", 0, wantMalformed(errBadIndex)},
		{"huge choice index", `data: {"choices":[{"index":99999999,"delta":{"content":"x"}}]}` + "\n\n", 0, wantMalformed(errBadIndex)},
		{"event larger than the limit", "data: \"" + strings.Repeat("x", maxEventBytes) + "\"\n\n", 0, func(t *testing.T, err error) {
			if !errors.Is(err, errEventTooLarge) {
				t.Fatalf("err = %v", err)
			}
		}},
		{"many data lines larger than the limit", strings.Repeat("data: "+strings.Repeat("x", 1<<20)+"\n", 9), 0, func(t *testing.T, err error) {
			if !errors.Is(err, errEventTooLarge) {
				t.Fatalf("err = %v", err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, b := streamOf(tt.in)
			got, err := collect(t, s)
			if len(got) != tt.wantChunks {
				t.Fatalf("got %d chunks before the error, want %d", len(got), tt.wantChunks)
			}
			if err == io.EOF || err == nil {
				t.Fatalf("stream ended cleanly (%v); want an error", err)
			}
			tt.check(t, err)
			if _, again := s.Recv(); again != err {
				t.Fatalf("error not sticky: %v then %v", err, again)
			}
			if b.closes.Load() != 1 {
				t.Fatalf("body closed %d times, want 1", b.closes.Load())
			}
		})
	}
}

// wantMalformed expects a connection-class UpstreamError wrapping target
// (any cause when target is nil).
func wantMalformed(target error) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) || ue.Status != 0 || ue.Err == nil {
			t.Fatalf("err = %#v, want UpstreamError{Status 0, Err}", err)
		}
		if target != nil && !errors.Is(err, target) {
			t.Fatalf("err = %v, want it to wrap %v", err, target)
		}
	}
}

func wantTruncated(t *testing.T, err error) {
	t.Helper()
	var ue *llm.UpstreamError
	if !errors.As(err, &ue) || ue.Status != 0 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want UpstreamError{Status 0} wrapping io.ErrUnexpectedEOF", err)
	}
	if !ue.Retryable() {
		t.Fatal("truncation must be retryable")
	}
}

func wantUpstream(status int, typ, code, msg string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ue *llm.UpstreamError
		if !errors.As(err, &ue) {
			t.Fatalf("err = %v, want *llm.UpstreamError", err)
		}
		if ue.Provider != "openai" || ue.Status != status || ue.Type != typ || ue.Code != code || ue.Message != msg {
			t.Fatalf("got %+v, want status %d type %q code %q message %q", ue, status, typ, code, msg)
		}
	}
}

func TestStreamCloseIsIdempotentAndStopsRecv(t *testing.T) {
	s, b := streamOf(string(readFixture(t, "stream_content.sse")))
	if _, err := s.Recv(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if b.closes.Load() != 1 {
		t.Fatalf("body closed %d times", b.closes.Load())
	}
	// The rest of the fixture is already buffered; it must not be served.
	if _, err := s.Recv(); !errors.Is(err, errStreamClosed) {
		t.Fatalf("Recv after Close = %v, want errStreamClosed", err)
	}
}
