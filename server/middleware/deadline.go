package middleware

import (
	"io"
	"net/http"
	"time"
)

// deadlineBody clears the read deadline once the body is read: on
// HTTP/1.1 the server keeps reading the connection in the background
// while the handler writes, and a deadline firing then would cancel a
// long streamed answer.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	// Only a complete body lifts the deadline: after a timeout or a close
	// the server still drains what is left, and must not wait forever.
	if err == io.EOF && !b.done {
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
