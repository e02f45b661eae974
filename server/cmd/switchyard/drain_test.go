package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/gen/go/switchyard/v1/switchyardv1connect"
	"github.com/switchyard/switchyard/server"
	"github.com/switchyard/switchyard/server/control"
)

// drainable serves the gateway on loopback and leaves Shutdown to the
// test (the cleanup only stops what the test did not).
type drainable struct {
	srv  *server.Server
	base string
	done chan error
}

func startDrainable(t *testing.T) *drainable {
	t.Helper()
	cfg, err := config.Parse([]byte(testConfig), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	log := hclog.NewNullLogger()
	ctl, err := control.New(log, "", cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := newServer(context.Background(), log, cfg, ctl)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &drainable{srv: srv, base: "http://" + l.Addr().String(), done: make(chan error, 1)}
	go func() { d.done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-d.done
		ctl.Close()
	})
	return d
}

// shutdown starts a drain with the given deadline and returns its result.
func (d *drainable) shutdown(deadline time.Duration) <-chan error {
	out := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), deadline)
		defer cancel()
		out <- d.srv.Shutdown(ctx)
	}()
	return out
}

// inFlight reads the in-flight request gauge.
func (d *drainable) inFlight(t *testing.T) string {
	t.Helper()
	resp, err := http.Get(d.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "switchyard_in_flight_requests "); ok {
			return v
		}
	}
	return ""
}

// Answers finished during the drain tell HTTP/1.1 keep-alive clients to
// close, rather than leaving them to send their next request into a
// connection about to be closed.
func TestDrainAnswersKeepAliveClientsWithConnectionClose(t *testing.T) {
	d := startDrainable(t)
	const n = 8
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: n}}
	t.Cleanup(client.CloseIdleConnections)
	body := `{"model":"auto","metadata":{"simulator.delay":"100ms","simulator.tokens":"10"},"messages":[{"role":"user","content":"hi"}]}`
	type result struct {
		status int
		close  bool
		err    error
	}
	// Each connection first serves one quick request, so the slow one
	// rides a reused keep-alive connection.
	for i := 0; i < n; i++ {
		resp, err := client.Get(d.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
	}
	results := make(chan result, n)
	for i := 0; i < n; i++ {
		go func() {
			resp, err := client.Post(d.base+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				results <- result{err: err}
				return
			}
			_, err = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			results <- result{status: resp.StatusCode, close: resp.Close, err: err}
		}()
	}
	deadline := time.Now().Add(5 * time.Second)
	for d.inFlight(t) != "8" {
		if time.Now().After(deadline) {
			t.Fatalf("requests never all in flight (gauge %s)", d.inFlight(t))
		}
		time.Sleep(5 * time.Millisecond)
	}
	shut := d.shutdown(5 * time.Second)
	for i := 0; i < n; i++ {
		r := <-results
		if r.err != nil || r.status != http.StatusOK {
			t.Fatalf("request in flight at drain: status %d, error %v", r.status, r.err)
		}
		if !r.close {
			t.Fatal("an answer sent during the drain lacks Connection: close")
		}
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

// slowStream makes the simulator stream for about ten seconds, far past
// the drain deadlines below.
const slowStream = `{"model":"auto","stream":true,"metadata":{"simulator.delay":"100ms","simulator.tokens":"100"},"messages":[{"role":"user","content":"hi"}]}`

func TestDrainDeadlineEndsRESTStreamsWithAnErrorEvent(t *testing.T) {
	d := startDrainable(t)
	resp, err := http.Post(d.base+"/v1/chat/completions", "application/json", strings.NewReader(slowStream))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	first, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(first, "data: {") {
		t.Fatalf("first event %q: %v", first, err)
	}
	start := time.Now()
	shut := d.shutdown(300 * time.Millisecond)
	rest, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("the stream was cut without a last word: %v (got %q)", err, rest)
	}
	events := strings.Split(strings.TrimSpace(string(rest)), "\n\n")
	last := events[len(events)-1]
	if !strings.HasPrefix(last, `data: {"error":`) || !strings.Contains(last, `"code":"server_shutting_down"`) {
		t.Fatalf("last event %q, want a server_shutting_down error", last)
	}
	if strings.Contains(string(rest), "[DONE]") {
		t.Fatal("a cut stream must not end with [DONE]")
	}
	if err := <-shut; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v, want the deadline to pass", err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("the drain took %v for a 300ms deadline", took)
	}
	t.Logf("stream ended %v after the drain began, with %q", time.Since(start).Round(time.Millisecond), last)
}

func TestDrainDeadlineEndsConnectStreamsUnavailable(t *testing.T) {
	cases := []struct {
		name   string
		client *http.Client
		opts   []connect.ClientOption
	}{
		{"connect over HTTP/1.1", &http.Client{Transport: &http.Transport{}}, nil},
		{"grpc over h2c", h2cClient(), []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web over HTTP/1.1", &http.Client{Transport: &http.Transport{}}, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := startDrainable(t)
			c := switchyardv1connect.NewChatServiceClient(tc.client, d.base, tc.opts...)
			req := chatReq("auto")
			req.Metadata = map[string]string{"simulator.delay": "100ms", "simulator.tokens": "100"}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			st, err := c.StreamChatCompletion(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if !st.Receive() {
				t.Fatalf("no first chunk: %v", st.Err())
			}
			var once sync.Once
			var shut <-chan error
			for st.Receive() {
				once.Do(func() { shut = d.shutdown(300 * time.Millisecond) })
			}
			if shut == nil {
				t.Fatalf("the stream ended before the drain: %v", st.Err())
			}
			if code := connect.CodeOf(st.Err()); code != connect.CodeUnavailable {
				t.Fatalf("stream ended with %v, want Unavailable", st.Err())
			}
			if err := <-shut; !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("shutdown: %v, want the deadline to pass", err)
			}
		})
	}
}

func TestDrainDeadlineAnswersUnaryRequests503(t *testing.T) {
	d := startDrainable(t)
	body := strings.Replace(slowStream, `"stream":true,`, "", 1)
	type result struct {
		status int
		body   string
		err    error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Post(d.base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			got <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		got <- result{status: resp.StatusCode, body: string(b), err: err}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for d.inFlight(t) != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the request never got in flight")
		}
		time.Sleep(5 * time.Millisecond)
	}
	shut := d.shutdown(300 * time.Millisecond)
	r := <-got
	if r.err != nil || r.status != http.StatusServiceUnavailable || !strings.Contains(r.body, `"code":"server_shutting_down"`) {
		t.Fatalf("status %d, body %s, error %v; want 503 server_shutting_down", r.status, r.body, r.err)
	}
	if err := <-shut; !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v, want the deadline to pass", err)
	}
}
