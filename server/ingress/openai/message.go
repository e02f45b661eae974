package openai

import (
	stdjson "encoding/json"
	"slices"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

func (d *decoder) messages() ([]llm.Message, error) {
	// Gather into a stack array so a typical conversation costs one slice
	// allocation, not one per doubling.
	var stack [8]llm.Message
	msgs := stack[:0]
	err := d.NullableArray(func(int) error {
		msgs = append(msgs, llm.Message{})
		return d.message(&msgs[len(msgs)-1])
	})
	if len(msgs) == 0 {
		return nil, err
	}
	return slices.Clone(msgs), err
}

func (d *decoder) message(m *llm.Message) error {
	return d.NonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "role":
			var r string
			r, err = d.Word()
			m.Role = llm.Role(r)
		case "content":
			m.Content, m.Parts, err = d.content()
		case "name":
			m.Name, err = d.Str()
		case "tool_calls":
			m.ToolCalls = nil
			err = d.NullableArray(func(j int) error {
				tc := llm.ToolCall{Index: j, Type: "function"}
				err := d.toolCall(&tc)
				tc.ID, tc.Signature = llm.SplitToolCallID(tc.ID) // a signature rides in the id
				m.ToolCalls = append(m.ToolCalls, tc)
				return err
			})
		case "tool_call_id":
			m.ToolCallID, err = d.Str()
			m.ToolCallID, _ = llm.SplitToolCallID(m.ToolCallID)
		case "refusal":
			m.Refusal, err = d.Str()
		case "reasoning_content":
			m.ReasoningContent, err = d.Str()
		case "cache_control":
			m.Cache, err = d.cacheHint()
		case "thinking_blocks":
			err = d.thinkingBlocks(m)
		default:
			err = d.Skip()
		}
		return err
	})
}

// content reads string | null | array of content parts.
func (d *decoder) content() (string, []llm.Part, error) {
	switch d.Peek() {
	case '"':
		v, err := d.Str()
		return v, nil, err
	case '[':
		var parts []llm.Part
		err := d.Array(func(int) error {
			p, err := d.contentPart()
			if err == nil {
				parts = append(parts, p)
			}
			return err
		})
		return "", parts, err
	}
	if isNull, err := d.Null(); isNull || err != nil {
		return "", nil, err
	}
	return "", nil, d.TypeErr("a string, an array of content parts or null")
}

func (d *decoder) contentPart() (llm.Part, error) {
	var (
		typ, text, url, detail string
		p                      llm.Part
		fileData               string
	)
	err := d.NonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			typ, err = d.Word()
		case "text":
			text, err = d.Str()
		case "image_url":
			url, detail, err = d.imageURL()
		case "file":
			p.File, fileData, err = d.file()
		case "input_audio":
			p.Audio, err = d.inputAudio()
		case "cache_control":
			p.Cache, err = d.cacheHint()
		default:
			err = d.Skip()
		}
		return err
	})
	if err != nil {
		return llm.Part{}, err
	}
	// "type" may come after the fields it governs, so check it last.
	switch typ {
	case "text":
		p.Type, p.Text, p.File, p.Audio = llm.PartText, text, nil, nil
		return p, nil
	case "image_url":
		p.Type, p.ImageURL, p.ImageDetail, p.File, p.Audio = llm.PartImage, url, detail, nil, nil
		return p, nil
	case "file":
		if p.File == nil {
			p.File = &llm.FilePart{}
		}
		if !p.File.SetData(fileData) {
			return llm.Part{}, &jsonscan.ParamError{Param: "file.file_data", Value: true,
				Detail: "file_data must be a base64 data URL (data:<type>;base64,<data>)."}
		}
		p.Type, p.Audio = llm.PartFile, nil
		return p, nil
	case "input_audio":
		p.Type, p.File = llm.PartAudio, nil
		if p.Audio == nil {
			p.Audio = &llm.AudioPart{}
		}
		return p, nil
	case "":
		return llm.Part{}, &jsonscan.ParamError{Param: "type", Value: true,
			Detail: "a content part needs a type (supported: " + partTypes + ")."}
	}
	return llm.Part{}, &jsonscan.ParamError{Param: "type", Value: true,
		Detail: "unsupported content part type '" + typ + "' (supported: " + partTypes + ")."}
}

const partTypes = "'text', 'image_url', 'file', 'input_audio'"

func (d *decoder) imageURL() (url, detail string, err error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return "", "", err
	}
	err = d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "url":
			url, err = d.Str()
		case "detail":
			detail, err = d.Word()
		default:
			err = d.Skip()
		}
		return err
	})
	return url, detail, err
}

func (d *decoder) toolCall(tc *llm.ToolCall) error {
	return d.NonNullObject("an object", func(key []byte) error {
		var err error
		switch string(key) {
		case "id":
			tc.ID, err = d.Str()
		case "type":
			_, err = d.Word() // always "function" in the domain
		case "function":
			tc.Name, tc.Arguments, err = d.functionCall()
		default:
			err = d.Skip()
		}
		return err
	})
}

func (d *decoder) functionCall() (name, args string, err error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return "", "", err
	}
	err = d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "name":
			name, err = d.Str()
		case "arguments":
			args, err = d.Str()
		default:
			err = d.Skip()
		}
		return err
	})
	return name, args, err
}

// stop reads a string or an array of strings.
func (d *decoder) stop() ([]string, error) {
	switch d.Peek() {
	case '"':
		v, err := d.Str()
		return []string{v}, err
	case '[':
		var out []string
		err := d.Array(func(int) error {
			if d.Peek() != '"' {
				return d.TypeErr("a string")
			}
			v, err := d.Str()
			out = append(out, v)
			return err
		})
		return out, err
	}
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	return nil, d.TypeErr("a string, an array of strings or null")
}

func (d *decoder) tools(req *chatRequest) error {
	req.Tools, req.toolTypes = nil, nil
	return d.NullableArray(func(int) error {
		var t llm.Tool
		var typ string
		err := d.NonNullObject("an object", func(key []byte) error {
			var err error
			switch string(key) {
			case "type":
				typ, err = d.Word()
			case "function":
				cache := t.Cache
				err = d.functionDefinition(&t)
				t.Cache = cache
			case "cache_control":
				t.Cache, err = d.cacheHint()
			default:
				err = d.Skip()
			}
			return err
		})
		req.Tools = append(req.Tools, t)
		req.toolTypes = append(req.toolTypes, typ)
		return err
	})
}

func (d *decoder) functionDefinition(t *llm.Tool) error {
	*t = llm.Tool{}
	if isNull, err := d.Null(); isNull || err != nil {
		return err
	}
	return d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "name":
			t.Name, err = d.Str()
		case "description":
			t.Description, err = d.Str()
		case "parameters":
			t.Parameters, err = d.RawObject()
		case "strict":
			t.Strict, err = d.Boolean()
		default:
			err = d.Skip()
		}
		return err
	})
}

// toolChoice reads "none" | "auto" | "required" or
// {"type":"function","function":{"name":...}}.
func (d *decoder) toolChoice() (*toolChoice, error) {
	switch d.Peek() {
	case '"':
		mode, err := d.Word()
		return &toolChoice{mode: mode}, err
	case '{':
		var typ, name string
		err := d.Object(func(key []byte) error {
			var err error
			switch string(key) {
			case "type":
				typ, err = d.Word()
			case "function":
				if isNull, nerr := d.Null(); isNull || nerr != nil {
					return nerr
				}
				err = d.Object(func(key []byte) error {
					if string(key) == "name" {
						var err error
						name, err = d.Str()
						return err
					}
					return d.Skip()
				})
			default:
				err = d.Skip()
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		if typ != "function" {
			return nil, &jsonscan.ParamError{Param: "type", Value: true,
				Detail: "unsupported tool_choice type '" + typ + "' (supported: 'function')."}
		}
		if name == "" {
			return nil, &jsonscan.ParamError{Param: "function.name", Value: true,
				Detail: "a function tool_choice needs the function's name."}
		}
		return &toolChoice{function: name}, nil
	}
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	return nil, d.TypeErr("a string or an object")
}

func (d *decoder) responseFormat() (*responseFormat, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	rf := &responseFormat{}
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			rf.typ, err = d.Word()
		case "json_schema":
			err = d.jsonSchema(rf)
		default:
			err = d.Skip()
		}
		return err
	})
	return rf, err
}

func (d *decoder) jsonSchema(rf *responseFormat) error {
	rf.name, rf.description, rf.schema, rf.strict = "", "", nil, nil
	if isNull, err := d.Null(); isNull || err != nil {
		return err
	}
	return d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "name":
			rf.name, err = d.Str()
		case "description":
			rf.description, err = d.Str()
		case "schema":
			rf.schema, err = d.RawObject()
		case "strict":
			rf.strict, err = d.Boolean()
		default:
			err = d.Skip()
		}
		return err
	})
}

func (d *decoder) streamOptions() (includeUsage bool, err error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return false, err
	}
	err = d.Object(func(key []byte) error {
		if string(key) != "include_usage" {
			return d.Skip()
		}
		v, err := d.Boolean()
		includeUsage = v != nil && *v
		return err
	})
	return includeUsage, err
}

// stringMap reads an object of string values (metadata); null is unset.
func (d *decoder) stringMap() (map[string]string, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	m := map[string]string{}
	err := d.Object(func(key []byte) error {
		k := string(key)
		if d.Peek() != '"' {
			return d.TypeErr("a string")
		}
		v, err := d.Str()
		m[k] = v
		return err
	})
	return m, err
}

// floatMap reads an object of number values (logit_bias); null is unset.
func (d *decoder) floatMap() (map[string]float64, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	m := map[string]float64{}
	err := d.Object(func(key []byte) error {
		k := string(key)
		if !jsonscan.IsNumberStart(d.Peek()) {
			return d.TypeErr("a number")
		}
		v, err := d.FloatValue()
		m[k] = v
		return err
	})
	return m, err
}

// extra reads the passthrough object: each field's value as written. An
// empty object is no extra at all.
func (d *decoder) extra() (map[string]stdjson.RawMessage, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	if d.Peek() != '{' {
		return nil, d.TypeErr("an object")
	}
	var m map[string]stdjson.RawMessage
	err := d.Object(func(key []byte) error {
		k := string(key)
		v, err := d.Raw()
		if err == nil {
			if m == nil {
				m = map[string]stdjson.RawMessage{}
			}
			m[k] = v
		}
		return err
	})
	return m, err
}

func (d *decoder) requestOptions() (*requestOptions, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	o := &requestOptions{}
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "route":
			o.route, err = d.Str()
		case "strategy":
			o.strategy, err = d.Str()
		case "cache_control":
			o.cacheControl, err = d.cacheControl()
		case "cache_ttl_seconds":
			var v *int32
			v, err = d.Int32()
			o.cacheTTLSeconds = 0
			if v != nil {
				o.cacheTTLSeconds = *v
			}
		case "affinity_key":
			o.affinityKey, err = d.Str()
		default:
			err = d.Skip()
		}
		return err
	})
	return o, err
}

func (d *decoder) cacheControl() (llm.CacheControl, error) {
	if d.Peek() != '"' {
		if isNull, err := d.Null(); isNull || err != nil {
			return llm.CacheDefault, err
		}
		return llm.CacheDefault, d.TypeErr("a string")
	}
	b, _, err := d.StringBytes()
	if err != nil {
		return llm.CacheDefault, err
	}
	if cc, ok := cacheControls[string(b)]; ok {
		return cc, nil
	}
	return llm.CacheDefault, d.ValueErr("unknown cache_control '" + string(b) +
		"' (supported: 'default', 'no-cache', 'no-store', 'refresh').")
}

// cacheControls are the cache directives by name, in the body's
// switchyard.cache_control and the X-Switchyard-Cache header.
var cacheControls = map[string]llm.CacheControl{
	"":         llm.CacheDefault,
	"default":  llm.CacheDefault,
	"no-cache": llm.CacheNoCache,
	"no-store": llm.CacheNoStore,
	"refresh":  llm.CacheRefresh,
}
