package anthropic

import (
	"github.com/switchyard/switchyard/adapters/internal/sse"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/engine/llm"
)

// kind is an event or delta type decoded without allocating a string for
// it; types this package does not know decode as kindOther.
type kind uint8

const (
	kindOther kind = iota
	kindMessageStart
	kindContentBlockStart
	kindContentBlockDelta
	kindContentBlockStop
	kindMessageDelta
	kindMessageStop
	kindError
	kindTextDelta
	kindInputJSONDelta
	kindThinkingDelta
	kindSignatureDelta
)

var kinds = map[string]kind{
	`"message_start"`:       kindMessageStart,
	`"content_block_start"`: kindContentBlockStart,
	`"content_block_delta"`: kindContentBlockDelta,
	`"content_block_stop"`:  kindContentBlockStop,
	`"message_delta"`:       kindMessageDelta,
	`"message_stop"`:        kindMessageStop,
	`"error"`:               kindError,
	`"text_delta"`:          kindTextDelta,
	`"input_json_delta"`:    kindInputJSONDelta,
	`"thinking_delta"`:      kindThinkingDelta,
	`"signature_delta"`:     kindSignatureDelta,
}

// UnmarshalJSON looks the quoted name up directly: the types the API sends
// carry no escapes, and the map lookup on a converted []byte does not
// allocate.
func (k *kind) UnmarshalJSON(b []byte) error {
	*k = kinds[string(b)]
	return nil
}

// streamEvent is the union of the Messages API's stream events; the type
// field says which members are set. It is a value type so one instance is
// zeroed and reused for every event.
type streamEvent struct {
	Type    kind `json:"type"`
	Index   int  `json:"index"`
	Message struct {
		ID    string    `json:"id"`
		Model string    `json:"model"`
		Usage wireUsage `json:"usage"`
	} `json:"message"`
	ContentBlock responseBlock `json:"content_block"`
	Delta        struct {
		Type        kind   `json:"type"`
		Text        string `json:"text"`
		PartialJSON string `json:"partial_json"`
		Thinking    string `json:"thinking"`
		Signature   string `json:"signature"`
		StopReason  string `json:"stop_reason"`
	} `json:"delta"`
	Usage wireUsage `json:"usage"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// blockState remembers what a content block is, so deltas addressed by
// content-block index reach the right tool call. OpenAI's tool-call index
// counts tool calls only; Anthropic's index counts every block (text and
// thinking included), so the two differ as soon as text precedes a call.
type blockState struct {
	index    int
	tool     int // ordinal among tool_use blocks; -1 for other blocks, jsonBlock for the response_format's tool
	argsSent bool
}

// jsonBlock marks the block of the tool that carries a response_format's
// answer: its input_json_delta fragments are the answer's text.
const jsonBlock = -2

var errStreamClosed = errors.New("stream closed")

// stream translates Messages API events into chunks as they arrive.
type stream struct {
	name      string
	body      io.ReadCloser
	sse       *sse.Reader
	created   int64
	id, model string
	usage     wireUsage
	blocks    []blockState
	nTools    int
	roleSent  bool
	done      bool // message_stop seen
	// jsonTool names the response_format's tool (see structured.go); its
	// input streams as content and, called alone, finishes with stop.
	jsonTool string
	err      error
	ev       streamEvent

	pending    llm.Chunk
	hasPending bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func newStream(c *Client, body io.ReadCloser, created int64) *stream {
	return &stream{name: c.name, body: body, sse: sse.NewReader(body), created: created}
}

// Recv returns the next chunk; io.EOF after message_stop's usage chunk.
func (s *stream) Recv() (llm.Chunk, error) {
	if s.hasPending {
		s.hasPending = false
		ch := s.pending
		s.pending = llm.Chunk{}
		return ch, nil
	}
	if s.err != nil {
		return llm.Chunk{}, s.err
	}
	if s.done {
		s.err = io.EOF
		return llm.Chunk{}, s.err
	}
	for {
		_, data, err := s.sse.Next()
		if err != nil {
			s.err = s.readError(err)
			return llm.Chunk{}, s.err
		}
		ch, ok, err := s.handle(data)
		if err != nil {
			s.err = err
			return llm.Chunk{}, err
		}
		if ok {
			return ch, nil
		}
	}
}

// Close releases the connection; later calls return the first result.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.closeErr = s.body.Close()
	})
	return s.closeErr
}

// readError classifies a failure to read the next event. The body ending
// before message_stop is an error, never a clean end: a cut connection
// must not look like a short answer.
func (s *stream) readError(err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %w", s.name, errStreamClosed)
	case errors.Is(err, io.EOF):
		return s.truncated()
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: read stream: %w", s.name, err)
	case errors.Is(err, sse.ErrEventTooLarge):
		return &llm.UpstreamError{Provider: s.name, Status: 502, Message: "malformed stream", Err: err}
	}
	return &llm.UpstreamError{Provider: s.name, Status: 0, Err: err}
}

func (s *stream) truncated() error {
	return &llm.UpstreamError{Provider: s.name, Status: 0, Message: "stream ended before message_stop", Err: io.ErrUnexpectedEOF}
}

// handle translates one event; ok is false for events that yield no chunk.
func (s *stream) handle(data []byte) (ch llm.Chunk, ok bool, err error) {
	ev := &s.ev
	*ev = streamEvent{}
	ev.Usage = wireUsage{-1, -1, -1, -1, nil}
	if err := json.Unmarshal(data, ev); err != nil {
		return ch, false, &llm.UpstreamError{Provider: s.name, Status: 502, Message: "malformed stream event", Err: err}
	}
	switch ev.Type {
	case kindMessageStart:
		if s.id == "" {
			s.id, s.model = ev.Message.ID, ev.Message.Model
		}
		s.usage = ev.Message.Usage
		if s.roleSent {
			return ch, false, nil
		}
		return s.chunk(llm.Message{}, ""), true, nil

	case kindContentBlockStart:
		b := blockState{index: ev.Index, tool: -1}
		cb := &ev.ContentBlock
		switch cb.Type {
		case "text":
			s.blocks = append(s.blocks, b)
			if cb.Text != "" {
				return s.chunk(llm.Message{Content: cb.Text}, ""), true, nil
			}
		case "thinking":
			s.blocks = append(s.blocks, b)
			if cb.Thinking != "" || cb.Signature != "" {
				return s.chunk(llm.Message{ReasoningContent: cb.Thinking, ReasoningSignature: cb.Signature}, ""), true, nil
			}
		case "redacted_thinking":
			// Opaque, but the next turn must hand it back: it travels whole.
			s.blocks = append(s.blocks, b)
			return s.chunk(llm.Message{RedactedReasoning: []string{cb.Data}}, ""), true, nil
		case "tool_use":
			if s.jsonTool != "" && cb.Name == s.jsonTool {
				b.tool = jsonBlock
				s.blocks = append(s.blocks, b)
				if a := compactJSON(cb.Input); len(cb.Input) > 0 && a != "{}" {
					s.blocks[len(s.blocks)-1].argsSent = true
					return s.chunk(llm.Message{Content: a}, ""), true, nil
				}
				return ch, false, nil
			}
			b.tool = s.nTools
			s.nTools++
			// The start event carries an empty input object; the real
			// input follows as input_json_delta fragments. Anything else
			// there is passed on rather than lost.
			args := ""
			if len(cb.Input) > 0 {
				if a := compactJSON(cb.Input); a != "{}" {
					args, b.argsSent = a, true
				}
			}
			s.blocks = append(s.blocks, b)
			return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{
				Index: b.tool, ID: cb.ID, Type: "function", Name: cb.Name, Arguments: args,
			}}}, ""), true, nil
		default: // server tools: nothing the client can use
			s.blocks = append(s.blocks, b)
		}
		return ch, false, nil

	case kindContentBlockDelta:
		d := &ev.Delta
		switch d.Type {
		case kindTextDelta:
			if d.Text != "" {
				return s.chunk(llm.Message{Content: d.Text}, ""), true, nil
			}
		case kindThinkingDelta:
			if d.Thinking != "" {
				return s.chunk(llm.Message{ReasoningContent: d.Thinking}, ""), true, nil
			}
		case kindSignatureDelta:
			// Sent once, just before the thinking block stops.
			if d.Signature != "" {
				return s.chunk(llm.Message{ReasoningSignature: d.Signature}, ""), true, nil
			}
		case kindInputJSONDelta:
			b := s.block(ev.Index)
			if b == nil || b.tool == -1 || d.PartialJSON == "" {
				return ch, false, nil
			}
			b.argsSent = true
			if b.tool == jsonBlock {
				return s.chunk(llm.Message{Content: d.PartialJSON}, ""), true, nil
			}
			return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{
				Index: b.tool, Arguments: d.PartialJSON,
			}}}, ""), true, nil
		}
		return ch, false, nil

	case kindContentBlockStop:
		// A call without parameters gets no input_json_delta (or only an
		// empty one); send "{}" so clients parse an object, not "".
		if b := s.block(ev.Index); b != nil && b.tool == jsonBlock && !b.argsSent {
			b.argsSent = true
			return s.chunk(llm.Message{Content: "{}"}, ""), true, nil
		}
		if b := s.block(ev.Index); b != nil && b.tool >= 0 && !b.argsSent {
			b.argsSent = true
			return s.chunk(llm.Message{ToolCalls: []llm.ToolCall{{
				Index: b.tool, Arguments: "{}",
			}}}, ""), true, nil
		}
		return ch, false, nil

	case kindMessageDelta:
		s.usage.merge(ev.Usage)
		fr := finishReason(ev.Delta.StopReason)
		if fr == llm.FinishToolCalls && s.jsonTool != "" && s.nTools == 0 {
			fr = llm.FinishStop // only the response_format's tool was called
		}
		if fr != "" {
			return s.chunk(llm.Message{}, fr), true, nil
		}
		return ch, false, nil

	case kindMessageStop:
		s.done = true
		u := s.usage.toUsage()
		return llm.Chunk{ID: s.id, Created: s.created, Model: s.model, Usage: &u}, true, nil

	case kindError:
		return ch, false, &llm.UpstreamError{
			Provider: s.name,
			Status:   errorTypeStatus(ev.Error.Type),
			Type:     ev.Error.Type,
			Message:  ev.Error.Message,
		}
	}
	return ch, false, nil // ping and event types added later
}

// chunk wraps one delta, giving the first chunk of the stream its role.
func (s *stream) chunk(delta llm.Message, finish string) llm.Chunk {
	if !s.roleSent {
		delta.Role = llm.RoleAssistant
		s.roleSent = true
	}
	return llm.Chunk{
		ID:      s.id,
		Created: s.created,
		Model:   s.model,
		Choices: []llm.ChunkChoice{{Index: 0, Delta: delta, FinishReason: finish}},
	}
}

// block finds a content block by index; the newest block is the usual hit.
func (s *stream) block(index int) *blockState {
	for i := len(s.blocks) - 1; i >= 0; i-- {
		if s.blocks[i].index == index {
			return &s.blocks[i]
		}
	}
	return nil
}
