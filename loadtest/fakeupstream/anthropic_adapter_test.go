package fakeupstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/adapters/anthropic"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// TestAnthropicAdapterFidelityAgainstTheFake: a Chat Completions-shaped
// request through the Anthropic adapter to the fake — response_format by a
// forced tool and natively, unary and streamed, gives JSON text; cache
// hints give a cache write, then a read, priced once in the prompt;
// reasoning effort gives signed thinking back; a PDF part is taken.
func TestAnthropicAdapterFidelityAgainstTheFake(t *testing.T) {
	fake := fakeupstream.New(fakeupstream.Options{})
	ts := httptest.NewServer(fake)
	t.Cleanup(func() { _ = fake.Close(); ts.Close() })
	newClient := func(o anthropic.Options) *anthropic.Client {
		o.BaseURL, o.APIKey = ts.URL, "sk-ant-test"
		c, err := anthropic.New(o)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	ctx := context.Background()
	schema := json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"number"}},"required":["city","celsius"],"additionalProperties":false}`)
	jsonReq := func() *llm.ChatRequest {
		return &llm.ChatRequest{Model: "fake-claude", Messages: []llm.Message{{Role: llm.RoleUser, Content: "Weather in Paris?"}},
			ResponseFormat: &llm.ResponseFormat{Type: "json_schema", SchemaName: "weather", Schema: schema}}
	}
	for _, tc := range []struct {
		name string
		c    *anthropic.Client
	}{
		{"forced tool", newClient(anthropic.Options{})},
		{"native", newClient(anthropic.Options{NativeStructuredOutput: []string{"fake-*"}})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := tc.c.Chat(ctx, jsonReq())
			if err != nil {
				t.Fatal(err)
			}
			c := resp.Choices[0]
			var v struct {
				City    *string  `json:"city"`
				Celsius *float64 `json:"celsius"`
			}
			if err := json.Unmarshal([]byte(c.Message.Content), &v); err != nil || v.City == nil || v.Celsius == nil || c.FinishReason != llm.FinishStop || len(c.Message.ToolCalls) > 0 {
				t.Fatalf("unary %q finish %q calls %v (%v)", c.Message.Content, c.FinishReason, c.Message.ToolCalls, err)
			}
			st, err := tc.c.ChatStream(ctx, jsonReq())
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			var text strings.Builder
			finish := ""
			for {
				ch, err := st.Recv()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, cc := range ch.Choices {
					text.WriteString(cc.Delta.Content)
					finish = max(finish, cc.FinishReason)
				}
			}
			if text.String() != c.Message.Content || finish != llm.FinishStop {
				t.Fatalf("streamed %q finish %q, unary %q", text.String(), finish, c.Message.Content)
			}
		})
	}

	t.Run("cache hints: a write, then a read", func(t *testing.T) {
		c := newClient(anthropic.Options{})
		req := func(q string) *llm.ChatRequest {
			return &llm.ChatRequest{Model: "fake-claude", Messages: []llm.Message{
				{Role: llm.RoleSystem, Content: "You are a very careful weather bot.", Cache: &llm.CacheHint{Type: "ephemeral"}},
				{Role: llm.RoleUser, Content: q}}}
		}
		first, err := c.Chat(ctx, req("Paris today?"))
		if err != nil {
			t.Fatal(err)
		}
		second, err := c.Chat(ctx, req("Rome?"))
		if err != nil {
			t.Fatal(err)
		}
		if u := first.Usage; u.CacheCreationTokens != 7 || u.CachedTokens != 0 || u.PromptTokens != 9 {
			t.Errorf("first usage %+v", u)
		}
		if u := second.Usage; u.CachedTokens != 7 || u.CacheCreationTokens != 0 || u.PromptTokens != 8 {
			t.Errorf("second usage %+v", u)
		}
	})

	t.Run("reasoning effort thinks", func(t *testing.T) {
		resp, err := newClient(anthropic.Options{}).Chat(ctx, &llm.ChatRequest{Model: "fake-claude", MaxTokens: new(8000), ReasoningEffort: "medium",
			Temperature: new(0.3), Messages: []llm.Message{{Role: llm.RoleUser, Content: "Think."}}})
		if err != nil {
			t.Fatal(err)
		}
		if m := resp.Choices[0].Message; m.ReasoningContent != fakeupstream.FakeThinking || m.ReasoningSignature != fakeupstream.FakeThinkingSignature {
			t.Fatalf("reasoning %q %q", m.ReasoningContent, m.ReasoningSignature)
		}
	})

	t.Run("a PDF part", func(t *testing.T) {
		_, err := newClient(anthropic.Options{}).Chat(ctx, &llm.ChatRequest{Model: "fake-claude", Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{
			{Type: llm.PartFile, File: &llm.FilePart{Data: "JVBERi0=", MIMEType: "application/pdf", Filename: "a.pdf"}},
			{Type: llm.PartText, Text: "Summarise."}}}}})
		if err != nil {
			t.Fatal(err)
		}
	})
}
