package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// result is one request's outcome as a client sees it.
type result struct {
	status int
	ok     bool   // 200 and, for a stream, the final [DONE]
	cache  string // X-Switchyard-Cache
	err    string
}

// chat sends one chat completion to base with key. A stream counts as
// answered only when it ends with [DONE]: a cut stream is a failure.
func (f *fleet) chat(ctx context.Context, base, key, model, content string, stream bool) result {
	body, _ := json.Marshal(map[string]any{
		"model": model, "max_tokens": 16, "stream": stream,
		"messages": []map[string]string{{"role": "user", "content": content}},
	})
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/chat/completions", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := f.client.Do(req)
	if err != nil {
		return result{err: err.Error()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	r := result{status: resp.StatusCode, cache: resp.Header.Get("X-Switchyard-Cache")}
	if err != nil {
		r.err = err.Error()
		return r
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		r.err = strings.TrimSpace(string(b))
		if len(r.err) > 200 {
			r.err = r.err[:200]
		}
	case stream:
		r.ok = bytes.Contains(b, []byte("data: [DONE]")) && !bytes.Contains(b, []byte(`"error"`))
		if !r.ok {
			r.err = "stream did not finish"
		}
	default:
		r.ok = bytes.Contains(b, []byte(`"choices"`))
	}
	return r
}

// admin calls an admin API on base and decodes the JSON answer into out.
func (f *fleet) admin(ctx context.Context, method, base, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, base+path, body)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.adminKey)
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// tally counts outcomes, safe for concurrent workers.
type tally struct {
	mu       sync.Mutex
	total    int
	ok       int
	streams  int
	byStatus map[string]int
	errs     map[string]int
}

func newTally() *tally { return &tally{byStatus: map[string]int{}, errs: map[string]int{}} }

func (t *tally) add(r result, stream bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.total++
	if stream {
		t.streams++
	}
	if r.ok {
		t.ok++
	}
	k := fmt.Sprint(r.status)
	if r.status == 0 {
		k = "no answer"
	}
	t.byStatus[k]++
	if !r.ok {
		e := r.err
		if len(e) > 120 {
			e = e[:120]
		}
		t.errs[e]++
	}
}

// worker loops requests until ctx ends: every other one a stream.
func (f *fleet) worker(ctx context.Context, id int, base, key, model string, t *tally, seq *atomic.Int64) {
	for i := 0; ctx.Err() == nil; i++ {
		stream := (i+id)%2 == 0
		n := seq.Add(1)
		r := f.chat(context.WithoutCancel(ctx), base, key, model, fmt.Sprintf("fleet request %d from worker %d", n, id), stream)
		t.add(r, stream)
	}
}

// runLoad runs n workers against base until ctx ends and returns the tally.
func (f *fleet) runLoad(ctx context.Context, n int, base, key, model string) *tally {
	t := newTally()
	var seq atomic.Int64
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.worker(ctx, i, base, key, model, t, &seq)
		}()
	}
	wg.Wait()
	return t
}
