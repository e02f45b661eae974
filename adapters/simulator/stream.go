package simulator

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

var errClosed = errors.New("simulator: stream closed")

type state int

const (
	stateRole state = iota
	stateThinking
	stateSignature
	stateContent
	stateFinish
	stateUsage
	stateDone
)

// stream renders a plan chunk by chunk. It starts no goroutine: each Recv
// waits its own delay, so Close only has to wake a waiting Recv.
type stream struct {
	// ctx is the request's context. Holding it is the one exception to
	// "never store a ctx": the stream is request-scoped and Recv has no ctx
	// parameter, exactly like an HTTP response body tied to its request.
	ctx   context.Context
	p     *Provider
	pl    *plan
	state state
	next  int // next content chunk
	timer *time.Timer
	err   error // sticky: once failed, every Recv returns it

	done      chan struct{}
	closeOnce sync.Once
}

func newStream(ctx context.Context, p *Provider, pl *plan) *stream {
	return &stream{ctx: ctx, p: p, pl: pl, done: make(chan struct{})}
}

// Recv returns the role chunk, the reasoning and its signature when the
// answer thinks, one chunk per word (or tool-call fragment), the finish
// chunk, a usage chunk without choices, then io.EOF.
func (s *stream) Recv() (llm.Chunk, error) {
	if s.err != nil {
		return llm.Chunk{}, s.err
	}
	select {
	case <-s.done:
		return llm.Chunk{}, errClosed
	default:
	}
	if err := s.ctx.Err(); err != nil {
		return s.fail(err)
	}
	pl := s.pl
	switch s.state {
	case stateRole:
		s.state = stateContent
		if pl.reasoning != "" {
			s.state = stateThinking
		}
		return s.chunk(llm.ChunkChoice{Delta: llm.Message{Role: llm.RoleAssistant}}), nil
	case stateThinking:
		// The reasoning, then its signature on its own, as Anthropic sends
		// thinking_delta and then signature_delta.
		s.state = stateSignature
		return s.chunk(llm.ChunkChoice{Delta: llm.Message{ReasoningContent: pl.reasoning}}), nil
	case stateSignature:
		s.state = stateContent
		return s.chunk(llm.ChunkChoice{Delta: llm.Message{ReasoningSignature: pl.signature}}), nil
	case stateContent:
		if s.next == pl.failAfter {
			return s.fail(s.p.brokenStream(pl.failAfter))
		}
		d := pl.delay
		if s.next == 0 {
			d = pl.ttft
		}
		if err := sleep(s.ctx, s, d); err != nil {
			return s.fail(err)
		}
		i := s.next
		s.next++
		if s.next == pl.chunks() {
			s.state = stateFinish
		}
		if pl.tool != nil {
			return s.chunk(llm.ChunkChoice{Delta: llm.Message{ToolCalls: []llm.ToolCall{s.toolDelta(i)}}}), nil
		}
		start := 0
		if i > 0 {
			start = pl.ends[i-1]
		}
		return s.chunk(llm.ChunkChoice{Delta: llm.Message{Content: pl.text[start:pl.ends[i]]}}), nil
	case stateFinish:
		s.state = stateUsage
		return s.chunk(llm.ChunkChoice{FinishReason: pl.finish}), nil
	case stateUsage:
		s.state = stateDone
		u := pl.usage
		return llm.Chunk{ID: pl.id, Created: pl.created, Model: pl.model, Usage: &u}, nil
	}
	s.stopTimer()
	return llm.Chunk{}, io.EOF
}

// toolDelta is the i-th tool-call chunk: the header with id, type and name
// and empty arguments, then the argument fragments, all at index 0.
func (s *stream) toolDelta(i int) llm.ToolCall {
	tc := s.pl.tool
	if i == 0 {
		return llm.ToolCall{Index: 0, ID: tc.ID, Type: tc.Type, Name: tc.Name}
	}
	start := 0
	if i > 1 {
		start = s.pl.frags[i-2]
	}
	return llm.ToolCall{Index: 0, Arguments: tc.Arguments[start:s.pl.frags[i-1]]}
}

func (s *stream) chunk(c llm.ChunkChoice) llm.Chunk {
	return llm.Chunk{ID: s.pl.id, Created: s.pl.created, Model: s.pl.model, Choices: []llm.ChunkChoice{c}}
}

func (s *stream) fail(err error) (llm.Chunk, error) {
	s.err = err
	s.state = stateDone
	s.stopTimer()
	return llm.Chunk{}, err
}

func (s *stream) stopTimer() {
	if s.timer != nil {
		s.timer.Stop()
	}
}

// Close ends the stream; a Recv waiting on a delay returns at once. Safe to
// call more than once and from another goroutine.
func (s *stream) Close() error {
	s.closeOnce.Do(func() { close(s.done) })
	return nil
}

// sleep waits d unless ctx ends or, when s is set, the stream is closed.
// The stream reuses one timer for all its chunks.
func sleep(ctx context.Context, s *stream, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	var t *time.Timer
	var closed <-chan struct{}
	if s != nil {
		if s.timer == nil {
			s.timer = time.NewTimer(d)
		} else {
			s.timer.Reset(d)
		}
		t, closed = s.timer, s.done
	} else {
		t = time.NewTimer(d)
		defer t.Stop()
	}
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-closed:
		return errClosed
	}
}
