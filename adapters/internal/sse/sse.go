// Package sse decodes text/event-stream bodies for the adapters.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// MaxEventSize bounds one SSE event so a hostile or broken upstream cannot
// make the gateway buffer without limit.
const MaxEventSize = 8 << 20

// DefaultBufferSize is the read buffer of NewReader.
const DefaultBufferSize = 4 << 10

// ErrEventTooLarge is returned for an event over the size bound.
var ErrEventTooLarge = errors.New("sse event exceeds 8 MiB")

// End tells how an event ended.
type End uint8

const (
	// EndBlank is the normal end: a blank line.
	EndBlank End = iota
	// EndBody: the body ended after the event's last whole line.
	EndBody
	// EndCut: the body ended in the middle of the event's last line, which
	// may be half a JSON document.
	EndCut
)

// Reader decodes a text/event-stream incrementally, per the WHATWG rules
// the chat APIs follow: "field: value" lines (one optional space after the
// colon), comments starting with ":", LF or CRLF endings, a leading BOM
// skipped, several data lines joined with "\n", a blank line ending an
// event. Its buffers are reused from event to event, so the slices Next
// returns are valid only until the following call.
type Reader struct {
	r       *bufio.Reader
	event   []byte
	data    []byte
	long    []byte // assembles lines longer than the bufio buffer
	started bool   // past the optional leading BOM
}

// NewReader reads r through a DefaultBufferSize buffer.
func NewReader(r io.Reader) *Reader { return NewReaderSize(r, DefaultBufferSize) }

// NewReaderSize reads r through a buffer of size bytes: each open stream
// holds one for its whole life, and longer lines spill into a reused one.
func NewReaderSize(r io.Reader, size int) *Reader {
	s := new(Reader)
	s.Init(r, size)
	return s
}

// Init readies a Reader held by value (inside a per-stream struct, saving
// an allocation per stream) to read r through a buffer of size bytes.
func (s *Reader) Init(r io.Reader, size int) {
	*s = Reader{r: bufio.NewReaderSize(r, size)}
}

// Next returns the next event with data, or io.EOF. An event missing only
// its closing blank line is still dispatched at the end of the body; one
// whose last line was cut short is dropped, as the SSE spec asks, so a
// truncated body surfaces as a missing terminal event rather than as
// half a JSON document.
func (s *Reader) Next() (event, data []byte, err error) {
	event, data, end, err := s.NextEvent()
	if err == nil && end == EndCut {
		return nil, nil, io.EOF
	}
	return event, data, err
}

// NextEvent is Next for callers that judge an event the body cut short
// themselves (a complete "[DONE]" without its newline is still the end):
// such an event is returned, with end saying how it ended. err is io.EOF
// when the body ends with no event pending.
func (s *Reader) NextEvent() (event, data []byte, end End, err error) {
	s.event = s.event[:0]
	s.data = s.data[:0]
	hasData := false
	for {
		line, whole, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && hasData {
				return s.event, s.data, EndBody, nil
			}
			return nil, nil, EndBlank, err
		}
		if whole && len(line) == 0 {
			if hasData {
				return s.event, s.data, EndBlank, nil
			}
			s.event = s.event[:0]
			continue
		}
		if line[0] != ':' { // ":" starts a comment, used as keep-alive
			field, value := line, []byte(nil)
			if i := bytes.IndexByte(line, ':'); i >= 0 {
				field, value = line[:i], line[i+1:]
				if len(value) > 0 && value[0] == ' ' {
					value = value[1:]
				}
			}
			switch string(field) { // no allocation: the compiler special-cases this
			case "event":
				s.event = append(s.event[:0], value...)
			case "data":
				if hasData {
					s.data = append(s.data, '\n')
				}
				if len(s.data)+len(value) > MaxEventSize {
					return nil, nil, EndBlank, ErrEventTooLarge
				}
				s.data = append(s.data, value...)
				hasData = true
			}
		}
		if !whole {
			if hasData {
				return s.event, s.data, EndCut, nil
			}
			return nil, nil, EndBlank, io.EOF
		}
	}
}

// Drain reads and drops up to n bytes of what follows, so an HTTP/1.1
// connection can see the end of its body and go back to the pool.
func (s *Reader) Drain(n int64) {
	_, _ = io.CopyN(io.Discard, s.r, n)
}

// readLine returns one line without its terminator; whole is false for a
// non-empty last line the body ended in the middle of. err is io.EOF at the
// end of the body with nothing left.
func (s *Reader) readLine() (line []byte, whole bool, err error) {
	line, err = s.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		s.long = append(s.long[:0], line...)
		for err == bufio.ErrBufferFull {
			line, err = s.r.ReadSlice('\n')
			if len(s.long)+len(line) > MaxEventSize {
				return nil, false, ErrEventTooLarge
			}
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	if !s.started && (err == nil || len(line) > 0) {
		s.started = true
		line = bytes.TrimPrefix(line, []byte("\xEF\xBB\xBF"))
	}
	switch {
	case err == nil:
	case err == io.EOF && len(line) > 0:
		if n := len(line); line[n-1] == '\r' {
			line = line[:n-1]
		}
		if len(line) == 0 {
			return nil, false, io.EOF
		}
		return line, false, nil
	default:
		return nil, false, err
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	return line, true, nil
}
