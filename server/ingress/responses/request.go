// Package responses is the OpenAI Responses API at the door (what Codex
// CLI, the OpenAI Agents SDK and the Vercel AI SDK's default provider
// speak): POST /v1/responses unary and SSE with the Responses event
// sequence, and stored responses — previous_response_id chains, GET,
// DELETE and input_items — scoped to the client key. Requests decode into
// engine/llm and go through the one lifecycle to any target.
package responses

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"path"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/ingress"
)

// request is the wire body of POST /v1/responses. Fields the engine has
// no use for are tolerated: SDKs send new ones before gateways know them.
type request struct {
	Model              string            `json:"model"`
	Input              json.RawMessage   `json:"input"`
	Instructions       string            `json:"instructions"`
	PreviousResponseID string            `json:"previous_response_id"`
	Tools              []tool            `json:"tools"`
	ToolChoice         json.RawMessage   `json:"tool_choice"`
	ParallelToolCalls  *bool             `json:"parallel_tool_calls"`
	Text               *textConfig       `json:"text"`
	Reasoning          *reasoning        `json:"reasoning"`
	MaxOutputTokens    *int              `json:"max_output_tokens"`
	Temperature        *float64          `json:"temperature"`
	TopP               *float64          `json:"top_p"`
	Metadata           map[string]string `json:"metadata"`
	User               string            `json:"user"`
	SafetyIdentifier   string            `json:"safety_identifier"`
	Store              *bool             `json:"store"`
	Stream             bool              `json:"stream"`
	Background         bool              `json:"background"`
	Include            []string          `json:"include"`
	Truncation         string            `json:"truncation"`
}

// tool is a tool as the request declares it. Namespaces (Codex groups
// sub-agent tools in one) carry function tools of their own.
type tool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
	Tools       []tool          `json:"tools,omitempty"`
	Format      json.RawMessage `json:"format,omitempty"`
	// CacheControl: a breakpoint after the tools up to this one.
	CacheControl *cacheControl `json:"cache_control,omitempty"`
}

// toolKind is how a domain tool call goes back out: as a function_call
// (in its namespace, if it came from one) or a custom_tool_call.
type toolKind struct {
	custom    bool
	namespace string
}

type textConfig struct {
	Format *struct {
		// omitempty: the format is echoed in the response object, and what
		// the client did not send is not sent back.
		Type        string          `json:"type"`
		Name        string          `json:"name,omitempty"`
		Description string          `json:"description,omitempty"`
		Schema      json.RawMessage `json:"schema,omitempty"`
		Strict      *bool           `json:"strict,omitempty"`
	} `json:"format"`
	Verbosity string `json:"verbosity"`
}

type reasoning struct {
	Effort  string `json:"effort"`
	Summary string `json:"summary"`
}

// item is one input (or stored output) item. The union is flat, as on the
// wire; type "" with a role is a message (the SDKs' EasyInputMessage).
type item struct {
	Type      string          `json:"type"`
	ID        string          `json:"id,omitempty"`
	Role      string          `json:"role,omitempty"`
	Content   json.RawMessage `json:"content,omitempty"`
	CallID    string          `json:"call_id,omitempty"`
	Name      string          `json:"name,omitempty"`
	Arguments string          `json:"arguments,omitempty"`
	Output    json.RawMessage `json:"output,omitempty"`
	Input     string          `json:"input,omitempty"` // of a custom_tool_call
	Summary   []summaryPart   `json:"summary,omitempty"`
	// EncryptedContent of a reasoning item: OpenAI's (only OpenAI reads
	// it) or a signature the gateway carried (reasoning.go).
	EncryptedContent string `json:"encrypted_content,omitempty"`
}

type summaryPart struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// part is one content part of a message item.
type part struct {
	Type     string `json:"type"`
	Text     string `json:"text"`
	Refusal  string `json:"refusal"`
	ImageURL string `json:"image_url"`
	FileID   string `json:"file_id"`
	Detail   string `json:"detail"`
	// input_file
	FileData string `json:"file_data"`
	FileURL  string `json:"file_url"`
	Filename string `json:"filename"`
	// input_audio, as the SDKs type it: {"data","format"}
	InputAudio *struct {
		Data   string `json:"data"`
		Format string `json:"format"`
	} `json:"input_audio"`
	// CacheControl is a prompt-cache breakpoint, as LiteLLM takes it on
	// Responses content parts, for Anthropic targets.
	CacheControl *cacheControl `json:"cache_control"`
}

type cacheControl struct {
	Type string `json:"type"`
	TTL  string `json:"ttl"`
}

func (c *cacheControl) hint() *llm.CacheHint {
	if c == nil || c.Type == "" {
		return nil
	}
	return &llm.CacheHint{Type: c.Type, TTL: c.TTL}
}

func invalid(param, format string, args ...any) error {
	return llm.InvalidParam(param, format, args...)
}

// parsed is a decoded request: the domain request, and what the answer and
// the store need besides.
type parsed struct {
	req   *llm.ChatRequest
	in    request
	items []json.RawMessage // this request's own input, as items
	store bool
	// tools is the request's tools as sent, for the echo in the response.
	tools json.RawMessage
	kinds map[string]toolKind // tools that do not go back as plain function calls
	// dropped names the hosted tools no target behind this gateway runs.
	dropped []string
}

// decode reads a Responses body. The conversation it builds is history
// (the stored chain's items, oldest first) followed by the request's input.
func decode(body []byte) (*parsed, error) {
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("", "request body is not valid JSON: %v", err)
	}
	if in.Model == "" {
		return nil, invalid("model", "Missing required parameter: 'model'.")
	}
	if in.Background {
		return nil, invalid("background", "background responses are not supported by this gateway")
	}
	items, err := inputItems(in.Input)
	if err != nil {
		return nil, err
	}
	p := &parsed{in: in, items: items, store: in.Store == nil || *in.Store}
	var echo struct {
		Tools json.RawMessage `json:"tools"`
	}
	_ = json.Unmarshal(body, &echo)
	p.tools = echo.Tools
	req := &llm.ChatRequest{Model: in.Model, MaxTokens: in.MaxOutputTokens, Temperature: in.Temperature, TopP: in.TopP,
		ParallelToolCalls: in.ParallelToolCalls, Metadata: in.Metadata, User: in.User, IncludeUsage: true}
	if req.User == "" {
		req.User = in.SafetyIdentifier
	}
	if in.Reasoning != nil {
		req.ReasoningEffort = in.Reasoning.Effort
	}
	if err := decodeFormat(req, in.Text); err != nil {
		return nil, err
	}
	p.req = req
	if err := p.decodeTools(in.Tools, in.ToolChoice); err != nil {
		return nil, err
	}
	return p, nil
}

// inputItems normalises input (a string, or an array of items) to items.
func inputItems(raw json.RawMessage) ([]json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, invalid("input", "Missing required parameter: 'input'.")
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, invalid("input", "input: %v", err)
		}
		b, _ := json.Marshal(item{Type: "message", Role: "user", Content: raw})
		return []json.RawMessage{b}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, invalid("input", "input: want a string or an array of input items")
	}
	return items, nil
}

// conversation maps instructions, history and input onto domain messages.
// Instructions are not part of the stored chain: as with OpenAI, each
// request's own apply.
func conversation(instructions string, items []json.RawMessage) ([]llm.Message, error) {
	var out []llm.Message
	if instructions != "" {
		out = append(out, llm.Message{Role: llm.RoleSystem, Content: instructions})
	}
	// reasoning holds a reasoning item's summary for the assistant turn it
	// precedes; function calls join the assistant turn before them.
	var (
		reasoning, signature string
		redacted             []string
	)
	assistant := func() *llm.Message {
		if n := len(out); n > 0 && out[n-1].Role == llm.RoleAssistant {
			return &out[n-1]
		}
		out = append(out, llm.Message{Role: llm.RoleAssistant, ReasoningContent: reasoning, ReasoningSignature: signature, RedactedReasoning: redacted})
		reasoning, signature, redacted = "", "", nil
		return &out[len(out)-1]
	}
	for i, raw := range items {
		var it item
		if err := json.Unmarshal(raw, &it); err != nil {
			return nil, invalid(fmt.Sprintf("input[%d]", i), "input[%d]: not a valid input item: %v", i, err)
		}
		param := fmt.Sprintf("input[%d]", i)
		switch it.Type {
		case "message", "":
			m, err := messageOf(param, it)
			if err != nil {
				return nil, err
			}
			if m.Role == llm.RoleAssistant {
				m.ReasoningContent, m.ReasoningSignature, m.RedactedReasoning = reasoning, signature, redacted
				reasoning, signature, redacted = "", "", nil
			}
			out = append(out, m)
		case "function_call":
			if it.CallID == "" || it.Name == "" {
				return nil, invalid(param, "%s: a function_call needs call_id and name", param)
			}
			a := assistant()
			args := it.Arguments
			if args == "" {
				args = "{}"
			}
			id, sig := llm.SplitToolCallID(it.CallID) // a Gemini signature rides in the id
			a.ToolCalls = append(a.ToolCalls, llm.ToolCall{Index: len(a.ToolCalls), ID: id, Type: "function", Name: it.Name, Arguments: args, Signature: sig})
		case "custom_tool_call":
			if it.CallID == "" || it.Name == "" {
				return nil, invalid(param, "%s: a custom_tool_call needs call_id and name", param)
			}
			a := assistant()
			args, _ := json.Marshal(map[string]string{"input": it.Input})
			id, sig := llm.SplitToolCallID(it.CallID)
			a.ToolCalls = append(a.ToolCalls, llm.ToolCall{Index: len(a.ToolCalls), ID: id, Type: "function", Name: it.Name, Arguments: string(args), Signature: sig})
		case "function_call_output", "custom_tool_call_output":
			if it.CallID == "" {
				return nil, invalid(param+".call_id", "%s: Missing required parameter: 'call_id'.", param)
			}
			text, err := outputText(it.Output)
			if err != nil {
				return nil, invalid(param+".output", "%s.output: %v", param, err)
			}
			id, _ := llm.SplitToolCallID(it.CallID)
			out = append(out, llm.Message{Role: llm.RoleTool, ToolCallID: id, Content: text})
		case "reasoning":
			// Encrypted reasoning is the issuing provider's to read; the
			// summary is what any other target can be given back.
			for _, s := range it.Summary {
				if reasoning != "" {
					reasoning += "\n"
				}
				reasoning += s.Text
			}
			if sig, red, ok := uncarryReasoning(it.EncryptedContent); ok {
				if sig != "" {
					signature = sig
				}
				redacted = append(redacted, red...)
			}
		default:
			return nil, invalid(param+".type", "%s: input items of type %q are not supported by this gateway", param, it.Type)
		}
	}
	return out, nil
}

func messageOf(param string, it item) (llm.Message, error) {
	var role llm.Role
	switch it.Role {
	case "user":
		role = llm.RoleUser
	case "assistant":
		role = llm.RoleAssistant
	case "system":
		role = llm.RoleSystem
	case "developer":
		role = llm.RoleDeveloper
	default:
		return llm.Message{}, invalid(param+".role", "%s.role: want user, assistant, system or developer, got %q", param, it.Role)
	}
	raw := bytes.TrimSpace(it.Content)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return llm.Message{}, invalid(param+".content", "%s.content: %v", param, err)
		}
		return llm.Message{Role: role, Content: s}, nil
	}
	var parts []part
	if err := json.Unmarshal(raw, &parts); err != nil {
		return llm.Message{}, invalid(param+".content", "%s.content: want a string or an array of content parts", param)
	}
	m := llm.Message{Role: role}
	for j, p := range parts {
		pp := fmt.Sprintf("%s.content[%d]", param, j)
		switch p.Type {
		case "input_text", "output_text", "text":
			m.Parts = append(m.Parts, llm.Part{Type: llm.PartText, Text: p.Text})
		case "refusal":
			m.Refusal = p.Refusal
		case "input_image":
			if p.ImageURL == "" {
				return llm.Message{}, invalid(pp+".image_url", "%s: only image_url images are supported (file_id needs the Files API)", pp)
			}
			m.Parts = append(m.Parts, llm.Part{Type: llm.PartImage, ImageURL: p.ImageURL, ImageDetail: p.Detail})
		case "input_file":
			f, err := filePart(pp, p)
			if err != nil {
				return llm.Message{}, err
			}
			m.Parts = append(m.Parts, llm.Part{Type: llm.PartFile, File: f})
		case "input_audio":
			if p.InputAudio == nil || p.InputAudio.Data == "" || p.InputAudio.Format == "" {
				return llm.Message{}, invalid(pp+".input_audio", "%s.input_audio: data and format are required", pp)
			}
			m.Parts = append(m.Parts, llm.Part{Type: llm.PartAudio, Audio: &llm.AudioPart{Data: p.InputAudio.Data, Format: p.InputAudio.Format}})
		default:
			return llm.Message{}, invalid(pp+".type", "%s: content parts of type %q are not supported by this gateway", pp, p.Type)
		}
		if h := p.CacheControl.hint(); h != nil && len(m.Parts) > 0 {
			m.Parts[len(m.Parts)-1].Cache = h
		}
	}
	ingress.Collapse(&m)
	return m, nil
}

// filePart maps an input_file part. file_data is a data: URL (as the
// OpenAI docs and SDK helpers build it); bare base64 is taken when the
// filename's extension names the type, since every target needs one.
func filePart(param string, p part) (*llm.FilePart, error) {
	f := &llm.FilePart{FileID: p.FileID, URL: p.FileURL, Filename: p.Filename}
	if p.FileData != "" {
		if mt, data, ok := llm.ParseDataURL(p.FileData); ok {
			f.MIMEType, f.Data = mt, data
		} else if mt := mime.TypeByExtension(path.Ext(p.Filename)); mt != "" && !strings.HasPrefix(p.FileData, "data:") {
			f.MIMEType, _, _ = strings.Cut(mt, ";")
			f.Data = p.FileData
		} else {
			return nil, invalid(param+".file_data", "%s.file_data: want a base64 data: URL (data:<type>;base64,...)", param)
		}
	}
	if f.Data == "" && f.FileID == "" && f.URL == "" {
		return nil, invalid(param, "%s: an input_file needs file_data, file_url or file_id", param)
	}
	return f, nil
}

// outputText flattens a function_call_output's output (a string, or
// input_text parts).
func outputText(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", nil
	}
	if raw[0] == '"' {
		var s string
		err := json.Unmarshal(raw, &s)
		return s, err
	}
	var parts []part
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", fmt.Errorf("want a string or an array of content parts")
	}
	var b strings.Builder
	for _, p := range parts {
		if p.Text != "" {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String(), nil
}

func decodeFormat(req *llm.ChatRequest, t *textConfig) error {
	if t == nil || t.Format == nil {
		return nil
	}
	switch f := t.Format; f.Type {
	case "text", "":
	case "json_object":
		req.ResponseFormat = &llm.ResponseFormat{Type: "json_object"}
	case "json_schema":
		if len(f.Schema) == 0 {
			return invalid("text.format.schema", "Missing required parameter: 'text.format.schema'.")
		}
		req.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", SchemaName: f.Name, SchemaDescription: f.Description, Schema: f.Schema, Strict: f.Strict}
	default:
		return invalid("text.format.type", "text.format.type: unknown format %q", f.Type)
	}
	return nil
}

// decodeTools maps function tools, the function tools inside namespaces,
// and custom (freeform) tools as functions taking one string. Hosted tools
// (web_search, file_search, computer use, MCP, ...) run inside OpenAI, and
// no target here can run them: they are left out and named in a response
// header, as Codex CLI itself does when it talks Chat Completions.
func (p *parsed) decodeTools(tools []tool, choice json.RawMessage) error {
	req := p.req
	add := func(param string, t tool, kind toolKind) error {
		if t.Name == "" {
			return invalid(param+".name", "Missing required parameter: '%s.name'.", param)
		}
		schema := t.Parameters
		if kind.custom {
			schema = json.RawMessage(`{"type":"object","properties":{"input":{"type":"string","description":"The tool's freeform input."}},"required":["input"]}`)
		}
		if len(bytes.TrimSpace(schema)) == 0 || string(schema) == "null" {
			schema = json.RawMessage(`{"type":"object","properties":{}}`)
		}
		if kind != (toolKind{}) {
			if p.kinds == nil {
				p.kinds = map[string]toolKind{}
			}
			p.kinds[t.Name] = kind
		}
		req.Tools = append(req.Tools, llm.Tool{Type: "function", Name: t.Name, Description: t.Description, Parameters: schema, Strict: t.Strict,
			Cache: t.CacheControl.hint()})
		return nil
	}
	for i, t := range tools {
		param := fmt.Sprintf("tools[%d]", i)
		var err error
		switch t.Type {
		case "function":
			err = add(param, t, toolKind{})
		case "custom":
			err = add(param, t, toolKind{custom: true})
		case "namespace":
			for j, sub := range t.Tools {
				if sub.Type != "function" {
					continue
				}
				if err = add(fmt.Sprintf("%s.tools[%d]", param, j), sub, toolKind{namespace: t.Name}); err != nil {
					break
				}
			}
		case "":
			err = invalid(param+".type", "Missing required parameter: '%s.type'.", param)
		default:
			p.dropped = append(p.dropped, t.Type)
		}
		if err != nil {
			return err
		}
	}
	choice = bytes.TrimSpace(choice)
	if len(choice) == 0 || string(choice) == "null" {
		return nil
	}
	if choice[0] == '"' {
		var mode string
		_ = json.Unmarshal(choice, &mode)
		switch mode {
		case "auto", "none", "required":
			req.ToolChoice = &llm.ToolChoice{Mode: mode}
			return nil
		}
		return invalid("tool_choice", "tool_choice: want auto, none, required or a function, got %q", mode)
	}
	var tc struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal(choice, &tc); err != nil || tc.Type != "function" || tc.Name == "" {
		return invalid("tool_choice", "tool_choice: want auto, none, required or {\"type\":\"function\",\"name\":...}")
	}
	req.ToolChoice = &llm.ToolChoice{Function: tc.Name}
	return nil
}
