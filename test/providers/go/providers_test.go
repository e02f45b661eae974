// Package providers runs the official OpenAI Go SDK (openai-go) through a
// live Switchyard gateway to each provider wire format the fake upstream
// speaks. scripts/test-providers.sh starts both and sets
// SWITCHYARD_BASE_URL; the suite is a module of its own so the gateway's
// go.mod does not carry a client SDK.
package providers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// targets are the models of test/providers/switchyard.yaml, one per format.
var targets = []struct{ format, model string }{
	{"openai", "fake-gpt"},
	{"anthropic", "fake-claude"},
	{"gemini", "fake-gemini"},
}

func client(t *testing.T) openai.Client {
	t.Helper()
	base := os.Getenv("SWITCHYARD_BASE_URL")
	if base == "" {
		t.Fatal("SWITCHYARD_BASE_URL is not set: run this suite with scripts/test-providers.sh")
	}
	return openai.NewClient(option.WithBaseURL(base+"/"), option.WithAPIKey("sk-anything"), option.WithMaxRetries(0))
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestChatUnary(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format, func(t *testing.T) {
			resp, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{
				Model:    tg.model,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Say hello.")},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Choices) != 1 || resp.Choices[0].Message.Content == "" || resp.Choices[0].FinishReason != "stop" {
				t.Fatalf("answer %+v", resp.Choices)
			}
			if resp.Usage.PromptTokens == 0 || resp.Usage.CompletionTokens == 0 {
				t.Fatalf("usage %+v", resp.Usage)
			}
		})
	}
}

// The SDK's accumulator reports content and tool calls as finished only
// when the next chunk changes state: a target that ends with the finish
// reason on the last content chunk (Gemini) must still make both fire.
func TestStreamAccumulatorFiresJustFinished(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		t.Run(tg.format+"/content", func(t *testing.T) {
			st := c.Chat.Completions.NewStreaming(ctx(t), openai.ChatCompletionNewParams{
				Model:         tg.model,
				Messages:      []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me something.")},
				StreamOptions: openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)},
			})
			var acc openai.ChatCompletionAccumulator
			var finished string
			fired := 0
			for st.Next() {
				acc.AddChunk(st.Current())
				if content, ok := acc.JustFinishedContent(); ok {
					finished, fired = content, fired+1
				}
			}
			if err := st.Err(); err != nil {
				t.Fatal(err)
			}
			if fired != 1 || finished == "" || finished != acc.Choices[0].Message.Content {
				t.Fatalf("JustFinishedContent fired %d times with %q; accumulated %q", fired, finished, acc.Choices[0].Message.Content)
			}
			if acc.Choices[0].FinishReason != "stop" || acc.Usage.CompletionTokens == 0 {
				t.Fatalf("finish %q usage %+v", acc.Choices[0].FinishReason, acc.Usage)
			}
		})
		t.Run(tg.format+"/tool", func(t *testing.T) {
			st := c.Chat.Completions.NewStreaming(ctx(t), openai.ChatCompletionNewParams{
				Model:    tg.model,
				Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("What is the weather in Paris?")},
				Tools: []openai.ChatCompletionToolUnionParam{openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
					Name: "get_weather",
					Parameters: openai.FunctionParameters{"type": "object", "required": []string{"city"},
						"properties": map[string]any{"city": map[string]any{"type": "string"}}},
				})},
				ToolChoice: openai.ToolChoiceOptionFunctionToolChoice(openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_weather"}),
			})
			var acc openai.ChatCompletionAccumulator
			var calls []openai.FinishedChatCompletionToolCall
			for st.Next() {
				acc.AddChunk(st.Current())
				if tc, ok := acc.JustFinishedToolCall(); ok {
					calls = append(calls, tc)
				}
			}
			if err := st.Err(); err != nil {
				t.Fatal(err)
			}
			if len(calls) != 1 || calls[0].Name != "get_weather" || calls[0].ID == "" {
				t.Fatalf("JustFinishedToolCall: %+v", calls)
			}
			var args struct{ City string }
			if err := json.Unmarshal([]byte(calls[0].Arguments), &args); err != nil || args.City == "" {
				t.Fatalf("arguments %q: %v", calls[0].Arguments, err)
			}
			if acc.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("finish %q", acc.Choices[0].FinishReason)
			}
		})
	}
}

// A tool round trip: the call, then the result, in one conversation.
func TestToolRoundTrip(t *testing.T) {
	c := client(t)
	tool := openai.ChatCompletionFunctionTool(openai.FunctionDefinitionParam{
		Name:       "add",
		Parameters: openai.FunctionParameters{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "integer"}, "b": map[string]any{"type": "integer"}}, "required": []string{"a", "b"}},
	})
	for _, tg := range targets {
		t.Run(tg.format, func(t *testing.T) {
			params := openai.ChatCompletionNewParams{
				Model:      tg.model,
				Messages:   []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Add 2 and 3.")},
				Tools:      []openai.ChatCompletionToolUnionParam{tool},
				ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")},
			}
			first, err := c.Chat.Completions.New(ctx(t), params)
			if err != nil {
				t.Fatal(err)
			}
			calls := first.Choices[0].Message.ToolCalls
			if len(calls) == 0 || calls[0].Function.Name != "add" || first.Choices[0].FinishReason != "tool_calls" {
				t.Fatalf("first turn %+v", first.Choices[0])
			}
			params.Messages = append(params.Messages, first.Choices[0].Message.ToParam(), openai.ToolMessage("5", calls[0].ID))
			params.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")}
			second, err := c.Chat.Completions.New(ctx(t), params)
			if err != nil {
				t.Fatal(err)
			}
			if second.Choices[0].Message.Content == "" || second.Choices[0].FinishReason != "stop" {
				t.Fatalf("second turn %+v", second.Choices[0])
			}
		})
	}
}

// Upstream errors reach the SDK as *openai.Error with the status, unary
// and before a stream's first chunk.
func TestErrorsMapToTheSDKsError(t *testing.T) {
	c := client(t)
	for _, tg := range targets {
		for _, status := range []int{http.StatusBadRequest, http.StatusTooManyRequests, http.StatusServiceUnavailable} {
			model := strings.Replace(tg.model, "fake-", "fault-", 1) + "-" + strconv.Itoa(status)
			t.Run(tg.format+"/"+strconv.Itoa(status), func(t *testing.T) {
				msg := openai.UserMessage("[[fake:status=" + strconv.Itoa(status) + "]] hi")
				_, err := c.Chat.Completions.New(ctx(t), openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{msg}})
				var apiErr *openai.Error
				if !errors.As(err, &apiErr) {
					t.Fatalf("unary: %T %v, want *openai.Error", err, err)
				}
				if apiErr.StatusCode != status {
					t.Fatalf("unary status %d, want %d: %v", apiErr.StatusCode, status, err)
				}
				st := c.Chat.Completions.NewStreaming(ctx(t), openai.ChatCompletionNewParams{Model: model, Messages: []openai.ChatCompletionMessageParamUnion{msg}})
				for st.Next() {
				}
				if !errors.As(st.Err(), &apiErr) || apiErr.StatusCode != status {
					t.Fatalf("stream: %v, want *openai.Error %d", st.Err(), status)
				}
			})
		}
	}
}
