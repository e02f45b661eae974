package openaijson

import (
	"errors"
	"slices"

	"github.com/switchyard/switchyard/engine/llm"
	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// errMalformed marks the error for a body that is not JSON at all, so
// callers and tests can tell it from a wrong-shape error.
var errMalformed = errors.New("malformed JSON")

// IsMalformed reports whether err says the body was not valid JSON (as
// opposed to valid JSON of the wrong shape).
func IsMalformed(err error) bool { return errors.Is(err, errMalformed) }

// DecodeChatRequest parses an OpenAI chat completion request body.
//
// Unknown fields are ignored, never rejected, so newer SDKs keep working.
// JSON null for any field means unset. A value of the wrong type is an
// llm.KindInvalidRequest error naming the parameter (e.g.
// "messages[0].content"); a body that is not JSON is one whose message says
// so. Semantics (a missing model, empty messages, an unknown role) are the
// service's to check, not the codec's.
//
// Besides OpenAI's fields it reads "switchyard" (RequestOptions; SDK users
// send it with extra_body) and "extra" (an object of provider-specific
// fields passed through to the upstream body).
//
// The result never aliases body.
func DecodeChatRequest(body []byte) (*switchyardv1.CreateChatCompletionRequest, error) {
	s := scanner{data: body}
	req := &switchyardv1.CreateChatCompletionRequest{}
	err := s.begin()
	if err == nil {
		err = s.chatRequest(req)
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, domainError(body, err)
	}
	return req, nil
}

// DecodeEmbeddingsRequest parses an OpenAI embeddings request body. input is
// a string or an array of strings; token-array input is rejected as an
// invalid request.
func DecodeEmbeddingsRequest(body []byte) (*switchyardv1.CreateEmbeddingsRequest, error) {
	s := scanner{data: body}
	req := &switchyardv1.CreateEmbeddingsRequest{}
	err := s.begin()
	if err == nil {
		err = s.embeddingsRequest(req)
	}
	if err == nil {
		err = s.end()
	}
	if err != nil {
		return nil, domainError(body, err)
	}
	return req, nil
}

// begin checks that the body holds an object.
func (s *scanner) begin() error {
	c := s.ws()
	if s.pos == len(s.data) {
		return s.syntax("empty body")
	}
	if c != '{' {
		return &paramError{msg: "The request body must be a JSON object, but got " + s.kindOfNext() + "."}
	}
	return nil
}

// domainError turns a scanner error into the llm.Error the transports map.
func domainError(body []byte, err error) error {
	if _, ok := err.(*paramError); ok {
		// The shape error was found before the end of the body; a syntax
		// error later on must still win, as it would in a decoder that
		// parses first and binds after.
		v := &scanner{data: body}
		if verr := v.skip(); verr != nil {
			err = verr
		} else if verr := v.end(); verr != nil {
			err = verr
		}
	}
	switch e := err.(type) {
	case *syntaxError:
		return &llm.Error{
			Kind: llm.KindInvalidRequest,
			Message: "We could not parse the JSON body of your request: the body is not valid JSON (" +
				e.Error() + "). The API expects a JSON payload.",
			Err: errMalformed,
		}
	case *paramError:
		return &llm.Error{Kind: llm.KindInvalidRequest, Param: e.param, Message: e.Error()}
	}
	return err
}

// end checks that only whitespace follows the top-level value.
func (s *scanner) end() error {
	s.ws()
	if s.pos < len(s.data) {
		return s.syntax("invalid character " + quoteByte(s.data[s.pos]) + " after top-level value")
	}
	return nil
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		const hex = "0123456789abcdef"
		return "'\\x" + string(hex[c>>4]) + string(hex[c&15]) + "'"
	}
	return "'" + string(rune(c)) + "'"
}

func (s *scanner) chatRequest(req *switchyardv1.CreateChatCompletionRequest) error {
	return s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "model":
			req.Model, err = s.str()
		case "messages":
			// Gather into a stack array so a typical conversation costs one
			// slice allocation, not one per doubling.
			var stack [16]*switchyardv1.ChatMessage
			msgs := stack[:0]
			err = s.nullableArray(func(int) error {
				m, err := s.message()
				msgs = append(msgs, m)
				return err
			})
			req.Messages = nil
			if err == nil && len(msgs) > 0 {
				req.Messages = slices.Clone(msgs)
			}
		case "temperature":
			req.Temperature, err = s.float()
		case "top_p":
			req.TopP, err = s.float()
		case "max_tokens":
			req.MaxTokens, err = s.int32()
		case "max_completion_tokens":
			req.MaxCompletionTokens, err = s.int32()
		case "n":
			req.N, err = s.int32()
		case "stop":
			req.Stop, err = s.stop()
		case "seed":
			req.Seed, err = s.int64()
		case "presence_penalty":
			req.PresencePenalty, err = s.float()
		case "frequency_penalty":
			req.FrequencyPenalty, err = s.float()
		case "tools":
			req.Tools = nil
			err = s.nullableArray(func(int) error {
				t, err := s.tool()
				if t != nil {
					req.Tools = append(req.Tools, t)
				}
				return err
			})
		case "tool_choice":
			req.ToolChoice, err = s.toolChoice()
		case "response_format":
			req.ResponseFormat, err = s.responseFormat()
		case "user":
			req.User, err = s.str()
		case "metadata":
			req.Metadata, err = s.stringMap()
		case "stream":
			var v *bool
			v, err = s.boolean()
			req.Stream = v != nil && *v
		case "stream_options":
			req.StreamOptions, err = s.streamOptions()
		case "parallel_tool_calls":
			req.ParallelToolCalls, err = s.boolean()
		case "logit_bias":
			req.LogitBias, err = s.floatMap()
		case "logprobs":
			req.Logprobs, err = s.boolean()
		case "top_logprobs":
			req.TopLogprobs, err = s.int32()
		case "reasoning_effort":
			req.ReasoningEffort, err = s.word()
		case "extra":
			req.Extra, err = s.structObj()
		case "switchyard":
			req.Switchyard, err = s.requestOptions()
		default:
			err = s.skip()
		}
		return err
	})
}

// nullableArray iterates an array; null is an empty array.
func (s *scanner) nullableArray(fn func(i int) error) error {
	if isNull, err := s.null(); isNull || err != nil {
		return err
	}
	return s.array(fn)
}

// nonNullObject iterates an object where null is not allowed (an array
// element); want names what the element should be.
func (s *scanner) nonNullObject(want string, fn func(key []byte) error) error {
	if s.ws() != '{' {
		return s.typeErr(want)
	}
	return s.object(fn)
}

func (s *scanner) message() (*switchyardv1.ChatMessage, error) {
	m := &switchyardv1.ChatMessage{}
	err := s.nonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "role":
			m.Role, err = s.word()
		case "content":
			m.Content, m.ContentParts, err = s.content()
		case "name":
			m.Name, err = s.str()
		case "tool_calls":
			m.ToolCalls = nil
			err = s.nullableArray(func(int) error {
				tc, err := s.toolCall()
				if tc != nil {
					m.ToolCalls = append(m.ToolCalls, tc)
				}
				return err
			})
		case "tool_call_id":
			m.ToolCallId, err = s.str()
		case "refusal":
			m.Refusal, err = s.optStr()
		case "reasoning_content":
			m.ReasoningContent, err = s.optStr()
		default:
			err = s.skip()
		}
		return err
	})
	return m, err
}

// content reads string | null | array of content parts.
func (s *scanner) content() (*string, []*switchyardv1.ContentPart, error) {
	switch s.ws() {
	case '"':
		v, err := s.optStr()
		return v, nil, err
	case '[':
		var parts []*switchyardv1.ContentPart
		err := s.array(func(int) error {
			p, err := s.contentPart()
			if p != nil {
				parts = append(parts, p)
			}
			return err
		})
		return nil, parts, err
	}
	if isNull, err := s.null(); isNull || err != nil {
		return nil, nil, err
	}
	return nil, nil, s.typeErr("a string, an array of content parts or null")
}

func (s *scanner) contentPart() (*switchyardv1.ContentPart, error) {
	var (
		typ, text string
		img       *switchyardv1.ImageURL
	)
	err := s.nonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			typ, err = s.word()
		case "text":
			text, err = s.str()
		case "image_url":
			img, err = s.imageURL()
		default:
			err = s.skip()
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// "type" may come after the fields it governs, so check it last.
	switch typ {
	case "text":
		return &switchyardv1.ContentPart{Type: typ, Text: text}, nil
	case "image_url":
		return &switchyardv1.ContentPart{Type: typ, ImageUrl: img}, nil
	case "":
		return nil, &paramError{param: "type", value: true,
			detail: "a content part needs a type (supported: 'text', 'image_url')."}
	}
	return nil, &paramError{param: "type", value: true,
		detail: "unsupported content part type '" + typ + "' (supported: 'text', 'image_url')."}
}

func (s *scanner) imageURL() (*switchyardv1.ImageURL, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	u := &switchyardv1.ImageURL{}
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "url":
			u.Url, err = s.str()
		case "detail":
			u.Detail, err = s.word()
		default:
			err = s.skip()
		}
		return err
	})
	return u, err
}

func (s *scanner) toolCall() (*switchyardv1.ToolCall, error) {
	tc := &switchyardv1.ToolCall{}
	err := s.nonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "id":
			tc.Id, err = s.str()
		case "type":
			tc.Type, err = s.word()
		case "function":
			tc.Function, err = s.functionCall()
		default:
			err = s.skip()
		}
		return err
	})
	return tc, err
}

func (s *scanner) functionCall() (*switchyardv1.FunctionCall, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	f := &switchyardv1.FunctionCall{}
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "name":
			f.Name, err = s.str()
		case "arguments":
			f.Arguments, err = s.str()
		default:
			err = s.skip()
		}
		return err
	})
	return f, err
}

// stop reads a string or an array of strings.
func (s *scanner) stop() ([]string, error) {
	switch s.ws() {
	case '"':
		v, err := s.str()
		return []string{v}, err
	case '[':
		var out []string
		err := s.array(func(int) error {
			if s.ws() != '"' {
				return s.typeErr("a string")
			}
			v, err := s.str()
			out = append(out, v)
			return err
		})
		return out, err
	}
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	return nil, s.typeErr("a string, an array of strings or null")
}

func (s *scanner) tool() (*switchyardv1.Tool, error) {
	t := &switchyardv1.Tool{}
	err := s.nonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			t.Type, err = s.word()
		case "function":
			t.Function, err = s.functionDefinition()
		default:
			err = s.skip()
		}
		return err
	})
	return t, err
}

func (s *scanner) functionDefinition() (*switchyardv1.FunctionDefinition, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	f := &switchyardv1.FunctionDefinition{}
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "name":
			f.Name, err = s.str()
		case "description":
			f.Description, err = s.str()
		case "parameters":
			f.Parameters, err = s.structObj()
		case "strict":
			f.Strict, err = s.boolean()
		default:
			err = s.skip()
		}
		return err
	})
	return f, err
}

// toolChoice reads "none" | "auto" | "required" or
// {"type":"function","function":{"name":...}}.
func (s *scanner) toolChoice() (*switchyardv1.ToolChoice, error) {
	switch s.ws() {
	case '"':
		mode, err := s.word()
		return &switchyardv1.ToolChoice{Mode: mode}, err
	case '{':
		var typ, name string
		err := s.object(func(key []byte) error {
			var err error
			switch string(key) {
			case "type":
				typ, err = s.word()
			case "function":
				if isNull, nerr := s.null(); isNull || nerr != nil {
					return nerr
				}
				err = s.object(func(key []byte) error {
					if string(key) == "name" {
						var err error
						name, err = s.str()
						return err
					}
					return s.skip()
				})
			default:
				err = s.skip()
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			return nil, &paramError{param: "type", value: true,
				detail: "unsupported tool_choice type '" + typ + "' (supported: 'function')."}
		}
		if name == "" {
			return nil, &paramError{param: "function.name", value: true,
				detail: "a function tool_choice needs the function's name."}
		}
		return &switchyardv1.ToolChoice{FunctionName: name}, nil
	}
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	return nil, s.typeErr("a string or an object")
}

func (s *scanner) responseFormat() (*switchyardv1.ResponseFormat, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	rf := &switchyardv1.ResponseFormat{}
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			rf.Type, err = s.word()
		case "json_schema":
			rf.JsonSchema, err = s.jsonSchema()
		default:
			err = s.skip()
		}
		return err
	})
	return rf, err
}

func (s *scanner) jsonSchema() (*switchyardv1.JSONSchema, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	js := &switchyardv1.JSONSchema{}
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "name":
			js.Name, err = s.str()
		case "description":
			js.Description, err = s.str()
		case "schema":
			js.Schema, err = s.structObj()
		case "strict":
			js.Strict, err = s.boolean()
		default:
			err = s.skip()
		}
		return err
	})
	return js, err
}

func (s *scanner) streamOptions() (*switchyardv1.StreamOptions, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	o := &switchyardv1.StreamOptions{}
	err := s.object(func(key []byte) error {
		if string(key) != "include_usage" {
			return s.skip()
		}
		v, err := s.boolean()
		o.IncludeUsage = v != nil && *v
		return err
	})
	return o, err
}

// stringMap reads an object of string values (metadata); null is unset.
func (s *scanner) stringMap() (map[string]string, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	m := map[string]string{}
	err := s.object(func(key []byte) error {
		k := string(key)
		if s.ws() != '"' {
			return s.typeErr("a string")
		}
		v, err := s.str()
		m[k] = v
		return err
	})
	return m, err
}

// floatMap reads an object of number values (logit_bias); null is unset.
func (s *scanner) floatMap() (map[string]float64, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	m := map[string]float64{}
	err := s.object(func(key []byte) error {
		k := string(key)
		if !isNumberStart(s.ws()) {
			return s.typeErr("a number")
		}
		v, err := s.floatValue()
		m[k] = v
		return err
	})
	return m, err
}

func (s *scanner) requestOptions() (*switchyardv1.RequestOptions, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	o := &switchyardv1.RequestOptions{}
	err := s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "route":
			o.Route, err = s.str()
		case "strategy":
			o.Strategy, err = s.str()
		case "cache_control":
			o.CacheControl, err = s.cacheControl()
		case "cache_ttl_seconds":
			var v *int32
			v, err = s.int32()
			o.CacheTtlSeconds = 0
			if v != nil {
				o.CacheTtlSeconds = *v
			}
		case "affinity_key":
			o.AffinityKey, err = s.str()
		default:
			err = s.skip()
		}
		return err
	})
	return o, err
}

func (s *scanner) cacheControl() (switchyardv1.CacheControl, error) {
	if s.ws() != '"' {
		if isNull, err := s.null(); isNull || err != nil {
			return 0, err
		}
		return 0, s.typeErr("a string")
	}
	b, _, err := s.stringBytes()
	if err != nil {
		return 0, err
	}
	switch string(b) {
	case "", "default":
		return switchyardv1.CacheControl_CACHE_CONTROL_UNSPECIFIED, nil
	case "no-cache":
		return switchyardv1.CacheControl_CACHE_CONTROL_NO_CACHE, nil
	case "no-store":
		return switchyardv1.CacheControl_CACHE_CONTROL_NO_STORE, nil
	case "refresh":
		return switchyardv1.CacheControl_CACHE_CONTROL_REFRESH, nil
	}
	return 0, s.valueErr("unknown cache_control '" + string(b) +
		"' (supported: 'default', 'no-cache', 'no-store', 'refresh').")
}

func (s *scanner) embeddingsRequest(req *switchyardv1.CreateEmbeddingsRequest) error {
	return s.object(func(key []byte) error {
		var err error
		switch string(key) {
		case "model":
			req.Model, err = s.str()
		case "input":
			req.Input, err = s.embeddingsInput()
		case "encoding_format":
			req.EncodingFormat, err = s.str()
		case "dimensions":
			req.Dimensions, err = s.int32()
		case "user":
			req.User, err = s.str()
		case "switchyard":
			req.Switchyard, err = s.requestOptions()
		default:
			err = s.skip()
		}
		return err
	})
}

var errTokenInput = &paramError{msg: "token array input is not supported; send the input as text."}

// embeddingsInput reads a string or an array of strings. OpenAI also takes
// token ids (an array of integers, or of arrays of integers); providers
// other than OpenAI cannot, so those are rejected rather than guessed at.
func (s *scanner) embeddingsInput() ([]string, error) {
	switch s.ws() {
	case '"':
		v, err := s.str()
		return []string{v}, err
	case '[':
		var out []string
		err := s.array(func(int) error {
			switch c := s.ws(); {
			case c == '"':
				v, err := s.str()
				out = append(out, v)
				return err
			case c == '[' || isNumberStart(c):
				e := *errTokenInput
				return &e
			}
			return s.typeErr("a string")
		})
		if pe, ok := err.(*paramError); ok && pe.msg != "" {
			pe.param = "" // the whole input is the problem, not one element
		}
		return out, err
	}
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	return nil, s.typeErr("a string or an array of strings")
}
