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

// clientConn is one test client; since is when the server's timeout for
// it started running.
type clientConn struct {
	c     net.Conn
	since time.Time
}

// openSlowBody opens n connections that send a request's headers and the
// first byte of a 1000-byte body.
func openSlowBody(t *testing.T, addr string, n int) []clientConn {
	t.Helper()
	out := make([]clientConn, 0, n)
	for range n {
		c := dialClient(t, addr)
		if _, err := io.WriteString(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"); err != nil {
			t.Fatal(err)
		}
		out = append(out, clientConn{c: c, since: time.Now()})
	}
	return out
}

// openIdle opens n keep-alive connections that each finish one request.
func openIdle(t *testing.T, addr string, n int) []clientConn {
	t.Helper()
	out := make([]clientConn, 0, n)
	for range n {
		c := dialClient(t, addr)
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.Close {
			t.Fatal("the server did not keep the connection alive")
		}
		out = append(out, clientConn{c: c, since: time.Now()})
	}
	return out
}

func dialClient(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// trickle writes a byte to each connection every period until stop.
func trickle(conns []clientConn, period time.Duration, stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		for _, c := range conns {
			_ = c.c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
			_, _ = c.c.Write([]byte(" "))
		}
	}
}

// awaitClosed waits for the server to close each connection, at most
// within from its since, and returns how many it closed and the slowest.
func awaitClosed(conns []clientConn, within time.Duration) (n int, slowest time.Duration) {
	type closed struct {
		after time.Duration
		ok    bool
	}
	results := make(chan closed, len(conns))
	for _, c := range conns {
		go func() {
			_ = c.c.SetReadDeadline(c.since.Add(within))
			// EOF or a reset: closed. A timeout: still open.
			_, err := io.Copy(io.Discard, c.c)
			ne, isNet := err.(net.Error)
			results <- closed{after: time.Since(c.since), ok: !(isNet && ne.Timeout())}
			_ = c.c.Close()
		}()
	}
	for range conns {
		if r := <-results; r.ok {
			n++
			slowest = max(slowest, r.after)
		}
	}
	return n, slowest
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
		timeout = time.Second     // body_read_timeout and idle_timeout below
		margin  = 3 * time.Second // the machine may be loaded; a missed timeout shows as never closing
	)
	ensureFDLimit(t, 4*perKind+512) // a client and a server end per connection
	g := startGateway(t, strings.Replace(testConfig, "server: {", "server: {body_read_timeout: 1s, idle_timeout: 1s, ", 1))
	warm, err := http.Get(g.base + "/healthz") // the server's first-request allocations, out of the baseline
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, warm.Body)
	_ = warm.Body.Close()
	http.DefaultClient.CloseIdleConnections()
	baseline := openFDs(t)

	slow := openSlowBody(t, g.addr, perKind)
	idle := openIdle(t, g.addr, perKind)
	peak := openFDs(t)
	// The body timeout bounds the whole body, not each read: the slow
	// clients keep sending.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go trickle(slow, 200*time.Millisecond, stop, &wg)
	var (
		nSlow, nIdle     int
		maxSlow, maxIdle time.Duration
		waits            sync.WaitGroup
	)
	waits.Add(2)
	go func() { defer waits.Done(); nSlow, maxSlow = awaitClosed(slow, timeout+margin) }()
	go func() { defer waits.Done(); nIdle, maxIdle = awaitClosed(idle, timeout+margin) }()
	waits.Wait()
	close(stop)
	wg.Wait()
	t.Logf("slow-body: %d/%d closed, slowest after %v; idle keep-alive: %d/%d closed, slowest after %v (timeouts %v)",
		nSlow, perKind, maxSlow.Round(time.Millisecond), nIdle, perKind, maxIdle.Round(time.Millisecond), timeout)
	if nSlow != perKind || nIdle != perKind {
		t.Fatalf("still open %v after a %v timeout: %d slow-body, %d idle connections", timeout+margin, timeout, perKind-nSlow, perKind-nIdle)
	}

	// The server's ends close with the clients'; give the last few a moment.
	now := openFDs(t)
	for end := time.Now().Add(2 * time.Second); now > baseline+16 && time.Now().Before(end); now = openFDs(t) {
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("open files: %d before, %d with every connection open, %d after", baseline, peak, now)
	if now > baseline+16 {
		t.Fatalf("%d files open after every connection closed, %d before", now, baseline)
	}
}
