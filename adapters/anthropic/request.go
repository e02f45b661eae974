package anthropic

import (
	"bytes"
	"encoding/json"
	"sort"

	"github.com/switchyard/switchyard/engine/llm"
)

// wireRequest is the body of POST /v1/messages.
type wireRequest struct {
	Model string `json:"model"`
	// System is a string, or text blocks when one carries cache_control.
	System        any             `json:"system,omitempty"`
	Messages      []wireMessage   `json:"messages"`
	MaxTokens     int             `json:"max_tokens"`
	Temperature   *float64        `json:"temperature,omitempty"`
	TopP          *float64        `json:"top_p,omitempty"`
	TopK          *int            `json:"top_k,omitempty"`
	Thinking      *wireThinking   `json:"thinking,omitempty"`
	StopSequences []string        `json:"stop_sequences,omitempty"`
	Stream        bool            `json:"stream,omitempty"`
	Metadata      *wireMetadata   `json:"metadata,omitempty"`
	Tools         []wireTool      `json:"tools,omitempty"`
	ToolChoice    *wireToolChoice `json:"tool_choice,omitempty"`
	// OutputConfig carries structured outputs (format); OutputFormat is the
	// same in its beta spelling.
	OutputConfig *wireOutputConfig `json:"output_config,omitempty"`
	OutputFormat *wireFormat       `json:"output_format,omitempty"`
}

type wireOutputConfig struct {
	Format *wireFormat `json:"format,omitempty"`
}

type wireFormat struct {
	Type   string          `json:"type"` // json_schema
	Schema json.RawMessage `json:"schema"`
}

// wireCache is cache_control: a prompt-cache breakpoint after its block.
type wireCache struct {
	Type string `json:"type"`
	TTL  string `json:"ttl,omitempty"`
}

// wireThinking is the thinking parameter: enabled with a budget, disabled,
// or adaptive (the model decides; newer models take only this).
type wireThinking struct {
	Type         string `json:"type"`
	BudgetTokens int    `json:"budget_tokens,omitempty"`
}

type wireMetadata struct {
	UserID string `json:"user_id"`
}

// wireMessage's Content is a string for a lone text block (the compact form
// the API accepts) and a []wireBlock otherwise.
type wireMessage struct {
	Role    string `json:"role"`
	Content any    `json:"content"`
	blocks  []wireBlock
}

type wireBlock struct {
	Type      string          `json:"type"`
	Text      string          `json:"text,omitempty"`
	Source    *wireSource     `json:"source,omitempty"`
	ID        string          `json:"id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Input     json.RawMessage `json:"input,omitempty"`
	ToolUseID string          `json:"tool_use_id,omitempty"`
	Content   any             `json:"content,omitempty"`
	// A thinking block goes back with its signature; a redacted_thinking
	// block with its opaque data.
	Thinking  string `json:"thinking,omitempty"`
	Signature string `json:"signature,omitempty"`
	Data      string `json:"data,omitempty"`
	// Title names a document block (the file's name).
	Title        string     `json:"title,omitempty"`
	CacheControl *wireCache `json:"cache_control,omitempty"`
}

type wireSource struct {
	Type      string `json:"type"`
	MediaType string `json:"media_type,omitempty"`
	Data      string `json:"data,omitempty"`
	URL       string `json:"url,omitempty"`
}

type wireTool struct {
	Name         string          `json:"name"`
	Description  string          `json:"description,omitempty"`
	InputSchema  json.RawMessage `json:"input_schema"`
	CacheControl *wireCache      `json:"cache_control,omitempty"`
}

type wireToolChoice struct {
	Type                   string `json:"type"`
	Name                   string `json:"name,omitempty"`
	DisableParallelToolUse bool   `json:"disable_parallel_tool_use,omitempty"`
}

// emptySchema stands in for a tool without parameters: input_schema is
// required and must describe an object.
var emptySchema = json.RawMessage(`{"type":"object","properties":{}}`)

// encodeRequest translates req into a Messages API body.
func (s *settings) encodeRequest(req *llm.ChatRequest, stream bool) ([]byte, plan, error) {
	w, pl, err := s.translateRequest(req)
	if err != nil {
		return nil, plan{}, err
	}
	w.Stream = stream
	body, err := json.Marshal(w)
	if err != nil {
		return nil, plan{}, llm.InvalidParam("messages", "cannot encode request: %v", err)
	}
	if len(req.Extra) > 0 {
		body, err = mergeExtra(body, req.Extra)
	}
	return body, pl, err
}

func (s *settings) translateRequest(req *llm.ChatRequest) (*wireRequest, plan, error) {
	if req.Logprobs != nil && *req.Logprobs && !s.ignoreLogprobs {
		return nil, plan{}, llm.InvalidParam("logprobs", "Anthropic models return no log probabilities; leave logprobs out, or set providers[].anthropic.logprobs: ignore to answer without them")
	}
	w, err := s.translateBase(req)
	if err != nil {
		return nil, plan{}, err
	}
	pl, err := s.responseFormat(req, w)
	if err != nil {
		return nil, plan{}, err
	}
	if err := s.reasoning(req, w); err != nil {
		return nil, plan{}, err
	}
	s.autoCachePoint(w)
	n, long := countBreakpoints(w)
	if n > maxCacheBreakpoints {
		return nil, plan{}, llm.InvalidParam("cache_control", "%d cache breakpoints (cache_control) in one request; Anthropic takes at most %d", n, maxCacheBreakpoints)
	}
	if long {
		pl.betas = append(pl.betas, BetaExtendedCacheTTL)
	}
	return w, pl, nil
}

// translateBase is the request without what depends on the settings
// (structured output, thinking from an effort, the automatic cache point).
func (s *settings) translateBase(req *llm.ChatRequest) (*wireRequest, error) {
	if req.Model == "" {
		return nil, llm.InvalidParam("model", "model is required")
	}
	if len(req.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "messages must not be empty")
	}
	if req.N != nil && *req.N != 1 {
		return nil, llm.InvalidParam("n", "anthropic returns one choice per request; n must be 1")
	}
	w := &wireRequest{
		Model:         req.Model,
		MaxTokens:     DefaultMaxTokens,
		Temperature:   req.Temperature,
		TopP:          req.TopP,
		TopK:          req.TopK,
		StopSequences: req.Stop,
	}
	if t := req.Thinking; t != nil {
		w.Thinking = &wireThinking{Type: t.Type}
		switch t.Type {
		case llm.ThinkingEnabled:
			if t.BudgetTokens < 1 {
				return nil, llm.InvalidParam("thinking.budget_tokens", "thinking.budget_tokens must be positive")
			}
			w.Thinking.BudgetTokens = t.BudgetTokens
		case llm.ThinkingDisabled, llm.ThinkingAdaptive:
		default:
			return nil, llm.InvalidParam("thinking.type", "unknown thinking type %q", t.Type)
		}
	}
	if req.MaxTokens != nil {
		if *req.MaxTokens <= 0 {
			return nil, llm.InvalidParam("max_tokens", "max_tokens must be positive")
		}
		w.MaxTokens = *req.MaxTokens
	}
	if req.User != "" {
		w.Metadata = &wireMetadata{UserID: req.User}
	}
	if err := translateTools(req, w); err != nil {
		return nil, err
	}

	var system []wireBlock
	w.Messages = make([]wireMessage, 0, len(req.Messages))
	for i := range req.Messages {
		m := &req.Messages[i]
		var role string
		var blocks []wireBlock
		var err error
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			system = appendSystem(system, m)
			continue
		case llm.RoleUser:
			role = "user"
			blocks, err = s.contentBlocks(m, i)
		case llm.RoleAssistant:
			role = "assistant"
			blocks, err = s.assistantBlocks(m, i)
		case llm.RoleTool:
			role = "user"
			blocks, err = s.toolResultBlocks(m, i)
		default:
			return nil, llm.InvalidParam("messages", "messages[%d]: unknown role %q", i, m.Role)
		}
		if err != nil {
			return nil, err
		}
		if len(blocks) == 0 {
			continue // the API rejects empty content
		}
		markLast(blocks, m.Cache)
		// Anthropic wants alternating roles: consecutive turns of one role
		// (a tool result then a user question, two user messages) become
		// one message with several blocks.
		if n := len(w.Messages); n > 0 && w.Messages[n-1].Role == role {
			w.Messages[n-1].blocks = append(w.Messages[n-1].blocks, blocks...)
			continue
		}
		w.Messages = append(w.Messages, wireMessage{Role: role, blocks: blocks})
	}
	if len(w.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "at least one user or assistant message is required")
	}
	for i := range w.Messages {
		m := &w.Messages[i]
		if len(m.blocks) == 1 && m.blocks[0].Type == "text" && m.blocks[0].CacheControl == nil {
			m.Content = m.blocks[0].Text
		} else {
			m.Content = m.blocks
		}
	}
	w.System = systemValue(system)
	return w, nil
}

func translateTools(req *llm.ChatRequest, w *wireRequest) error {
	for i, t := range req.Tools {
		if t.Type != "" && t.Type != "function" {
			return llm.InvalidParam("tools", "tools[%d]: type %q is not supported", i, t.Type)
		}
		if t.Name == "" {
			return llm.InvalidParam("tools", "tools[%d]: name is required", i)
		}
		schema := t.Parameters
		if len(bytes.TrimSpace(schema)) == 0 || string(schema) == "null" {
			schema = emptySchema
		} else if !json.Valid(schema) {
			return llm.InvalidParam("tools", "tools[%d]: parameters are not valid JSON", i)
		}
		w.Tools = append(w.Tools, wireTool{Name: t.Name, Description: t.Description, InputSchema: schema, CacheControl: cacheControl(t.Cache)})
	}
	disableParallel := req.ParallelToolCalls != nil && !*req.ParallelToolCalls
	tc := req.ToolChoice
	switch {
	case tc != nil && tc.Function != "":
		w.ToolChoice = &wireToolChoice{Type: "tool", Name: tc.Function}
	case tc != nil && tc.Mode == "none":
		w.ToolChoice = &wireToolChoice{Type: "none"}
		return nil // none takes no parallelism flag
	case tc != nil && tc.Mode == "required":
		w.ToolChoice = &wireToolChoice{Type: "any"}
	case tc != nil && tc.Mode == "auto":
		w.ToolChoice = &wireToolChoice{Type: "auto"}
	case tc != nil && tc.Mode != "":
		return llm.InvalidParam("tool_choice", "unknown tool_choice %q", tc.Mode)
	case disableParallel && len(w.Tools) > 0:
		w.ToolChoice = &wireToolChoice{Type: "auto"}
	}
	if w.ToolChoice != nil {
		w.ToolChoice.DisableParallelToolUse = disableParallel
	}
	return nil
}

// assistantBlocks translates an assistant turn: its reasoning first (the
// API wants thinking blocks before the rest), then text, then one tool_use
// block per call with the arguments parsed as the input object.
func (s *settings) assistantBlocks(m *llm.Message, idx int) ([]wireBlock, error) {
	blocks := reasoningBlocks(m)
	text, err := s.contentBlocks(m, idx)
	if err != nil {
		return nil, err
	}
	blocks = append(blocks, text...)
	for j, tc := range m.ToolCalls {
		if tc.ID == "" || tc.Name == "" {
			return nil, llm.InvalidParam("messages", "messages[%d].tool_calls[%d]: id and name are required", idx, j)
		}
		input := json.RawMessage(tc.Arguments)
		if len(bytes.TrimSpace(input)) == 0 {
			input = json.RawMessage("{}")
		} else if !isJSONObject(input) {
			return nil, llm.InvalidParam("messages", "messages[%d].tool_calls[%d]: arguments must be a JSON object", idx, j)
		}
		blocks = append(blocks, wireBlock{Type: "tool_use", ID: tc.ID, Name: tc.Name, Input: input})
	}
	return blocks, nil
}

// reasoningBlocks gives back the thinking an assistant turn carried. Only
// signed thinking goes: the API verifies the signature, and reasoning
// another provider produced (DeepSeek's reasoning_content) has none, so it
// stays behind rather than fail the request.
func reasoningBlocks(m *llm.Message) []wireBlock {
	var out []wireBlock
	if m.ReasoningSignature != "" {
		out = append(out, wireBlock{Type: "thinking", Thinking: m.ReasoningContent, Signature: m.ReasoningSignature})
	}
	for _, d := range m.RedactedReasoning {
		out = append(out, wireBlock{Type: "redacted_thinking", Data: d})
	}
	return out
}

// toolResultBlocks turns a tool message into the tool_result block the
// Messages API expects inside a user turn.
func (s *settings) toolResultBlocks(m *llm.Message, idx int) ([]wireBlock, error) {
	if m.ToolCallID == "" {
		return nil, llm.InvalidParam("messages", "messages[%d]: tool message needs tool_call_id", idx)
	}
	b := wireBlock{Type: "tool_result", ToolUseID: m.ToolCallID}
	if len(m.Parts) == 0 {
		if m.Content != "" {
			b.Content = m.Content
		}
	} else {
		inner, err := s.contentBlocks(m, idx)
		if err != nil {
			return nil, err
		}
		if len(inner) > 0 {
			b.Content = inner
		}
	}
	return []wireBlock{b}, nil
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// mergeExtra adds the passthrough fields to an encoded body, replacing
// fields of the same name, except stream, which the method decides.
func mergeExtra(body []byte, extra map[string]json.RawMessage) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(body, &obj); err != nil {
		return nil, llm.InvalidParam("messages", "cannot encode request: %v", err)
	}
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "stream" {
			continue
		}
		v := extra[k]
		if !json.Valid(v) {
			return nil, llm.InvalidParam(k, "extra field %q is not valid JSON", k)
		}
		obj[k] = v
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, llm.InvalidParam("messages", "cannot encode request: %v", err)
	}
	return out, nil
}
