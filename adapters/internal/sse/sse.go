// Package sse decodes text/event-stream bodies for the adapters.
package sse

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxEventSize bounds one SSE event so a hostile or broken upstream cannot
// make the gateway buffer without limit.
const maxEventSize = 8 << 20

// ErrEventTooLarge is returned for an event over the size bound.
var ErrEventTooLarge = errors.New("sse event exceeds 8 MiB")

// Reader decodes a text/event-stream incrementally. Its buffers are reused
// from event to event, so the slices Next returns are valid only until the
// following call.
type Reader struct {
	r     *bufio.Reader
	event []byte
	data  []byte
	long  []byte // assembles lines longer than the bufio buffer
}

func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 4<<10)}
}

// Next returns the next event with data, or io.EOF. An event missing only
// its closing blank line is still dispatched at the end of the body; one
// whose last line was cut short is dropped, as the SSE spec asks, so a
// truncated body surfaces as a missing terminal event rather than as
// half a JSON document.
func (s *Reader) Next() (event, data []byte, err error) {
	s.event = s.event[:0]
	s.data = s.data[:0]
	hasData := false
	for {
		line, whole, err := s.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && hasData {
				return s.event, s.data, nil
			}
			return nil, nil, err
		}
		if !whole {
			return nil, nil, io.EOF
		}
		if len(line) == 0 {
			if hasData {
				return s.event, s.data, nil
			}
			s.event = s.event[:0]
			continue
		}
		if line[0] == ':' {
			continue // comment, used as keep-alive
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		switch string(field) {
		case "event":
			s.event = append(s.event[:0], value...)
		case "data":
			if hasData {
				s.data = append(s.data, '\n')
			}
			if len(s.data)+len(value) > maxEventSize {
				return nil, nil, ErrEventTooLarge
			}
			s.data = append(s.data, value...)
			hasData = true
		}
	}
}

// readLine returns one line without its terminator; whole is false for a
// last line the body ended in the middle of.
func (s *Reader) readLine() (line []byte, whole bool, err error) {
	line, err = s.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.long = append(s.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(s.long) > maxEventSize {
				return nil, false, ErrEventTooLarge
			}
			line, err = s.r.ReadSlice('\n')
			s.long = append(s.long, line...)
		}
		line = s.long
	}
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) && len(line) > 0:
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
