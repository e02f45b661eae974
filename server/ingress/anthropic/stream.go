package anthropic

import (
	"encoding/json"

	"github.com/switchyard/switchyard/engine/llm"
)

// event is one SSE event of a Messages stream.
type event struct {
	name string
	data []byte
}

func (e event) frame() []byte {
	b := make([]byte, 0, len(e.name)+len(e.data)+16)
	b = append(b, "event: "...)
	b = append(b, e.name...)
	b = append(b, "\ndata: "...)
	b = append(b, e.data...)
	return append(b, "\n\n"...)
}

func ev(name string, v any) event {
	b, _ := json.Marshal(v)
	return event{name: name, data: b}
}

// encoder turns domain chunks into Anthropic's block-structured events:
// thinking, text and each tool call are content blocks, opened on first
// sight and stopped when the next block starts or the message ends; a
// redacted_thinking block comes whole, started and stopped at once.
type encoder struct {
	id, model string
	index     int    // of the open block; -1 when none
	open      string // "thinking", "text", "tool_use" or ""
	toolIndex int    // domain index of the open tool call
	reason    string // the domain finish reason
	usage     llm.Usage
	sawTool   bool
}

func newEncoder(id, model string) *encoder { return &encoder{id: id, model: model, index: -1} }

func (e *encoder) start() []event {
	msg := outMessage{ID: e.id, Type: "message", Role: "assistant", Model: e.model, Content: []outBlock{}}
	return []event{ev("message_start", map[string]any{"type": "message_start", "message": msg}), ev("ping", map[string]string{"type": "ping"})}
}

func (e *encoder) closeBlock() []event {
	if e.open == "" {
		return nil
	}
	e.open = ""
	return []event{ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": e.index})}
}

func (e *encoder) chunk(c llm.Chunk) []event {
	var out []event
	if c.Usage != nil {
		e.usage = *c.Usage
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		out = e.reasoning(out, &ch.Delta)
		if text := ch.Delta.Content; text != "" {
			if e.open != "text" {
				out = append(out, e.closeBlock()...)
				e.index++
				e.open = "text"
				empty := ""
				out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": e.index,
					"content_block": outBlock{Type: "text", Text: &empty}}))
			}
			out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": e.index,
				"delta": map[string]string{"type": "text_delta", "text": text}}))
		}
		for _, tc := range ch.Delta.ToolCalls {
			if e.open != "tool_use" || tc.Index != e.toolIndex {
				out = append(out, e.closeBlock()...)
				e.index++
				e.open, e.toolIndex, e.sawTool = "tool_use", tc.Index, true
				out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": e.index,
					"content_block": outBlock{Type: "tool_use", ID: llm.WireToolCallID(tc.ID, tc.Signature), Name: tc.Name, Input: json.RawMessage(`{}`)}}))
			}
			if tc.Arguments != "" {
				out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": e.index,
					"delta": map[string]string{"type": "input_json_delta", "partial_json": tc.Arguments}}))
			}
		}
		if ch.FinishReason != "" {
			e.reason = ch.FinishReason
		}
	}
	return out
}

// reasoning appends the events of a delta's reasoning: thinking text and
// its signature go into one thinking block (signature_delta last, as
// Anthropic sends it), each redacted block is one block of its own.
func (e *encoder) reasoning(out []event, d *llm.Message) []event {
	if d.ReasoningContent == "" && d.ReasoningSignature == "" && len(d.RedactedReasoning) == 0 {
		return out
	}
	if d.ReasoningContent != "" || d.ReasoningSignature != "" {
		if e.open != "thinking" {
			out = append(out, e.closeBlock()...)
			e.index++
			e.open = "thinking"
			out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": e.index,
				"content_block": thinkingBlock("", "")}))
		}
		if t := d.ReasoningContent; t != "" {
			out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": e.index,
				"delta": map[string]string{"type": "thinking_delta", "thinking": t}}))
		}
		if sig := d.ReasoningSignature; sig != "" {
			out = append(out, ev("content_block_delta", map[string]any{"type": "content_block_delta", "index": e.index,
				"delta": map[string]string{"type": "signature_delta", "signature": sig}}))
		}
	}
	for _, data := range d.RedactedReasoning {
		out = append(out, e.closeBlock()...)
		e.index++
		out = append(out, ev("content_block_start", map[string]any{"type": "content_block_start", "index": e.index,
			"content_block": outBlock{Type: "redacted_thinking", Data: data}}),
			ev("content_block_stop", map[string]any{"type": "content_block_stop", "index": e.index}))
	}
	return out
}

func (e *encoder) finish() []event {
	out := e.closeBlock()
	sr := stopReason(e.reason)
	if e.sawTool {
		sr = "tool_use"
	}
	// The whole usage, input included: message_start went out before the
	// provider counted the prompt, and the SDKs (and Claude Code's cost
	// line) take input_tokens from here when it is present.
	u := usageOf(e.usage)
	out = append(out, ev("message_delta", map[string]any{"type": "message_delta",
		"delta": map[string]any{"stop_reason": sr, "stop_sequence": nil}, "usage": u}))
	return append(out, ev("message_stop", map[string]string{"type": "message_stop"}))
}
