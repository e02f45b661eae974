package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(ents)
}

// ensureFDLimit raises the soft open-files limit to need, or skips.
func ensureFDLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur >= need {
		return
	}
	if lim.Max < need {
		t.Skipf("open-files hard limit %d is below the %d this test needs (raise ulimit -Hn)", lim.Max, need)
	}
	old := lim
	lim.Cur = need
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise the open-files limit from %d to %d: %v", old.Cur, need, err)
	}
	t.Cleanup(func() { _ = syscall.Setrlimit(syscall.RLIMIT_NOFILE, &old) })
}

// The measurement behind the timeouts: hundreds of clients trickling a
// body or idling on keep-alive are all dropped on time, and their file
// descriptors come back.
func TestGatewayClosesHundredsOfSlowAndIdleConnectionsOnTime(t *testing.T) {
	if testing.Short() {
		t.Skip("opens 1000 connections")
	}
	const (
		perKind = 500
		timeout = time.Second
		margin  = 2 * time.Second
	)
	ensureFDLimit(t, 4*perKind+512) // a client and a server end per connection
	cfg := strings.Replace(testConfig, "server: {", "server: {body_read_timeout: 1s, idle_timeout: 1s, ", 1)
	g := startGateway(t, cfg)
	warm, err := http.Get(g.base + "/healthz") // the server's first-request allocations, out of the baseline
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, warm.Body)
	_ = warm.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	baseline := openFDs(t)

	type conn struct {
		c     net.Conn
		since time.Time // when the server's timeout started running
		slow  bool
	}
	dial := func() net.Conn {
		c, err := net.DialTimeout("tcp", g.addr, 5*time.Second)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		return c
	}
	var conns []*conn
	t.Cleanup(func() {
		for _, c := range conns {
			_ = c.c.Close()
		}
	})
	for i := 0; i < perKind; i++ {
		c := dial()
		if _, err := io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, &conn{c: c, since: time.Now(), slow: true})
	}
	for i := 0; i < perKind; i++ {
		c := dial()
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.Close {
			t.Fatal("the server did not keep the connection alive")
		}
		conns = append(conns, &conn{c: c, since: time.Now()})
	}
	peak := openFDs(t)

	// The slow clients keep trickling a byte every 200ms: the body timeout
	// bounds the whole body, not each read.
	stop := make(chan struct{})
	var trickle sync.WaitGroup
	trickle.Add(1)
	go func() {
		defer trickle.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			for _, c := range conns[:perKind] {
				_ = c.c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
				_, _ = c.c.Write([]byte(" "))
			}
		}
	}()

	type closed struct {
		slow  bool
		after time.Duration
		ok    bool
	}
	results := make(chan closed, len(conns))
	for _, c := range conns {
		go func() {
			_ = c.c.SetReadDeadline(c.since.Add(timeout + margin))
			_, err := io.Copy(io.Discard, c.c)
			after := time.Since(c.since)
			ne, isNet := err.(net.Error)
			results <- closed{slow: c.slow, after: after, ok: !(isNet && ne.Timeout())}
			_ = c.c.Close()
		}()
	}
	var nSlow, nIdle int
	var maxSlow, maxIdle time.Duration
	for range conns {
		r := <-results
		switch {
		case !r.ok:
		case r.slow:
			nSlow++
			maxSlow = max(maxSlow, r.after)
		default:
			nIdle++
			maxIdle = max(maxIdle, r.after)
		}
	}
	close(stop)
	trickle.Wait()
	t.Logf("slow-body: %d/%d closed, slowest after %v; idle keep-alive: %d/%d closed, slowest after %v (timeouts 1s)",
		nSlow, perKind, maxSlow.Round(time.Millisecond), nIdle, perKind, maxIdle.Round(time.Millisecond))
	if nSlow != perKind || nIdle != perKind {
		t.Fatalf("connections still open %v after a %v timeout: %d slow-body, %d idle", timeout+margin, timeout, perKind-nSlow, perKind-nIdle)
	}

	// The server's ends close with the clients'; give the last few a moment.
	var now int
	for end := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if now = openFDs(t); now <= baseline+16 || time.Now().After(end) {
			break
		}
	}
	t.Logf("open files: %d before, %d with every connection open, %d after", baseline, peak, now)
	if now > baseline+16 {
		t.Fatalf("%d files open after every connection closed, %d before", now, baseline)
	}
}
