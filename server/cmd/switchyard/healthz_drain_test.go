package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// A Kubernetes readiness probe must stop reading "ok" as soon as the drain
// begins: the listener is closed (new probes are refused) and a probe that
// still reaches the handler, on a connection that outlived the listener,
// reads 503.
func TestHealthzReportsNotReadyWhileDraining(t *testing.T) {
	d := startDrainable(t)
	healthz := func() (int, string) {
		req := httptest.NewRequest(http.MethodGet, "/healthz", nil)
		req.Host = "127.0.0.1"
		rec := httptest.NewRecorder()
		d.srv.Handler().ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	if code, body := healthz(); code != http.StatusOK || body != "ok\n" {
		t.Fatalf("before the drain: %d %q, want 200 ok", code, body)
	}

	// A stream in flight keeps the drain going while the probes run.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.base+"/v1/chat/completions", strings.NewReader(slowStream))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := resp.Body.Read(make([]byte, 1)); err != nil {
		t.Fatalf("stream did not start: %v", err)
	}
	shut := d.shutdown(5 * time.Second)

	deadline := time.Now().Add(3 * time.Second)
	for {
		code, body := healthz()
		if code == http.StatusServiceUnavailable && body == "draining\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("during the drain /healthz answers %d %q, want 503 draining", code, body)
		}
		time.Sleep(5 * time.Millisecond)
	}
	addr := strings.TrimPrefix(d.base, "http://")
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		_ = c.Close()
		t.Fatal("the listener still accepts during the drain")
	}
	select {
	case err := <-shut:
		t.Fatalf("the drain ended (%v) with a stream in flight", err)
	default:
	}
	cancel()
	_, _ = io.Copy(io.Discard, resp.Body)
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}
