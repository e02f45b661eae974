package openai

import (
	"encoding/json"
	"fmt"
	"maps"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// rsRequest is a Responses API request built from a domain request, for a
// client of another dialect routed to a model that needs the Responses API.
type rsRequest struct {
	Model             string            `json:"model"`
	Instructions      string            `json:"instructions,omitempty"`
	Input             []rsInputItem     `json:"input"`
	Tools             []rsTool          `json:"tools,omitempty"`
	ToolChoice        any               `json:"tool_choice,omitempty"` // mode string or rsNamedChoice
	ParallelToolCalls *bool             `json:"parallel_tool_calls,omitempty"`
	Text              *rsText           `json:"text,omitempty"`
	Reasoning         *rsReasoning      `json:"reasoning,omitempty"`
	MaxOutputTokens   *int              `json:"max_output_tokens,omitempty"`
	Temperature       *float64          `json:"temperature,omitempty"`
	TopP              *float64          `json:"top_p,omitempty"`
	TopLogprobs       *int              `json:"top_logprobs,omitempty"`
	Include           []string          `json:"include,omitempty"`
	Metadata          map[string]string `json:"metadata,omitempty"`
	User              string            `json:"user,omitempty"`
	// Store is always false: the gateway keeps no upstream state for a
	// client that did not ask for it, and each request carries its history.
	Store  bool `json:"store"`
	Stream bool `json:"stream,omitempty"`
}

// rsInputItem is a message, function_call or function_call_output item;
// the union is flat, as on the wire.
type rsInputItem struct {
	Type      string  `json:"type"`
	Role      string  `json:"role,omitempty"`
	Content   any     `json:"content,omitempty"` // string or []rsPart
	CallID    string  `json:"call_id,omitempty"`
	Name      string  `json:"name,omitempty"`
	Arguments string  `json:"arguments,omitempty"`
	Output    *string `json:"output,omitempty"`
}

type rsPart struct {
	Type       string          `json:"type"`
	Text       *string         `json:"text,omitempty"`
	ImageURL   string          `json:"image_url,omitempty"`
	Detail     string          `json:"detail,omitempty"`
	FileData   string          `json:"file_data,omitempty"`
	FileURL    string          `json:"file_url,omitempty"`
	FileID     string          `json:"file_id,omitempty"`
	Filename   string          `json:"filename,omitempty"`
	InputAudio *wireInputAudio `json:"input_audio,omitempty"`
}

// rsTool is Responses' function tool: flat, not nested under "function".
type rsTool struct {
	Type        string          `json:"type"`
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Parameters  json.RawMessage `json:"parameters,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

type rsNamedChoice struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

type rsText struct {
	Format    *rsFormat `json:"format,omitempty"`
	Verbosity string    `json:"verbosity,omitempty"`
}

type rsFormat struct {
	Type        string          `json:"type"`
	Name        string          `json:"name,omitempty"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
	Strict      *bool           `json:"strict,omitempty"`
}

type rsReasoning struct {
	Effort  string `json:"effort,omitempty"`
	Summary string `json:"summary,omitempty"`
}

// rsReserved are keys the translation owns; Extra and OpenAIFields cannot
// set them.
func rsReserved(k string) bool {
	switch k {
	case "model", "input", "instructions", "stream", "stream_options", "store", "messages":
		return true
	}
	return false
}

// encodeResponses translates req to a Responses API body. Errors are 400s
// naming the domain field the Responses API cannot take.
func encodeResponses(req *llm.ChatRequest, stream bool) ([]byte, error) {
	if req == nil {
		return nil, llm.Errorf(llm.KindInvalidRequest, "nil chat request")
	}
	if req.Model == "" {
		return nil, llm.InvalidParam("model", "model is required")
	}
	if len(req.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "at least one message is required")
	}
	if err := rsRefuse(req); err != nil {
		return nil, err
	}
	w := rsRequest{Model: req.Model, ParallelToolCalls: req.ParallelToolCalls, MaxOutputTokens: req.MaxTokens,
		Temperature: req.Temperature, TopP: req.TopP, Metadata: req.Metadata, User: req.User, Stream: stream}
	if err := w.encodeInput(req.Messages); err != nil {
		return nil, err
	}
	for i, t := range req.Tools {
		if t.Name == "" {
			return nil, llm.InvalidParam(fmt.Sprintf("tools[%d].function.name", i), "tool name is required")
		}
		if len(t.Parameters) > 0 && !json.Valid(t.Parameters) {
			return nil, llm.InvalidParam(fmt.Sprintf("tools[%d].function.parameters", i), "parameters is not valid JSON")
		}
		w.Tools = append(w.Tools, rsTool{Type: "function", Name: t.Name, Description: t.Description, Parameters: t.Parameters, Strict: t.Strict})
	}
	if tc := req.ToolChoice; tc != nil {
		switch {
		case tc.Function != "":
			w.ToolChoice = rsNamedChoice{Type: "function", Name: tc.Function}
		case tc.Mode != "":
			w.ToolChoice = tc.Mode
		}
	}
	if err := w.encodeFormat(req.ResponseFormat); err != nil {
		return nil, err
	}
	w.encodeReasoning(req)
	if req.Logprobs != nil && *req.Logprobs {
		w.Include = append(w.Include, "message.output_text.logprobs")
		w.TopLogprobs = req.TopLogprobs
	}
	body, err := json.Marshal(&w)
	if err != nil {
		return nil, &llm.Error{Kind: llm.KindInvalidRequest, Message: "encode request: " + err.Error(), Err: err}
	}
	return w.mergeFields(body, req)
}

// rsRefuse names the first sampling control the Responses API lacks.
func rsRefuse(req *llm.ChatRequest) error {
	no := func(param string) error {
		return llm.InvalidParam(param, "%s: model %s is served over the OpenAI Responses API, which has no %s", param, req.Model, param)
	}
	switch {
	case req.N != nil && *req.N > 1:
		return no("n")
	case len(req.Stop) > 0:
		return no("stop")
	case req.Seed != nil:
		return no("seed")
	case req.PresencePenalty != nil:
		return no("presence_penalty")
	case req.FrequencyPenalty != nil:
		return no("frequency_penalty")
	case len(req.LogitBias) > 0:
		return no("logit_bias")
	}
	// Chat Completions fields the Responses API has no counterpart for are
	// refused by name rather than dropped. Fields of both APIs
	// (service_tier, prompt_cache_key, safety_identifier, ...) and fields the
	// gateway does not know pass as they are.
	for _, k := range [...]string{"prediction", "modalities", "audio", "web_search_options", "functions", "function_call"} {
		if _, ok := req.OpenAIFields[k]; ok {
			return no(k)
		}
	}
	return nil
}

// encodeInput maps the conversation: leading system and developer turns
// become instructions; the rest become input items, an assistant's tool
// calls function_call items after its text, tool results
// function_call_output items.
func (w *rsRequest) encodeInput(msgs []llm.Message) error {
	i := 0
	var instr []string
	for ; i < len(msgs) && (msgs[i].Role == llm.RoleSystem || msgs[i].Role == llm.RoleDeveloper); i++ {
		instr = append(instr, messageText(&msgs[i]))
	}
	w.Instructions = strings.Join(instr, "\n\n")
	for ; i < len(msgs); i++ {
		m := &msgs[i]
		param := fmt.Sprintf("messages[%d]", i)
		switch m.Role {
		case llm.RoleUser, llm.RoleSystem, llm.RoleDeveloper:
			content, err := rsContent(param, m)
			if err != nil {
				return err
			}
			w.Input = append(w.Input, rsInputItem{Type: "message", Role: string(m.Role), Content: content})
		case llm.RoleAssistant:
			// Reasoning text is not sent back: the Responses API takes
			// reasoning only as its own items, by id or encrypted.
			text := messageText(m)
			if text == "" {
				text = m.Refusal
			}
			if text != "" {
				w.Input = append(w.Input, rsInputItem{Type: "message", Role: "assistant", Content: text})
			}
			for _, tc := range m.ToolCalls {
				args := tc.Arguments
				if args == "" {
					args = "{}"
				}
				// tc.Signature belongs to the provider that issued the call.
				w.Input = append(w.Input, rsInputItem{Type: "function_call", CallID: tc.ID, Name: tc.Name, Arguments: args})
			}
		case llm.RoleTool:
			if m.ToolCallID == "" {
				return llm.InvalidParam(param+".tool_call_id", "%s.tool_call_id: a tool result needs the id of its call", param)
			}
			out := messageText(m)
			w.Input = append(w.Input, rsInputItem{Type: "function_call_output", CallID: m.ToolCallID, Output: &out})
		default:
			return llm.InvalidParam(param+".role", "unknown role %q", m.Role)
		}
	}
	if len(w.Input) == 0 {
		return llm.InvalidParam("messages", "at least one message besides system and developer instructions is required")
	}
	return nil
}

// messageText is a message's text, its text parts joined.
func messageText(m *llm.Message) string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == llm.PartText {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// rsContent is a user-side message's content: a string, or input parts.
func rsContent(param string, m *llm.Message) (any, error) {
	if len(m.Parts) == 0 {
		return m.Content, nil
	}
	parts := make([]rsPart, len(m.Parts))
	for j := range m.Parts {
		p := &m.Parts[j]
		pp := fmt.Sprintf("%s.content[%d]", param, j)
		switch p.Type {
		case llm.PartText:
			parts[j] = rsPart{Type: "input_text", Text: &p.Text}
		case llm.PartImage:
			if p.ImageURL == "" {
				return nil, llm.InvalidParam(pp+".image_url.url", "image URL is required")
			}
			detail := p.ImageDetail
			if detail == "" {
				detail = "auto" // required on input_image
			}
			parts[j] = rsPart{Type: "input_image", ImageURL: p.ImageURL, Detail: detail}
		case llm.PartFile:
			f := p.File
			if f == nil || (f.Data == "" && f.URL == "" && f.FileID == "") {
				return nil, llm.InvalidParam(pp+".file", "%s.file: a file part needs data, a URL or a file id", pp)
			}
			rp := rsPart{Type: "input_file", FileURL: f.URL, FileID: f.FileID, Filename: f.Filename}
			if f.Data != "" {
				if f.MIMEType == "" {
					return nil, llm.InvalidParam(pp+".file.file_data", "%s.file.file_data: inline file data needs its MIME type", pp)
				}
				rp.FileData, rp.FileURL, rp.FileID = "data:"+f.MIMEType+";base64,"+f.Data, "", ""
			}
			parts[j] = rp
		case llm.PartAudio:
			a, err := encodeAudio(pp+".input_audio", p.Audio)
			if err != nil {
				return nil, err
			}
			parts[j] = rsPart{Type: "input_audio", InputAudio: a}
		default:
			return nil, llm.InvalidParam(pp+".type", "unsupported content part type %q", p.Type)
		}
	}
	return parts, nil
}

func (w *rsRequest) encodeFormat(rf *llm.ResponseFormat) error {
	if rf == nil {
		return nil
	}
	typ := rf.Type
	if typ == "" && len(rf.Schema) > 0 {
		typ = "json_schema"
	}
	switch typ {
	case "", "text":
	case "json_schema":
		if len(rf.Schema) == 0 || !json.Valid(rf.Schema) {
			return llm.InvalidParam("response_format.json_schema.schema", "schema is not valid JSON")
		}
		name := rf.SchemaName
		if name == "" {
			name = defaultSchemaName
		}
		w.Text = &rsText{Format: &rsFormat{Type: typ, Name: name, Description: rf.SchemaDescription, Schema: rf.Schema, Strict: rf.Strict}}
	default:
		w.Text = &rsText{Format: &rsFormat{Type: typ}}
	}
	return nil
}

// encodeReasoning sets reasoning.effort from the request's effort, and asks
// for a summary only when the client asked for thinking explicitly
// (Anthropic's thinking, Gemini's thinkingConfig): summaries need a verified
// OpenAI organization, so they are not asked for on every reasoning call.
func (w *rsRequest) encodeReasoning(req *llm.ChatRequest) {
	r := rsReasoning{Effort: req.ReasoningEffort}
	if t := req.Thinking; t != nil && t.Type != llm.ThinkingDisabled {
		r.Summary = "auto"
	}
	if r != (rsReasoning{}) {
		w.Reasoning = &r
	}
}

// mergeFields adds OpenAIFields and Extra: verbosity moves under text, the
// rest go top level unless the translation wrote the key already.
func (w *rsRequest) mergeFields(body []byte, req *llm.ChatRequest) ([]byte, error) {
	if len(req.OpenAIFields) == 0 && len(req.Extra) == 0 {
		return body, nil
	}
	fields := maps.Clone(req.OpenAIFields)
	if fields == nil {
		fields = map[string]json.RawMessage{}
	}
	maps.Copy(fields, req.Extra)
	if v, ok := fields["verbosity"]; ok {
		delete(fields, "verbosity")
		var s string
		if json.Unmarshal(v, &s) != nil {
			return nil, llm.InvalidParam("verbosity", "verbosity: want a string")
		}
		if w.Text == nil {
			w.Text = &rsText{}
		}
		w.Text.Verbosity = s
		b, err := json.Marshal(w)
		if err != nil {
			return nil, err
		}
		body = b
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(body, &top); err != nil {
		return nil, err
	}
	return mergeExtra(body, fields, func(k string) bool {
		_, ok := top[k]
		return ok || rsReserved(k)
	})
}
