package anthropic

import (
	"bytes"
	"encoding/json"
	"slices"

	"github.com/switchyard/switchyard/engine/llm"
)

// BetaStructuredOutputs is the anthropic-beta flag of structured outputs'
// beta form (top-level output_format).
const BetaStructuredOutputs = "structured-outputs-2025-11-13"

// DefaultJSONTool names the tool that carries a response_format's answer
// when the schema has no usable name.
const DefaultJSONTool = "json_response"

// anySchema is json_object's tool schema: any object. A forced tool rather
// than a "reply in JSON" instruction, because a tool's input is always a
// parsed JSON object, so the client gets valid JSON even when the model
// would have wrapped it in prose or a code fence.
var anySchema = json.RawMessage(`{"type":"object","additionalProperties":true}`)

// responseFormat serves response_format. json_schema goes natively
// (output_config.format) to a model configured for it; anything else is
// served by a tool whose input schema is the requested one, which the
// model is made to call, and whose input the answer's decoding turns back
// into the message's text with finish_reason stop.
//
// With the client's own tools the model must still be free to call them:
// it is made to call some tool (tool_choice any), ours or one of theirs,
// so a text answer always comes through ours. A client that forces its own
// tool (required, or one by name) is asking for a call, not text: the
// format does not apply to that turn and no tool is added; tool_choice
// none still forces ours. Thinking forbids forced tool use, so with
// thinking on the tool is offered with tool_choice auto and the system
// prompt asks for it.
func (s *settings) responseFormat(req *llm.ChatRequest, w *wireRequest) (plan, error) {
	rf := req.ResponseFormat
	if rf == nil || rf.Type == "" || rf.Type == "text" {
		return plan{}, nil
	}
	schema := bytes.TrimSpace(rf.Schema)
	switch rf.Type {
	case "json_schema":
		if len(schema) == 0 || schema[0] != '{' || !json.Valid(schema) {
			return plan{}, llm.InvalidParam("response_format.json_schema.schema", "response_format.json_schema.schema must be a JSON Schema object")
		}
		if s.nativeFor(req.Model) {
			f := &wireFormat{Type: "json_schema", Schema: json.RawMessage(schema)}
			if s.nativeBeta {
				w.OutputFormat = f
				return plan{betas: []string{BetaStructuredOutputs}}, nil
			}
			w.OutputConfig = &wireOutputConfig{Format: f}
			return plan{}, nil
		}
	case "json_object":
		schema = anySchema
	default:
		return plan{}, llm.InvalidParam("response_format.type", "response_format.type %q is not supported (text, json_object, json_schema)", rf.Type)
	}
	tc := req.ToolChoice
	if tc != nil && (tc.Function != "" || tc.Mode == "required") {
		return plan{}, nil
	}
	name := jsonToolName(rf.SchemaName, w.Tools)
	desc := rf.SchemaDescription
	if desc == "" {
		desc = "Give your final answer as this tool's input, a JSON object in the requested format."
	}
	clientTools := len(w.Tools) > 0
	w.Tools = append(w.Tools, wireTool{Name: name, Description: desc, InputSchema: json.RawMessage(schema)})
	disable := w.ToolChoice != nil && w.ToolChoice.DisableParallelToolUse
	switch {
	case thinks(req):
		w.ToolChoice = &wireToolChoice{Type: "auto", DisableParallelToolUse: disable}
		w.System = appendInstruction(w.System, "Give your final answer by calling the "+name+" tool; its input is the answer.")
	case clientTools && (tc == nil || tc.Mode == "" || tc.Mode == "auto"):
		w.ToolChoice = &wireToolChoice{Type: "any", DisableParallelToolUse: disable}
	default:
		w.ToolChoice = &wireToolChoice{Type: "tool", Name: name, DisableParallelToolUse: disable}
	}
	return plan{jsonTool: name}, nil
}

// thinks reports whether the request asks for thinking explicitly.
func thinks(req *llm.ChatRequest) bool {
	return req.Thinking != nil && req.Thinking.Type != llm.ThinkingDisabled
}

// jsonToolName is the schema's name when it is a valid tool name
// (^[a-zA-Z0-9_-]{1,64}$), else DefaultJSONTool; suffixed until no client
// tool has it.
func jsonToolName(schemaName string, tools []wireTool) string {
	name := schemaName
	if !validToolName(name) {
		name = DefaultJSONTool
	}
	taken := func(n string) bool {
		return slices.ContainsFunc(tools, func(t wireTool) bool { return t.Name == n })
	}
	for base := name; taken(name); {
		if len(base) > 60 {
			base = base[:60]
		}
		name = base + "_out"
		base = name
	}
	return name
}

func validToolName(n string) bool {
	if n == "" || len(n) > 64 {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// appendInstruction adds a sentence to the system parameter in whichever
// form it has.
func appendInstruction(system any, text string) any {
	switch s := system.(type) {
	case string:
		if s == "" {
			return text
		}
		return s + "\n\n" + text
	case []wireBlock:
		return append(s, wireBlock{Type: "text", Text: text})
	}
	return text
}
