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
	Content        gContent         `json:"content"`
	FinishReason   string           `json:"finishReason"`
	Index          int              `json:"index"`
	LogprobsResult *gLogprobsResult `json:"logprobsResult"`
}

// gLogprobsResult is a candidate's token log probabilities: the chosen
// token and the top alternatives at each decoding step.
type gLogprobsResult struct {
	ChosenCandidates []gLogprob `json:"chosenCandidates"`
	TopCandidates    []struct {
		Candidates []gLogprob `json:"candidates"`
	} `json:"topCandidates"`
}

type gLogprob struct {
	Token          string  `json:"token"`
	LogProbability float64 `json:"logProbability"`
}

// toLogprobs maps steps onto OpenAI's shape, step i's alternatives on
// token i. Gemini gives no token bytes, so Bytes stays nil.
func (r *gLogprobsResult) toLogprobs() *llm.Logprobs {
	if r == nil || len(r.ChosenCandidates) == 0 {
		return nil
	}
	out := &llm.Logprobs{Content: make([]llm.TokenLogprob, len(r.ChosenCandidates))}
	for i, c := range r.ChosenCandidates {
		tl := llm.TokenLogprob{Token: c.Token, Logprob: c.LogProbability}
		if i < len(r.TopCandidates) {
			top := r.TopCandidates[i].Candidates
			tl.TopLogprobs = make([]llm.TopLogprob, len(top))
			for k, a := range top {
				tl.TopLogprobs[k] = llm.TopLogprob{Token: a.Token, Logprob: a.LogProbability}
			}
		}
		out.Content[i] = tl
	}
	return out
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

// toolCall is a functionCall part as a domain call: n is its index
// among the message's (or stream candidate's) calls, seq its number for a
// made-up id. The part's thoughtSignature is kept, tagged, for the turn
// that brings the call back.
func toolCall(p *gPart, n, seq int) llm.ToolCall {
	tc := llm.ToolCall{
		Index:     n,
		ID:        callID(p.FunctionCall.ID, seq),
		Type:      "function",
		Name:      p.FunctionCall.Name,
		Arguments: argsJSON(p.FunctionCall.Args),
	}
	if p.ThoughtSignature != "" {
		tc.Signature = sigKind + ":" + p.ThoughtSignature
	}
	return tc
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
		for i := range c.Content.Parts {
			p := &c.Content.Parts[i]
			switch {
			case p.FunctionCall != nil:
				msg.ToolCalls = append(msg.ToolCalls, toolCall(p, len(msg.ToolCalls), calls))
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
			Logprobs:     c.LogprobsResult.toLogprobs(),
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
