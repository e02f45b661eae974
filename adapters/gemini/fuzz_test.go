package gemini

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// FuzzStreamDecode feeds arbitrary bodies to the stream translator; the
// seed corpus in testdata/fuzz holds the real-format fixtures.
func FuzzStreamDecode(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newStream("gemini", io.NopCloser(bytes.NewReader(body)), "m", 0)
		calls := map[int]int{}    // candidate -> calls seen
		started := map[int]bool{} // candidate -> role seen
		finished := false
		for i := 0; ; i++ {
			if i > len(body)+2 {
				t.Fatalf("more chunks (%d) than the body could hold", i)
			}
			ch, err := s.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) && !finished {
					t.Fatal("clean end without any finish reason")
				}
				if _, again := s.Recv(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if ch.Usage != nil && len(ch.Choices) > 0 {
				t.Fatalf("usage chunk with choices: %+v", ch)
			}
			for _, c := range ch.Choices {
				if !started[c.Index] {
					if c.Delta.Role != llm.RoleAssistant {
						t.Fatalf("first delta of candidate %d without role: %+v", c.Index, c.Delta)
					}
					started[c.Index] = true
				} else if c.Delta.Role != "" {
					t.Fatalf("role repeated for candidate %d", c.Index)
				}
				for _, tc := range c.Delta.ToolCalls {
					if tc.Index != calls[c.Index] || tc.ID == "" || !json.Valid([]byte(tc.Arguments)) {
						t.Fatalf("bad tool call %+v (want index %d)", tc, calls[c.Index])
					}
					calls[c.Index]++
				}
				if c.FinishReason != "" {
					finished = true
				}
			}
		}
	})
}

// FuzzEncodeRequest translates arbitrary requests (JSON of llm.ChatRequest
// with Go field names). Whatever it accepts must be a body Gemini could
// take: valid JSON, alternating user/model turns, no empty parts.
func FuzzEncodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte) {
		var req llm.ChatRequest
		if json.Unmarshal(in, &req) != nil {
			return
		}
		body, err := encodeRequest(&req)
		if err != nil {
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest {
				t.Fatalf("error is not an invalid-request error: %v", err)
			}
			return
		}
		var out struct {
			Contents []struct {
				Role  string            `json:"role"`
				Parts []json.RawMessage `json:"parts"`
			} `json:"contents"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("invalid body %s: %v", body, err)
		}
		if len(out.Contents) == 0 && req.Extra == nil {
			t.Fatalf("no contents: %s", body)
		}
		for i, c := range out.Contents {
			if c.Role != "user" && c.Role != "model" {
				t.Fatalf("role %q", c.Role)
			}
			if i > 0 && out.Contents[i-1].Role == c.Role {
				t.Fatalf("consecutive %s turns not merged: %s", c.Role, body)
			}
			for _, p := range c.Parts {
				if string(p) == "{}" {
					t.Fatalf("empty part: %s", body)
				}
			}
		}
	})
}
