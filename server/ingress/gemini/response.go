package gemini

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard/engine/llm"
)

// answer is a GenerateContentResponse: the unary body, and each event of a
// stream (which carries the candidates' new parts only).
type answer struct {
	Candidates    []candidate `json:"candidates"`
	UsageMetadata *usageMeta  `json:"usageMetadata,omitempty"`
	ModelVersion  string      `json:"modelVersion"`
	ResponseID    string      `json:"responseId"`
}

type candidate struct {
	Content        content         `json:"content"`
	FinishReason   string          `json:"finishReason,omitempty"`
	Index          int             `json:"index"`
	LogprobsResult *logprobsResult `json:"logprobsResult,omitempty"`
}

// logprobsResult is Gemini's shape of token log probabilities: the chosen
// token and the top alternatives at each step.
type logprobsResult struct {
	TopCandidates    []topCandidates `json:"topCandidates"`
	ChosenCandidates []tokenLogprob  `json:"chosenCandidates"`
}

type topCandidates struct {
	Candidates []tokenLogprob `json:"candidates"`
}

type tokenLogprob struct {
	Token          string  `json:"token"`
	LogProbability float64 `json:"logProbability"`
}

// logprobsOf is the domain's logprobs in Gemini's shape, nil for none.
func logprobsOf(lp *llm.Logprobs) *logprobsResult {
	if lp == nil || len(lp.Content) == 0 {
		return nil
	}
	out := &logprobsResult{TopCandidates: make([]topCandidates, len(lp.Content)), ChosenCandidates: make([]tokenLogprob, len(lp.Content))}
	for i, t := range lp.Content {
		out.ChosenCandidates[i] = tokenLogprob{Token: t.Token, LogProbability: t.Logprob}
		top := make([]tokenLogprob, len(t.TopLogprobs))
		for k, a := range t.TopLogprobs {
			top[k] = tokenLogprob{Token: a.Token, LogProbability: a.Logprob}
		}
		out.TopCandidates[i] = topCandidates{Candidates: top}
	}
	return out
}

type usageMeta struct {
	PromptTokenCount        int `json:"promptTokenCount"`
	CandidatesTokenCount    int `json:"candidatesTokenCount"`
	TotalTokenCount         int `json:"totalTokenCount"`
	CachedContentTokenCount int `json:"cachedContentTokenCount,omitempty"`
	ThoughtsTokenCount      int `json:"thoughtsTokenCount,omitempty"`
}

// usageOf is the domain usage in Gemini's terms. The domain's completion
// tokens include the reasoning ones (as OpenAI counts them); Gemini counts
// thoughts apart from candidates, so they come off, or a Gemini client
// adding candidates and thoughts would count them twice.
func usageOf(u llm.Usage) *usageMeta {
	out := &usageMeta{PromptTokenCount: u.PromptTokens, CandidatesTokenCount: max(u.CompletionTokens-u.ReasoningTokens, 0),
		TotalTokenCount: u.TotalTokens, CachedContentTokenCount: u.CachedTokens, ThoughtsTokenCount: u.ReasoningTokens}
	if out.TotalTokenCount == 0 {
		out.TotalTokenCount = u.PromptTokens + u.CompletionTokens
	}
	return out
}

// finishReason is the domain finish reason in Gemini's words; a tool call
// ends with STOP, as Gemini's own answers do.
func finishReason(f string) string {
	switch f {
	case llm.FinishLength:
		return "MAX_TOKENS"
	case llm.FinishContentFilter:
		return "SAFETY"
	case "":
		return ""
	}
	return "STOP"
}

// callPart is a tool call as a whole functionCall part, with the
// thoughtSignature a Gemini upstream gave it.
func callPart(tc llm.ToolCall) part {
	args := json.RawMessage(tc.Arguments)
	if !json.Valid(args) {
		// A model that broke its JSON: Gemini's args are an object, so
		// the text goes back whole rather than as invalid JSON.
		args, _ = json.Marshal(map[string]string{"input": tc.Arguments})
	}
	return part{FunctionCall: &functionCall{ID: tc.ID, Name: tc.Name, Args: args}, ThoughtSignature: llm.SignatureFor(sigKind, tc.Signature)}
}

// partsOf is a whole message as parts: thoughts first, text, then calls.
func partsOf(m llm.Message) []part {
	var parts []part
	if m.ReasoningContent != "" {
		parts = append(parts, part{Text: m.ReasoningContent, Thought: true})
	}
	text := m.Content
	for _, p := range m.Parts {
		text += p.Text
	}
	if text != "" || len(m.ToolCalls) == 0 {
		parts = append(parts, part{Text: text})
	}
	for _, tc := range m.ToolCalls {
		parts = append(parts, callPart(tc))
	}
	return parts
}

func encodeAnswer(resp *llm.ChatResponse, model, id string) []byte {
	a := answer{ModelVersion: model, ResponseID: id, UsageMetadata: usageOf(resp.Usage), Candidates: []candidate{}}
	for _, c := range resp.Choices {
		a.Candidates = append(a.Candidates, candidate{Index: c.Index, FinishReason: finishReason(c.FinishReason),
			Content: content{Role: "model", Parts: partsOf(c.Message)}, LogprobsResult: logprobsOf(c.Logprobs)})
	}
	b, _ := json.Marshal(a)
	return b
}

// status is err's HTTP status and Google's status name for it.
func status(err error) (int, string) {
	// The body limit (middleware) fails the read, not the codec: without
	// this it would be an internal error.
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, "INVALID_ARGUMENT"
	}
	switch llm.KindOf(err) {
	case llm.KindInvalidRequest:
		return http.StatusBadRequest, "INVALID_ARGUMENT"
	case llm.KindUnauthenticated:
		return http.StatusUnauthorized, "UNAUTHENTICATED"
	case llm.KindPermissionDenied:
		return http.StatusForbidden, "PERMISSION_DENIED"
	case llm.KindNotFound:
		return http.StatusNotFound, "NOT_FOUND"
	case llm.KindRateLimited:
		return http.StatusTooManyRequests, "RESOURCE_EXHAUSTED"
	case llm.KindTimeout:
		return http.StatusGatewayTimeout, "DEADLINE_EXCEEDED"
	case llm.KindUnimplemented:
		return http.StatusNotImplemented, "UNIMPLEMENTED"
	case llm.KindCanceled:
		return 499, "CANCELLED"
	case llm.KindUnavailable:
		return http.StatusServiceUnavailable, "UNAVAILABLE"
	}
	return http.StatusInternalServerError, "INTERNAL"
}

// errorBody is err in Google's error shape.
func errorBody(err error) []byte {
	code, st := status(err)
	msg := err.Error()
	if st == "INTERNAL" {
		msg = "internal error"
	}
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"code": code, "message": msg, "status": st}})
	return b
}

func writeError(w http.ResponseWriter, err error) {
	code, _ := status(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if s := llm.RetryAfterSeconds(err); s > 0 {
		h.Set("Retry-After", strconv.Itoa(s))
	}
	w.WriteHeader(code)
	_, _ = w.Write(errorBody(err))
}
