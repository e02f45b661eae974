package fakeupstream

import (
	"encoding/json"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/internal/jsonw"
)

// wordList is the text every answer is made of, in order, cycling. Plain
// ASCII words so a chunk needs no escaping.
var wordList = [...]string{
	"Switchyard", "routes", "every", "request", "to", "the", "provider", "that",
	"answers", "best", "and", "streams", "each", "token", "back", "as",
	"soon", "as", "it", "arrives", "so", "clients", "see", "text",
	"early", "while", "usage", "and", "cost", "are", "counted", "once",
	"for", "the", "whole", "answer", "retries", "happen", "before", "the",
	"first", "byte", "and", "never", "after", "it", "this", "fake",
	"upstream", "speaks", "three", "wire", "formats", "with", "faults", "on",
	"demand", "for", "tests", "benchmarks", "and", "load", "runs", "alike",
}

// quotedWords[i] is wordList[i] as a JSON string; spacedWords[i] the same
// with a leading space, as every word after the first is streamed.
var (
	quotedWords = quoteWords("")
	spacedWords = quoteWords(" ")
)

func quoteWords(prefix string) [len(wordList)][]byte {
	var out [len(wordList)][]byte
	for i, w := range wordList {
		out[i] = appendJSONString(nil, prefix+w)
	}
	return out
}

// wordJSON is the JSON string of the i-th streamed word.
func wordJSON(i int) []byte {
	if i == 0 {
		return quotedWords[0]
	}
	return spacedWords[i%len(wordList)]
}

// answerText is the text of an n-word answer.
func answerText(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(wordList[i%len(wordList)])
	}
	return b.String()
}

// countWords counts whitespace-separated words: the fake's token count.
func countWords(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		space := c == ' ' || c == '\n' || c == '\t' || c == '\r'
		if !space && !in {
			n++
		}
		in = !space
	}
	return n
}

// appendJSONString appends s as a JSON string literal, as encoding/json
// writes it without HTML escaping.
func appendJSONString(dst []byte, s string) []byte { return jsonw.AppendString(dst, s, false) }

// textContent decodes message content that is a string, an array of parts
// or blocks ({"type":"text","text":...}, Anthropic tool_result blocks with
// nested content), or null, keeping only the text. It saves decoding into
// generic values just to count words and find a directive.
type textContent string

func (t *textContent) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] == 'n' {
		*t = ""
		return nil
	}
	if b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = textContent(s)
		return nil
	}
	var parts []struct {
		Text    string      `json:"text"`
		Content textContent `json:"content"`
	}
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	var sb strings.Builder
	for _, p := range parts {
		for _, s := range [2]string{p.Text, string(p.Content)} {
			if s == "" {
				continue
			}
			if sb.Len() > 0 {
				sb.WriteByte(' ')
			}
			sb.WriteString(s)
		}
	}
	*t = textContent(sb.String())
	return nil
}

// tool is a declared tool, in any format.
type tool struct {
	name   string
	schema json.RawMessage
}

// maxToolCalls caps the calls of one forced answer.
const maxToolCalls = 4

// pickTools chooses the tools a forced answer calls: the named one, else
// every declared tool (one call each) when parallel calls are allowed,
// else the first. It returns false when name is not declared.
func pickTools(tools []tool, name string, parallel bool) ([]tool, bool) {
	if name != "" {
		for _, t := range tools {
			if t.name == name {
				return []tool{t}, true
			}
		}
		return nil, false
	}
	if !parallel && len(tools) > 1 {
		return tools[:1], true
	}
	return tools[:min(len(tools), maxToolCalls)], true
}

// autoTool is the tool the AutoTool knob makes an unforced answer call:
// the knob's tool when the request declares it, calls are allowed (the
// tool choice is not "none") and the conversation does not already end in
// a tool result, whose answer is text so an agent's loop ends.
func autoTool(k *Knobs, tools []tool, allowed, afterResult bool) (tool, bool) {
	if k.AutoTool == "" || !allowed || afterResult {
		return tool{}, false
	}
	for _, t := range tools {
		if t.name == k.AutoTool {
			return t, true
		}
	}
	return tool{}, false
}

// toolCall is one call the fake makes, with its arguments pre-split into
// the fragments a stream carries.
type toolCall struct {
	id, name, args string
	frags          []string
}

// argFragment is the size of a streamed argument fragment, about what a
// model emits per token.
const argFragment = 8

func newToolCall(id string, t tool, seed int) toolCall {
	return splitCall(id, t.name, toolArgs(t.schema, seed, false))
}

// newAutoCall is the AutoTool knob's call: only the properties the schema
// requires, as a model fills them. Agents run these calls, and their
// optional fields (a shell, a working directory, a usize limit) would
// turn a generated value into a refused call instead of a run one.
func newAutoCall(id string, t tool) toolCall {
	return splitCall(id, t.name, toolArgs(t.schema, 0, true))
}

func splitCall(id, name, args string) toolCall {
	var frags []string
	for s := args; s != ""; {
		n := min(argFragment, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n++
		}
		frags = append(frags, s[:n])
		s = s[n:]
	}
	return toolCall{id: id, name: name, args: args, frags: frags}
}

// tokens is what a call counts as completion tokens: its name and each
// argument fragment.
func (c *toolCall) tokens() int { return 1 + len(c.frags) }

// toolArgs builds deterministic arguments that satisfy a JSON Schema's
// top-level properties, or with requiredOnly its required ones: the first
// enum value, else a value of the type.
func toolArgs(schema json.RawMessage, seed int, requiredOnly bool) string {
	var s struct {
		Properties map[string]struct {
			Type json.RawMessage   `json:"type"`
			Enum []json.RawMessage `json:"enum"`
		} `json:"properties"`
		Required []string `json:"required"`
	}
	if len(schema) > 0 {
		_ = json.Unmarshal(schema, &s) // a schema we cannot read gets {}
	}
	keys := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		if !requiredOnly || slices.Contains(s.Required, k) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	b := []byte{'{'}
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, k)
		b = append(b, ':')
		p := s.Properties[k]
		if len(p.Enum) > 0 {
			b = append(b, p.Enum[0]...)
			continue
		}
		switch schemaType(p.Type) {
		case "integer":
			b = strconv.AppendInt(b, int64(42+seed+i), 10)
		case "number":
			b = append(b, "21.5"...)
		case "boolean":
			b = append(b, "true"...)
		case "array":
			b = append(b, "[]"...)
		case "object":
			b = append(b, "{}"...)
		case "null":
			b = append(b, "null"...)
		default:
			b = appendJSONString(b, wordList[(seed+i)%len(wordList)])
		}
	}
	return string(append(b, '}'))
}

// JSONObjectAnswer is the text of an answer asked for some JSON object
// with no schema: OpenAI's json_object, a bare application/json Gemini
// responseMimeType.
const JSONObjectAnswer = `{"answer":"Switchyard routes every request"}`

// structuredText is the text of a structured-output answer: JSON that
// satisfies the schema, from the same generator as forced tools'
// arguments, or JSONObjectAnswer without a schema.
func structuredText(schema json.RawMessage) string {
	if t := strings.TrimSpace(string(schema)); t == "" || t == "null" || t == "{}" {
		return JSONObjectAnswer
	}
	return toolArgs(schema, 0, false)
}

// fakeLogprob is the log probability the fake gives the rank-th
// alternative of the i-th token: made up, fixed, at most 0 and falling
// with rank.
func fakeLogprob(i, rank int) float64 { return -float64(i%7+1)/20 - float64(rank) }

// schemaType reads "type": a string, or the first non-null of a list.
func schemaType(raw json.RawMessage) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return strings.ToLower(one) // Gemini's OpenAPI schemas say "STRING"
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return strings.ToLower(t)
			}
		}
	}
	return ""
}
