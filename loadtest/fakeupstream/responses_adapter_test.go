package fakeupstream_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/adapters/openai"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// TestResponsesTranslationAgainstTheFake: a Chat-style domain request for a
// model that needs the Responses API goes to the fake's /v1/responses
// translated, and the answer (a forced function call, a reasoning summary
// when thinking was asked for, usage with reasoning tokens) comes back
// unary and streamed.
func TestResponsesTranslationAgainstTheFake(t *testing.T) {
	fake := fakeupstream.New(fakeupstream.Options{})
	ts := httptest.NewServer(fake)
	t.Cleanup(func() { _ = fake.Close(); ts.Close() })
	c, err := openai.New(openai.Options{BaseURL: ts.URL + "/v1", APIKey: "sk-test", ResponsesAPI: true,
		ModelAPI: map[string]string{"fake-gpt-pro": openai.APIResponses}})
	if err != nil {
		t.Fatal(err)
	}
	req := func(forced, think bool) *llm.ChatRequest {
		r := &llm.ChatRequest{Model: "fake-gpt-pro", ReasoningEffort: "high", Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Be brief."}, {Role: llm.RoleUser, Content: "Weather in Paris?"}}}
		if forced {
			r.Tools = []llm.Tool{{Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)}}
			r.ToolChoice = &llm.ToolChoice{Function: "get_weather"}
		}
		if think {
			r.Thinking = &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 2048}
		}
		return r
	}
	ctx := context.Background()
	for _, tc := range []struct {
		name          string
		forced, think bool
	}{{"text", false, false}, {"forced call", true, false}, {"text with summary", false, true}, {"call with summary", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := c.Chat(ctx, req(tc.forced, tc.think))
			if err != nil {
				t.Fatal(err)
			}
			m := resp.Choices[0].Message
			if tc.forced != (len(m.ToolCalls) == 1 && m.ToolCalls[0].Name == "get_weather" && strings.Contains(m.ToolCalls[0].Arguments, "city")) ||
				tc.forced != (resp.Choices[0].FinishReason == llm.FinishToolCalls) || tc.forced == (m.Content != "") {
				t.Fatalf("unary: %+v", resp.Choices[0])
			}
			if tc.think != (m.ReasoningContent == fakeupstream.FakeReasoningSummary) || tc.think != (resp.Usage.ReasoningTokens > 0) ||
				resp.Usage.CompletionTokens <= resp.Usage.ReasoningTokens || resp.Usage.PromptTokens == 0 {
				t.Fatalf("unary reasoning %q usage %+v", m.ReasoningContent, resp.Usage)
			}

			s, err := c.ChatStream(ctx, req(tc.forced, tc.think))
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var text, reasoning, args, finish string
			var usage *llm.Usage
			for {
				ch, err := s.Recv()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				for _, cc := range ch.Choices {
					text += cc.Delta.Content
					reasoning += cc.Delta.ReasoningContent
					for _, tcall := range cc.Delta.ToolCalls {
						args += tcall.Arguments
					}
					if cc.FinishReason != "" {
						finish = cc.FinishReason
					}
				}
				if ch.Usage != nil {
					usage = ch.Usage
				}
			}
			if tc.forced != (args != "" && finish == llm.FinishToolCalls) || tc.forced == (text != "") ||
				tc.think != (reasoning == fakeupstream.FakeReasoningSummary) || usage == nil || tc.think != (usage.ReasoningTokens > 0) {
				t.Fatalf("stream: text %q reasoning %q args %q finish %q usage %+v", text, reasoning, args, finish, usage)
			}
		})
	}
}
