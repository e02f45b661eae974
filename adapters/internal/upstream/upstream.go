// Package upstream is the HTTP side the provider adapters share: the pooled
// client, sending a call with the provider's own headers, bounded body reads
// with reused buffers, and the mapping of transport failures and
// undecodable answers to *llm.UpstreamError. What differs between providers
// (auth headers, the shape of an error body) is passed in.
package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
)

// DefaultMaxErrorBody bounds how much of an error answer is read when
// Options.MaxErrorBody is 0.
const DefaultMaxErrorBody = 64 << 10

// StatusErrorFunc builds the error for a non-2xx answer from its status,
// headers and (bounded) body. It is the provider's error format.
type StatusErrorFunc func(status int, h http.Header, body []byte) error

// Options configures a Client.
type Options struct {
	// Name is the provider name put in errors.
	Name string
	// HTTP is the shared client; nil gets NewHTTPClient(0, 0).
	HTTP *http.Client
	// Headers are set on every call, in order, after Content-Type and
	// Accept: the provider's auth first, then the operator's, which may
	// thus replace anything before them. Names must be canonical.
	Headers [][2]string
	// MaxErrorBody bounds the error body read; 0 means DefaultMaxErrorBody.
	MaxErrorBody int64
	// StatusError maps a non-2xx answer; nil gives a bare UpstreamError
	// carrying PlainMessage.
	StatusError StatusErrorFunc
}

// Client sends one provider's calls. It is safe for concurrent use.
type Client struct {
	name        string
	hc          *http.Client
	direct      bool // hc adds nothing to its transport but redirects: see roundTrip
	headers     [][2]string
	maxErrBody  int64
	statusError StatusErrorFunc
	bufs        sync.Pool // *[]byte read buffers of 2xx answers
}

// New builds a Client from opts.
func New(opts Options) *Client {
	c := &Client{
		name:        opts.Name,
		hc:          opts.HTTP,
		headers:     opts.Headers,
		maxErrBody:  opts.MaxErrorBody,
		statusError: opts.StatusError,
	}
	if c.hc == nil {
		c.hc = NewHTTPClient(DefaultMaxIdleConnsPerHost, 0)
	}
	if c.maxErrBody <= 0 {
		c.maxErrBody = DefaultMaxErrorBody
	}
	if c.statusError == nil {
		c.statusError = c.plainStatusError
	}
	c.direct = c.hc.Timeout == 0 && c.hc.Jar == nil && c.hc.CheckRedirect == nil
	c.bufs.New = func() any { return new([]byte) }
	return c
}

// Name is the provider name put in errors.
func (c *Client) Name() string { return c.name }

// Send performs one call and returns the response when its status is 2xx;
// the caller owns its body. Any other status becomes StatusError's error,
// the body read (bounded) and closed. accept, when not empty, is sent as
// Accept; a non-nil body is sent as JSON. extra are this call's own
// headers (canonical names), set last: what a request carries for its
// upstream (an Anthropic client's betas), which the adapter has merged
// with the configured headers already.
func (c *Client) Send(ctx context.Context, method, u string, body []byte, accept string, extra ...[2]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bodyReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.name, err)
	}
	// Direct map writes: the names are canonical already, and Header.Set
	// would canonicalize them again on every call.
	h := req.Header
	if body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	if accept != "" {
		h["Accept"] = []string{accept}
	}
	for _, kv := range c.headers {
		h[kv[0]] = []string{kv[1]}
	}
	for _, kv := range extra {
		h[kv[0]] = []string{kv[1]}
	}

	resp, err := c.roundTrip(req, method, u, body)
	if err != nil {
		return nil, c.TransportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := ReadLimited(resp.Body, resp.ContentLength, c.maxErrBody)
		DrainClose(resp.Body)
		return nil, c.statusError(resp.StatusCode, resp.Header, data)
	}
	return resp, nil
}

// roundTrip sends req through the shared client. When that client adds
// nothing to its transport but redirect handling (no timeout, cookie jar or
// URL credentials), the transport is called directly: http.Client.Do costs
// about 2 µs and 8 allocations a request (it copies the headers for
// redirects, wraps the context) for redirects API servers do not send. If
// one does answer with a redirect, the request is sent again through
// http.Client.Do, which follows it as before.
func (c *Client) roundTrip(req *http.Request, method, u string, body []byte) (*http.Response, error) {
	if !c.direct || req.URL.User != nil {
		return c.hc.Do(req)
	}
	rt := c.hc.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		// The shape http.Client.Do returns, so errors read the same.
		return nil, &url.Error{Op: urlErrorOp(method), URL: u, Err: err}
	}
	switch resp.StatusCode {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		if resp.Header.Get("Location") == "" {
			return resp, nil
		}
		DrainClose(resp.Body)
		again, err := http.NewRequestWithContext(req.Context(), method, u, bodyReader(body))
		if err != nil {
			return nil, err
		}
		again.Header = req.Header
		return c.hc.Do(again)
	}
	return resp, nil
}

func bodyReader(body []byte) io.Reader {
	if body == nil {
		return nil
	}
	return bytes.NewReader(body)
}

// urlErrorOp is the Op of the *url.Error http.Client.Do returns: "Post".
func urlErrorOp(method string) string {
	switch method {
	case http.MethodPost:
		return "Post"
	case http.MethodGet:
		return "Get"
	}
	return method[:1] + strings.ToLower(method[1:])
}
