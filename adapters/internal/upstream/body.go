package upstream

import (
	"context"
	"errors"
	"io"
	"net/http"
)

const (
	// MaxResponseBytes bounds a 2xx answer held in memory.
	MaxResponseBytes = 64 << 20
	// maxPooledBuf bounds the read buffers kept for reuse, so one huge
	// answer does not stay pinned.
	maxPooledBuf = 64 << 10
)

// ErrTooLarge is the cause of an answer over its size bound.
var ErrTooLarge = errors.New("body exceeds size limit")

// Decode reads a whole 2xx answer into a reused buffer, closes it, and
// hands the bytes to decode, which must copy whatever it keeps: the buffer
// serves the next call. A decode error becomes BadBody's.
func Decode[T any](ctx context.Context, c *Client, resp *http.Response, decode func([]byte) (T, error)) (T, error) {
	buf := c.bufs.Get().(*[]byte)
	defer c.putBuf(buf)
	data, err := c.ReadBodyInto(ctx, resp, (*buf)[:0])
	*buf = data
	if err != nil {
		var zero T
		return zero, err
	}
	out, err := decode(data)
	if err != nil {
		return out, c.BadBody(resp.StatusCode, err)
	}
	return out, nil
}

func (c *Client) putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		c.bufs.Put(b)
	}
}

// ReadBody reads a whole 2xx answer (at most MaxResponseBytes) and closes
// it. The bytes are the caller's.
func (c *Client) ReadBody(ctx context.Context, resp *http.Response) ([]byte, error) {
	return c.ReadBodyInto(ctx, resp, nil)
}

// ReadBodyInto is ReadBody appending to buf[:0].
func (c *Client) ReadBodyInto(ctx context.Context, resp *http.Response, buf []byte) ([]byte, error) {
	defer resp.Body.Close()
	data, err := ReadLimitedInto(buf, resp.Body, resp.ContentLength, MaxResponseBytes)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return nil, c.tooLarge(resp.StatusCode, err)
		}
		return nil, c.TransportError(ctx, err)
	}
	return data, nil
}

// ReadLimited reads r to EOF, at most limit bytes, sizing its buffer from the
// Content-Length (size, -1 when unknown) so a typical answer costs one
// allocation. Past limit it returns the first limit bytes and ErrTooLarge.
func ReadLimited(r io.Reader, size, limit int64) ([]byte, error) {
	return ReadLimitedInto(nil, r, size, limit)
}

// ReadLimitedInto is ReadLimited reading into buf[:0] (grown as needed).
func ReadLimitedInto(buf []byte, r io.Reader, size, limit int64) ([]byte, error) {
	n := int64(1024)
	if size >= 0 {
		n = size + 1 // +1 so the final Read sees EOF without growing
	}
	if n > limit+1 {
		n = limit + 1
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return buf[:limit], ErrTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// DrainClose reads a little of what is left so the connection can go back
// to the pool, then closes. Past 4 KiB, closing (and redialling later) is
// cheaper than reading on.
func DrainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}
