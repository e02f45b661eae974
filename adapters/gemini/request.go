package gemini

import (
	"bytes"
	"encoding/json"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// gRequest is the body of generateContent and streamGenerateContent.
type gRequest struct {
	Contents          []gContent         `json:"contents"`
	SystemInstruction *gContent          `json:"systemInstruction,omitempty"`
	Tools             []gTool            `json:"tools,omitempty"`
	ToolConfig        *gToolConfig       `json:"toolConfig,omitempty"`
	GenerationConfig  *gGenerationConfig `json:"generationConfig,omitempty"`
}

type gContent struct {
	Role  string  `json:"role,omitempty"`
	Parts []gPart `json:"parts"`
}

// gPart is one part of a content, in requests and in responses.
type gPart struct {
	Text             string             `json:"text,omitempty"`
	Thought          bool               `json:"thought,omitempty"`
	ThoughtSignature string             `json:"thoughtSignature,omitempty"`
	InlineData       *gBlob             `json:"inlineData,omitempty"`
	FileData         *gFileData         `json:"fileData,omitempty"`
	FunctionCall     *gFunctionCall     `json:"functionCall,omitempty"`
	FunctionResponse *gFunctionResponse `json:"functionResponse,omitempty"`
}

type gBlob struct {
	MimeType string `json:"mimeType"`
	Data     string `json:"data"`
}

type gFileData struct {
	MimeType string `json:"mimeType,omitempty"`
	FileURI  string `json:"fileUri"`
}

type gFunctionCall struct {
	ID   string          `json:"id,omitempty"`
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}

type gFunctionResponse struct {
	Name     string          `json:"name"`
	Response json.RawMessage `json:"response"`
}

type gTool struct {
	FunctionDeclarations []gFunctionDeclaration `json:"functionDeclarations"`
}

// gFunctionDeclaration sends parameters as parametersJsonSchema: OpenAI
// tools carry full JSON Schema (additionalProperties, $defs, ...), which the
// OpenAPI-subset "parameters" field rejects.
type gFunctionDeclaration struct {
	Name                 string          `json:"name"`
	Description          string          `json:"description,omitempty"`
	ParametersJSONSchema json.RawMessage `json:"parametersJsonSchema,omitempty"`
}

type gToolConfig struct {
	FunctionCallingConfig gFunctionCallingConfig `json:"functionCallingConfig"`
}

type gFunctionCallingConfig struct {
	Mode                 string   `json:"mode"`
	AllowedFunctionNames []string `json:"allowedFunctionNames,omitempty"`
}

type gGenerationConfig struct {
	StopSequences      []string         `json:"stopSequences,omitempty"`
	ResponseMimeType   string           `json:"responseMimeType,omitempty"`
	ResponseJSONSchema json.RawMessage  `json:"responseJsonSchema,omitempty"`
	CandidateCount     *int             `json:"candidateCount,omitempty"`
	MaxOutputTokens    *int             `json:"maxOutputTokens,omitempty"`
	Temperature        *float64         `json:"temperature,omitempty"`
	TopP               *float64         `json:"topP,omitempty"`
	TopK               *int             `json:"topK,omitempty"`
	ThinkingConfig     *gThinkingConfig `json:"thinkingConfig,omitempty"`
	Seed               *int64           `json:"seed,omitempty"`
	PresencePenalty    *float64         `json:"presencePenalty,omitempty"`
	FrequencyPenalty   *float64         `json:"frequencyPenalty,omitempty"`
	ResponseLogprobs   *bool            `json:"responseLogprobs,omitempty"`
	Logprobs           *int             `json:"logprobs,omitempty"`
}

// gThinkingConfig budgets a thinking model's reasoning: 0 turns it off,
// -1 lets the model decide, or a level (Gemini 3) instead of a budget;
// includeThoughts returns thought summaries.
type gThinkingConfig struct {
	ThinkingBudget  *int   `json:"thinkingBudget,omitempty"`
	ThinkingLevel   string `json:"thinkingLevel,omitempty"`
	IncludeThoughts bool   `json:"includeThoughts,omitempty"`
}

func (g *gGenerationConfig) empty() bool {
	return len(g.StopSequences) == 0 && g.ResponseMimeType == "" && g.CandidateCount == nil &&
		g.MaxOutputTokens == nil && g.Temperature == nil && g.TopP == nil && g.TopK == nil && g.ThinkingConfig == nil && g.Seed == nil &&
		g.PresencePenalty == nil && g.FrequencyPenalty == nil && g.ResponseLogprobs == nil && g.Logprobs == nil
}

// encodeRequest translates req into a generateContent body. The model goes
// in the URL, not the body.
func (t *translation) encodeRequest(req *llm.ChatRequest) ([]byte, error) {
	g, err := t.translateRequest(req)
	if err != nil {
		return nil, err
	}
	body, err := json.Marshal(g)
	if err != nil {
		return nil, llm.InvalidParam("messages", "cannot encode request: %v", err)
	}
	if len(req.Extra) > 0 {
		return mergeExtra(body, req.Extra)
	}
	return body, nil
}

func (t *translation) translateRequest(req *llm.ChatRequest) (*gRequest, error) {
	if len(req.Messages) == 0 {
		return nil, llm.InvalidParam("messages", "messages must not be empty")
	}
	g := &gRequest{}
	if err := t.translateConfig(req, g); err != nil {
		return nil, err
	}
	if err := translateTools(req, g); err != nil {
		return nil, err
	}

	// Gemini matches a function response to its call by name; OpenAI
	// clients send the call's id, so remember each id's name as the
	// history goes by (later calls win if a client reuses ids).
	callNames := map[string]string{}
	g.Contents = make([]gContent, 0, len(req.Messages))
	for i := range req.Messages {
		m := &req.Messages[i]
		var role string
		var parts []gPart
		var err error
		switch m.Role {
		case llm.RoleSystem, llm.RoleDeveloper:
			if t := messageText(m); t != "" {
				if g.SystemInstruction == nil {
					g.SystemInstruction = &gContent{}
				}
				g.SystemInstruction.Parts = append(g.SystemInstruction.Parts, gPart{Text: t})
			}
			continue
		case llm.RoleUser:
			role = "user"
			parts, err = t.contentParts(m, i)
		case llm.RoleAssistant:
			role = "model"
			parts, err = t.modelParts(m, i, callNames)
		case llm.RoleTool:
			role = "user"
			parts, err = functionResponseParts(m, i, callNames)
		default:
			return nil, llm.InvalidParam("messages", "messages[%d]: unknown role %q", i, m.Role)
		}
		if err != nil {
			return nil, err
		}
		if len(parts) == 0 {
			continue // the API rejects contents without parts
		}
		// One turn per role: the responses to parallel calls must arrive
		// together in one content, and consecutive user texts read as one.
		if n := len(g.Contents); n > 0 && g.Contents[n-1].Role == role {
			g.Contents[n-1].Parts = append(g.Contents[n-1].Parts, parts...)
			continue
		}
		g.Contents = append(g.Contents, gContent{Role: role, Parts: parts})
	}
	if len(g.Contents) == 0 {
		return nil, llm.InvalidParam("messages", "at least one user or assistant message is required")
	}
	t.fillSignatures(g.Contents)
	return g, nil
}

func (t *translation) translateConfig(req *llm.ChatRequest, g *gRequest) error {
	thinking, err := t.thinkingConfig(req)
	if err != nil {
		return err
	}
	gc := &gGenerationConfig{
		StopSequences:    req.Stop,
		CandidateCount:   req.N,
		MaxOutputTokens:  req.MaxTokens,
		Temperature:      req.Temperature,
		TopP:             req.TopP,
		TopK:             req.TopK,
		ThinkingConfig:   thinking,
		Seed:             req.Seed,
		PresencePenalty:  req.PresencePenalty,
		FrequencyPenalty: req.FrequencyPenalty,
	}
	if req.N != nil && *req.N < 1 {
		return llm.InvalidParam("n", "n must be at least 1")
	}
	if req.MaxTokens != nil && *req.MaxTokens <= 0 {
		return llm.InvalidParam("max_tokens", "max_tokens must be positive")
	}
	if req.Logprobs != nil && *req.Logprobs {
		gc.ResponseLogprobs = req.Logprobs
		// Gemini's logprobs counts alternatives from 1; OpenAI's 0 means
		// the chosen tokens only, which responseLogprobs alone gives.
		if req.TopLogprobs != nil && *req.TopLogprobs > 0 {
			gc.Logprobs = req.TopLogprobs
		}
	}
	if rf := req.ResponseFormat; rf != nil {
		switch rf.Type {
		case "", "text":
		case "json_object":
			gc.ResponseMimeType = "application/json"
		case "json_schema":
			gc.ResponseMimeType = "application/json"
			if len(rf.Schema) > 0 {
				if !json.Valid(rf.Schema) {
					return llm.InvalidParam("response_format", "json_schema.schema is not valid JSON")
				}
				gc.ResponseJSONSchema = rf.Schema
			}
		default:
			return llm.InvalidParam("response_format", "unknown response_format type %q", rf.Type)
		}
	}
	if !gc.empty() {
		g.GenerationConfig = gc
	}
	return nil
}

func translateTools(req *llm.ChatRequest, g *gRequest) error {
	if len(req.Tools) > 0 {
		decls := make([]gFunctionDeclaration, 0, len(req.Tools))
		for i, t := range req.Tools {
			if t.Type != "" && t.Type != "function" {
				return llm.InvalidParam("tools", "tools[%d]: type %q is not supported", i, t.Type)
			}
			if t.Name == "" {
				return llm.InvalidParam("tools", "tools[%d]: name is required", i)
			}
			d := gFunctionDeclaration{Name: t.Name, Description: t.Description}
			if p := bytes.TrimSpace(t.Parameters); len(p) > 0 && string(p) != "null" {
				if !json.Valid(p) {
					return llm.InvalidParam("tools", "tools[%d]: parameters are not valid JSON", i)
				}
				d.ParametersJSONSchema = t.Parameters
			}
			decls = append(decls, d)
		}
		g.Tools = []gTool{{FunctionDeclarations: decls}}
	}
	tc := req.ToolChoice
	if tc == nil {
		return nil
	}
	fc := gFunctionCallingConfig{}
	switch {
	case tc.Function != "":
		fc.Mode, fc.AllowedFunctionNames = "ANY", []string{tc.Function}
	case tc.Mode == "auto":
		fc.Mode = "AUTO"
	case tc.Mode == "required":
		fc.Mode = "ANY"
	case tc.Mode == "none":
		fc.Mode = "NONE"
	case tc.Mode == "":
		return nil
	default:
		return llm.InvalidParam("tool_choice", "unknown tool_choice %q", tc.Mode)
	}
	g.ToolConfig = &gToolConfig{FunctionCallingConfig: fc}
	return nil
}

func messageText(m *llm.Message) string {
	if len(m.Parts) == 0 {
		return m.Content
	}
	var b strings.Builder
	for _, p := range m.Parts {
		if p.Type == llm.PartText || p.Type == "" {
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// modelParts translates an assistant turn: text, then one functionCall
// part per tool call with the arguments parsed as the args object and the
// call's thoughtSignature.
func (t *translation) modelParts(m *llm.Message, idx int, callNames map[string]string) ([]gPart, error) {
	parts, err := t.contentParts(m, idx)
	if err != nil {
		return nil, err
	}
	for j, tc := range m.ToolCalls {
		if tc.Name == "" {
			return nil, llm.InvalidParam("messages", "messages[%d].tool_calls[%d]: name is required", idx, j)
		}
		args := json.RawMessage(bytes.TrimSpace([]byte(tc.Arguments)))
		if len(args) == 0 {
			args = json.RawMessage("{}")
		} else if args[0] != '{' || !json.Valid(args) {
			return nil, llm.InvalidParam("messages", "messages[%d].tool_calls[%d]: arguments must be a JSON object", idx, j)
		}
		if tc.ID != "" {
			callNames[tc.ID] = tc.Name
		}
		// The call's signature goes back on its own part, where Gemini put
		// it; another provider's signature means nothing here.
		parts = append(parts, gPart{FunctionCall: &gFunctionCall{Name: tc.Name, Args: args},
			ThoughtSignature: llm.SignatureFor(sigKind, tc.Signature)})
	}
	return parts, nil
}

// functionResponseParts turns a tool message into a functionResponse. The
// response must be an object: a JSON object result is sent as it is, any
// other result is wrapped as {"result": ...} (parsed JSON, or the text).
func functionResponseParts(m *llm.Message, idx int, callNames map[string]string) ([]gPart, error) {
	name := callNames[m.ToolCallID]
	if name == "" {
		name = m.Name
	}
	if name == "" {
		return nil, llm.InvalidParam("messages", "messages[%d]: tool_call_id %q matches no earlier tool call", idx, m.ToolCallID)
	}
	text := strings.TrimSpace(messageText(m))
	var resp json.RawMessage
	switch {
	case len(text) > 0 && text[0] == '{' && json.Valid([]byte(text)):
		resp = json.RawMessage(text)
	case len(text) > 0 && json.Valid([]byte(text)):
		resp = wrapResult(json.RawMessage(text))
	default:
		s, _ := json.Marshal(messageText(m))
		resp = wrapResult(s)
	}
	return []gPart{{FunctionResponse: &gFunctionResponse{Name: name, Response: resp}}}, nil
}

func wrapResult(v json.RawMessage) json.RawMessage {
	out := make([]byte, 0, len(v)+len(`{"result":}`))
	out = append(out, `{"result":`...)
	out = append(out, v...)
	return append(out, '}')
}

// mergeExtra adds the passthrough fields to an encoded body. Where both the
// body and Extra hold an object under one key (generationConfig,
// toolConfig), the members are merged, Extra's winning, so a client can add
// thinkingConfig without losing temperature; anything else is replaced.
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
		v := extra[k]
		if !json.Valid(v) {
			return nil, llm.InvalidParam(k, "extra field %q is not valid JSON", k)
		}
		if cur, ok := obj[k]; ok {
			var a, b map[string]json.RawMessage
			if json.Unmarshal(cur, &a) == nil && a != nil && json.Unmarshal(v, &b) == nil && b != nil {
				for bk, bv := range b {
					a[bk] = bv
				}
				merged, err := json.Marshal(a)
				if err != nil {
					return nil, llm.InvalidParam(k, "extra field %q: %v", k, err)
				}
				obj[k] = merged
				continue
			}
		}
		obj[k] = v
	}
	out, err := json.Marshal(obj)
	if err != nil {
		return nil, llm.InvalidParam("messages", "cannot encode request: %v", err)
	}
	return out, nil
}
