package load

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// HoldConfig opens many streams against a slow upstream and keeps them
// open, to measure what one open stream costs the gateway.
type HoldConfig struct {
	Mode   string // ModeSSE or ModeGRPCStream
	Target string
	Body   []byte
	GRPC   *pb.CreateChatCompletionRequest
	Header http.Header
	// Streams to open; Parallel of them are being opened at any time.
	Streams  int
	Parallel int
	// Conns is the number of gRPC connections (HTTP/2 servers cap the
	// streams per connection; Go's default is 250).
	Conns int
	// OpenTimeout bounds the opening phase; Settle is waited after it
	// before the memory is sampled; Hold after that before closing.
	OpenTimeout, Settle, Hold time.Duration
	// Proc is the gateway.
	Proc *Proc
}

// HoldResult reports the open streams and the gateway's memory.
type HoldResult struct {
	Mode       string         `json:"mode"`
	Streams    int            `json:"streams"`
	Opened     int            `json:"opened"`
	Failed     int            `json:"failed"`
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	FirstError string         `json:"first_error,omitempty"`
	OpenS      float64        `json:"open_s"`
	Before     ProcSample     `json:"before"`
	Open       ProcSample     `json:"open"`
	// PerStreamKB is (RSS with the streams open - RSS before) / opened.
	PerStreamKB float64 `json:"per_stream_kb"`
	// StillOpen counts the streams alive when the hold ended (a stream the
	// gateway dropped early would lower it).
	StillOpen int `json:"still_open"`
}

// Hold runs the stream soak. Every stream is read until its first content
// token (so it is relayed end to end) and then kept open until the end.
func Hold(ctx context.Context, cfg HoldConfig) (*HoldResult, error) {
	if cfg.Streams <= 0 || cfg.Proc == nil {
		return nil, errors.New("load: hold needs Streams > 0 and a Proc to watch")
	}
	if cfg.Parallel <= 0 {
		cfg.Parallel = 256
	}
	if cfg.OpenTimeout <= 0 {
		cfg.OpenTimeout = time.Minute
	}
	res := &HoldResult{Mode: cfg.Mode, Streams: cfg.Streams}
	before, err := cfg.Proc.Sample()
	if err != nil {
		return nil, err
	}
	res.Before = before

	// openOne opens one stream, waits for its first token, and returns a
	// func that blocks until the stream ends (reporting whether it was
	// still open when ctx ended).
	var openOne func(ctx context.Context) (wait func() bool, err error)
	switch cfg.Mode {
	case ModeSSE:
		c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: -1, DisableCompression: true, ResponseHeaderTimeout: cfg.OpenTimeout}}
		defer c.CloseIdleConnections()
		openOne = func(ctx context.Context) (func() bool, error) { return holdSSE(ctx, c, cfg) }
	case ModeGRPCStream:
		conns, err := dialGRPC(cfg.Target, cfg.Conns)
		if err != nil {
			return nil, err
		}
		defer func() {
			for _, c := range conns {
				_ = c.Close()
			}
		}()
		var n atomic.Int64
		openOne = func(ctx context.Context) (func() bool, error) {
			cli := pb.NewChatServiceClient(conns[int(n.Add(1))%len(conns)])
			return holdGRPC(ctx, cli, cfg.GRPC)
		}
	default:
		return nil, fmt.Errorf("load: hold mode %q (want %s or %s)", cfg.Mode, ModeSSE, ModeGRPCStream)
	}

	holdCtx, release := context.WithCancel(ctx)
	defer release()
	openCtx, openCancel := context.WithTimeout(holdCtx, cfg.OpenTimeout)
	defer openCancel()

	var (
		mu      sync.Mutex
		waits   []func() bool
		wg      sync.WaitGroup
		sem     = make(chan struct{}, cfg.Parallel)
		started = time.Now()
	)
	for i := 0; i < cfg.Streams; i++ {
		select {
		case sem <- struct{}{}:
		case <-openCtx.Done():
		}
		if openCtx.Err() != nil {
			mu.Lock()
			res.Failed += cfg.Streams - i
			mu.Unlock()
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			// The stream lives on holdCtx; openCtx only bounds the wait for
			// the first token.
			type opened struct {
				wait func() bool
				err  error
			}
			ch := make(chan opened, 1)
			go func() { w, err := openOne(holdCtx); ch <- opened{w, err} }()
			var o opened
			select {
			case o = <-ch:
			case <-openCtx.Done():
				o.err = fmt.Errorf("not open within %v", cfg.OpenTimeout)
			}
			mu.Lock()
			defer mu.Unlock()
			if o.err != nil {
				res.Failed++
				if res.ErrorKinds == nil {
					res.ErrorKinds = map[string]int{}
				}
				res.ErrorKinds[errKind(o.err)]++
				if res.FirstError == "" {
					res.FirstError = o.err.Error()
				}
				return
			}
			res.Opened++
			waits = append(waits, o.wait)
		}()
	}
	wg.Wait()
	res.OpenS = time.Since(started).Seconds()

	sleep(ctx, cfg.Settle)
	open, err := cfg.Proc.Sample()
	if err != nil {
		return nil, err
	}
	res.Open = open
	if res.Opened > 0 {
		res.PerStreamKB = float64(open.RSSKB-before.RSSKB) / float64(res.Opened)
	}
	sleep(ctx, cfg.Hold)

	// Count the streams still open, then release them all.
	release()
	var alive atomic.Int64
	var cw sync.WaitGroup
	for _, w := range waits {
		cw.Add(1)
		go func() {
			defer cw.Done()
			if w() {
				alive.Add(1)
			}
		}()
	}
	cw.Wait()
	res.StillOpen = int(alive.Load())
	runtime.GC()
	return res, nil
}

func sleep(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

// holdSSE opens one SSE stream and reads it up to the first content token.
// The returned wait drains the rest in the caller's goroutine.
func holdSSE(ctx context.Context, c *http.Client, cfg HoldConfig) (func() bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.Target, bytes.NewReader(cfg.Body))
	if err != nil {
		return nil, err
	}
	req.Header = cfg.Header.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, &statusError{code: resp.StatusCode, body: string(bytes.TrimSpace(b))}
	}
	br := bufio.NewReaderSize(resp.Body, 4096)
	for {
		line, err := br.ReadSlice('\n')
		if bytes.HasPrefix(line, dataPrefix) && bytes.Contains(line, contentKey) && !bytes.Contains(line, emptyContnt) {
			break
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			resp.Body.Close()
			return nil, fmt.Errorf("stream ended before the first token: %w", err)
		}
	}
	return func() bool {
		defer resp.Body.Close()
		_, err := io.Copy(io.Discard, br)
		// Ended by our release (ctx) = it was still open; anything else
		// (EOF, reset) = the gateway or upstream ended it first.
		return ctx.Err() != nil && err != nil
	}, nil
}

func holdGRPC(ctx context.Context, cli pb.ChatServiceClient, req *pb.CreateChatCompletionRequest) (func() bool, error) {
	st, err := cli.StreamChatCompletion(ctx, req)
	if err != nil {
		return nil, err
	}
	for {
		c, err := st.Recv()
		if err != nil {
			return nil, fmt.Errorf("stream ended before the first token: %w", err)
		}
		if len(c.GetChoices()) > 0 && c.GetChoices()[0].GetDelta().GetContent() != "" {
			break
		}
	}
	return func() bool {
		for {
			if _, err := st.Recv(); err != nil {
				return ctx.Err() != nil && !errors.Is(err, io.EOF)
			}
		}
	}, nil
}
