package openai

import (
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/jsonscan"
)

// Decoders of the parts of a message beyond text and images: files, audio,
// prompt-cache breakpoints, and Anthropic-style thinking as LiteLLM takes
// it on Chat Completions.

// file reads {"file_data", "file_id", "filename"}; file_data is returned
// raw for the caller to split once the part's type is known.
func (d *decoder) file() (*llm.FilePart, string, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, "", err
	}
	f := &llm.FilePart{}
	var data string
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "file_data":
			data, err = d.Str()
		case "file_id":
			f.FileID, err = d.Str()
		case "filename":
			f.Filename, err = d.Str()
		case "file_url": // not OpenAI's, but what Gemini and Anthropic targets can fetch
			f.URL, err = d.Str()
		default:
			err = d.Skip()
		}
		return err
	})
	return f, data, err
}

func (d *decoder) inputAudio() (*llm.AudioPart, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	a := &llm.AudioPart{}
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "data":
			a.Data, err = d.Str()
		case "format":
			a.Format, err = d.Word()
		default:
			err = d.Skip()
		}
		return err
	})
	return a, err
}

// cacheHint reads a prompt-cache breakpoint, {"type":"ephemeral","ttl":"1h"},
// as LiteLLM accepts it on messages, content parts and tools.
func (d *decoder) cacheHint() (*llm.CacheHint, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	h := &llm.CacheHint{}
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			h.Type, err = d.Word()
		case "ttl":
			h.TTL, err = d.Word()
		default:
			err = d.Skip()
		}
		return err
	})
	if err == nil && h.Type == "" {
		return nil, &jsonscan.ParamError{Param: "type", Value: true, Detail: "cache_control needs a type ('ephemeral')."}
	}
	return h, err
}

// thinking reads an Anthropic-style {"type":"enabled","budget_tokens":N}
// (LiteLLM takes it on Chat Completions too).
func (d *decoder) thinking() (*llm.Thinking, error) {
	if isNull, err := d.Null(); isNull || err != nil {
		return nil, err
	}
	t := &llm.Thinking{}
	err := d.Object(func(key []byte) error {
		var err error
		switch string(key) {
		case "type":
			t.Type, err = d.Word()
		case "budget_tokens":
			var v *int32
			if v, err = d.Int32(); v != nil {
				t.BudgetTokens = int(*v)
			}
		default:
			err = d.Skip()
		}
		return err
	})
	return t, err
}

// thinkingBlocks reads LiteLLM's thinking_blocks, in which an assistant
// turn carries Anthropic's thinking with its signature and redacted
// thinking back: Anthropic refuses a tool-use turn whose reasoning lost
// them. reasoning_content, when also sent, is the same text.
func (d *decoder) thinkingBlocks(m *llm.Message) error {
	var text string
	err := d.NullableArray(func(int) error {
		var typ, thinking, sig, data string
		err := d.NonNullObject("an object", func(key []byte) error {
			var err error
			switch string(key) {
			case "type":
				typ, err = d.Word()
			case "thinking":
				thinking, err = d.Str()
			case "signature":
				sig, err = d.Str()
			case "data":
				data, err = d.Str()
			default:
				err = d.Skip()
			}
			return err
		})
		switch typ {
		case "thinking":
			text += thinking
			if sig != "" {
				m.ReasoningSignature = sig
			}
		case "redacted_thinking":
			m.RedactedReasoning = append(m.RedactedReasoning, data)
		}
		return err
	})
	if m.ReasoningContent == "" {
		m.ReasoningContent = text
	}
	return err
}
