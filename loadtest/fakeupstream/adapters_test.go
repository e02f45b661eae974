package fakeupstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/adapters/anthropic"
	"github.com/switchyard/switchyard/adapters/gemini"
	"github.com/switchyard/switchyard/adapters/openai"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// provider is the part of the gateway's Provider seam the adapters share.
type provider interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error)
}

// TestGatewayAdaptersReadTheFake runs the gateway's own provider adapters,
// which were written against the real APIs' golden fixtures, against the
// fake: if they understand it, the fake speaks the real formats.
func TestGatewayAdaptersReadTheFake(t *testing.T) {
	fake := fakeupstream.New(fakeupstream.Options{})
	ts := httptest.NewServer(fake)
	t.Cleanup(func() { _ = fake.Close(); ts.Close() })

	mk := func(p provider, err error) provider {
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	providers := []struct {
		name  string
		p     provider
		model string
	}{
		{"openai", mk(openai.New(openai.Options{BaseURL: ts.URL + "/v1", APIKey: "sk-test"})), "fake-gpt"},
		{"anthropic", mk(anthropic.New(anthropic.Options{BaseURL: ts.URL, APIKey: "sk-ant-test"})), "fake-claude"},
		{"gemini", mk(gemini.New(gemini.Options{BaseURL: ts.URL, APIKey: "AIza-test"})), "fake-gemini"},
	}
	const wantText = "Switchyard routes every request to the provider that answers best and streams each token back as"
	req := func(model, prompt string) *llm.ChatRequest {
		return &llm.ChatRequest{Model: model, Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "Be brief."},
			{Role: llm.RoleUser, Content: prompt},
		}}
	}
	toolReq := func(model string) *llm.ChatRequest {
		r := req(model, "Weather and time?")
		r.Tools = []llm.Tool{
			{Type: "function", Name: "get_weather", Parameters: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`)},
			{Type: "function", Name: "get_time", Parameters: json.RawMessage(`{"type":"object","properties":{"tz":{"type":"string"}}}`)},
		}
		r.ToolChoice = &llm.ToolChoice{Mode: "required"}
		return r
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	for _, pv := range providers {
		t.Run(pv.name+"/chat", func(t *testing.T) {
			resp, err := pv.p.Chat(ctx, req(pv.model, "Name three primes"))
			if err != nil {
				t.Fatal(err)
			}
			c := resp.Choices[0]
			if c.Message.Content != wantText || c.FinishReason != llm.FinishStop {
				t.Errorf("content %q finish %q", c.Message.Content, c.FinishReason)
			}
			if u := resp.Usage; u.PromptTokens != 5 || u.CompletionTokens != 16 || u.TotalTokens != 21 {
				t.Errorf("usage %+v", u)
			}
		})
		t.Run(pv.name+"/stream", func(t *testing.T) {
			text, finish, usage, calls, err := drain(ctx, pv.p, req(pv.model, "Name three primes"))
			if err != nil {
				t.Fatal(err)
			}
			if text != wantText || finish != llm.FinishStop || len(calls) != 0 {
				t.Errorf("text %q finish %q calls %v", text, finish, calls)
			}
			if usage == nil || usage.PromptTokens != 5 || usage.CompletionTokens != 16 || usage.TotalTokens != 21 {
				t.Errorf("usage %+v", usage)
			}
		})
		t.Run(pv.name+"/max tokens", func(t *testing.T) {
			r := req(pv.model, "Name three primes")
			n := 3
			r.MaxTokens = &n
			resp, err := pv.p.Chat(ctx, r)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Choices[0].FinishReason != llm.FinishLength || resp.Usage.CompletionTokens != 3 {
				t.Errorf("finish %q usage %+v", resp.Choices[0].FinishReason, resp.Usage)
			}
		})
		t.Run(pv.name+"/tool calls", func(t *testing.T) {
			resp, err := pv.p.Chat(ctx, toolReq(pv.model))
			if err != nil {
				t.Fatal(err)
			}
			c := resp.Choices[0]
			if c.FinishReason != llm.FinishToolCalls || len(c.Message.ToolCalls) != 2 {
				t.Fatalf("finish %q calls %+v", c.FinishReason, c.Message.ToolCalls)
			}
			for i, tc := range c.Message.ToolCalls {
				if tc.ID == "" || !json.Valid([]byte(tc.Arguments)) {
					t.Errorf("call %d: %+v", i, tc)
				}
			}
			_, finish, _, calls, err := drain(ctx, pv.p, toolReq(pv.model))
			if err != nil {
				t.Fatal(err)
			}
			if finish != llm.FinishToolCalls || len(calls) != 2 {
				t.Fatalf("stream finish %q calls %v", finish, calls)
			}
			for i, tc := range c.Message.ToolCalls {
				if calls[i].Name != tc.Name || calls[i].Arguments != tc.Arguments {
					t.Errorf("streamed call %d %+v, unary %+v", i, calls[i], tc)
				}
			}
		})
		t.Run(pv.name+"/status knob", func(t *testing.T) {
			_, err := pv.p.Chat(ctx, req(pv.model, "[[fake:status=429,retry_after=2]] Hi"))
			var ue *llm.UpstreamError
			if !errors.As(err, &ue) || ue.Status != 429 || ue.RetryAfter != 2*time.Second {
				t.Errorf("error %#v, want an UpstreamError 429 with RetryAfter 2s", err)
			}
		})
		t.Run(pv.name+"/abort knob", func(t *testing.T) {
			text, _, _, _, err := drain(ctx, pv.p, req(pv.model, "[[fake:abort_after=3]] Hi"))
			if err == nil {
				t.Fatalf("a cut stream ended cleanly with %q", text)
			}
			if text != "Switchyard routes every" {
				t.Errorf("text before the cut %q", text)
			}
		})
	}
}

// drain reads a stream to its end, joining text, tool-call fragments by
// index, and the finish reason and usage.
func drain(ctx context.Context, p provider, req *llm.ChatRequest) (text, finish string, usage *llm.Usage, calls []llm.ToolCall, err error) {
	s, err := p.ChatStream(ctx, req)
	if err != nil {
		return "", "", nil, nil, err
	}
	defer s.Close()
	var b strings.Builder
	for {
		ch, err := s.Recv()
		if errors.Is(err, io.EOF) {
			return b.String(), finish, usage, calls, nil
		}
		if err != nil {
			return b.String(), finish, usage, calls, err
		}
		if ch.Usage != nil {
			usage = ch.Usage
		}
		for _, c := range ch.Choices {
			b.WriteString(c.Delta.Content)
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
			for _, tc := range c.Delta.ToolCalls {
				for len(calls) <= tc.Index {
					calls = append(calls, llm.ToolCall{})
				}
				if tc.Name != "" {
					calls[tc.Index].Name = tc.Name
				}
				calls[tc.Index].Arguments += tc.Arguments
			}
		}
	}
}
