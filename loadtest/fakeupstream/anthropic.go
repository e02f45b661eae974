package fakeupstream

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// anRequest is the part of a Messages API body the fake reads.
type anRequest struct {
	Model     string      `json:"model"`
	Messages  []oaMessage `json:"messages"`
	System    textContent `json:"system"`
	MaxTokens *int        `json:"max_tokens"`
	Stream    bool        `json:"stream"`
	Tools     []struct {
		Name        string          `json:"name"`
		InputSchema json.RawMessage `json:"input_schema"`
	} `json:"tools"`
	ToolChoice *struct {
		Type                   string `json:"type"`
		Name                   string `json:"name"`
		DisableParallelToolUse bool   `json:"disable_parallel_tool_use"`
	} `json:"tool_choice"`
	Thinking *struct {
		Type         string `json:"type"`
		BudgetTokens int    `json:"budget_tokens"`
	} `json:"thinking"`
	// Structured outputs: output_config.format, or output_format (beta).
	OutputConfig *struct {
		Format *anFormat `json:"format"`
	} `json:"output_config"`
	OutputFormat *anFormat `json:"output_format"`
}

type anFormat struct {
	Type   string          `json:"type"`
	Schema json.RawMessage `json:"schema"`
}

// format is the request's structured-output format, if any.
func (req *anRequest) format() *anFormat {
	if req.OutputConfig != nil && req.OutputConfig.Format != nil {
		return req.OutputConfig.Format
	}
	return req.OutputFormat
}

// A request with thinking enabled (or adaptive) is answered with this
// thinking block before the rest, as Claude answers: fixed, so tests can
// look for the signature coming back.
const (
	FakeThinking          = "Fake thinking before the answer."
	FakeThinkingSignature = "fakesig_0123456789abcdef"
)

// thinks reports whether the answer carries a thinking block. An enabled
// budget must be at least 1024, as the real API wants it.
func (req *anRequest) thinks() (bool, string) {
	t := req.Thinking
	if t == nil {
		return false, ""
	}
	switch t.Type {
	case "enabled":
		// Not checked against max_tokens: with interleaved thinking the
		// budget may exceed it.
		if t.BudgetTokens < 1024 {
			return false, "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024"
		}
		return true, ""
	case "adaptive":
		return true, ""
	case "disabled":
		return false, ""
	}
	return false, fmt.Sprintf("thinking.type: Input tag '%s' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'", t.Type)
}

// anthropicAuth checks x-api-key, then anthropic-version.
func (s *Server) anthropicAuth(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("X-Api-Key")
	if key == "" {
		s.writeError(w, fmtAnthropic, apiError{status: http.StatusUnauthorized, message: "x-api-key header is required"})
		return false
	}
	if s.keys != nil && !s.keys[key] {
		s.writeError(w, fmtAnthropic, apiError{status: http.StatusUnauthorized, message: "invalid x-api-key"})
		return false
	}
	if s.overQuota(w, fmtAnthropic, key) {
		return false
	}
	if r.Header.Get("Anthropic-Version") == "" {
		s.badRequest(w, fmtAnthropic, "", "anthropic-version: header is required")
		return false
	}
	return true
}

func (s *Server) anthropicMessages(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.anthropicAuth(w, r) {
		return
	}
	var req anRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, fmtAnthropic, "", "There was an error parsing the body: "+err.Error())
		return
	}
	switch {
	case req.Model == "":
		s.badRequest(w, fmtAnthropic, "", "model: Field required")
		return
	case req.MaxTokens == nil:
		s.badRequest(w, fmtAnthropic, "", "max_tokens: Field required")
		return
	case *req.MaxTokens < 1:
		s.badRequest(w, fmtAnthropic, "", "max_tokens: Input should be greater than or equal to 1")
		return
	case len(req.Messages) == 0:
		s.badRequest(w, fmtAnthropic, "", "messages: at least one message is required")
		return
	}
	prompt, lastUser := countWords(string(req.System)), ""
	for i, m := range req.Messages {
		switch m.Role {
		case "user":
			lastUser = string(m.Content)
		case "assistant":
		case "system":
			// Claude Code 2.1 sends "system" messages inside messages and
			// the real API takes them. The gateway hands an Anthropic
			// client's body to an Anthropic target as it came, so the fake
			// must take them too; their words count as prompt.
		default:
			s.badRequest(w, fmtAnthropic, "", fmt.Sprintf("messages.%d.role: Input should be 'user' or 'assistant'", i))
			return
		}
		prompt += countWords(string(m.Content))
	}
	forced, named := false, ""
	if tc := req.ToolChoice; tc != nil {
		switch tc.Type {
		case "any":
			forced = true
		case "tool":
			if tc.Name == "" {
				s.badRequest(w, fmtAnthropic, "", "tool_choice.tool.name: Field required")
				return
			}
			named = tc.Name
		case "auto", "none":
		default:
			s.badRequest(w, fmtAnthropic, "", fmt.Sprintf("tool_choice.type: Input tag '%s' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'", tc.Type))
			return
		}
	}
	think, msg := req.thinks()
	if msg != "" {
		s.badRequest(w, fmtAnthropic, "", msg)
		return
	}
	// With structured outputs the text is JSON that satisfies the schema,
	// from the same generator as forced tools' arguments.
	jsonText := ""
	if f := req.format(); f != nil {
		if f.Type != "json_schema" || len(f.Schema) == 0 {
			s.badRequest(w, fmtAnthropic, "", "output_config.format: a json_schema format with a schema is required")
			return
		}
		jsonText = toolArgs(f.Schema, 0, false)
	}
	cu, bad := s.cacheUse(body)
	if bad != "" {
		s.badRequest(w, fmtAnthropic, "", bad)
		return
	}
	if (forced || named != "") && len(req.Tools) == 0 {
		s.badRequest(w, fmtAnthropic, "", "tool_choice: tool_choice may only be specified while providing tools")
		return
	}
	k, err := s.requestKnobs(r, lastUser)
	if err != nil {
		s.badRequest(w, fmtAnthropic, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtAnthropic, &k) {
		return
	}
	a := newAnswer(&k, s.nextID("msg_"), req.Model, 0, prompt, req.MaxTokens)
	if forced || named != "" || k.AutoTool != "" {
		tools := make([]tool, len(req.Tools))
		for i, t := range req.Tools {
			tools[i] = tool{name: t.Name, schema: t.InputSchema}
		}
		var picked []tool
		if forced || named != "" {
			var ok bool
			picked, ok = pickTools(tools, named, !req.ToolChoice.DisableParallelToolUse)
			if !ok {
				s.badRequest(w, fmtAnthropic, "", "tool_choice: tool '"+named+"' not found in tools")
				return
			}
		} else if t, ok := autoTool(&k, tools, req.ToolChoice == nil || req.ToolChoice.Type != "none", anthropicAfterResult(body)); ok {
			a.calls = append(a.calls, newAutoCall(s.nextID("toolu_"), t))
		}
		for i, t := range picked {
			a.calls = append(a.calls, newToolCall(s.nextID("toolu_"), t, i))
		}
		if len(a.calls) > 0 {
			a.finish = finishTools
		}
	}
	w.Header().Set("Request-Id", s.nextID("req_"))
	var jsonFrags []string
	if jsonText != "" && len(a.calls) == 0 {
		jsonFrags = splitCall("", "", jsonText).frags
	}
	if req.Stream {
		s.anthropicStream(w, r, &k, &a, think, cu, jsonFrags)
		return
	}
	s.writeUnary(w, r, &k, a.completion(), anthropicUnary(&a, think, cu, jsonFrags))
}

// anthropicAfterResult reports whether the last user message holds a
// tool_result block. It decodes the messages again, which only the
// AutoTool path needs.
func anthropicAfterResult(body []byte) bool {
	var req struct {
		Messages []struct {
			Role    string          `json:"role"`
			Content json.RawMessage `json:"content"`
		} `json:"messages"`
	}
	if json.Unmarshal(body, &req) != nil {
		return false
	}
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role != "user" {
			continue
		}
		var blocks []struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(req.Messages[i].Content, &blocks) // text content has no blocks
		for _, b := range blocks {
			if b.Type == "tool_result" {
				return true
			}
		}
		return false
	}
	return false
}

func stopReasonAnthropic(f finish) string {
	switch f {
	case finishLength:
		return "max_tokens"
	case finishTools:
		return "tool_use"
	}
	return "end_turn"
}

type anUsage struct {
	InputTokens              int              `json:"input_tokens"`
	CacheCreationInputTokens int              `json:"cache_creation_input_tokens"`
	CacheReadInputTokens     int              `json:"cache_read_input_tokens"`
	CacheCreation            *anCacheCreation `json:"cache_creation,omitempty"`
	OutputTokens             int              `json:"output_tokens"`
}

type anCacheCreation struct {
	Ephemeral5m int `json:"ephemeral_5m_input_tokens"`
	Ephemeral1h int `json:"ephemeral_1h_input_tokens"`
}

// anOutput is the answer's output tokens: a JSON answer counts its
// fragments, as a forced call does.
func anOutput(a *answer, jsonFrags []string) int {
	if jsonFrags != nil {
		return len(jsonFrags)
	}
	return a.completion()
}

func anthropicUnary(a *answer, think bool, cu anCacheUse, jsonFrags []string) []byte {
	type block struct {
		Type      string          `json:"type"`
		Text      *string         `json:"text,omitempty"`
		ID        string          `json:"id,omitempty"`
		Name      string          `json:"name,omitempty"`
		Input     json.RawMessage `json:"input,omitempty"`
		Thinking  string          `json:"thinking,omitempty"`
		Signature string          `json:"signature,omitempty"`
	}
	var content []block
	if think {
		content = append(content, block{Type: "thinking", Thinking: FakeThinking, Signature: FakeThinkingSignature})
	}
	if len(a.calls) == 0 {
		text := answerText(a.words)
		if jsonFrags != nil {
			text = strings.Join(jsonFrags, "")
		}
		content = append(content, block{Type: "text", Text: &text})
	}
	for _, c := range a.calls {
		content = append(content, block{Type: "tool_use", ID: c.id, Name: c.name, Input: json.RawMessage(c.args)})
	}
	b, _ := json.Marshal(struct {
		ID           string  `json:"id"`
		Type         string  `json:"type"`
		Role         string  `json:"role"`
		Model        string  `json:"model"`
		Content      []block `json:"content"`
		StopReason   string  `json:"stop_reason"`
		StopSequence *string `json:"stop_sequence"`
		Usage        anUsage `json:"usage"`
	}{a.id, "message", "assistant", a.model, content, stopReasonAnthropic(a.finish), nil, cu.usage(a.prompt, anOutput(a, jsonFrags))})
	return b
}

const (
	anTextDelta = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":"
	anTextStart = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n"
	// After a thinking block (index 0), the text is block 1.
	anTextDelta1 = "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"text_delta\",\"text\":"
	anTextStart1 = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n" +
		"event: ping\ndata: {\"type\": \"ping\"}\n\n"
	anThinking = "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\",\"signature\":\"\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"" + FakeThinking + "\"}}\n\n" +
		"event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"signature_delta\",\"signature\":\"" + FakeThinkingSignature + "\"}}\n\n" +
		"event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n"
)

// anthropicStream writes the Messages API event sequence: message_start,
// then per block content_block_start, deltas and content_block_stop, then
// message_delta (stop_reason, output usage) and message_stop. With think,
// a thinking block (thinking_delta, signature_delta) comes first, as
// block 0, and the others follow it.
func (s *Server) anthropicStream(w http.ResponseWriter, r *http.Request, k *Knobs, a *answer, think bool, cu anCacheUse, jsonFrags []string) {
	sb := s.getBuf()
	defer s.putBuf(sb)
	st := s.startStream(w, r, k, hdrEventStream)
	defer st.close()

	b := append(sb.buf[:0], "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\""...)
	b = append(b, a.id...)
	b = append(b, `","type":"message","role":"assistant","model":`...)
	b = appendJSONString(b, a.model)
	b = append(b, `,"content":[],"stop_reason":null,"stop_sequence":null,"usage":`...)
	u := cu.usage(a.prompt, 1)
	if cu == (anCacheUse{}) {
		b = append(b, `{"input_tokens":`...)
		b = strconv.AppendInt(b, int64(a.prompt), 10)
		b = append(b, `,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":1}`...)
	} else {
		ub, _ := json.Marshal(u)
		b = append(b, ub...)
	}
	b = append(b, "}}\n\n"...)
	off, textStart, textDelta := 0, anTextStart, anTextDelta // off: blocks before the text or tools
	if think {
		b = append(b, anThinking...)
		off, textStart, textDelta = 1, anTextStart1, anTextDelta1
	}
	if len(a.calls) == 0 {
		b = append(b, textStart...)
	}
	defer func() { sb.buf = b }()
	if !st.write(b) {
		return
	}
	last := off // index of the open block
	switch {
	case len(a.calls) == 0 && jsonFrags != nil:
		for _, f := range jsonFrags {
			b = append(b[:0], textDelta...)
			b = appendJSONString(b, f)
			b = append(b, "}}\n\n"...)
			if !st.content(b) {
				return
			}
		}
	case len(a.calls) == 0:
		for i := 0; i < a.words; i++ {
			b = append(b[:0], textDelta...)
			b = append(b, wordJSON(i)...)
			b = append(b, "}}\n\n"...)
			if !st.content(b) {
				return
			}
		}
	default:
		for ci := range a.calls {
			c := &a.calls[ci]
			b = b[:0]
			if ci > 0 {
				b = appendBlockStop(b, off+ci-1)
			}
			b = append(b, "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":"...)
			b = strconv.AppendInt(b, int64(off+ci), 10)
			b = append(b, `,"content_block":{"type":"tool_use","id":"`...)
			b = append(b, c.id...)
			b = append(b, `","name":`...)
			b = appendJSONString(b, c.name)
			b = append(b, `,"input":{}}}`+"\n\n"...)
			b = appendJSONDelta(b, off+ci, "")
			if !st.content(b) {
				return
			}
			for _, f := range c.frags {
				b = appendJSONDelta(b[:0], off+ci, f)
				if !st.content(b) {
					return
				}
			}
			last = off + ci
		}
	}
	b = appendBlockStop(b[:0], last)
	b = append(b, "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\""...)
	b = append(b, stopReasonAnthropic(a.finish)...)
	b = append(b, `","stop_sequence":null},"usage":{"output_tokens":`...)
	b = strconv.AppendInt(b, int64(anOutput(a, jsonFrags)), 10)
	b = append(b, "}}\n\nevent: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"...)
	st.terminal(b, false)
}

func appendBlockStop(b []byte, index int) []byte {
	b = append(b, "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":"...)
	b = strconv.AppendInt(b, int64(index), 10)
	return append(b, "}\n\n"...)
}

func appendJSONDelta(b []byte, index int, partial string) []byte {
	b = append(b, "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":"...)
	b = strconv.AppendInt(b, int64(index), 10)
	b = append(b, `,"delta":{"type":"input_json_delta","partial_json":`...)
	b = appendJSONString(b, partial)
	return append(b, "}}\n\n"...)
}

func (s *Server) anthropicModels(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.anthropicAuth(w, r) {
		return
	}
	k, err := s.requestKnobs(r, "")
	if err != nil {
		s.badRequest(w, fmtAnthropic, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtAnthropic, &k) {
		return
	}
	type model struct {
		Type        string `json:"type"`
		ID          string `json:"id"`
		DisplayName string `json:"display_name"`
		CreatedAt   string `json:"created_at"`
	}
	data := make([]model, len(s.opts.Models))
	for i, m := range s.opts.Models {
		data[i] = model{"model", m, m, "2025-01-01T00:00:00Z"}
	}
	var first, last string
	if len(data) > 0 {
		first, last = data[0].ID, data[len(data)-1].ID
	}
	writeJSON(w, struct {
		Data    []model `json:"data"`
		HasMore bool    `json:"has_more"`
		FirstID string  `json:"first_id"`
		LastID  string  `json:"last_id"`
	}{data, false, first, last})
}
