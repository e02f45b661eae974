package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// FuzzSSEDecoder feeds arbitrary bytes to the stream decoder: it must never
// panic or loop, and may end cleanly only after a [DONE] event.
func FuzzSSEDecoder(f *testing.F) {
	f.Add(readFixture(f, "stream_content.sse"))
	f.Add(readFixture(f, "stream_tool_calls.sse"))
	f.Add([]byte("data: {\"error\":{\"message\":\"x\",\"code\":500}}\n\n"))
	f.Add([]byte("event: error\r\ndata: oops\r\n\r\n"))
	f.Add([]byte(": c\n\ndata:{\"choices\":[{\"index\":3,\"delta\":{\"content\":[{\"type\":\"text\",\"text\":\"a\"}]}}]}\ndata: [DONE]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s := newStream("fuzz", &body{Reader: bytes.NewReader(data)})
		// Every chunk consumes at least one byte of input, so this bound
		// can only be hit by a decoder that stopped making progress.
		for i := 0; i <= len(data)+1; i++ {
			c, err := s.Recv()
			if err == nil {
				if len(c.Choices) == 0 && c.Usage == nil {
					t.Fatal("empty chunk returned")
				}
				continue
			}
			if err == io.EOF && !bytes.Contains(data, doneMarker) {
				t.Fatal("clean end without [DONE]")
			}
			var ue *llm.UpstreamError
			if err != io.EOF && !errors.As(err, &ue) {
				t.Fatalf("error %v (%T) is neither io.EOF nor *llm.UpstreamError", err, err)
			}
			if _, again := s.Recv(); again != err {
				t.Fatalf("terminal error not sticky: %v then %v", err, again)
			}
			return
		}
		t.Fatal("stream did not end")
	})
}

// FuzzEncodeRequest decodes fuzzed JSON into a request, splices raw bytes in
// where the request carries raw JSON, and encodes it: never a panic, and
// either a typed invalid-request error or a valid JSON body that keeps the
// routed model.
func FuzzEncodeRequest(f *testing.F) {
	f.Add([]byte(`{"Model":"gpt-4o","Messages":[{"Role":"user","Content":"hi"}]}`), []byte(`{"type":"object"}`))
	f.Add([]byte(`{"Model":"m","Messages":[{"Role":"assistant","ToolCalls":[{"ID":"c","Name":"f"}]}],"Tools":[{"Name":"f"}],"ToolChoice":{"Function":"f"}}`), []byte(`{`))
	f.Add([]byte(`{"Model":"m","Messages":[{"Role":"user","Parts":[{"Type":"image_url","ImageURL":"https://x/y.png"}]}],"ResponseFormat":{"Type":"json_schema"},"Extra":{"store":true}}`), []byte(`"x"`))
	f.Add([]byte(`{"Model":"m","Messages":[{"Role":"tool"}],"LogitBias":{"1":-1},"Metadata":{"a":"b"},"Stop":["\n"]}`), []byte(` `))
	f.Fuzz(func(t *testing.T, reqJSON, raw []byte) {
		var req llm.ChatRequest
		if json.Unmarshal(reqJSON, &req) != nil {
			return
		}
		if req.Extra == nil {
			req.Extra = map[string]json.RawMessage{}
		}
		req.Extra["fuzz"] = raw
		if len(req.Tools) > 0 {
			req.Tools[0].Parameters = raw
		}
		if req.ResponseFormat != nil {
			req.ResponseFormat.Schema = raw
		}
		for _, stream := range []bool{false, true} {
			body, err := encodeChat(&req, stream, stream)
			if err != nil {
				if llm.KindOf(err) != llm.KindInvalidRequest {
					t.Fatalf("error %v is not an invalid-request error", err)
				}
				continue
			}
			var top map[string]json.RawMessage
			if err := json.Unmarshal(body, &top); err != nil {
				t.Fatalf("encoded body is not a JSON object: %v\n%s", err, body)
			}
			var model string
			if json.Unmarshal(top["model"], &model) != nil || model != req.Model {
				t.Fatalf("model %q became %s", req.Model, top["model"])
			}
			if _, ok := top["stream_options"]; ok != stream {
				t.Fatalf("stream %v but stream_options present %v", stream, ok)
			}
		}
	})
}
