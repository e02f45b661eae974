package anthropic

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard/engine/llm"
)

// stopReason maps the domain's finish reason onto Anthropic's.
func stopReason(finish string) string {
	switch finish {
	case llm.FinishLength:
		return "max_tokens"
	case llm.FinishToolCalls:
		return "tool_use"
	case llm.FinishContentFilter:
		return "refusal"
	}
	return "end_turn"
}

type outBlock struct {
	Type  string          `json:"type"`
	Text  *string         `json:"text,omitempty"`
	ID    string          `json:"id,omitempty"`
	Name  string          `json:"name,omitempty"`
	Input json.RawMessage `json:"input,omitempty"`
	// A thinking block always has both (the SDKs' types require them);
	// a redacted_thinking block has data.
	Thinking  *string `json:"thinking,omitempty"`
	Signature *string `json:"signature,omitempty"`
	Data      string  `json:"data,omitempty"`
}

// thinkingBlock is a thinking block; its signature is empty when the
// reasoning came from a provider that signs none.
func thinkingBlock(text, signature string) outBlock {
	return outBlock{Type: "thinking", Thinking: &text, Signature: &signature}
}

type outUsage struct {
	InputTokens          int  `json:"input_tokens"`
	OutputTokens         int  `json:"output_tokens"`
	CacheReadInputTokens *int `json:"cache_read_input_tokens,omitempty"`
}

type outMessage struct {
	ID           string     `json:"id"`
	Type         string     `json:"type"`
	Role         string     `json:"role"`
	Model        string     `json:"model"`
	Content      []outBlock `json:"content"`
	StopReason   *string    `json:"stop_reason"`
	StopSequence *string    `json:"stop_sequence"`
	Usage        outUsage   `json:"usage"`
}

// usageOf reports input tokens as Anthropic counts them: cached prompt
// tokens separately.
func usageOf(u llm.Usage) outUsage {
	out := outUsage{InputTokens: u.PromptTokens - u.CachedTokens, OutputTokens: u.CompletionTokens}
	if u.CachedTokens > 0 {
		c := u.CachedTokens
		out.CacheReadInputTokens = &c
	}
	return out
}

// toolInput is a tool call's arguments as the JSON object Anthropic sends;
// arguments that are not an object (a model's slip) travel as a string.
func toolInput(args string) json.RawMessage {
	if args == "" {
		return json.RawMessage(`{}`)
	}
	if json.Valid([]byte(args)) && args[0] == '{' {
		return json.RawMessage(args)
	}
	b, _ := json.Marshal(map[string]string{"_raw": args})
	return b
}

// encodeMessage renders a whole answer; model is the one the client asked for.
func encodeMessage(resp *llm.ChatResponse, model, id string) ([]byte, error) {
	out := outMessage{ID: id, Type: "message", Role: "assistant", Model: model, Content: []outBlock{}, Usage: usageOf(resp.Usage)}
	if len(resp.Choices) > 0 {
		c := resp.Choices[0]
		// Reasoning first, as Anthropic orders it.
		if m := &c.Message; m.ReasoningContent != "" || m.ReasoningSignature != "" {
			out.Content = append(out.Content, thinkingBlock(m.ReasoningContent, m.ReasoningSignature))
		}
		for _, d := range c.Message.RedactedReasoning {
			out.Content = append(out.Content, outBlock{Type: "redacted_thinking", Data: d})
		}
		text := c.Message.Content
		for _, p := range c.Message.Parts {
			text += p.Text
		}
		if text != "" {
			out.Content = append(out.Content, outBlock{Type: "text", Text: &text})
		}
		for _, tc := range c.Message.ToolCalls {
			out.Content = append(out.Content, outBlock{Type: "tool_use", ID: llm.WireToolCallID(tc.ID, tc.Signature), Name: tc.Name, Input: toolInput(tc.Arguments)})
		}
		sr := stopReason(c.FinishReason)
		if len(c.Message.ToolCalls) > 0 {
			sr = "tool_use"
		}
		out.StopReason = &sr
	}
	return json.Marshal(out)
}

// errorType maps a domain error to Anthropic's error type and status.
func errorType(err error) (status int, typ string) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "request_too_large"
	}
	switch llm.KindOf(err) {
	case llm.KindInvalidRequest:
		return http.StatusBadRequest, "invalid_request_error"
	case llm.KindUnauthenticated:
		return http.StatusUnauthorized, "authentication_error"
	case llm.KindPermissionDenied:
		return http.StatusForbidden, "permission_error"
	case llm.KindNotFound:
		return http.StatusNotFound, "not_found_error"
	case llm.KindRateLimited:
		return http.StatusTooManyRequests, "rate_limit_error"
	case llm.KindUnavailable, llm.KindTimeout:
		// Anthropic's own overload is 529; a gateway whose upstreams are
		// out says so with the standard 503, which SDKs retry the same way.
		return http.StatusServiceUnavailable, "overloaded_error"
	case llm.KindCanceled:
		return 499, "api_error"
	}
	return http.StatusInternalServerError, "api_error"
}

func errorBody(err error) []byte {
	_, typ := errorType(err)
	msg := err.Error()
	if llm.KindOf(err) == llm.KindInternal {
		msg = "internal error"
	}
	b, _ := json.Marshal(map[string]any{"type": "error", "error": map[string]string{"type": typ, "message": msg}})
	return b
}

// writeError answers in Anthropic's error shape.
func writeError(w http.ResponseWriter, err error) {
	status, _ := errorType(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if s := llm.RetryAfterSeconds(err); s > 0 {
		h.Set("Retry-After", strconv.Itoa(s))
	}
	w.WriteHeader(status)
	_, _ = w.Write(errorBody(err))
}
