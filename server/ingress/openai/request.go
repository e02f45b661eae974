package openai

import (
	stdjson "encoding/json"
	"errors"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// errMalformed marks the error for a body that is not JSON at all, so
// callers and tests can tell it from a wrong-shape error.
var errMalformed = errors.New("malformed JSON")

// IsMalformed reports whether err says the body was not valid JSON (as
// opposed to valid JSON of the wrong shape).
func IsMalformed(err error) bool { return errors.Is(err, errMalformed) }

// chatRequest is a decoded Chat Completions body: the domain request, the
// stream flag, and what the wire said that validation still has to judge
// (the domain has no room for a tool type other than "function", or for
// which of max_tokens and max_completion_tokens was sent).
type chatRequest struct {
	llm.ChatRequest
	stream bool

	maxTokens, maxCompletionTokens, n, topLogprobs, topK *int32

	toolTypes []string // tools[i].type as sent

	toolChoice     *toolChoice
	responseFormat *responseFormat

	// options is the "switchyard" object, when sent.
	options *requestOptions
}

type toolChoice struct{ mode, function string }

type responseFormat struct {
	typ, name, description string
	schema                 []byte
	strict                 *bool
	hasSchema              bool
}

// requestOptions is Switchyard's own request object ("switchyard"; SDK
// users send it with extra_body).
type requestOptions struct {
	route, strategy, affinityKey string
	cacheControl                 llm.CacheControl
	cacheTTLSeconds              int32
}

// decodeChat parses an OpenAI chat completion request body.
//
// Unknown fields are ignored, never rejected, so newer SDKs keep working.
// JSON null for any field means unset. A value of the wrong type is an
// llm.KindInvalidRequest error naming the parameter (e.g.
// "messages[0].content"); a body that is not JSON is one whose message says
// so. Semantics (a missing model, empty messages, an unknown role) are
// validate's to check.
//
// Besides OpenAI's fields it reads "switchyard" (request options) and
// "extra" (an object of provider-specific fields passed through to the
// upstream body as written).
//
// The result never aliases body.
func decodeChat(body []byte) (*chatRequest, error) {
	d := decoder{jsonscan.New(body)}
	req := &chatRequest{}
	err := d.Begin()
	if err == nil {
		err = d.chatRequest(req)
	}
	if err == nil {
		err = d.End()
	}
	if err != nil {
		return nil, domainError(body, err)
	}
	return req, nil
}

// decoder reads OpenAI's request shapes off the shared scanner.
type decoder struct{ jsonscan.Scanner }

// domainError turns a scanner error into the llm.Error the transports map.
func domainError(body []byte, err error) error {
	if _, ok := err.(*jsonscan.ParamError); ok {
		// The shape error was found before the end of the body; a syntax
		// error later on must still win, as it would in a decoder that
		// parses first and binds after.
		if verr := jsonscan.Validate(body); verr != nil {
			err = verr
		}
	}
	switch e := err.(type) {
	case *jsonscan.SyntaxError:
		return &llm.Error{
			Kind: llm.KindInvalidRequest,
			Message: "We could not parse the JSON body of your request: the body is not valid JSON (" +
				e.Error() + "). The API expects a JSON payload.",
			Err: errMalformed,
		}
	case *jsonscan.ParamError:
		return &llm.Error{Kind: llm.KindInvalidRequest, Param: e.Param, Message: e.Error()}
	}
	return err
}

func (d *decoder) chatRequest(req *chatRequest) error {
	return d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "model":
			req.Model, err = d.Str()
		case "messages":
			req.Messages, err = d.messages()
		case "temperature":
			req.Temperature, err = d.Float()
		case "top_p":
			req.TopP, err = d.Float()
		case "max_tokens":
			req.maxTokens, err = d.Int32()
		case "max_completion_tokens":
			req.maxCompletionTokens, err = d.Int32()
		case "n":
			req.n, err = d.Int32()
		case "stop":
			req.Stop, err = d.stop()
		case "seed":
			req.Seed, err = d.Int64()
		case "presence_penalty":
			req.PresencePenalty, err = d.Float()
		case "frequency_penalty":
			req.FrequencyPenalty, err = d.Float()
		case "tools":
			err = d.tools(req)
		case "tool_choice":
			req.toolChoice, err = d.toolChoice()
		case "response_format":
			req.responseFormat, err = d.responseFormat()
		case "user":
			req.User, err = d.Str()
		case "metadata":
			req.Metadata, err = d.stringMap()
		case "stream":
			var v *bool
			v, err = d.Boolean()
			req.stream = v != nil && *v
		case "stream_options":
			req.IncludeUsage, err = d.streamOptions()
		case "parallel_tool_calls":
			req.ParallelToolCalls, err = d.Boolean()
		case "logit_bias":
			req.LogitBias, err = d.floatMap()
		case "logprobs":
			req.Logprobs, err = d.Boolean()
		case "top_logprobs":
			req.topLogprobs, err = d.Int32()
		case "reasoning_effort":
			req.ReasoningEffort, err = d.Word()
		case "extra":
			req.Extra, err = d.extra()
		case "switchyard":
			req.options, err = d.requestOptions()
		case "top_k":
			req.topK, err = d.Int32()
		case "thinking":
			req.Thinking, err = d.thinking()
		default:
			// A field the gateway has no domain field for: OpenAI-family
			// targets get it as sent (fields.go has the rules).
			var raw []byte
			if isNull, nerr := d.Null(); isNull || nerr != nil {
				return nerr // null means unset, here as everywhere
			}
			if raw, err = d.Raw(); err == nil {
				if req.OpenAIFields == nil {
					req.OpenAIFields = map[string]stdjson.RawMessage{}
				}
				req.OpenAIFields[string(key)] = raw
			}
		}
		return err
	})
}

// Limits that keep one request from asking for unbounded work (the same
// as server/rpc's for gRPC clients).
const (
	maxMessages = 4096
	maxStops    = 16
	maxTools    = 512
)

// validate checks what the decoder cannot (the same rules, messages and
// params as server/rpc's ChatRequestFromProto, in the same order) and
// fills in the domain fields that depend on it. Every failure is an
// llm.KindInvalidRequest naming the parameter.
func (r *chatRequest) validate() error {
	if r.Model == "" {
		return llm.InvalidParam("model", "you must provide a model parameter")
	}
	if len(r.Messages) == 0 {
		return llm.InvalidParam("messages", "messages must be a non-empty array")
	}
	if len(r.Messages) > maxMessages {
		return llm.InvalidParam("messages", "too many messages: %d (at most %d)", len(r.Messages), maxMessages)
	}
	for i := range r.Messages {
		if err := checkMessage(&r.Messages[i], i); err != nil {
			return err
		}
	}
	for _, c := range [...]struct {
		param  string
		v      *float64
		lo, hi float64
	}{
		{"temperature", r.Temperature, 0, 2},
		{"top_p", r.TopP, 0, 1},
		{"presence_penalty", r.PresencePenalty, -2, 2},
		{"frequency_penalty", r.FrequencyPenalty, -2, 2},
	} {
		if v := c.v; v != nil && (*v < c.lo || *v > c.hi || *v != *v) {
			return llm.InvalidParam(c.param, "%s must be between %g and %g, got %g", c.param, c.lo, c.hi, *v)
		}
	}
	switch {
	case r.maxCompletionTokens != nil:
		if *r.maxCompletionTokens < 1 {
			return llm.InvalidParam("max_completion_tokens", "max_completion_tokens must be at least 1")
		}
		r.MaxTokens = intp(*r.maxCompletionTokens)
	case r.maxTokens != nil:
		if *r.maxTokens < 1 {
			return llm.InvalidParam("max_tokens", "max_tokens must be at least 1")
		}
		r.MaxTokens = intp(*r.maxTokens)
	}
	if r.n != nil {
		if *r.n < 1 || *r.n > 128 {
			return llm.InvalidParam("n", "n must be between 1 and 128")
		}
		r.N = intp(*r.n)
	}
	if r.topK != nil {
		if *r.topK < 1 {
			return llm.InvalidParam("top_k", "top_k must be at least 1")
		}
		r.TopK = intp(*r.topK)
	}
	if t := r.Thinking; t != nil && t.Type == "" {
		r.Thinking = nil // as from server/rpc: no type is no thinking request
	} else if t != nil {
		if err := t.Check(); err != nil {
			return err
		}
	}
	if r.topLogprobs != nil {
		if *r.topLogprobs < 0 || *r.topLogprobs > 20 {
			return llm.InvalidParam("top_logprobs", "top_logprobs must be between 0 and 20")
		}
		r.TopLogprobs = intp(*r.topLogprobs)
	}
	if len(r.Stop) > maxStops {
		return llm.InvalidParam("stop", "at most %d stop sequences", maxStops)
	}
	if err := r.checkTools(); err != nil {
		return err
	}
	if err := r.checkResponseFormat(); err != nil {
		return err
	}
	if o := r.options; o != nil {
		r.Hints = llm.Hints{
			Route:        o.route,
			Strategy:     o.strategy,
			CacheControl: o.cacheControl,
			CacheTTL:     time.Duration(o.cacheTTLSeconds) * time.Second,
			AffinityKey:  o.affinityKey,
		}
		if o.cacheTTLSeconds < 0 {
			return llm.InvalidParam("switchyard.cache_ttl_seconds", "cache_ttl_seconds must not be negative")
		}
	}
	return nil
}

func intp(v int32) *int {
	i := int(v)
	return &i
}

func (r *chatRequest) checkTools() error {
	if len(r.Tools) > maxTools {
		return llm.InvalidParam("tools", "at most %d tools", maxTools)
	}
	for i := range r.Tools {
		t := &r.Tools[i]
		if typ := r.toolTypes[i]; typ != "" && typ != "function" {
			return llm.InvalidParam("tools["+strconv.Itoa(i)+"].type", "unsupported tool type %q (want \"function\")", typ)
		}
		if t.Name == "" {
			return llm.InvalidParam("tools["+strconv.Itoa(i)+"].function.name", "tool function name is required")
		}
		t.Type = "function"
	}
	if tc := r.toolChoice; tc != nil {
		switch {
		case tc.function != "":
			r.ToolChoice = &llm.ToolChoice{Function: tc.function}
		case tc.mode == "none" || tc.mode == "auto" || tc.mode == "required":
			r.ToolChoice = &llm.ToolChoice{Mode: tc.mode}
		case tc.mode == "":
		default:
			return llm.InvalidParam("tool_choice", "unknown tool_choice %q (want none, auto, required or a function)", tc.mode)
		}
	}
	return nil
}

func (r *chatRequest) checkResponseFormat() error {
	rf := r.responseFormat
	if rf == nil || rf.typ == "" {
		return nil
	}
	switch rf.typ {
	case "text", "json_object":
		r.ResponseFormat = &llm.ResponseFormat{Type: rf.typ}
	case "json_schema":
		if rf.name == "" {
			return llm.InvalidParam("response_format.json_schema.name", "json_schema.name is required")
		}
		r.ResponseFormat = &llm.ResponseFormat{Type: "json_schema", SchemaName: rf.name,
			SchemaDescription: rf.description, Schema: rf.schema, Strict: rf.strict}
	default:
		return llm.InvalidParam("response_format.type", "unknown response_format type %q", rf.typ)
	}
	return nil
}

// checkMessage is server/rpc's message validation: a known role, an image
// part with its URL, tool calls only from the assistant, a tool result
// with the id of its call.
func checkMessage(m *llm.Message, i int) error {
	param := func() string { return "messages[" + strconv.Itoa(i) + "]" }
	if m.Role == "" {
		return llm.InvalidParam(param()+".role", "message role is required")
	}
	if !m.Role.Valid() {
		return llm.InvalidParam(param()+".role", "unknown role %q (want system, developer, user, assistant or tool)", string(m.Role))
	}
	for j := range m.Parts {
		if err := m.Parts[j].Check(param() + ".content[" + strconv.Itoa(j) + "]"); err != nil {
			return err
		}
	}
	if len(m.ToolCalls) > 0 && m.Role != llm.RoleAssistant {
		return llm.InvalidParam(param()+".tool_calls", "only assistant messages carry tool_calls")
	}
	if m.Role == llm.RoleTool && m.ToolCallID == "" {
		return llm.InvalidParam(param()+".tool_call_id", "messages with role 'tool' need tool_call_id")
	}
	return nil
}
