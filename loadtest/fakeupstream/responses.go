package fakeupstream

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
)

// rsRequest is what the fake reads of a Responses API request.
type rsRequest struct {
	Model        string          `json:"model"`
	Instructions string          `json:"instructions"`
	Input        json.RawMessage `json:"input"`
	Tools        []struct {
		Type       string          `json:"type"`
		Name       string          `json:"name"`
		Parameters json.RawMessage `json:"parameters"`
	} `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	MaxOutputTokens   *int            `json:"max_output_tokens"`
	Stream            bool            `json:"stream"`
	PreviousID        string          `json:"previous_response_id"`
	Store             *bool           `json:"store"`
	Reasoning         *struct {
		Effort  string `json:"effort"`
		Summary string `json:"summary"`
	} `json:"reasoning"`
	Text *struct {
		Format *struct {
			Type   string          `json:"type"`
			Schema json.RawMessage `json:"schema"`
		} `json:"format"`
	} `json:"text"`
}

// jsonText is the structured-output text text.format asks for ("" for
// plain text), or the 400's parameter and message.
func (req *rsRequest) jsonText() (text, param, msg string) {
	if req.Text == nil || req.Text.Format == nil {
		return "", "", ""
	}
	switch f := req.Text.Format; f.Type {
	case "", "text":
		return "", "", ""
	case "json_object":
		return structuredText(nil), "", ""
	case "json_schema":
		if len(f.Schema) == 0 {
			return "", "text.format.schema", "Missing required parameter: 'text.format.schema'."
		}
		return structuredText(f.Schema), "", ""
	default:
		return "", "text.format.type", "Invalid value: '" + f.Type + "'. Supported values are: 'text', 'json_object', and 'json_schema'."
	}
}

// FakeReasoningSummary is the reasoning summary a Responses request that
// asks for one (reasoning.summary auto, concise or detailed) gets before the
// answer, as a reasoning item, streamed as one summary part; its words are
// reported as reasoning tokens inside output_tokens.
const FakeReasoningSummary = "Fake reasoning summary before the answer."

// rsAnswer is an answer in the Responses shape: the common answer, and
// whether a reasoning summary goes first.
type rsAnswer struct {
	*answer
	summary bool
	store   bool
}

func (a rsAnswer) reasoningTokens() int {
	if !a.summary {
		return 0
	}
	return countWords(FakeReasoningSummary)
}

// rsInput counts the prompt's words and finds the last user text (where a
// fake directive may be) and whether the last item is a tool's output.
func rsInput(raw json.RawMessage) (words int, lastUser string, afterResult bool, err error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 0 && raw[0] == '"' {
		var s string
		err = json.Unmarshal(raw, &s)
		return countWords(s), s, false, err
	}
	var items []struct {
		Type    string      `json:"type"`
		Role    string      `json:"role"`
		Content textContent `json:"content"`
		Output  textContent `json:"output"`
		Args    string      `json:"arguments"`
	}
	if err = json.Unmarshal(raw, &items); err != nil {
		return 0, "", false, err
	}
	for _, it := range items {
		words += countWords(string(it.Content)) + countWords(string(it.Output)) + countWords(it.Args)
		if it.Role == "user" {
			lastUser = string(it.Content)
		}
	}
	if n := len(items); n > 0 {
		afterResult = items[n-1].Type == "function_call_output" || items[n-1].Type == "custom_tool_call_output"
	}
	return words, lastUser, afterResult, nil
}

// openaiResponses serves POST /v1/responses: a text answer, or the forced
// function calls, unary or as the Responses event stream.
func (s *Server) openaiResponses(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.openaiAuth(w, r) {
		return
	}
	var req rsRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, fmtOpenAI, "", "We could not parse the JSON body of your request. "+err.Error())
		return
	}
	if req.Model == "" {
		s.badRequest(w, fmtOpenAI, "model", "Missing required parameter: 'model'.")
		return
	}
	if req.PreviousID != "" {
		// The fake stores nothing, as with store: false.
		s.writeError(w, fmtOpenAI, apiError{status: http.StatusNotFound, message: "Previous response with id '" + req.PreviousID + "' not found."})
		return
	}
	words, lastUser, afterResult, err := rsInput(req.Input)
	if err != nil || len(bytes.TrimSpace(req.Input)) == 0 {
		s.badRequest(w, fmtOpenAI, "input", "Invalid 'input': want a string or an array of input items.")
		return
	}
	forced, named, err := responsesToolChoice(req.ToolChoice)
	if err != nil {
		s.badRequest(w, fmtOpenAI, "tool_choice", err.Error())
		return
	}
	jsonText, param, msg := req.jsonText()
	if msg != "" {
		s.badRequest(w, fmtOpenAI, param, msg)
		return
	}
	k, err := s.requestKnobs(r, lastUser)
	if err != nil {
		s.badRequest(w, fmtOpenAI, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtOpenAI, &k) {
		return
	}
	a := newAnswer(&k, s.nextID("resp_"), req.Model, s.now().Unix(), words+countWords(req.Instructions), req.MaxOutputTokens)
	if jsonText != "" {
		a.setJSON(jsonText, req.MaxOutputTokens)
	}
	if forced || named != "" || k.AutoTool != "" {
		var tools []tool
		for _, t := range req.Tools {
			if t.Type == "function" {
				tools = append(tools, tool{name: t.Name, schema: t.Parameters})
			}
		}
		var picked []tool
		if forced || named != "" {
			var ok bool
			picked, ok = pickTools(tools, named, req.ParallelToolCalls == nil || *req.ParallelToolCalls)
			if !ok || len(picked) == 0 {
				s.badRequest(w, fmtOpenAI, "tool_choice", "Tool choice '"+named+"' not found in 'tools' parameter.")
				return
			}
		} else if t, ok := autoTool(&k, tools, !openaiChoiceNone(req.ToolChoice), afterResult); ok {
			a.calls = append(a.calls, newAutoCall(s.nextID("call_"), t))
		}
		for i, t := range picked {
			a.calls = append(a.calls, newToolCall(s.nextID("call_"), t, i))
		}
		if len(a.calls) > 0 {
			a.finish = finishTools
		}
	}
	ra := rsAnswer{answer: &a, store: req.Store != nil && *req.Store}
	if rs := req.Reasoning; rs != nil {
		switch rs.Summary {
		case "", "none":
		case "auto", "concise", "detailed":
			ra.summary = true
		default:
			s.badRequest(w, fmtOpenAI, "reasoning.summary", "Invalid value: '"+rs.Summary+"'. Supported values are: 'auto', 'concise', and 'detailed'.")
			return
		}
	}
	if req.Stream {
		s.responsesStream(w, r, &k, ra)
		return
	}
	s.writeUnary(w, r, &k, a.completion(), mustJSON(responsesObject(ra, "completed", rsOutput(ra))))
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

type rsItem = map[string]any

// rsOutput is the answer's output items.
func rsOutput(a rsAnswer) []rsItem {
	var out []rsItem
	if a.summary {
		out = append(out, rsReasoning(a.id, FakeReasoningSummary))
	}
	if len(a.calls) == 0 {
		return append(out, rsMessage(a.id, a.text(), "completed"))
	}
	for _, c := range a.calls {
		out = append(out, rsCall(c, c.args, "completed"))
	}
	return out
}

func rsMessage(respID, text, status string) rsItem {
	content := []any{}
	if status == "completed" {
		content = append(content, map[string]any{"type": "output_text", "text": text, "annotations": []any{}, "logprobs": []any{}})
	}
	return rsItem{"type": "message", "id": "msg_" + strings.TrimPrefix(respID, "resp_"), "status": status, "role": "assistant", "content": content}
}

func rsReasoning(respID, summary string) rsItem {
	parts := []any{}
	if summary != "" {
		parts = append(parts, map[string]any{"type": "summary_text", "text": summary})
	}
	return rsItem{"type": "reasoning", "id": "rs_" + strings.TrimPrefix(respID, "resp_"), "summary": parts}
}

func rsCall(c toolCall, args, status string) rsItem {
	return rsItem{"type": "function_call", "id": "fc_" + strings.TrimPrefix(c.id, "call_"), "call_id": c.id, "name": c.name, "arguments": args, "status": status}
}

// responsesObject is the response object in the given state.
func responsesObject(a rsAnswer, status string, output []rsItem) map[string]any {
	o := map[string]any{"id": a.id, "object": "response", "created_at": a.created, "status": status, "error": nil,
		"incomplete_details": nil, "model": a.model, "output": output, "parallel_tool_calls": true, "store": a.store,
		"tool_choice": "auto", "tools": []any{}, "truncation": "disabled", "usage": nil, "metadata": map[string]any{}}
	if output == nil {
		o["output"] = []any{}
	}
	if status == "completed" || status == "incomplete" {
		out := a.completion() + a.reasoningTokens()
		o["usage"] = map[string]any{"input_tokens": a.prompt, "input_tokens_details": map[string]int{"cached_tokens": 0},
			"output_tokens": out, "output_tokens_details": map[string]int{"reasoning_tokens": a.reasoningTokens()}, "total_tokens": a.prompt + out}
		if a.finish == finishLength {
			o["status"], o["incomplete_details"] = "incomplete", map[string]string{"reason": "max_output_tokens"}
		}
	}
	return o
}

// responsesStream writes the Responses event sequence. It marshals each
// event: the Responses path is for fidelity tests, not the load runs.
func (s *Server) responsesStream(w http.ResponseWriter, r *http.Request, k *Knobs, a rsAnswer) {
	st := s.startStream(w, r, k, hdrEventStream)
	defer st.close()
	seq := 0
	frame := func(ev map[string]any) []byte {
		ev["sequence_number"] = seq
		seq++
		typ, _ := ev["type"].(string)
		return append(append(append([]byte("event: "+typ+"\ndata: "), mustJSON(ev)...), '\n'), '\n')
	}
	if !st.write(append(frame(map[string]any{"type": "response.created", "response": responsesObject(a, "in_progress", nil)}),
		frame(map[string]any{"type": "response.in_progress", "response": responsesObject(a, "in_progress", nil)})...)) {
		return
	}
	// A reasoning summary is item 0; the answer's items follow it.
	at := 0
	if a.summary {
		item := rsReasoning(a.id, "")
		id := item["id"]
		part := func(text string) map[string]any { return map[string]any{"type": "summary_text", "text": text} }
		b := frame(map[string]any{"type": "response.output_item.added", "output_index": 0, "item": item})
		b = append(b, frame(map[string]any{"type": "response.reasoning_summary_part.added", "item_id": id, "output_index": 0, "summary_index": 0, "part": part("")})...)
		b = append(b, frame(map[string]any{"type": "response.reasoning_summary_text.delta", "item_id": id, "output_index": 0, "summary_index": 0, "delta": FakeReasoningSummary})...)
		b = append(b, frame(map[string]any{"type": "response.reasoning_summary_text.done", "item_id": id, "output_index": 0, "summary_index": 0, "text": FakeReasoningSummary})...)
		b = append(b, frame(map[string]any{"type": "response.reasoning_summary_part.done", "item_id": id, "output_index": 0, "summary_index": 0, "part": part(FakeReasoningSummary)})...)
		b = append(b, frame(map[string]any{"type": "response.output_item.done", "output_index": 0, "item": rsReasoning(a.id, FakeReasoningSummary)})...)
		if !st.content(b) {
			return
		}
		at = 1
	}
	if len(a.calls) == 0 {
		item := rsMessage(a.id, "", "in_progress")
		id := item["id"]
		b := frame(map[string]any{"type": "response.output_item.added", "output_index": at, "item": item})
		b = append(b, frame(map[string]any{"type": "response.content_part.added", "item_id": id, "output_index": at, "content_index": 0,
			"part": map[string]any{"type": "output_text", "text": "", "annotations": []any{}}})...)
		if !st.write(b) {
			return
		}
		for i := 0; i < a.pieces(); i++ {
			if !st.content(frame(map[string]any{"type": "response.output_text.delta", "item_id": id, "output_index": at, "content_index": 0, "delta": a.piece(i), "logprobs": []any{}})) {
				return
			}
		}
		text := a.text()
		b = frame(map[string]any{"type": "response.output_text.done", "item_id": id, "output_index": at, "content_index": 0, "text": text, "logprobs": []any{}})
		b = append(b, frame(map[string]any{"type": "response.content_part.done", "item_id": id, "output_index": at, "content_index": 0,
			"part": map[string]any{"type": "output_text", "text": text, "annotations": []any{}}})...)
		b = append(b, frame(map[string]any{"type": "response.output_item.done", "output_index": at, "item": rsMessage(a.id, text, "completed")})...)
		if !st.write(b) {
			return
		}
	} else {
		for n, c := range a.calls {
			i := at + n
			item := rsCall(c, "", "in_progress")
			if !st.content(frame(map[string]any{"type": "response.output_item.added", "output_index": i, "item": item})) {
				return
			}
			for _, f := range c.frags {
				if !st.content(frame(map[string]any{"type": "response.function_call_arguments.delta", "item_id": item["id"], "output_index": i, "delta": f})) {
					return
				}
			}
			b := frame(map[string]any{"type": "response.function_call_arguments.done", "item_id": item["id"], "output_index": i, "arguments": c.args})
			b = append(b, frame(map[string]any{"type": "response.output_item.done", "output_index": i, "item": rsCall(c, c.args, "completed")})...)
			if !st.write(b) {
				return
			}
		}
	}
	final := responsesObject(a, "completed", rsOutput(a))
	typ := "response.completed"
	if final["status"] == "incomplete" {
		typ = "response.incomplete"
	}
	st.terminal(frame(map[string]any{"type": typ, "response": final}), false)
}

// responsesToolChoice reads the Responses API's tool_choice: a mode, or a
// named function flat as {"type":"function","name":...} (not the Chat
// Completions nesting under "function").
func responsesToolChoice(raw json.RawMessage) (forced bool, name string, err error) {
	var named struct {
		Type string `json:"type"`
		Name string `json:"name"`
	}
	if t := bytes.TrimSpace(raw); len(t) > 0 && t[0] == '{' {
		if json.Unmarshal(t, &named) != nil || named.Type != "function" || named.Name == "" {
			return false, "", errors.New(`Invalid value for 'tool_choice': expected a string or {"type": "function", "name": ...}.`)
		}
		return false, named.Name, nil
	}
	return openaiToolChoice(raw)
}
