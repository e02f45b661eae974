package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

// FuzzStreamDecode feeds arbitrary bodies to the stream translator. The
// seed corpus in testdata/fuzz holds the real-format fixtures.
func FuzzStreamDecode(f *testing.F) {
	c, err := New(Options{APIKey: "k"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		s := newStream(c, io.NopCloser(bytes.NewReader(body)), 0)
		starts := 0
		sawUsage := false
		for i := 0; ; i++ {
			if i > len(body)+2 {
				t.Fatalf("more chunks (%d) than the body could hold", i)
			}
			ch, err := s.Recv()
			if err != nil {
				if errors.Is(err, io.EOF) && !sawUsage {
					t.Fatal("clean end without the usage chunk of message_stop")
				}
				if _, again := s.Recv(); again != err {
					t.Fatalf("error not sticky: %v then %v", err, again)
				}
				return
			}
			if i == 0 && (len(ch.Choices) == 0 || ch.Choices[0].Delta.Role != llm.RoleAssistant) {
				if ch.Usage == nil {
					t.Fatalf("first chunk without role: %+v", ch)
				}
			}
			if ch.Usage != nil {
				sawUsage = true
				if ch.Usage.TotalTokens != ch.Usage.PromptTokens+ch.Usage.CompletionTokens {
					t.Fatalf("usage does not add up: %+v", ch.Usage)
				}
			}
			for _, c := range ch.Choices {
				for _, tc := range c.Delta.ToolCalls {
					if tc.Type != "" { // a call's first delta
						if tc.Index != starts {
							t.Fatalf("tool call %q got index %d, want %d", tc.ID, tc.Index, starts)
						}
						starts++
					}
					if tc.Index < 0 || tc.Index >= starts {
						t.Fatalf("fragment for unknown tool index %d", tc.Index)
					}
				}
			}
		}
	})
}

// FuzzEncodeRequest translates arbitrary requests (JSON of llm.ChatRequest
// with Go field names). Whatever it accepts must be a body the Messages API
// could take: valid JSON, a positive max_tokens, alternating roles.
func FuzzEncodeRequest(f *testing.F) {
	f.Fuzz(func(t *testing.T, in []byte, stream bool) {
		var req llm.ChatRequest
		if json.Unmarshal(in, &req) != nil {
			return
		}
		body, err := encodeRequest(&req, stream)
		if err != nil {
			var de *llm.Error
			if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest {
				t.Fatalf("error is not an invalid-request error: %v", err)
			}
			return
		}
		var out struct {
			Model     string `json:"model"`
			MaxTokens int    `json:"max_tokens"`
			Stream    bool   `json:"stream"`
			Messages  []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			t.Fatalf("invalid body %s: %v", body, err)
		}
		if out.Model == "" || out.MaxTokens <= 0 || len(out.Messages) == 0 || out.Stream != stream {
			t.Fatalf("incomplete body %s", body)
		}
		for i, m := range out.Messages {
			if m.Role != "user" && m.Role != "assistant" {
				t.Fatalf("role %q", m.Role)
			}
			if i > 0 && out.Messages[i-1].Role == m.Role {
				t.Fatalf("consecutive %s messages not merged: %s", m.Role, body)
			}
			if string(m.Content) == `""` || string(m.Content) == "[]" {
				t.Fatalf("empty content: %s", body)
			}
		}
	})
}
