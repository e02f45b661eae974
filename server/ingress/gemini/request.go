// Package gemini is the Gemini API at the door (what Gemini CLI and the
// google-genai SDKs speak): generateContent, streamGenerateContent (SSE
// with alt=sse, else a JSON array), countTokens and the model list under
// /v1beta, decoded into engine/llm and answered in Google's shapes
// whichever provider served the request.
package gemini

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/ingress"
)

func invalid(format string, args ...any) error {
	return &llm.Error{Kind: llm.KindInvalidRequest, Message: fmt.Sprintf(format, args...)}
}

// decode reads a request for model (from the path, "models/" stripped).
func decode(body []byte, model string) (*llm.ChatRequest, error) {
	var in request
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, invalid("Invalid JSON payload received. %v", err)
	}
	in.normalize()
	if in.GenerateContentRequest != nil && len(in.Contents) == 0 {
		in = *in.GenerateContentRequest
	}
	if len(in.Contents) == 0 {
		return nil, invalid("* GenerateContentRequest.contents: contents is not specified")
	}
	out := &llm.ChatRequest{Model: model, IncludeUsage: true}
	if si := in.SystemInstruction; si != nil {
		if text := textOf(si.Parts); text != "" {
			out.Messages = append(out.Messages, llm.Message{Role: llm.RoleSystem, Content: text})
		}
	}
	// Gemini answers a call by name (ids are optional), so the calls of
	// each name wait in order for their responses.
	callIDs := newCalls()
	for i, c := range in.Contents {
		msgs, err := messagesOf(i, c, callIDs)
		if err != nil {
			return nil, err
		}
		out.Messages = append(out.Messages, msgs...)
	}
	for _, t := range in.Tools {
		for _, f := range t.FunctionDeclarations {
			schema := f.ParametersJSONSchema
			if len(schema) == 0 {
				schema = f.Parameters
			}
			if len(schema) == 0 {
				schema = json.RawMessage(`{"type":"object","properties":{}}`)
			}
			out.Tools = append(out.Tools, llm.Tool{Type: "function", Name: f.Name, Description: f.Description, Parameters: lowerTypes(schema)})
		}
	}
	if tc := in.ToolConfig; tc != nil && tc.FunctionCallingConfig != nil {
		fc := tc.FunctionCallingConfig
		switch strings.ToUpper(fc.Mode) {
		case "", "AUTO", "MODE_UNSPECIFIED", "VALIDATED":
		case "ANY":
			out.ToolChoice = &llm.ToolChoice{Mode: "required"}
			if names := fc.AllowedFunctionNames; len(names) > 0 {
				kept := allowedTools(out.Tools, names)
				if len(kept) == 0 {
					return nil, invalid("tool_config.function_calling_config.allowed_function_names must name declared functions")
				}
				// The domain's choice names one function at most: several
				// allowed ones are kept as the only tools instead.
				if len(names) == 1 {
					out.ToolChoice = &llm.ToolChoice{Function: names[0]}
				} else {
					out.Tools = kept
				}
			}
		case "NONE":
			out.ToolChoice = &llm.ToolChoice{Mode: "none"}
		default:
			return nil, invalid("Invalid value at 'tool_config.function_calling_config.mode' (%s)", fc.Mode)
		}
	}
	if g := in.GenerationConfig; g != nil {
		out.Temperature, out.TopP, out.MaxTokens, out.Stop, out.Seed = g.Temperature, g.TopP, g.MaxOutputTokens, g.StopSequences, g.Seed
		out.PresencePenalty, out.FrequencyPenalty, out.N = g.PresencePenalty, g.FrequencyPenalty, g.CandidateCount
		schema := g.ResponseJSONSchema
		if len(schema) == 0 && len(g.ResponseSchema) > 0 {
			schema = lowerTypes(g.ResponseSchema)
		}
		switch {
		case len(schema) > 0:
			out.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", SchemaName: "response", Schema: schema}
		case g.ResponseMimeType == "application/json":
			out.ResponseFormat = &llm.ResponseFormat{Type: "json_object"}
		}
		if g.TopK != nil {
			k := int(*g.TopK)
			out.TopK = &k
		}
		if g.ResponseLogprobs != nil && *g.ResponseLogprobs {
			out.Logprobs, out.TopLogprobs = g.ResponseLogprobs, g.Logprobs
		}
		if tc := g.ThinkingConfig; tc != nil {
			out.ReasoningEffort = effortOf(tc.ThinkingBudget, tc.ThinkingLevel)
			out.Thinking = thinkingOf(tc.ThinkingBudget)
		}
	}
	return out, nil
}

// allowedTools is tools cut to the names allowed.
func allowedTools(tools []llm.Tool, allowed []string) []llm.Tool {
	var out []llm.Tool
	for _, t := range tools {
		for _, n := range allowed {
			if t.Name == n {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// effortOf maps a thinking budget or level onto the domain's effort.
func effortOf(budget *int, level string) string {
	switch l := strings.ToLower(level); l {
	case "minimal", "low", "medium", "high":
		return l
	case "xhigh": // no domain effort above high
		return "high"
	}
	if budget == nil || *budget < 0 { // -1: dynamic, the model decides
		return ""
	}
	switch b := *budget; {
	case b == 0:
		return "minimal"
	case b <= 2048:
		return "low"
	case b <= 8192:
		return "medium"
	}
	return "high"
}

// thinkingOf is a thinking budget as the domain's explicit request, for
// targets that take a budget rather than an effort: 0 turns thinking off,
// -1 (dynamic) leaves the amount to the model.
func thinkingOf(budget *int) *llm.Thinking {
	switch {
	case budget == nil:
		return nil
	case *budget == 0:
		return &llm.Thinking{Type: llm.ThinkingDisabled}
	case *budget < 0:
		return &llm.Thinking{Type: llm.ThinkingAdaptive}
	}
	return &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: *budget}
}

// lowerTypes turns Gemini's OpenAPI-subset schema (type "STRING",
// "OBJECT") into JSON Schema, which every other provider takes.
func lowerTypes(schema json.RawMessage) json.RawMessage {
	if !bytes.Contains(schema, []byte(`"type"`)) {
		return schema
	}
	var v any
	if json.Unmarshal(schema, &v) != nil {
		return schema
	}
	var walk func(any)
	walk = func(x any) {
		switch t := x.(type) {
		case map[string]any:
			for k, val := range t {
				if s, ok := val.(string); ok && k == "type" {
					t[k] = strings.ToLower(s)
				} else {
					walk(val)
				}
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(v)
	b, _ := json.Marshal(v)
	return b
}

func textOf(parts []part) string {
	var b strings.Builder
	for _, p := range parts {
		if p.Text != "" && !p.Thought {
			if b.Len() > 0 {
				b.WriteString("\n")
			}
			b.WriteString(p.Text)
		}
	}
	return b.String()
}

// messagesOf maps one content onto domain messages: function responses
// become tool messages of their own, as OpenAI-format targets need them.
func messagesOf(i int, c content, callIDs *calls) ([]llm.Message, error) {
	var role llm.Role
	switch c.Role {
	case "user", "":
		role = llm.RoleUser
	case "model":
		role = llm.RoleAssistant
	case "function", "tool":
		role = llm.RoleUser // function responses; they become tool messages below
	default:
		return nil, invalid("Please use a valid role: user, model. (contents[%d].role %q)", i, c.Role)
	}
	var out []llm.Message
	cur := llm.Message{Role: role}
	for j, p := range c.Parts {
		switch {
		case p.FunctionCall != nil:
			if role != llm.RoleAssistant {
				return nil, invalid("contents[%d].parts[%d]: a functionCall belongs to a model turn", i, j)
			}
			id := p.FunctionCall.ID
			if id == "" {
				id = fmt.Sprintf("call_%d_%d", i, j)
			}
			callIDs.add(p.FunctionCall.Name, id)
			args := string(p.FunctionCall.Args)
			if args == "" || args == "null" {
				args = "{}"
			}
			tc := llm.ToolCall{Index: len(cur.ToolCalls), ID: id, Type: "function", Name: p.FunctionCall.Name, Arguments: args}
			if p.ThoughtSignature != "" {
				// Tagged, so only a Gemini target gets it back.
				tc.Signature = sigKind + ":" + p.ThoughtSignature
			}
			cur.ToolCalls = append(cur.ToolCalls, tc)
		case p.FunctionResponse != nil:
			id := callIDs.answer(p.FunctionResponse.Name, p.FunctionResponse.ID)
			resp := string(p.FunctionResponse.Response)
			if resp == "" {
				resp = "{}"
			}
			out = append(out, llm.Message{Role: llm.RoleTool, ToolCallID: id, Name: p.FunctionResponse.Name, Content: resp})
		case p.Thought:
			// The model's earlier thoughts are its provider's to verify.
		case p.InlineData != nil:
			dp, err := inlinePart(p.InlineData, i, j)
			if err != nil {
				return nil, err
			}
			cur.Parts = append(cur.Parts, dp)
		case p.FileData != nil:
			dp, err := filePart(p.FileData, i, j)
			if err != nil {
				return nil, err
			}
			cur.Parts = append(cur.Parts, dp)
		default:
			cur.Parts = append(cur.Parts, llm.Part{Type: llm.PartText, Text: p.Text})
		}
	}
	// The tool messages go first: OpenAI-format targets refuse anything
	// between a turn's calls and their results, and Gemini clients put
	// text after the responses in the same turn.
	if len(cur.Parts) > 0 || len(cur.ToolCalls) > 0 || len(out) == 0 {
		ingress.Collapse(&cur)
		out = append(out, cur)
	}
	return out, nil
}

// calls are the ids of the function calls still waiting for a response,
// by name, oldest first, so two parallel calls of one function get one
// response each; last is each name's latest id, for a response that comes
// again after its call was answered.
type calls struct {
	waiting map[string][]string
	last    map[string]string
}

func newCalls() *calls {
	return &calls{waiting: map[string][]string{}, last: map[string]string{}}
}

func (c *calls) add(name, id string) {
	c.waiting[name] = append(c.waiting[name], id)
	c.last[name] = id
}

// answer is the call id a response of name answers: its own id when it
// has one, else the oldest waiting call of that name.
func (c *calls) answer(name, id string) string {
	q := c.waiting[name]
	if id != "" {
		for i, w := range q {
			if w == id {
				c.waiting[name] = append(q[:i:i], q[i+1:]...)
				break
			}
		}
		return id
	}
	if len(q) > 0 {
		c.waiting[name] = q[1:]
		return q[0]
	}
	return c.last[name]
}
