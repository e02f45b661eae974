package anthropic

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// wireResponse is a whole Messages API answer.
type wireResponse struct {
	ID         string          `json:"id"`
	Model      string          `json:"model"`
	Content    []responseBlock `json:"content"`
	StopReason string          `json:"stop_reason"`
	Usage      wireUsage       `json:"usage"`
}

type responseBlock struct {
	Type     string          `json:"type"`
	Text     string          `json:"text"`
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	Input    json.RawMessage `json:"input"`
	Thinking string          `json:"thinking"`
	// Signature is a thinking block's; Data a redacted_thinking block's.
	Signature string `json:"signature"`
	Data      string `json:"data"`
}

// wireUsage counts tokens. In message_delta events any field may be absent;
// decodeInto marks absent fields with -1 before decoding.
type wireUsage struct {
	InputTokens              int `json:"input_tokens"`
	OutputTokens             int `json:"output_tokens"`
	CacheReadInputTokens     int `json:"cache_read_input_tokens"`
	CacheCreationInputTokens int `json:"cache_creation_input_tokens"`
	// CacheCreation splits the writes by lifetime; nil when absent (older
	// API versions, and deltas that do not repeat it).
	CacheCreation *wireCacheCreation `json:"cache_creation"`
}

type wireCacheCreation struct {
	Ephemeral5m int `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int `json:"ephemeral_1h_input_tokens"`
}

// toUsage counts each kind of prompt token once: Anthropic's input_tokens
// excludes the cached and cache-written tokens, OpenAI's prompt_tokens
// includes them. Thinking is inside output_tokens (Anthropic reports no
// separate count), so it is priced as output, once.
func (u wireUsage) toUsage() llm.Usage {
	in, read, write := max(u.InputTokens, 0), max(u.CacheReadInputTokens, 0), max(u.CacheCreationInputTokens, 0)
	var write1h int
	if cc := u.CacheCreation; cc != nil {
		write = max(write, max(cc.Ephemeral5m, 0)+max(cc.Ephemeral1h, 0))
		write1h = min(max(cc.Ephemeral1h, 0), write)
	}
	prompt := in + read + write
	out := max(u.OutputTokens, 0)
	return llm.Usage{
		PromptTokens:          prompt,
		CompletionTokens:      out,
		TotalTokens:           prompt + out,
		CachedTokens:          read,
		CacheCreationTokens:   write,
		CacheCreation1hTokens: write1h,
	}
}

// merge takes the fields a message_delta carried (those not left at -1).
func (u *wireUsage) merge(d wireUsage) {
	if d.InputTokens >= 0 {
		u.InputTokens = d.InputTokens
	}
	if d.OutputTokens >= 0 {
		u.OutputTokens = d.OutputTokens
	}
	if d.CacheReadInputTokens >= 0 {
		u.CacheReadInputTokens = d.CacheReadInputTokens
	}
	if d.CacheCreationInputTokens >= 0 {
		u.CacheCreationInputTokens = d.CacheCreationInputTokens
	}
	if d.CacheCreation != nil {
		u.CacheCreation = d.CacheCreation
	}
}

// finishReason maps stop_reason to OpenAI's vocabulary.
func finishReason(stop string) string {
	switch stop {
	case "max_tokens", "model_context_window_exceeded":
		return llm.FinishLength
	case "tool_use":
		return llm.FinishToolCalls
	case "refusal":
		return llm.FinishContentFilter
	case "":
		return ""
	default: // end_turn, stop_sequence, pause_turn
		return llm.FinishStop
	}
}

// decodeResponse translates an answer. jsonTool names the tool that
// carried a response_format (see structured.go): its input is the answer's
// text, replacing any preamble the model wrote before the call, so the
// content is exactly the JSON; and a turn that called only it finished
// with stop, not tool_calls.
func decodeResponse(wr *wireResponse, now time.Time, jsonTool string) *llm.ChatResponse {
	msg := llm.Message{Role: llm.RoleAssistant}
	var text, thinking strings.Builder
	answered := false
	for _, b := range wr.Content {
		if b.Type == "tool_use" && jsonTool != "" && b.Name == jsonTool {
			if !answered {
				text.Reset()
			}
			answered = true
			text.WriteString(compactJSON(b.Input))
			continue
		}
		switch b.Type {
		case "text":
			if !answered {
				text.WriteString(b.Text)
			}
		case "thinking":
			thinking.WriteString(b.Thinking)
			// Kept for the next turn's history, which must return it.
			msg.ReasoningSignature = b.Signature
		case "redacted_thinking":
			msg.RedactedReasoning = append(msg.RedactedReasoning, b.Data)
		case "tool_use":
			args := compactJSON(b.Input)
			msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{
				Index:     len(msg.ToolCalls),
				ID:        b.ID,
				Type:      "function",
				Name:      b.Name,
				Arguments: args,
			})
		}
	}
	msg.Content = text.String()
	msg.ReasoningContent = thinking.String()
	finish := finishReason(wr.StopReason)
	if answered && len(msg.ToolCalls) == 0 && finish == llm.FinishToolCalls {
		finish = llm.FinishStop
	}
	return &llm.ChatResponse{
		ID:      wr.ID,
		Created: now.Unix(),
		Model:   wr.Model,
		Choices: []llm.Choice{{Index: 0, Message: msg, FinishReason: finish}},
		Usage:   wr.Usage.toUsage(),
	}
}

// compactJSON renders a tool input as the arguments string OpenAI clients
// parse; a missing input is an empty object.
func compactJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}
