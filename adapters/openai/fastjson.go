package openai

import (
	"encoding/json"
	"strconv"

	"github.com/switchyard/switchyard/internal/jsonw"
)

// appendFast encodes the common request shape — text messages and scalar
// options — by hand, byte for byte what encoding/json writes for w (field
// order, omitempty, HTML-safe string escapes, float format), without
// reflection. Profiles of the gateway under load showed json.Marshal of the
// upstream request at ~7% of its CPU. Anything rarer (tools, tool choice,
// response format, multimodal parts, tool calls, maps) returns false and the
// caller uses json.Marshal; TestAppendFastMatchesEncodingJSON keeps the two
// identical.
func (w *wireRequest) appendFast(b []byte) ([]byte, bool) {
	if len(w.Tools) > 0 || w.ToolChoice != nil || w.ResponseFormat != nil ||
		len(w.Metadata) > 0 || len(w.LogitBias) > 0 {
		return nil, false
	}
	for i := range w.Messages {
		m := &w.Messages[i]
		if len(m.ToolCalls) > 0 {
			return nil, false
		}
		switch m.Content.(type) {
		case string, nil:
		default:
			return nil, false
		}
	}
	b = append(b, `{"model":`...)
	b = appendJSONString(b, w.Model)
	b = append(b, `,"messages":[`...)
	for i := range w.Messages {
		m := &w.Messages[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"role":`...)
		b = appendJSONString(b, m.Role)
		b = append(b, `,"content":`...)
		if s, ok := m.Content.(string); ok {
			b = appendJSONString(b, s)
		} else {
			b = append(b, "null"...)
		}
		if m.Name != "" {
			b = append(b, `,"name":`...)
			b = appendJSONString(b, m.Name)
		}
		if m.ToolCallID != "" {
			b = append(b, `,"tool_call_id":`...)
			b = appendJSONString(b, m.ToolCallID)
		}
		if m.Refusal != "" {
			b = append(b, `,"refusal":`...)
			b = appendJSONString(b, m.Refusal)
		}
		b = append(b, '}')
	}
	b = append(b, ']')
	b = appendOptFloat(b, `,"temperature":`, w.Temperature)
	b = appendOptFloat(b, `,"top_p":`, w.TopP)
	b = appendOptInt(b, `,"max_completion_tokens":`, w.MaxCompletionTokens)
	b = appendOptInt(b, `,"max_tokens":`, w.MaxTokens)
	b = appendOptInt(b, `,"n":`, w.N)
	if len(w.Stop) > 0 {
		b = append(b, `,"stop":[`...)
		for i, s := range w.Stop {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, s)
		}
		b = append(b, ']')
	}
	if w.Seed != nil {
		b = append(b, `,"seed":`...)
		b = strconv.AppendInt(b, *w.Seed, 10)
	}
	b = appendOptFloat(b, `,"presence_penalty":`, w.PresencePenalty)
	b = appendOptFloat(b, `,"frequency_penalty":`, w.FrequencyPenalty)
	if w.User != "" {
		b = append(b, `,"user":`...)
		b = appendJSONString(b, w.User)
	}
	b = appendOptBool(b, `,"parallel_tool_calls":`, w.ParallelToolCalls)
	b = appendOptBool(b, `,"logprobs":`, w.Logprobs)
	b = appendOptInt(b, `,"top_logprobs":`, w.TopLogprobs)
	if w.ReasoningEffort != "" {
		b = append(b, `,"reasoning_effort":`...)
		b = appendJSONString(b, w.ReasoningEffort)
	}
	if w.Stream {
		b = append(b, `,"stream":true`...)
	}
	if w.StreamOptions != nil {
		b = append(b, `,"stream_options":{"include_usage":`...)
		b = strconv.AppendBool(b, w.StreamOptions.IncludeUsage)
		b = append(b, '}')
	}
	return append(b, '}'), true
}

func appendOptFloat(b []byte, key string, f *float64) []byte {
	if f == nil {
		return b
	}
	return appendJSONFloat(append(b, key...), *f)
}

func appendOptInt(b []byte, key string, n *int) []byte {
	if n == nil {
		return b
	}
	return strconv.AppendInt(append(b, key...), int64(*n), 10)
}

func appendOptBool(b []byte, key string, v *bool) []byte {
	if v == nil {
		return b
	}
	return strconv.AppendBool(append(b, key...), *v)
}

// appendJSONFloat formats f as encoding/json does for a float64 (the caller
// has rejected NaN and infinities).
func appendJSONFloat(b []byte, f float64) []byte { return jsonw.AppendFloat(b, f, 64) }

// appendJSONString quotes s as encoding/json does with its default HTML
// escaping.
func appendJSONString(b []byte, s string) []byte { return jsonw.AppendString(b, s, true) }

// scanner walks a JSON document without reflection for decodeFast. Every
// method reports false on anything it does not handle; the caller then
// falls back to encoding/json, which decides (and words any error) as
// before, so the fast path can only ever agree with it.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// value returns the raw bytes of the next value (string, number, literal,
// object or array), validated only as far as finding its end.
func (s *scanner) value() ([]byte, bool) {
	s.ws()
	if s.i >= len(s.b) {
		return nil, false
	}
	start := s.i
	switch c := s.b[s.i]; {
	case c == '"':
		s.i++
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '\\':
				s.i += 2
				continue
			case '"':
				s.i++
				return s.b[start:s.i], true
			}
			if s.b[s.i] < 0x20 {
				return nil, false
			}
			s.i++
		}
		return nil, false
	case c == '{' || c == '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return s.b[start:s.i], true
				}
			case '"':
				if _, ok := s.value(); !ok {
					return nil, false
				}
				continue
			}
			s.i++
		}
		return nil, false
	default:
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.b[start:s.i], s.i > start
			}
			s.i++
		}
		return s.b[start:s.i], s.i > start
	}
}

// object calls field for each member of the object that comes next.
func (s *scanner) object(field func(key, raw []byte) bool) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		s.ws()
		key, ok := s.value()
		if !ok || len(key) < 2 || key[0] != '"' || !s.consume(':') {
			return false
		}
		key = key[1 : len(key)-1]
		if bytesIndexByte(key, '\\') >= 0 {
			return false // an escaped key: leave matching to encoding/json
		}
		raw, ok := s.value()
		if !ok || !field(key, raw) {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

func bytesIndexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

// known reports whether key is one of names; a key that only matches one
// case-insensitively (encoding/json would accept it) makes the fast path
// give up.
func known(key []byte, names ...string) (string, bool) {
	for _, n := range names {
		if string(key) == n {
			return n, true
		}
	}
	for _, n := range names {
		if len(n) == len(key) && equalFoldASCII(key, n) {
			return "", false
		}
	}
	return "", true
}

func equalFoldASCII(a []byte, b string) bool {
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

func isNull(raw []byte) bool { return string(raw) == "null" }

// setString decodes a JSON string (null leaves dst alone, as encoding/json).
func setString(dst *string, raw []byte) bool {
	if isNull(raw) {
		return true
	}
	if raw[0] != '"' {
		return false
	}
	s, err := unquote(raw)
	if err != nil {
		return false
	}
	*dst = s
	return true
}

// setInt decodes a JSON integer (null leaves dst alone).
func setInt[T int | int64](dst *T, raw []byte) bool {
	if isNull(raw) {
		return true
	}
	// JSON's integer grammar: -?(0|[1-9][0-9]*); ParseInt alone would also
	// take "+1" and "007".
	digits := raw
	if digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || string(raw) == "-0" {
		return false
	}
	v := T(n)
	if int64(v) != n {
		return false
	}
	*dst = v
	return true
}

// decodeFast fills w from a unary answer of the usual shape; false means
// "use encoding/json" (tool calls, errors, odd types, malformed input).
func (w *wireResponse) decodeFast(data []byte) bool {
	s := &scanner{b: data}
	ok := s.object(func(key, raw []byte) bool {
		name, ok := known(key, "id", "created", "model", "choices", "usage", "system_fingerprint", "error")
		switch {
		case !ok:
			return false
		case name == "id":
			return setString(&w.ID, raw)
		case name == "created":
			return setInt(&w.Created, raw)
		case name == "model":
			return setString(&w.Model, raw)
		case name == "system_fingerprint":
			return setString(&w.SystemFingerprint, raw)
		case name == "usage":
			return isNull(raw) || w.Usage.decodeFast(raw)
		case name == "error":
			return isNull(raw) // an error body is rare: encoding/json handles it
		case name == "choices":
			if isNull(raw) {
				w.Choices = nil
				return true
			}
			cs := &scanner{b: raw}
			if !cs.consume('[') {
				return false
			}
			w.Choices = w.Choices[:0]
			if cs.consume(']') {
				return true
			}
			for {
				craw, ok := cs.value()
				if !ok {
					return false
				}
				var c wireChoice
				if !c.decodeFast(craw) {
					return false
				}
				w.Choices = append(w.Choices, c)
				if cs.consume(',') {
					continue
				}
				return cs.consume(']')
			}
		}
		// An unknown key is skipped, as encoding/json does; the scanner only
		// found the value's end, so it is validated here to keep invalid
		// JSON an error.
		return json.Valid(raw)
	})
	s.ws()
	return ok && s.i == len(s.b)
}

func (c *wireChoice) decodeFast(raw []byte) bool {
	s := &scanner{b: raw}
	return s.object(func(key, raw []byte) bool {
		name, ok := known(key, "index", "message", "finish_reason", "logprobs")
		switch {
		case !ok:
			return false
		case name == "index":
			return setInt(&c.Index, raw)
		case name == "finish_reason":
			return c.FinishReason.UnmarshalJSON(raw) == nil && (isNull(raw) || raw[0] == '"')
		case name == "message":
			return isNull(raw) || c.Message.decodeFast(raw)
		case name == "logprobs":
			return decodeLogprobs(&c.Logprobs, raw)
		}
		return json.Valid(raw)
	})
}

func (m *wireRespMsg) decodeFast(raw []byte) bool {
	s := &scanner{b: raw}
	return s.object(func(key, raw []byte) bool {
		name, ok := known(key, "role", "content", "refusal", "tool_calls", "reasoning_content", "reasoning")
		switch {
		case !ok:
			return false
		case name == "role":
			return (isNull(raw) || raw[0] == '"') && m.Role.UnmarshalJSON(raw) == nil
		case name == "content":
			return (isNull(raw) || raw[0] == '"') && m.Content.UnmarshalJSON(raw) == nil
		case name == "refusal":
			return setString(&m.Refusal, raw)
		case name == "tool_calls":
			return isNull(raw) || string(raw) == "[]"
		case name == "reasoning_content":
			return setString(&m.ReasoningContent, raw)
		case name == "reasoning":
			return setString(&m.Reasoning, raw)
		}
		return json.Valid(raw)
	})
}

func (u *wireUsage) decodeFast(raw []byte) bool {
	s := &scanner{b: raw}
	return s.object(func(key, raw []byte) bool {
		name, ok := known(key, "prompt_tokens", "completion_tokens", "total_tokens",
			"prompt_tokens_details", "completion_tokens_details", "prompt_cache_hit_tokens")
		switch {
		case !ok:
			return false
		case name == "prompt_tokens":
			return setInt(&u.PromptTokens, raw)
		case name == "completion_tokens":
			return setInt(&u.CompletionTokens, raw)
		case name == "total_tokens":
			return setInt(&u.TotalTokens, raw)
		case name == "prompt_cache_hit_tokens":
			return setInt(&u.PromptCacheHitTokens, raw)
		case name == "prompt_tokens_details":
			return isNull(raw) || (&scanner{b: raw}).object(func(key, raw []byte) bool {
				n, ok := known(key, "cached_tokens")
				if n == "cached_tokens" {
					return setInt(&u.PromptTokensDetails.CachedTokens, raw)
				}
				return ok && json.Valid(raw)
			})
		case name == "completion_tokens_details":
			return isNull(raw) || (&scanner{b: raw}).object(func(key, raw []byte) bool {
				n, ok := known(key, "reasoning_tokens")
				if n == "reasoning_tokens" {
					return setInt(&u.CompletionTokensDetails.ReasoningTokens, raw)
				}
				return ok && json.Valid(raw)
			})
		}
		return json.Valid(raw)
	})
}
