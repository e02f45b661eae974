package fakeupstream

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestCloseEndsWaitingHandlersAndRefusesNewRequests(t *testing.T) {
	before := runtime.NumGoroutine()
	s := New(Options{})
	ts := httptest.NewServer(s)

	// One request per kind of wait: a hang, a long latency, a slow stream.
	waits := []call{
		withHeaders(apiFormats[0].unary("Hi"), "X-Fake-Hang", "1"),
		withHeaders(apiFormats[1].unary("Hi"), "X-Fake-Latency", "10m"),
		apiFormats[2].stream("[[fake:token_delay=10m,tokens=3]] Hi"),
	}
	done := make(chan error, len(waits))
	for _, c := range waits {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, ts.URL+c.path, strings.NewReader(c.body))
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			done <- err
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.active.Load() != int64(len(waits)) {
		if time.Now().After(deadline) {
			t.Fatalf("%d handlers started, want %d", s.active.Load(), len(waits))
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v", d)
	}
	for range waits {
		select {
		case err := <-done:
			// A cut connection, never an empty 200 or a stream that looks complete.
			if err == nil {
				t.Error("a request interrupted by Close ended cleanly")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a client still waits after Close")
		}
	}
	resp, body := mustDo(t, ts.URL, apiFormats[0].unary("Hi"))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after Close: status %d %s", resp.StatusCode, body)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	ts.Close()
	http.DefaultClient.CloseIdleConnections()

	deadline = time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines before, %d after Close:\n%s", before, runtime.NumGoroutine(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
