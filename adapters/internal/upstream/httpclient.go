package upstream

import (
	"net"
	"net/http"
	"time"
)

// DefaultMaxIdleConnsPerHost sizes the keep-alive pool when NewHTTPClient is
// given no size: net/http's default of 2 makes every concurrent request past
// the second dial (and TLS-handshake) anew.
const DefaultMaxIdleConnsPerHost = 256

// MaxIdleConnsPerHostCap bounds what a configuration may ask for.
const MaxIdleConnsPerHostCap = 16384

// NewHTTPClient builds the one HTTP client a provider should share across all
// its calls: a keep-alive pool of maxIdlePerHost idle connections (<= 0 means
// DefaultMaxIdleConnsPerHost), HTTP/2 attempted on TLS with health pings on
// idle connections.
//
// timeout bounds the wait for response headers (0 means none). It is not a
// whole-call timeout on purpose: that would cut long streams. Callers bound
// a whole call with their ctx.
func NewHTTPClient(maxIdlePerHost int, timeout time.Duration) *http.Client {
	if maxIdlePerHost <= 0 {
		maxIdlePerHost = DefaultMaxIdleConnsPerHost
	}
	if maxIdlePerHost > MaxIdleConnsPerHostCap {
		maxIdlePerHost = MaxIdleConnsPerHostCap
	}
	if timeout < 0 {
		timeout = 0
	}
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	t := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   maxIdlePerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: timeout,
		HTTP2: &http.HTTP2Config{
			// A multiplexed connection that died silently would fail every
			// request on it; ping it after 30s without frames.
			SendPingTimeout: 30 * time.Second,
			PingTimeout:     15 * time.Second,
		},
	}
	return &http.Client{Transport: t}
}
