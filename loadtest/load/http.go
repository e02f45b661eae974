package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// NewHTTPClient is the client every HTTP target is measured with: HTTP/1.1
// keep-alive with an idle pool as large as the concurrency, no compression,
// no proxy.
func NewHTTPClient(conns int) *http.Client {
	if conns < 1 {
		conns = 1
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          conns,
		MaxIdleConnsPerHost:   conns,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		DisableCompression:    true,
	}}
}

type httpDoer struct {
	c    *http.Client
	url  string
	body []byte
	hdr  http.Header
	sse  bool
	buf  []byte
	br   *bufio.Reader
}

func newHTTPDoer(c *http.Client, cfg Config) *httpDoer {
	h := cfg.Header.Clone()
	if h == nil {
		h = http.Header{}
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	d := &httpDoer{c: c, url: cfg.Target, body: cfg.Body, hdr: h, sse: cfg.Mode == ModeSSE, buf: make([]byte, 0, 8192)}
	if d.sse {
		h.Set("Accept", "text/event-stream")
		d.br = bufio.NewReaderSize(nil, 64<<10)
	}
	return d
}

var (
	dataPrefix  = []byte("data: ")
	doneEvent   = []byte("data: [DONE]")
	contentKey  = []byte(`"content":"`)
	emptyContnt = []byte(`"content":""`)
	choicesKey  = []byte(`"choices"`)
	errorEvent  = []byte(`data: {"error"`)
)

func (d *httpDoer) do(ctx context.Context) (observation, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.url, bytes.NewReader(d.body))
	if err != nil {
		return observation{}, err
	}
	req.Header = d.hdr
	start := time.Now()
	resp, err := d.c.Do(req)
	if err != nil {
		return observation{}, err
	}
	defer resp.Body.Close()
	o := observation{cache: resp.Header.Get("X-Switchyard-Cache")}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return o, &statusError{code: resp.StatusCode, body: string(bytes.TrimSpace(b))}
	}
	if !d.sse {
		d.buf, err = readAll(resp.Body, d.buf[:0])
		if err != nil {
			return o, err
		}
		if !bytes.Contains(d.buf, choicesKey) {
			return o, fmt.Errorf("answer without choices: %.200s", d.buf)
		}
		return o, nil
	}
	ttft, err := readSSE(d.br, resp.Body, start)
	o.ttft = ttft
	return o, err
}

// readSSE reads an OpenAI event stream to data: [DONE] and returns when the
// first content token arrived (relative to start).
func readSSE(br *bufio.Reader, body io.Reader, start time.Time) (time.Duration, error) {
	br.Reset(body)
	var ttft time.Duration
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// An event longer than the buffer: its start is enough to judge.
			for errors.Is(err, bufio.ErrBufferFull) {
				_, err = br.ReadSlice('\n')
			}
		}
		if bytes.HasPrefix(line, dataPrefix) {
			if bytes.HasPrefix(line, doneEvent) {
				return ttft, nil
			}
			if bytes.HasPrefix(line, errorEvent) {
				return ttft, fmt.Errorf("stream error event: %.200s", line)
			}
			if ttft == 0 && bytes.Contains(line, contentKey) && !bytes.Contains(line, emptyContnt) {
				ttft = time.Since(start)
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return ttft, errors.New("stream incomplete: ended without data: [DONE]")
			}
			return ttft, err
		}
	}
}

func readAll(r io.Reader, b []byte) ([]byte, error) {
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			return b, nil
		}
		if err != nil {
			return b, err
		}
	}
}
