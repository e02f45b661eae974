// Package anthropic is the Anthropic Messages dialect at the door (what
// Claude Code and the Anthropic SDKs speak): POST /v1/messages, unary and
// SSE, and POST /v1/messages/count_tokens, decoded into engine/llm and
// answered in Anthropic's shapes whichever provider served the request.
package anthropic

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// request is the wire body of POST /v1/messages (and count_tokens).
// Fields the engine has no use for yet are tolerated, not refused:
// Anthropic SDKs send new ones before gateways know them.
type request struct {
	Model         string          `json:"model"`
	MaxTokens     *int            `json:"max_tokens"`
	System        json.RawMessage `json:"system"`
	Messages      []message       `json:"messages"`
	Tools         []tool          `json:"tools"`
	ToolChoice    *toolChoice     `json:"tool_choice"`
	StopSequences []string        `json:"stop_sequences"`
	Temperature   *float64        `json:"temperature"`
	TopP          *float64        `json:"top_p"`
	TopK          *int            `json:"top_k"`
	Stream        bool            `json:"stream"`
	Metadata      *struct {
		UserID string `json:"user_id"`
	} `json:"metadata"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens *int   `json:"budget_tokens"`
	} `json:"thinking"`
	OutputConfig *outputConfig `json:"output_config"`
	OutputFormat *outputFormat `json:"output_format"` // the beta spelling
}

type message struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// block is one content block of a message or of a tool result.
type block struct {
	Type      string          `json:"type"`
	Text      string          `json:"text"`
	ID        string          `json:"id"`
	Name      string          `json:"name"`
	Input     json.RawMessage `json:"input"`
	ToolUseID string          `json:"tool_use_id"`
	Content   json.RawMessage `json:"content"`
	IsError   bool            `json:"is_error"`
	Source    *struct {
		Type      string          `json:"type"`
		MediaType string          `json:"media_type"`
		Data      string          `json:"data"`
		URL       string          `json:"url"`
		FileID    string          `json:"file_id"`
		Content   json.RawMessage `json:"content"` // a document's content source
	} `json:"source"`
	Thinking     string        `json:"thinking"`
	Signature    string        `json:"signature"`
	Data         string        `json:"data"`  // redacted_thinking's
	Title        string        `json:"title"` // a document's
	CacheControl *cacheControl `json:"cache_control"`
}

type tool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl *cacheControl   `json:"cache_control"`
}

type toolChoice struct {
	Type string `json:"type"` // auto | any | tool | none
	Name string `json:"name"`
	// disable_parallel_tool_use maps onto the domain's parallel_tool_calls.
	DisableParallel *bool `json:"disable_parallel_tool_use"`
}

// anthropicOptions reads the headers an Anthropic target must hear too:
// anthropic-version and every anthropic-beta flag (the header may repeat
// and each holds a comma-separated list), each flag once, in order.
func anthropicOptions(h http.Header) *llm.AnthropicOptions {
	o := &llm.AnthropicOptions{Version: strings.TrimSpace(h.Get("anthropic-version"))}
	for _, v := range h.Values("anthropic-beta") {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f != "" && !slices.Contains(o.Betas, f) {
				o.Betas = append(o.Betas, f)
			}
		}
	}
	if o.Version == "" && len(o.Betas) == 0 {
		return nil
	}
	return o
}

func invalid(param, format string, args ...any) error {
	return llm.InvalidParam(param, format, args...)
}

// decode turns a Messages body into the domain request. countOnly skips
// what count_tokens does not need (max_tokens is not required there).
func decode(body []byte, countOnly bool) (*llm.ChatRequest, bool, error) {
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, false, invalid("", "request body is not valid JSON: %v", err)
	}
	if in.Model == "" {
		return nil, false, invalid("model", "model: Field required")
	}
	if !countOnly {
		if in.MaxTokens == nil {
			return nil, false, invalid("max_tokens", "max_tokens: Field required")
		}
		if *in.MaxTokens < 1 {
			return nil, false, invalid("max_tokens", "max_tokens: must be at least 1")
		}
	}
	if len(in.Messages) == 0 {
		return nil, false, invalid("messages", "messages: at least one message is required")
	}
	out := &llm.ChatRequest{Model: in.Model, MaxTokens: in.MaxTokens, Stop: in.StopSequences, Temperature: in.Temperature,
		TopP: in.TopP, TopK: in.TopK, IncludeUsage: true}
	if in.Metadata != nil {
		out.User = in.Metadata.UserID
	}
	if t := in.Thinking; t != nil {
		switch t.Type {
		case llm.ThinkingEnabled:
			if t.BudgetTokens == nil {
				return nil, false, invalid("thinking.budget_tokens", "thinking.enabled.budget_tokens: Field required")
			}
			if *t.BudgetTokens < 1 {
				return nil, false, invalid("thinking.budget_tokens", "thinking.enabled.budget_tokens: must be at least 1")
			}
			out.Thinking = &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: *t.BudgetTokens}
			out.ReasoningEffort = effortFor(*t.BudgetTokens)
		case llm.ThinkingDisabled, llm.ThinkingAdaptive:
			out.Thinking = &llm.Thinking{Type: t.Type}
		}
		// Types newer than these (between_tools) reach Anthropic targets in
		// the original body; others cannot take them and get none.
	}
	if err := structuredOutput(&in, out); err != nil {
		return nil, false, err
	}
	sys, err := systemMessage(in.System, "system")
	if err != nil {
		return nil, false, err
	}
	if sys.Content != "" || len(sys.Parts) > 0 {
		out.Messages = append(out.Messages, sys)
	}
	for i, m := range in.Messages {
		msgs, err := messagesOf(i, m)
		if err != nil {
			return nil, false, err
		}
		out.Messages = append(out.Messages, msgs...)
	}
	for i, t := range in.Tools {
		if t.Name == "" {
			return nil, false, invalid(fmt.Sprintf("tools.%d.name", i), "tools.%d.name: Field required", i)
		}
		schema := t.InputSchema
		if len(schema) == 0 {
			schema = json.RawMessage(`{"type":"object"}`)
		}
		out.Tools = append(out.Tools, llm.Tool{Type: "function", Name: t.Name, Description: t.Description, Parameters: schema, Cache: t.CacheControl.hint()})
	}
	if tc := in.ToolChoice; tc != nil {
		switch tc.Type {
		case "auto", "":
			out.ToolChoice = &llm.ToolChoice{Mode: "auto"}
		case "any":
			out.ToolChoice = &llm.ToolChoice{Mode: "required"}
		case "none":
			out.ToolChoice = &llm.ToolChoice{Mode: "none"}
		case "tool":
			if tc.Name == "" {
				return nil, false, invalid("tool_choice.name", "tool_choice.name: Field required for type tool")
			}
			out.ToolChoice = &llm.ToolChoice{Function: tc.Name}
		default:
			return nil, false, invalid("tool_choice.type", "tool_choice.type: unknown type %q", tc.Type)
		}
		if tc.DisableParallel != nil {
			p := !*tc.DisableParallel
			out.ParallelToolCalls = &p
		}
	}
	return out, in.Stream, nil
}

// effortFor maps a thinking budget onto the reasoning effort of targets
// that take only an effort (OpenAI's reasoning_effort): up to 2048 tokens
// is a light think, up to 8192 a medium one, more is high.
func effortFor(budget int) string {
	switch {
	case budget <= 2048:
		return "low"
	case budget <= 8192:
		return "medium"
	}
	return "high"
}

// messagesOf maps one Anthropic message onto domain messages: tool results
// become tool messages of their own (as OpenAI-format targets need them),
// the rest of the turn stays one message.
func messagesOf(i int, m message) ([]llm.Message, error) {
	var role llm.Role
	switch m.Role {
	case "user":
		role = llm.RoleUser
	case "assistant":
		role = llm.RoleAssistant
	case "system":
		// Claude Code (2.1+) puts system turns between the others, e.g. the
		// agent list after the first user turn; text only, like the top-level system.
		sys, err := systemMessage(m.Content, fmt.Sprintf("messages.%d.content", i))
		if err != nil {
			return nil, err
		}
		return []llm.Message{sys}, nil
	default:
		return nil, invalid(fmt.Sprintf("messages.%d.role", i), "messages.%d.role: want user, assistant or system, got %q", i, m.Role)
	}
	raw := bytes.TrimSpace(m.Content)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid(fmt.Sprintf("messages.%d.content", i), "messages.%d.content: %v", i, err)
		}
		return []llm.Message{{Role: role, Content: s}}, nil
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return nil, invalid(fmt.Sprintf("messages.%d.content", i), "messages.%d.content: want a string or an array of content blocks", i)
	}
	var out []llm.Message
	cur := llm.Message{Role: role}
	for j, bl := range blocks {
		param := fmt.Sprintf("messages.%d.content.%d", i, j)
		switch bl.Type {
		case "text":
			cur.Parts = append(cur.Parts, llm.Part{Type: llm.PartText, Text: bl.Text, Cache: bl.CacheControl.hint()})
		case "image", "document":
			decodePart := imagePart
			if bl.Type == "document" {
				decodePart = documentPart
			}
			p, err := decodePart(&bl, param)
			if err != nil {
				return nil, err
			}
			cur.Parts = append(cur.Parts, p)
		case "tool_use":
			if role != llm.RoleAssistant {
				return nil, invalid(param, "%s: tool_use blocks belong to assistant turns", param)
			}
			args := string(bl.Input)
			if args == "" {
				args = "{}"
			}
			id, sig := llm.SplitToolCallID(bl.ID) // a Gemini signature rides in the id
			cur.ToolCalls = append(cur.ToolCalls, llm.ToolCall{Index: len(cur.ToolCalls), ID: id, Type: "function", Name: bl.Name, Arguments: args, Signature: sig})
		case "tool_result":
			text, err := resultText(bl.Content)
			if err != nil {
				return nil, invalid(param+".content", "%s.content: %v", param, err)
			}
			if bl.IsError && !strings.HasPrefix(text, "Error") {
				text = "Error: " + text
			}
			id, _ := llm.SplitToolCallID(bl.ToolUseID)
			out = append(out, llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: text})
		case "thinking":
			// Kept with its signature: an Anthropic target verifies it, and
			// with tool use requires it back. Other formats leave it out.
			if role == llm.RoleAssistant {
				cur.ReasoningContent += bl.Thinking
				cur.ReasoningSignature = bl.Signature
			}
		case "redacted_thinking":
			if role == llm.RoleAssistant {
				cur.RedactedReasoning = append(cur.RedactedReasoning, bl.Data)
			}
		default:
			return nil, invalid(param+".type", "%s.type: unsupported content block %q", param, bl.Type)
		}
		// A breakpoint on a tool result marks its tool message; on a
		// tool_use, the assistant turn (the domain has no per-call hint).
		if h := bl.CacheControl.hint(); h != nil {
			switch bl.Type {
			case "tool_result":
				out[len(out)-1].Cache = h
			case "tool_use":
				cur.Cache = h
			}
		}
	}
	if len(cur.Parts) > 0 || len(cur.ToolCalls) > 0 || len(out) == 0 || cur.ReasoningContent != "" || cur.ReasoningSignature != "" || len(cur.RedactedReasoning) > 0 {
		collapse(&cur, "\n")
		out = append(out, cur)
	}
	return out, nil
}

// resultText flattens a tool_result's content (a string or text blocks).
func resultText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var blocks []block
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return "", fmt.Errorf("want a string or an array of text blocks")
	}
	var b strings.Builder
	for _, bl := range blocks {
		if bl.Type == "text" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(bl.Text)
		}
	}
	return b.String(), nil
}
