package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestKeylessGatewayRefusesCrossSiteRequests(t *testing.T) {
	g := startGateway(t, testConfig)
	tests := []struct {
		name   string
		host   string
		origin string
		ctype  string
		want   int
	}{
		{"foreign origin and text/plain", "", "http://evil.example", "text/plain", http.StatusForbidden},
		{"text/plain without origin", "", "", "text/plain", http.StatusUnsupportedMediaType},
		{"rebound host", "attacker.example", "", "application/json", http.StatusForbidden},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, g.base+"/v1/routing/config", strings.NewReader("{}"))
			if err != nil {
				t.Fatal(err)
			}
			if tc.host != "" {
				req.Host = tc.host
			}
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			req.Header.Set("Content-Type", tc.ctype)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

// closedWithin reports whether the server closes c within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) bool {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

func TestGatewayClosesSlowAndIdleConnections(t *testing.T) {
	cfg := strings.Replace(testConfig, "server: {", "server: {read_header_timeout: 200ms, body_read_timeout: 200ms, idle_timeout: 200ms, ", 1)
	g := startGateway(t, cfg)
	dial := func(t *testing.T) net.Conn {
		c, err := net.DialTimeout("tcp", g.addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close() })
		return c
	}
	tests := []struct {
		name string
		send string
	}{
		{"headers never finish", "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"},
		{"body never arrives", "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"},
		{"idle keep-alive", "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t)
			if _, err := io.WriteString(c, tc.send); err != nil {
				t.Fatal(err)
			}
			if tc.name == "idle keep-alive" {
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
			}
			if !closedWithin(t, c, 2*time.Second) {
				t.Fatal("connection still open 2s after a 200ms timeout")
			}
		})
	}
}
