package simulator

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// toolToCall reports which function to call: the named one, or the first
// tool when the choice is "required". Other choices get a text answer.
func (p *Provider) toolToCall(req *llm.ChatRequest) (llm.Tool, bool, error) {
	if len(req.Tools) == 0 {
		return llm.Tool{}, false, nil
	}
	if req.ToolChoice == nil {
		return p.autoToolFor(req)
	}
	if fn := req.ToolChoice.Function; fn != "" {
		for _, t := range req.Tools {
			if t.Name == fn {
				return t, true, nil
			}
		}
		return llm.Tool{}, false, p.invalid("tool_choice names function %q, which is not in tools", fn)
	}
	if req.ToolChoice.Mode == "required" {
		return req.Tools[0], true, nil
	}
	return p.autoToolFor(req)
}

// autoToolFor is WithAutoTool's choice for a request.
func (p *Provider) autoToolFor(req *llm.ChatRequest) (llm.Tool, bool, error) {
	if p.autoTool == "" || (req.ToolChoice != nil && req.ToolChoice.Mode != "" && req.ToolChoice.Mode != "auto") {
		return llm.Tool{}, false, nil
	}
	if n := len(req.Messages); n > 0 && req.Messages[n-1].Role == llm.RoleTool {
		return llm.Tool{}, false, nil
	}
	for _, t := range req.Tools {
		if t.Name == p.autoTool {
			return t, true, nil
		}
	}
	return llm.Tool{}, false, nil
}

// toolCall builds a call of fn with one deterministic argument, named and
// typed after the function's schema where it has one.
func (p *Provider) toolCall(h uint64, fn llm.Tool) *llm.ToolCall {
	key, typ := argumentOf(fn.Parameters)
	if fn.Name == p.autoTool {
		// An agent CLI's requests carry its working directory and today's
		// date: arguments derived from them would differ per machine and
		// day (and now and then name a real program). The auto tool is
		// called with the same arguments everywhere.
		h = hashString(fnvOffset, fn.Name)
	}
	x := mix(h ^ 0x746f6f6c)
	var val any
	switch typ {
	case "integer":
		val = x % 100
	case "number":
		val = float64(x%1000) / 10
	case "boolean":
		val = x&1 == 1
	case "array":
		val = []string{p.vocab[x%uint64(len(p.vocab))]}
	case "object":
		val = map[string]string{}
	default:
		words := make([]string, 3)
		for i := range words {
			words[i] = p.vocab[mix(x+uint64(i))%uint64(len(p.vocab))]
		}
		val = strings.Join(words, " ")
	}
	args, _ := json.Marshal(map[string]any{key: val})
	return &llm.ToolCall{
		ID:        fmt.Sprintf("call_%012x", x>>16),
		Type:      "function",
		Name:      fn.Name,
		Arguments: string(args),
	}
}

// argumentOf picks the first required property of a JSON schema (else the
// first by name) and its type; "query"/string when the schema has none.
func argumentOf(schema json.RawMessage) (string, string) {
	var s struct {
		Properties map[string]struct {
			Type any `json:"type"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if len(schema) == 0 || json.Unmarshal(schema, &s) != nil || len(s.Properties) == 0 {
		return "query", "string"
	}
	key := ""
	for _, r := range s.Required {
		if _, ok := s.Properties[r]; ok {
			key = r
			break
		}
	}
	if key == "" {
		names := make([]string, 0, len(s.Properties))
		for n := range s.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		key = names[0]
	}
	switch t := s.Properties[key].Type.(type) {
	case string:
		return key, t
	case []any: // ["integer", "null"]
		for _, v := range t {
			if ts, ok := v.(string); ok && ts != "null" {
				return key, ts
			}
		}
	}
	return key, "string"
}

// fragments splits s into pieces of about size bytes, never inside a UTF-8
// sequence, and returns their end offsets.
func fragments(s string, size int) []int {
	var ends []int
	for i := 0; i < len(s); {
		j := min(i+size, len(s))
		for j < len(s) && s[j]&0xC0 == 0x80 {
			j++
		}
		ends = append(ends, j)
		i = j
	}
	return ends
}
