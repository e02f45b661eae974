package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/sse"
	"github.com/switchyard/switchyard/engine/llm"
)

const (
	// sseBufferSize is the bufio buffer per stream, held for as long as
	// the stream is open. Content-delta lines are 150-400 bytes; longer ones
	// (big tool-call deltas) spill into a reused line buffer. It reads from
	// the transport's own 4 KB buffer, so 1 KB costs no extra syscalls
	// (BenchmarkStream1000Chunks unchanged) and saves 3 KB per open stream.
	sseBufferSize = 1 << 10
	// maxEventBytes bounds one event, so a hostile or broken upstream cannot
	// grow a stream's memory without limit.
	maxEventBytes = sse.MaxEventSize
	// drainAfterDone is how much is read after [DONE] so an HTTP/1.1
	// connection sees the end of its body and goes back to the pool.
	drainAfterDone = 4 << 10
	// drainTimeout bounds the wait for the end of the body after [DONE].
	drainTimeout = 50 * time.Millisecond
)

var (
	errEventTooLarge = sse.ErrEventTooLarge
	errStreamClosed  = errors.New("stream closed")
	errTrailingData  = errors.New("stream event holds more than one JSON value")
	errBadIndex      = errors.New("stream event has an out-of-range choice or tool call index")
)

// wireChunk is one chat.completion.chunk. A stream decodes every event into
// the same wireChunk, so its cachedString fields and the choices' backing
// array are reused; reset clears what the previous event left.
type wireChunk struct {
	ID      cachedString      `json:"id"`
	Created int64             `json:"created"`
	Model   cachedString      `json:"model"`
	Choices []wireChunkChoice `json:"choices"`
	Usage   *wireUsage        `json:"usage"`
	Error   *wireError        `json:"error"`
}

type wireChunkChoice struct {
	Index        int           `json:"index"`
	Delta        wireRespMsg   `json:"delta"`
	FinishReason cachedString  `json:"finish_reason"`
	Logprobs     *wireLogprobs `json:"logprobs"`
}

func (c *wireChunk) reset() {
	c.ID.unset()
	c.Model.unset()
	c.Created = 0
	c.Usage = nil
	c.Error = nil
	// encoding/json decodes array elements into the existing backing array
	// without zeroing them, so every element that may be reused is reset.
	all := c.Choices[:cap(c.Choices)]
	for i := range all {
		all[i].Index = 0
		all[i].FinishReason.unset()
		all[i].Logprobs = nil // a fresh one per event: chunks own their memory
		all[i].Delta.reset()
	}
	c.Choices = c.Choices[:0]
}

// maxIndex bounds choice and tool-call indexes from upstream: consumers
// aggregate deltas by index, and a hostile value must not make them allocate
// without limit.
const maxIndex = 1 << 16

func (c *wireChunk) indexesValid() bool {
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index < 0 || ch.Index >= maxIndex {
			return false
		}
		for j := range ch.Delta.ToolCalls {
			if tc := &ch.Delta.ToolCalls[j]; tc.Index.ok && (tc.Index.v < 0 || tc.Index.v >= maxIndex) {
				return false
			}
		}
	}
	return true
}

// toLLM converts the decoded event. The chunk owns all its memory: callers
// (the cache's stream fan-out) may keep chunks after the next Recv.
func (c *wireChunk) toLLM() llm.Chunk {
	out := llm.Chunk{ID: c.ID.get(), Created: c.Created, Model: c.Model.get()}
	if len(c.Choices) > 0 {
		out.Choices = make([]llm.ChunkChoice, len(c.Choices))
		for i := range c.Choices {
			ch := &c.Choices[i]
			out.Choices[i] = llm.ChunkChoice{
				Index:        ch.Index,
				Delta:        ch.Delta.toLLM(true),
				FinishReason: ch.FinishReason.get(),
				Logprobs:     ch.Logprobs.toLLM(),
			}
		}
	}
	if c.Usage != nil {
		u := c.Usage.toLLM()
		out.Usage = &u
	}
	return out
}

// stream is an llm.Stream over an SSE response body. Recv is for one
// goroutine; Close may be called from any, including during a blocked Recv.
type stream struct {
	provider string
	body     io.ReadCloser
	sse      sse.Reader
	chunk    wireChunk
	err      error // sticky terminal result: io.EOF or the failure

	// A json.Decoder kept across events reuses its decode state and scanner
	// stacks, which json.Unmarshal allocates afresh for every call: that is
	// most of the per-chunk allocations. src feeds it one event at a time;
	// fed counts the bytes given to it, to find where each value ended.
	dec *json.Decoder
	src eventSource
	fed int64

	closeOnce sync.Once
	closeErr  error
	closed    chan struct{}
}

func newStream(provider string, body io.ReadCloser) *stream {
	s := &stream{provider: provider, body: body, closed: make(chan struct{})}
	s.sse.Init(body, sseBufferSize)
	return s
}

// Recv returns the next chunk, io.EOF after [DONE], or an error:
// *llm.UpstreamError for an error event, a broken connection or a stream cut
// short (Status 0, wrapping io.ErrUnexpectedEOF), the ctx error when the
// caller's ctx ended. Events without choices or usage (Azure's
// prompt_filter_results preamble) are skipped.
func (s *stream) Recv() (llm.Chunk, error) {
	if s.err == nil && s.isClosed() {
		// Without this, chunks still in the read buffer would be served
		// after Close.
		s.err = fmt.Errorf("%s: %w", s.provider, errStreamClosed)
	}
	for s.err == nil {
		event, data, end, err := s.sse.NextEvent()
		// An event the body ended, not a blank line, may be cut short:
		// if it does not decode it is a truncation, not a bad event.
		partial := end != sse.EndBlank
		if err != nil {
			s.finish(s.readError(err))
			break
		}
		if isDone(data) {
			// Read on to the end of the body so an HTTP/1.1 connection can
			// be reused. The end follows at once from sane servers; one
			// that holds the body open must not delay the clean end.
			stop := time.AfterFunc(drainTimeout, func() { _ = s.Close() })
			s.sse.Drain(drainAfterDone)
			stop.Stop()
			s.finish(io.EOF)
			break
		}
		if string(event) == "error" {
			s.finish(s.eventError(data))
			break
		}
		if len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		s.chunk.reset()
		if err := s.decode(data); err != nil {
			if partial {
				s.finish(s.truncated())
			} else {
				s.finish(&llm.UpstreamError{Provider: s.provider,
					Err: fmt.Errorf("malformed stream event: %w", err)})
			}
			break
		}
		if e := s.chunk.Error; e != nil {
			s.finish(s.upstreamEventError(*e))
			break
		}
		if !s.chunk.indexesValid() {
			s.finish(&llm.UpstreamError{Provider: s.provider, Err: errBadIndex})
			break
		}
		if len(s.chunk.Choices) == 0 && s.chunk.Usage == nil {
			continue
		}
		return s.chunk.toLLM(), nil
	}
	return llm.Chunk{}, s.err
}

// decode decodes one event's data into s.chunk. The data must hold exactly
// one JSON value.
func (s *stream) decode(data []byte) error {
	if s.dec == nil {
		s.src.data, s.fed = nil, 0
		s.dec = json.NewDecoder(&s.src)
	}
	s.src.data = data
	s.fed += int64(len(data))
	if err := s.dec.Decode(&s.chunk); err != nil {
		s.dec = nil // a Decoder's errors are sticky
		return err
	}
	// What the decoder has not consumed is the tail of this event (earlier
	// tails were checked to be blank): it must be blank too.
	left := s.fed - s.dec.InputOffset()
	if left < 0 || left > int64(len(data)) || len(bytes.TrimSpace(data[int64(len(data))-left:])) != 0 {
		s.dec = nil
		return errTrailingData
	}
	return nil
}

// eventSource is the json.Decoder's input: the current event's data, then
// io.EOF until the next event is set.
type eventSource struct{ data []byte }

func (e *eventSource) Read(p []byte) (int, error) {
	if len(e.data) == 0 {
		return 0, io.EOF
	}
	n := copy(p, e.data)
	e.data = e.data[n:]
	return n, nil
}

// Close releases the connection. It is idempotent and safe to call while
// another goroutine is blocked in Recv, which then returns an error.
func (s *stream) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.closeErr = s.body.Close()
	})
	return s.closeErr
}

// finish records the terminal result and releases the body early, so a
// caller that forgets Close after EOF does not pin the connection.
func (s *stream) finish(err error) {
	s.err = err
	_ = s.Close()
}

func (s *stream) isClosed() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}

func (s *stream) readError(err error) error {
	switch {
	case s.isClosed():
		return fmt.Errorf("%s: %w", s.provider, errStreamClosed)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		// The transport fails body reads with the request ctx's error.
		return fmt.Errorf("%s: %w", s.provider, err)
	case err == io.EOF:
		return s.truncated()
	case errors.Is(err, errEventTooLarge):
		return &llm.UpstreamError{Provider: s.provider, Message: errEventTooLarge.Error(), Err: err}
	}
	return &llm.UpstreamError{Provider: s.provider, Err: err}
}

// truncated is the error for a stream that ended without [DONE]: it must
// never look like a clean, complete answer.
func (s *stream) truncated() error {
	return &llm.UpstreamError{Provider: s.provider, Err: io.ErrUnexpectedEOF}
}

// eventError decodes the data of an "event: error" event, which may be an
// OpenAI error envelope or a bare error object.
func (s *stream) eventError(data []byte) error {
	if e, ok := parseErrorBody(data); ok {
		return s.upstreamEventError(e)
	}
	var e wireError
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		return s.upstreamEventError(e)
	}
	return &llm.UpstreamError{Provider: s.provider, Status: 500, Message: excerpt(data)}
}

func (s *stream) upstreamEventError(e wireError) error {
	msg := e.Message
	if msg == "" {
		msg = "error event in stream"
	}
	return &llm.UpstreamError{Provider: s.provider, Status: streamErrorStatus(e),
		Message: msg, Type: e.Type, Code: e.Code}
}

var doneMarker = []byte("[DONE]")

func isDone(data []byte) bool {
	return bytes.Equal(bytes.TrimSpace(data), doneMarker)
}
