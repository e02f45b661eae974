package responses

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// object is the response object: the unary answer, the payload of the
// stream's lifecycle events, and what GET /v1/responses/{id} returns.
// Nullable fields are pointers so that they are sent as null, as OpenAI does.
type object struct {
	ID                 string            `json:"id"`
	Object             string            `json:"object"`
	CreatedAt          int64             `json:"created_at"`
	Status             string            `json:"status"`
	Error              *apiError         `json:"error"`
	IncompleteDetails  *incomplete       `json:"incomplete_details"`
	Instructions       *string           `json:"instructions"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Model              string            `json:"model"`
	Output             []json.RawMessage `json:"output"`
	ParallelToolCalls  bool              `json:"parallel_tool_calls"`
	PreviousResponseID *string           `json:"previous_response_id"`
	Reasoning          reasoningOut      `json:"reasoning"`
	Store              bool              `json:"store"`
	Temperature        *float64          `json:"temperature"`
	Text               textOut           `json:"text"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	Tools              json.RawMessage   `json:"tools"`
	TopP               *float64          `json:"top_p"`
	Truncation         string            `json:"truncation"`
	Usage              *usage            `json:"usage"`
	User               *string           `json:"user"`
	Metadata           map[string]string `json:"metadata"`
}

type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type incomplete struct {
	Reason string `json:"reason"`
}

type reasoningOut struct {
	Effort  *string `json:"effort"`
	Summary *string `json:"summary"`
}

type textOut struct {
	Format json.RawMessage `json:"format"`
}

type usage struct {
	InputTokens        int `json:"input_tokens"`
	InputTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"input_tokens_details"`
	OutputTokens        int `json:"output_tokens"`
	OutputTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"output_tokens_details"`
	TotalTokens int `json:"total_tokens"`
}

// Output items and their content parts, as OpenAI sends them.
type (
	messageItem struct {
		Type    string       `json:"type"`
		ID      string       `json:"id"`
		Status  string       `json:"status"`
		Role    string       `json:"role"`
		Content []outputPart `json:"content"`
	}
	outputPart struct {
		Type        string  `json:"type"`
		Text        *string `json:"text,omitempty"`
		Refusal     *string `json:"refusal,omitempty"`
		Annotations *[]any  `json:"annotations,omitempty"`
		Logprobs    *[]any  `json:"logprobs,omitempty"`
	}
	callItem struct {
		Type      string `json:"type"`
		ID        string `json:"id"`
		CallID    string `json:"call_id"`
		Namespace string `json:"namespace,omitempty"`
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
		Status    string `json:"status"`
	}
	customCallItem struct {
		Type   string `json:"type"`
		ID     string `json:"id"`
		CallID string `json:"call_id"`
		Name   string `json:"name"`
		Input  string `json:"input"`
		Status string `json:"status"`
	}
	reasoningItem struct {
		Type             string        `json:"type"`
		ID               string        `json:"id"`
		Summary          []summaryPart `json:"summary"`
		EncryptedContent string        `json:"encrypted_content,omitempty"`
	}
)

func textPart(text string) outputPart {
	return outputPart{Type: "output_text", Text: &text, Annotations: &[]any{}, Logprobs: &[]any{}}
}

func newID(prefix string) string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ownedID is the id of an item stored with response respID: prefix, the
// response's own hex, then a random tag. An item_reference names an item by
// this id alone; responseOf reads the response to load back out of it.
func ownedID(prefix, respID string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return prefix + strings.TrimPrefix(respID, "resp_") + hex.EncodeToString(b[:])
}

// responseOf is the response an ownedID belongs to.
func responseOf(itemID string) (string, bool) {
	i := strings.IndexByte(itemID, '_')
	if i < 0 || len(itemID)-i-1 != 2*24+2*4 {
		return "", false
	}
	h := itemID[i+1 : i+1+2*24]
	if _, err := hex.DecodeString(h); err != nil {
		return "", false
	}
	return "resp_" + h, true
}

func raw(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// newObject is the response object before any output: what
// response.created carries, echoing the request's settings.
func newObject(p *parsed, id string, created int64) *object {
	in := p.in
	o := &object{ID: id, Object: "response", CreatedAt: created, Status: "in_progress", MaxOutputTokens: in.MaxOutputTokens,
		Model: in.Model, Output: []json.RawMessage{}, ParallelToolCalls: in.ParallelToolCalls == nil || *in.ParallelToolCalls,
		Store: p.store, Temperature: in.Temperature, TopP: in.TopP, Truncation: "disabled", Tools: p.tools,
		Metadata: in.Metadata, ToolChoice: in.ToolChoice, Text: textOut{Format: json.RawMessage(`{"type":"text"}`)}}
	if in.Instructions != "" {
		o.Instructions = &in.Instructions
	}
	if in.PreviousResponseID != "" {
		o.PreviousResponseID = &in.PreviousResponseID
	}
	if in.User != "" {
		o.User = &in.User
	}
	if in.Reasoning != nil {
		if in.Reasoning.Effort != "" {
			o.Reasoning.Effort = &in.Reasoning.Effort
		}
		if in.Reasoning.Summary != "" {
			o.Reasoning.Summary = &in.Reasoning.Summary
		}
	}
	if in.Text != nil && in.Text.Format != nil {
		o.Text.Format = raw(in.Text.Format)
	}
	if len(o.Tools) == 0 || string(o.Tools) == "null" {
		o.Tools = json.RawMessage(`[]`)
	}
	if len(o.ToolChoice) == 0 {
		o.ToolChoice = json.RawMessage(`"auto"`)
	}
	if o.Metadata == nil {
		o.Metadata = map[string]string{}
	}
	return o
}

// finish completes o with its output, usage and the domain finish reason.
func (o *object) finish(out []json.RawMessage, u llm.Usage, reason string) {
	o.Output = out
	o.Status = "completed"
	switch reason {
	case llm.FinishLength:
		o.Status, o.IncompleteDetails = "incomplete", &incomplete{Reason: "max_output_tokens"}
	case llm.FinishContentFilter:
		o.Status, o.IncompleteDetails = "incomplete", &incomplete{Reason: "content_filter"}
	}
	o.Usage = usageOf(u)
}

func usageOf(u llm.Usage) *usage {
	out := &usage{InputTokens: u.PromptTokens, OutputTokens: u.CompletionTokens, TotalTokens: u.TotalTokens}
	if out.TotalTokens == 0 {
		out.TotalTokens = u.PromptTokens + u.CompletionTokens
	}
	out.InputTokensDetails.CachedTokens = u.CachedTokens
	out.OutputTokensDetails.ReasoningTokens = u.ReasoningTokens
	return out
}

// outputOf is the output items of a whole answer: reasoning, then the
// message, then each function call, in the order OpenAI emits them. Item
// ids are response respID's (ownedID).
func outputOf(m llm.Message, kinds map[string]toolKind, respID string) []json.RawMessage {
	var out []json.RawMessage
	if m.ReasoningContent != "" || m.ReasoningSignature != "" || len(m.RedactedReasoning) > 0 {
		summary := []summaryPart{}
		if m.ReasoningContent != "" {
			summary = append(summary, summaryPart{Type: "summary_text", Text: m.ReasoningContent})
		}
		out = append(out, raw(reasoningItem{Type: "reasoning", ID: ownedID("rs_", respID), Summary: summary,
			EncryptedContent: carryReasoning(m.ReasoningSignature, m.RedactedReasoning)}))
	}
	text := m.Content
	for _, p := range m.Parts {
		if p.Type == llm.PartText {
			text += p.Text
		}
	}
	if text != "" || m.Refusal != "" || len(m.ToolCalls) == 0 {
		var parts []outputPart
		if text != "" || m.Refusal == "" {
			parts = append(parts, textPart(text))
		}
		if m.Refusal != "" {
			r := m.Refusal
			parts = append(parts, outputPart{Type: "refusal", Refusal: &r})
		}
		out = append(out, raw(messageItem{Type: "message", ID: ownedID("msg_", respID), Status: "completed", Role: "assistant", Content: parts}))
	}
	for _, tc := range m.ToolCalls {
		if tc.ID == "" {
			tc.ID = newID("call_")
		}
		out = append(out, callOutput(kinds, ownedID(callPrefix(kinds, tc.Name), respID), llm.WireToolCallID(tc.ID, tc.Signature), tc.Name, tc.Arguments, "completed"))
	}
	return out
}

// callOutput is a finished tool call as the item its tool's kind asks for.
func callOutput(kinds map[string]toolKind, id, callID, name, args, status string) json.RawMessage {
	k := kinds[name]
	if k.custom {
		if id == "" {
			id = newID("ctc_")
		}
		return raw(customCallItem{Type: "custom_tool_call", ID: id, CallID: callID, Name: name, Input: customInput(args), Status: status})
	}
	if id == "" {
		id = newID("fc_")
	}
	return raw(callItem{Type: "function_call", ID: id, CallID: callID, Namespace: k.namespace, Name: name, Arguments: args, Status: status})
}

// callPrefix is the id prefix of a call of tool name: ctc_ for custom
// tools, fc_ for functions.
func callPrefix(kinds map[string]toolKind, name string) string {
	if kinds[name].custom {
		return "ctc_"
	}
	return "fc_"
}

// customInput is the freeform input a custom tool was called with: the
// "input" of the arguments the model gave the function it was shown as.
func customInput(args string) string {
	var v struct {
		Input *string `json:"input"`
	}
	if json.Unmarshal([]byte(args), &v) == nil && v.Input != nil {
		return *v.Input
	}
	return args
}
