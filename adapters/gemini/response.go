package gemini

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// gResponse is a GenerateContentResponse: a whole answer, or one event of
// a stream. Error is set on an error event inside a stream.
type gResponse struct {
	Candidates     []gCandidate `json:"candidates"`
	PromptFeedback *struct {
		BlockReason string `json:"blockReason"`
	} `json:"promptFeedback"`
	UsageMetadata *gUsage `json:"usageMetadata"`
	ModelVersion  string  `json:"modelVersion"`
	ResponseID    string  `json:"responseId"`
	Error         *gError `json:"error"`
}

type gCandidate struct {
	Content      gContent `json:"content"`
	FinishReason string   `json:"finishReason"`
	Index        int      `json:"index"`
}

type gUsage struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount"`
	ToolUsePromptTokenCount int `json:"toolUsePromptTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
}

// toUsage bills thinking as completion (as OpenAI does for reasoning
// tokens) and tool-use prompts as prompt, so the parts add up to Gemini's
// own total.
func (u *gUsage) toUsage() llm.Usage {
	out := llm.Usage{
		PromptTokens:     u.PromptTokenCount + u.ToolUsePromptTokenCount,
		CompletionTokens: u.CandidatesTokenCount + u.ThoughtsTokenCount,
		CachedTokens:     u.CachedContentTokenCount,
		ReasoningTokens:  u.ThoughtsTokenCount,
		TotalTokens:      u.TotalTokenCount,
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}

// finishReason maps Gemini's reason to OpenAI's; a candidate that called
// functions and stopped normally finished with tool_calls.
func finishReason(reason string, calledTools bool) string {
	switch reason {
	case "":
		return ""
	case "MAX_TOKENS":
		return llm.FinishLength
	case "SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII",
		"IMAGE_SAFETY", "IMAGE_PROHIBITED_CONTENT", "IMAGE_RECITATION":
		return llm.FinishContentFilter
	}
	if calledTools {
		return llm.FinishToolCalls
	}
	return llm.FinishStop // STOP, and OTHER, LANGUAGE, MALFORMED_FUNCTION_CALL, ...
}

// callID names a function call. Gemini rarely sends ids, OpenAI clients
// need one to answer the call; the tool message's id is mapped back to the
// function name from the conversation history.
func callID(upstream string, n int) string {
	if upstream != "" {
		return upstream
	}
	return "call_" + strconv.Itoa(n)
}

// argsJSON renders functionCall.args as the arguments string.
func argsJSON(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return "{}"
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

func decodeResponse(gr *gResponse, model string, now time.Time) *llm.ChatResponse {
	resp := &llm.ChatResponse{
		ID:      gr.ResponseID,
		Created: now.Unix(),
		Model:   gr.ModelVersion,
	}
	if resp.Model == "" {
		resp.Model = strings.TrimPrefix(model, "models/")
	}
	if gr.UsageMetadata != nil {
		resp.Usage = gr.UsageMetadata.toUsage()
	}
	calls := 0
	for _, c := range gr.Candidates {
		msg := llm.Message{Role: llm.RoleAssistant}
		var text, thought strings.Builder
		for _, p := range c.Content.Parts {
			switch {
			case p.FunctionCall != nil:
				msg.ToolCalls = append(msg.ToolCalls, llm.ToolCall{
					Index:     len(msg.ToolCalls),
					ID:        callID(p.FunctionCall.ID, calls),
					Type:      "function",
					Name:      p.FunctionCall.Name,
					Arguments: argsJSON(p.FunctionCall.Args),
				})
				calls++
			case p.Thought:
				thought.WriteString(p.Text)
			default:
				text.WriteString(p.Text)
			}
		}
		msg.Content, msg.ReasoningContent = text.String(), thought.String()
		resp.Choices = append(resp.Choices, llm.Choice{
			Index:        c.Index,
			Message:      msg,
			FinishReason: finishReason(c.FinishReason, len(msg.ToolCalls) > 0),
		})
	}
	if len(resp.Choices) == 0 && gr.PromptFeedback != nil && gr.PromptFeedback.BlockReason != "" {
		// The prompt itself was blocked: no candidates, one filtered answer.
		resp.Choices = []llm.Choice{{
			Message:      llm.Message{Role: llm.RoleAssistant},
			FinishReason: llm.FinishContentFilter,
		}}
	}
	return resp
}
