package gemini

import (
	"github.com/switchyard/switchyard/adapters/internal/sse"

	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/engine/llm"
)

var errStreamClosed = errors.New("stream closed")

// candState follows one candidate through a stream.
type candState struct {
	index    int
	roleSent bool
	calls    int // function calls so far: the next call's tool index
	finished bool
}

// stream translates streamGenerateContent?alt=sse events into chunks. Each
// event is a whole GenerateContentResponse; function calls arrive whole, so
// each becomes one tool-call delta with its full arguments.
type stream struct {
	name      string
	body      io.ReadCloser
	sse       *sse.Reader
	created   int64
	id, model string
	cands     []candState
	calls     int // calls across candidates, for ids
	blocked   bool
	usage     llm.Usage
	hasUsage  bool
	usageSent bool
	err       error
	ev        gResponse // reused for every event

	pending    llm.Chunk
	hasPending bool

	closed    atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

func newStream(name string, body io.ReadCloser, model string, created int64) *stream {
	return &stream{
		name:    name,
		body:    body,
		sse:     sse.NewReader(body),
		created: created,
		model:   strings.TrimPrefix(model, "models/"),
	}
}

// Recv returns the next chunk; after the last event, the usage chunk, then
// io.EOF.
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
	for {
		_, data, err := s.sse.Next()
		if errors.Is(err, io.EOF) && s.complete() {
			if s.hasUsage && !s.usageSent {
				s.usageSent = true
				u := s.usage
				return llm.Chunk{ID: s.id, Created: s.created, Model: s.model, Usage: &u}, nil
			}
			s.err = io.EOF
			return llm.Chunk{}, s.err
		}
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

// complete reports whether the stream reached its natural end: Gemini
// sends no terminal event, so the end is the body closing after every
// candidate has a finish reason (or after the prompt was blocked). Without
// that, the body's end is a cut, never a short answer.
func (s *stream) complete() bool {
	if s.blocked {
		return true
	}
	if len(s.cands) == 0 {
		return false
	}
	for _, c := range s.cands {
		if !c.finished {
			return false
		}
	}
	return true
}

func (s *stream) readError(err error) error {
	switch {
	case s.closed.Load():
		return fmt.Errorf("%s: %w", s.name, errStreamClosed)
	case errors.Is(err, io.EOF):
		return &llm.UpstreamError{Provider: s.name, Status: 0, Message: "stream ended before a finish reason", Err: io.ErrUnexpectedEOF}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%s: read stream: %w", s.name, err)
	case errors.Is(err, sse.ErrEventTooLarge):
		return &llm.UpstreamError{Provider: s.name, Status: 502, Message: "malformed stream", Err: err}
	}
	return &llm.UpstreamError{Provider: s.name, Status: 0, Err: err}
}

// handle translates one event; ok is false when it yields no chunk (a
// usage-only event, say).
func (s *stream) handle(data []byte) (llm.Chunk, bool, error) {
	ev := &s.ev
	*ev = gResponse{}
	if err := json.Unmarshal(data, ev); err != nil {
		return llm.Chunk{}, false, &llm.UpstreamError{Provider: s.name, Status: 502, Message: "malformed stream event", Err: err}
	}
	if ev.Error != nil {
		return llm.Chunk{}, false, ev.Error.upstream(s.name, 0)
	}
	if s.id == "" {
		s.id = ev.ResponseID
	}
	if ev.ModelVersion != "" {
		s.model = ev.ModelVersion
	}
	if ev.UsageMetadata != nil {
		s.usage, s.hasUsage = ev.UsageMetadata.toUsage(), true
	}
	ch := llm.Chunk{ID: s.id, Created: s.created, Model: s.model}
	for i := range ev.Candidates {
		c := &ev.Candidates[i]
		st := s.cand(c.Index)
		var d llm.Message
		for k := range c.Content.Parts {
			p := &c.Content.Parts[k]
			switch {
			case p.FunctionCall != nil:
				// Whole, so its one delta has the index, id, name,
				// signature and all the arguments.
				d.ToolCalls = append(d.ToolCalls, toolCall(p, st.calls, s.calls))
				st.calls++
				s.calls++
			case p.Thought:
				d.ReasoningContent += p.Text
			default:
				d.Content += p.Text
			}
		}
		fr := finishReason(c.FinishReason, st.calls > 0)
		if fr != "" {
			st.finished = true
		}
		lp := c.LogprobsResult.toLogprobs()
		if d.Content == "" && d.ReasoningContent == "" && len(d.ToolCalls) == 0 && fr == "" && lp == nil && st.roleSent {
			continue
		}
		if !st.roleSent {
			d.Role = llm.RoleAssistant
			st.roleSent = true
		}
		ch.Choices = append(ch.Choices, llm.ChunkChoice{Index: c.Index, Delta: d, FinishReason: fr, Logprobs: lp})
	}
	if len(ev.Candidates) == 0 && ev.PromptFeedback != nil && ev.PromptFeedback.BlockReason != "" && !s.blocked {
		s.blocked = true
		ch.Choices = append(ch.Choices, llm.ChunkChoice{
			Delta:        llm.Message{Role: llm.RoleAssistant},
			FinishReason: llm.FinishContentFilter,
		})
	}
	return ch, len(ch.Choices) > 0, nil
}

// cand finds or adds a candidate's state. The slice stays tiny (one entry
// per requested candidate), so a scan beats a map.
func (s *stream) cand(index int) *candState {
	for i := range s.cands {
		if s.cands[i].index == index {
			return &s.cands[i]
		}
	}
	s.cands = append(s.cands, candState{index: index})
	return &s.cands[len(s.cands)-1]
}
