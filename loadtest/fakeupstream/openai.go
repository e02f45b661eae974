package fakeupstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// oaRequest is the part of a chat completions body the fake reads.
type oaRequest struct {
	Model         string      `json:"model"`
	Messages      []oaMessage `json:"messages"`
	Stream        bool        `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	MaxTokens           *int `json:"max_tokens"`
	MaxCompletionTokens *int `json:"max_completion_tokens"`
	Tools               []struct {
		Type     string `json:"type"`
		Function struct {
			Name       string          `json:"name"`
			Parameters json.RawMessage `json:"parameters"`
		} `json:"function"`
	} `json:"tools"`
	ToolChoice        json.RawMessage `json:"tool_choice"`
	ParallelToolCalls *bool           `json:"parallel_tool_calls"`
	ResponseFormat    *struct {
		Type       string `json:"type"`
		JSONSchema *struct {
			Name   string          `json:"name"`
			Schema json.RawMessage `json:"schema"`
		} `json:"json_schema"`
	} `json:"response_format"`
	N           *int `json:"n"`
	Logprobs    bool `json:"logprobs"`
	TopLogprobs *int `json:"top_logprobs"`
}

// oaExtras checks response_format, n and top_logprobs; it returns the
// structured-output text ("" for none) or the parameter and message of
// the 400 the real API gives.
func (req *oaRequest) oaExtras() (jsonText, param, msg string) {
	if n := req.N; n != nil && (*n < 1 || *n > 128) {
		return "", "n", fmt.Sprintf("Invalid 'n': integer out of range; expected 1 to 128, got %d.", *n)
	}
	if t := req.TopLogprobs; t != nil && (*t < 0 || *t > 20) {
		return "", "top_logprobs", fmt.Sprintf("Invalid 'top_logprobs': integer out of range; expected 0 to 20, got %d.", *t)
	}
	rf := req.ResponseFormat
	if rf == nil {
		return "", "", ""
	}
	switch rf.Type {
	case "text":
		return "", "", ""
	case "json_object":
		return structuredText(nil), "", ""
	case "json_schema":
		if rf.JSONSchema == nil {
			return "", "response_format.json_schema", "Missing required parameter: 'response_format.json_schema'."
		}
		return structuredText(rf.JSONSchema.Schema), "", ""
	}
	return "", "response_format.type", fmt.Sprintf("Invalid value: '%s'. Supported values are: 'json_object', 'json_schema', and 'text'.", rf.Type)
}

type oaMessage struct {
	Role    string      `json:"role"`
	Content textContent `json:"content"`
}

var openaiRoles = map[string]bool{"system": true, "developer": true, "user": true, "assistant": true, "tool": true, "function": true}

// openaiAuth checks the key: Bearer auth, or Azure's api-key header.
func (s *Server) openaiAuth(w http.ResponseWriter, r *http.Request) bool {
	key := r.Header.Get("Api-Key")
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, k, _ := strings.Cut(a, " ")
		if strings.EqualFold(scheme, "Bearer") {
			key = strings.TrimSpace(k)
		}
	}
	if key == "" {
		s.writeError(w, fmtOpenAI, apiError{status: http.StatusUnauthorized, nullCode: true,
			message: "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."})
		return false
	}
	if s.keys != nil && !s.keys[key] {
		s.writeError(w, fmtOpenAI, apiError{status: http.StatusUnauthorized, code: "invalid_api_key",
			message: "Incorrect API key provided: " + mask(key) + "."})
		return false
	}
	if s.overQuota(w, fmtOpenAI, key) {
		return false
	}
	return true
}

func (s *Server) badRequest(w http.ResponseWriter, format, param, msg string) {
	s.writeError(w, format, apiError{status: http.StatusBadRequest, param: param, message: msg})
}

// deployment is the model of an Azure path, "" elsewhere.
func deployment(path string) string {
	rest, ok := strings.CutPrefix(path, "/openai/deployments/")
	if !ok {
		return ""
	}
	d, _, _ := strings.Cut(rest, "/")
	return d
}

func (s *Server) openaiChat(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.openaiAuth(w, r) {
		return
	}
	var req oaRequest
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, fmtOpenAI, "", "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly.) "+err.Error())
		return
	}
	if d := deployment(r.URL.Path); d != "" {
		req.Model = d
	}
	if req.Model == "" {
		s.badRequest(w, fmtOpenAI, "model", "you must provide a model parameter")
		return
	}
	if len(req.Messages) == 0 {
		s.badRequest(w, fmtOpenAI, "messages", "[] is too short - 'messages'")
		return
	}
	prompt, lastUser := 0, ""
	for i, m := range req.Messages {
		if !openaiRoles[m.Role] {
			s.badRequest(w, fmtOpenAI, fmt.Sprintf("messages.[%d].role", i),
				fmt.Sprintf("Invalid value: '%s'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.", m.Role))
			return
		}
		prompt += countWords(string(m.Content))
		if m.Role == "user" {
			lastUser = string(m.Content)
		}
	}
	if req.StreamOptions != nil && !req.Stream {
		s.badRequest(w, fmtOpenAI, "stream_options", "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
		return
	}
	forced, named, err := openaiToolChoice(req.ToolChoice)
	if err != nil {
		s.badRequest(w, fmtOpenAI, "tool_choice", err.Error())
		return
	}
	jsonText, param, msg := req.oaExtras()
	if msg != "" {
		s.badRequest(w, fmtOpenAI, param, msg)
		return
	}
	if (forced || named != "") && len(req.Tools) == 0 {
		s.badRequest(w, fmtOpenAI, "tool_choice", "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.")
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
	maxTokens := req.MaxCompletionTokens
	if maxTokens == nil {
		maxTokens = req.MaxTokens
	}
	a := newAnswer(&k, s.nextID("chatcmpl-"), req.Model, s.now().Unix(), prompt, maxTokens)
	if req.N != nil {
		a.n = *req.N
	}
	if jsonText != "" {
		a.setJSON(jsonText, maxTokens)
	}
	if forced || named != "" || k.AutoTool != "" {
		tools := make([]tool, len(req.Tools))
		for i, t := range req.Tools {
			tools[i] = tool{name: t.Function.Name, schema: t.Function.Parameters}
		}
		var picked []tool
		if forced || named != "" {
			var ok bool
			picked, ok = pickTools(tools, named, req.ParallelToolCalls == nil || *req.ParallelToolCalls)
			if !ok {
				s.badRequest(w, fmtOpenAI, "tool_choice", "Invalid value for 'tool_choice': no function named '"+named+"' was specified in the 'tools' parameter.")
				return
			}
		} else {
			last := req.Messages[len(req.Messages)-1].Role
			if t, ok := autoTool(&k, tools, !openaiChoiceNone(req.ToolChoice), last == "tool" || last == "function"); ok {
				a.calls = append(a.calls, newAutoCall(s.nextID("call_"), t))
			}
		}
		for i, t := range picked {
			a.calls = append(a.calls, newToolCall(s.nextID("call_"), t, i))
		}
		if len(a.calls) > 0 {
			a.finish = finishTools
		}
	}
	top := -1 // no logprobs
	if req.Logprobs {
		top = 0
		if req.TopLogprobs != nil {
			top = *req.TopLogprobs
		}
	}
	if req.Stream {
		s.openaiStream(w, r, &k, &a, req.StreamOptions != nil && req.StreamOptions.IncludeUsage, top)
		return
	}
	s.writeUnary(w, r, &k, a.completion(), openaiUnary(&a, top))
}

// appendOALogprobs writes chat completions' choice logprobs for the
// answer's content chunks [from, to): per token its text, a fixed
// logprob, its UTF-8 bytes and top alternatives (the token itself first,
// then words of the list). top < 0 writes null.
func appendOALogprobs(b []byte, a *answer, from, to, top int) []byte {
	if top < 0 {
		return append(b, "null"...)
	}
	b = append(b, `{"content":[`...)
	for i := from; i < to; i++ {
		if i > from {
			b = append(b, ',')
		}
		tok := a.piece(i)
		b = appendOALogprob(b, tok, fakeLogprob(i, 0))
		b = append(b[:len(b)-1], `,"top_logprobs":[`...)
		for r := 0; r < top; r++ {
			if r > 0 {
				b = append(b, ',')
				tok = " " + wordList[(i+r)%len(wordList)]
			}
			b = appendOALogprob(b, tok, fakeLogprob(i, r))
		}
		b = append(b, "]}"...)
	}
	return append(b, `],"refusal":null}`...)
}

func appendOALogprob(b []byte, tok string, lp float64) []byte {
	b = append(b, `{"token":`...)
	b = appendJSONString(b, tok)
	b = append(b, `,"logprob":`...)
	b = strconv.AppendFloat(b, lp, 'g', -1, 64)
	b = append(b, `,"bytes":[`...)
	for i := 0; i < len(tok); i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(tok[i]), 10)
	}
	return append(b, "]}"...)
}

// openaiToolChoice reads tool_choice: "required" forces some call, a
// named function forces that one; "auto", "none" and absent force none.
func openaiToolChoice(raw json.RawMessage) (forced bool, name string, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return false, "", nil
	}
	var mode string
	if json.Unmarshal(raw, &mode) == nil {
		switch mode {
		case "required":
			return true, "", nil
		case "auto", "none":
			return false, "", nil
		}
		return false, "", fmt.Errorf("Invalid value: '%s'. Supported values are: 'none', 'auto', and 'required'.", mode)
	}
	var named struct {
		Type     string `json:"type"`
		Function struct {
			Name string `json:"name"`
		} `json:"function"`
	}
	if err := json.Unmarshal(raw, &named); err != nil || named.Type != "function" || named.Function.Name == "" {
		return false, "", fmt.Errorf("Invalid value for 'tool_choice': expected a string or {\"type\": \"function\", \"function\": {\"name\": ...}}.")
	}
	return false, named.Function.Name, nil
}

// openaiChoiceNone reports a tool_choice of "none", which forbids calls
// (chat completions and Responses alike).
func openaiChoiceNone(raw json.RawMessage) bool {
	return string(bytes.TrimSpace(raw)) == `"none"`
}

func finishReasonOpenAI(f finish) string {
	switch f {
	case finishLength:
		return "length"
	case finishTools:
		return "tool_calls"
	}
	return "stop"
}

type oaUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
		AudioTokens  int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens          int `json:"reasoning_tokens"`
		AudioTokens              int `json:"audio_tokens"`
		AcceptedPredictionTokens int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type oaToolCall struct {
	ID       string `json:"id"`
	Type     string `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func openaiUnary(a *answer, top int) []byte {
	type message struct {
		Role        string       `json:"role"`
		Content     *string      `json:"content"`
		ToolCalls   []oaToolCall `json:"tool_calls,omitempty"`
		Refusal     *string      `json:"refusal"`
		Annotations []struct{}   `json:"annotations"`
	}
	type choice struct {
		Index        int             `json:"index"`
		Message      message         `json:"message"`
		Logprobs     json.RawMessage `json:"logprobs"`
		FinishReason string          `json:"finish_reason"`
	}
	msg := message{Role: "assistant", Annotations: []struct{}{}}
	var logprobs json.RawMessage // null
	if len(a.calls) == 0 {
		text := a.text()
		msg.Content = &text
		if top >= 0 {
			logprobs = appendOALogprobs(nil, a, 0, a.pieces(), top)
		}
	}
	for _, c := range a.calls {
		tc := oaToolCall{ID: c.id, Type: "function"}
		tc.Function.Name, tc.Function.Arguments = c.name, c.args
		msg.ToolCalls = append(msg.ToolCalls, tc)
	}
	u := oaUsage{PromptTokens: a.prompt, CompletionTokens: a.completionAll()}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	choices := make([]choice, a.choices())
	for i := range choices {
		choices[i] = choice{Index: i, Message: msg, Logprobs: logprobs, FinishReason: finishReasonOpenAI(a.finish)}
	}
	b, _ := json.Marshal(struct {
		ID                string   `json:"id"`
		Object            string   `json:"object"`
		Created           int64    `json:"created"`
		Model             string   `json:"model"`
		Choices           []choice `json:"choices"`
		Usage             oaUsage  `json:"usage"`
		ServiceTier       string   `json:"service_tier"`
		SystemFingerprint string   `json:"system_fingerprint"`
	}{a.id, "chat.completion", a.created, a.model, choices, u, "default", "fp_fake"})
	return b
}

// openaiStream writes chat.completion.chunk events. Every chunk is the
// same head (id, created, model) plus a small delta, so each is a few
// appends into a pooled buffer; nothing is marshalled per chunk. With n
// choices each step is n chunks, one per choice index, as OpenAI sends
// them; with logprobs (top >= 0) each content chunk carries its token's.
func (s *Server) openaiStream(w http.ResponseWriter, r *http.Request, k *Knobs, a *answer, includeUsage bool, top int) {
	sb := s.getBuf()
	defer s.putBuf(sb)
	var tail string // closes choices and the chunk
	if includeUsage {
		tail = `],"usage":null}` + "\n\n"
	} else {
		tail = "]}\n\n"
	}
	head := append(sb.head, `data: {"id":"`...)
	head = append(head, a.id...)
	head = append(head, `","object":"chat.completion.chunk","created":`...)
	head = strconv.AppendInt(head, a.created, 10)
	head = append(head, `,"model":`...)
	head = appendJSONString(head, a.model)
	head = append(head, `,"system_fingerprint":"fp_fake","choices":[`...)
	sb.head = head
	const open = `,"logprobs":null,"finish_reason":null}`
	// choice opens choice c's chunk, up to its delta.
	choice := func(b []byte, c int) []byte {
		b = append(b, head...)
		b = append(b, `{"index":`...)
		b = strconv.AppendInt(b, int64(c), 10)
		return append(b, `,"delta":`...)
	}
	n := a.choices()

	st := s.startStream(w, r, k, hdrEventStream)
	defer st.close()
	b := sb.buf
	defer func() { sb.buf = b }()
	if len(a.calls) == 0 {
		for i := 0; i < a.pieces(); i++ {
			b = b[:0]
			for c := 0; c < n; c++ {
				if i == 0 {
					// The role chunk goes out with the first word, as OpenAI's does.
					b = choice(b, c)
					b = append(b, `{"role":"assistant","content":"","refusal":null}`+open...)
					b = append(b, tail...)
				}
				b = choice(b, c)
				b = append(b, `{"content":`...)
				b = a.appendPiece(b, i)
				b = append(b, '}')
				if top < 0 {
					b = append(b, open...)
				} else {
					b = append(b, `,"logprobs":`...)
					b = appendOALogprobs(b, a, i, i+1, top)
					b = append(b, `,"finish_reason":null}`...)
				}
				b = append(b, tail...)
			}
			if !st.content(b) {
				return
			}
		}
	} else {
		for ci := range a.calls {
			cl := &a.calls[ci]
			b = b[:0]
			for c := 0; c < n; c++ {
				b = choice(b, c)
				if ci == 0 {
					b = append(b, `{"role":"assistant","content":null,"tool_calls":[{"index":`...)
				} else {
					b = append(b, `{"tool_calls":[{"index":`...)
				}
				b = strconv.AppendInt(b, int64(ci), 10)
				b = append(b, `,"id":"`...)
				b = append(b, cl.id...)
				b = append(b, `","type":"function","function":{"name":`...)
				b = appendJSONString(b, cl.name)
				b = append(b, `,"arguments":""}}]`...)
				if ci == 0 {
					b = append(b, `,"refusal":null`...)
				}
				b = append(b, '}')
				b = append(b, open...)
				b = append(b, tail...)
			}
			if !st.content(b) {
				return
			}
			for _, f := range cl.frags {
				b = b[:0]
				for c := 0; c < n; c++ {
					b = choice(b, c)
					b = append(b, `{"tool_calls":[{"index":`...)
					b = strconv.AppendInt(b, int64(ci), 10)
					b = append(b, `,"function":{"arguments":`...)
					b = appendJSONString(b, f)
					b = append(b, `}}]}`...)
					b = append(b, open...)
					b = append(b, tail...)
				}
				if !st.content(b) {
					return
				}
			}
		}
	}
	b = b[:0]
	for c := 0; c < n; c++ {
		b = choice(b, c)
		b = append(b, `{},"logprobs":null,"finish_reason":"`...)
		b = append(b, finishReasonOpenAI(a.finish)...)
		b = append(b, `"}`...)
		b = append(b, tail...)
	}
	if includeUsage {
		b = append(b, head[:len(head)-len(`[`)]...)
		b = append(b, `[],"usage":{"prompt_tokens":`...)
		b = strconv.AppendInt(b, int64(a.prompt), 10)
		b = append(b, `,"completion_tokens":`...)
		b = strconv.AppendInt(b, int64(a.completionAll()), 10)
		b = append(b, `,"total_tokens":`...)
		b = strconv.AppendInt(b, int64(a.prompt+a.completionAll()), 10)
		b = append(b, `,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}}`+"\n\n"...)
	}
	b = append(b, "data: [DONE]\n\n"...)
	st.terminal(b, false)
}

func (s *Server) openaiModels(w http.ResponseWriter, r *http.Request, _ []byte) {
	if !s.openaiAuth(w, r) {
		return
	}
	k, err := s.requestKnobs(r, "")
	if err != nil {
		s.badRequest(w, fmtOpenAI, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtOpenAI, &k) {
		return
	}
	type model struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	}
	data := make([]model, len(s.opts.Models))
	for i, m := range s.opts.Models {
		data[i] = model{m, "model", 1700000000, "fakeupstream"}
	}
	writeJSON(w, struct {
		Object string  `json:"object"`
		Data   []model `json:"data"`
	}{"list", data})
}
