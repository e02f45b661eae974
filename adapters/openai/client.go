// Package openai is the adapter for OpenAI's Chat Completions wire format,
// which OpenAI, Azure OpenAI and the OpenAI-compatible family (DeepSeek,
// vLLM, Ollama, Groq, OpenRouter, ...) all speak.
//
// A Client translates engine/llm requests into upstream HTTP calls and the
// answers back: unary chats, SSE streams decoded incrementally, model lists
// and embeddings. Upstream failures come back as *llm.UpstreamError so the
// router can decide on retries; a cancelled or expired ctx comes back as the
// ctx error itself.
package openai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// DefaultBaseURL is OpenAI's API root, used when Options.BaseURL is empty.
const DefaultBaseURL = "https://api.openai.com/v1"

// DefaultAzureAPIVersion is the Azure api-version used when
// Options.APIVersion is empty: the latest GA data-plane inference version.
const DefaultAzureAPIVersion = "2024-10-21"

// DefaultMaxIdleConnsPerHost sizes the keep-alive pool when NewHTTPClient is
// given no size: net/http's default of 2 makes every concurrent request past
// the second dial (and TLS-handshake) anew.
const DefaultMaxIdleConnsPerHost = 256

const (
	maxIdleConnsPerHostCap = 16384
	// maxResponseBytes bounds a unary answer held in memory.
	maxResponseBytes = 64 << 20
	// maxErrorBodyBytes bounds how much of an error answer is read.
	maxErrorBodyBytes = 64 << 10
)

// Options configures a Client.
type Options struct {
	// Name is the provider name used in errors, e.g. "openai", "deepseek".
	// Defaults to "openai", or "azure" when Azure is set.
	Name string
	// BaseURL is the API root, e.g. https://api.openai.com/v1. For Azure it is
	// the resource endpoint, e.g. https://myres.openai.azure.com.
	BaseURL string
	// APIKey is required unless BaseURL points at a local server (loopback,
	// private address, or an unqualified host name such as a compose service).
	APIKey string
	// HTTPClient is shared by every call of this provider. nil gets
	// NewHTTPClient(DefaultMaxIdleConnsPerHost, 0).
	HTTPClient *http.Client
	// Headers are sent with every request. They are set after the
	// adapter's own, so they may replace them (e.g. a custom Authorization).
	Headers map[string]string
	// Azure selects Azure OpenAI addressing:
	// {base}/openai/deployments/{model}/chat/completions?api-version=V and
	// the api-key header instead of a bearer token.
	Azure bool
	// APIVersion is Azure's api-version; DefaultAzureAPIVersion when empty.
	APIVersion string
	// LegacyMaxTokens sends the token limit as max_tokens instead of
	// max_completion_tokens, for compatible servers and older Azure API
	// versions that do not know the newer field.
	LegacyMaxTokens bool
}

// Client calls one OpenAI-format provider. It is safe for concurrent use and
// holds no per-request state.
type Client struct {
	name       string
	base       string // no trailing slash
	auth       string // full Authorization value, or "" when keyless
	apiKey     string // Azure's api-key header
	azure      bool
	apiVersion string
	legacyMax  bool
	headers    [][2]string
	http       *http.Client
	direct     bool      // http adds nothing to its transport but redirects: see do
	bufs       sync.Pool // *[]byte read buffers of unary answers
	// now is the clock for Retry-After dates; a field so tests can fix it.
	now func() time.Time

	chatURL, modelsURL, embedURL string // precomputed for non-Azure
}

// New validates opts and builds a Client.
func New(opts Options) (*Client, error) {
	c := &Client{
		name:       opts.Name,
		azure:      opts.Azure,
		apiVersion: opts.APIVersion,
		legacyMax:  opts.LegacyMaxTokens,
		http:       opts.HTTPClient,
		now:        time.Now,
	}
	if c.name == "" {
		c.name = "openai"
		if opts.Azure {
			c.name = "azure"
		}
	}
	base := strings.TrimSpace(opts.BaseURL)
	if base == "" {
		if opts.Azure {
			return nil, fmt.Errorf("%s: azure needs a base URL (the resource endpoint)", c.name)
		}
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("%s: base URL: %w", c.name, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s: base URL %q: want http(s)://host[/path]", c.name, base)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s: base URL %q: must not carry a query or fragment", c.name, base)
	}
	base = strings.TrimRight(base, "/")
	if opts.Azure {
		// Users paste both the endpoint and the endpoint with /openai.
		base = strings.TrimSuffix(base, "/openai")
		if c.apiVersion == "" {
			c.apiVersion = DefaultAzureAPIVersion
		}
	}
	c.base = base

	key := strings.TrimSpace(opts.APIKey)
	if key == "" && !isLocalHost(u.Hostname()) {
		return nil, fmt.Errorf("%s: an API key is required for %s", c.name, u.Host)
	}
	if strings.ContainsAny(key, "\r\n") {
		return nil, fmt.Errorf("%s: API key contains a line break", c.name)
	}
	if key != "" {
		if opts.Azure {
			c.apiKey = key
		} else {
			c.auth = "Bearer " + key
		}
	}

	for name, value := range opts.Headers {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%s: invalid header name %q", c.name, name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("%s: header %s: value contains a line break", c.name, name)
		}
		c.headers = append(c.headers, [2]string{http.CanonicalHeaderKey(name), value})
	}

	if c.http == nil {
		c.http = NewHTTPClient(DefaultMaxIdleConnsPerHost, 0)
	}
	c.bufs.New = func() any { return new([]byte) }
	c.direct = c.http.Timeout == 0 && c.http.Jar == nil && c.http.CheckRedirect == nil
	if !c.azure {
		c.chatURL = c.base + "/chat/completions"
		c.modelsURL = c.base + "/models"
		c.embedURL = c.base + "/embeddings"
	}
	return c, nil
}

// Name returns the provider name used in errors.
func (c *Client) Name() string { return c.name }

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
	if maxIdlePerHost > maxIdleConnsPerHostCap {
		maxIdlePerHost = maxIdleConnsPerHostCap
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

// Chat sends one unary chat completion.
func (c *Client) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	body, err := encodeChat(req, false, c.legacyMax)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, c.chatEndpoint(req.Model), body, false)
	if err != nil {
		return nil, err
	}
	// The decoded answer copies what it keeps, so the read buffer is reused.
	buf := c.bufs.Get().(*[]byte)
	defer c.putBuf(buf)
	data, err := c.readBodyInto(ctx, resp, (*buf)[:0])
	*buf = data
	if err != nil {
		return nil, err
	}
	out, err := decodeChatResponse(data)
	if err != nil {
		return nil, c.badBody(resp.StatusCode, err)
	}
	return out, nil
}

// maxPooledBuf bounds the read buffers kept for reuse, so one huge answer
// does not stay pinned.
const maxPooledBuf = 64 << 10

func (c *Client) putBuf(b *[]byte) {
	if cap(*b) <= maxPooledBuf {
		c.bufs.Put(b)
	}
}

// ChatStream starts a streamed chat completion. It always asks for a final
// usage chunk, whatever req.IncludeUsage says, so streams are never billed as
// zero. The caller must Close the stream.
func (c *Client) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	body, err := encodeChat(req, true, c.legacyMax)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, c.chatEndpoint(req.Model), body, true)
	if err != nil {
		return nil, err
	}
	// A server that answers a stream request with JSON is reporting an error
	// (or ignoring "stream"); either way there is no event stream to read.
	if ct := resp.Header.Get("Content-Type"); strings.HasPrefix(ct, "application/json") {
		data, err := c.readBody(ctx, resp)
		if err != nil {
			return nil, err
		}
		if e, ok := parseErrorBody(data); ok {
			return nil, &llm.UpstreamError{Provider: c.name, Status: streamErrorStatus(e),
				Message: e.Message, Type: e.Type, Code: e.Code}
		}
		return nil, &llm.UpstreamError{Provider: c.name, Status: resp.StatusCode,
			Message: "expected an event stream, got JSON: " + excerpt(data)}
	}
	return newStream(c.name, resp.Body), nil
}

// ListModels lists the models the provider serves. On Azure these are the
// resource's base models, not its deployments.
func (c *Client) ListModels(ctx context.Context) ([]llm.Model, error) {
	u := c.modelsURL
	if c.azure {
		u = c.base + "/openai/models?api-version=" + url.QueryEscape(c.apiVersion)
	}
	resp, err := c.send(ctx, http.MethodGet, u, nil, false)
	if err != nil {
		return nil, err
	}
	data, err := c.readBody(ctx, resp)
	if err != nil {
		return nil, err
	}
	var w wireModelList
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, c.badBody(resp.StatusCode, err)
	}
	out := make([]llm.Model, len(w.Data))
	for i, m := range w.Data {
		out[i] = llm.Model{ID: m.ID, Created: m.Created, OwnedBy: m.OwnedBy}
	}
	return out, nil
}

// Embed returns one vector per input, in input order. It always asks for
// float encoding; req.EncodingFormat is the facade's business.
func (c *Client) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	body, err := encodeEmbedding(req)
	if err != nil {
		return nil, err
	}
	u := c.embedURL
	if c.azure {
		u = c.deploymentURL(req.Model, "/embeddings")
	}
	resp, err := c.send(ctx, http.MethodPost, u, body, false)
	if err != nil {
		return nil, err
	}
	data, err := c.readBody(ctx, resp)
	if err != nil {
		return nil, err
	}
	out, err := decodeEmbedding(data, len(req.Input))
	if err != nil {
		return nil, c.badBody(resp.StatusCode, err)
	}
	return out, nil
}

func (c *Client) chatEndpoint(model string) string {
	if c.azure {
		return c.deploymentURL(model, "/chat/completions")
	}
	return c.chatURL
}

func (c *Client) deploymentURL(model, op string) string {
	return c.base + "/openai/deployments/" + url.PathEscape(model) + op +
		"?api-version=" + url.QueryEscape(c.apiVersion)
}

// send performs one request and returns the response when its status is 2xx.
// Any other status is turned into an *llm.UpstreamError here, and the body
// closed.
func (c *Client) send(ctx context.Context, method, u string, body []byte, stream bool) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bodyReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.name, err)
	}
	h := req.Header
	if body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	if stream {
		h["Accept"] = []string{"text/event-stream"}
	} else {
		h["Accept"] = []string{"application/json"}
	}
	if c.auth != "" {
		h["Authorization"] = []string{c.auth}
	}
	if c.apiKey != "" {
		h["Api-Key"] = []string{c.apiKey}
	}
	for _, kv := range c.headers {
		h[kv[0]] = []string{kv[1]}
	}

	resp, err := c.do(req, method, u, body)
	if err != nil {
		return nil, c.transportError(ctx, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		data, _ := readLimited(resp.Body, resp.ContentLength, maxErrorBodyBytes)
		drainClose(resp.Body)
		return nil, c.statusErrorFromBody(resp.StatusCode, resp.Header, data)
	}
	return resp, nil
}

// do sends req through the shared client. When that client adds nothing
// to its transport but redirect handling (no timeout, cookie jar or URL
// credentials), the transport is called directly: http.Client.Do costs
// about 2 µs and 8 allocations a request (it copies the headers for
// redirects, wraps the context) for redirects API servers do not send. If
// one does answer with a redirect, the request is sent again through
// http.Client.Do, which follows it as before.
func (c *Client) do(req *http.Request, method, u string, body []byte) (*http.Response, error) {
	if !c.direct || req.URL.User != nil {
		return c.http.Do(req)
	}
	rt := c.http.Transport
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
		drainClose(resp.Body)
		again, err := http.NewRequestWithContext(req.Context(), method, u, bodyReader(body))
		if err != nil {
			return nil, err
		}
		again.Header = req.Header
		return c.http.Do(again)
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

// readBody reads a whole 2xx answer and closes it.
func (c *Client) readBody(ctx context.Context, resp *http.Response) ([]byte, error) {
	return c.readBodyInto(ctx, resp, nil)
}

// readBodyInto is readBody appending to buf.
func (c *Client) readBodyInto(ctx context.Context, resp *http.Response, buf []byte) ([]byte, error) {
	defer resp.Body.Close()
	data, err := readLimitedInto(buf, resp.Body, resp.ContentLength, maxResponseBytes)
	if err != nil {
		if errors.Is(err, errTooLarge) {
			return nil, &llm.UpstreamError{Provider: c.name, Status: resp.StatusCode,
				Message: "response body too large", Err: err}
		}
		return nil, c.transportError(ctx, err)
	}
	return data, nil
}

// transportError classifies a failure to get or read an answer: the caller's
// own cancellation is returned as the ctx error, anything else is a
// connection failure (Status 0, retryable).
func (c *Client) transportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", c.name, ctxErr)
	}
	return &llm.UpstreamError{Provider: c.name, Err: err}
}

// badBody reports a 2xx answer the adapter could not decode.
func (c *Client) badBody(status int, err error) error {
	var ue *llm.UpstreamError
	if errors.As(err, &ue) {
		ue.Provider = c.name
		if ue.Status == 0 {
			ue.Status = status
		}
		return ue
	}
	return &llm.UpstreamError{Provider: c.name, Status: status,
		Message: "invalid response body: " + err.Error(), Err: err}
}

var errTooLarge = errors.New("body exceeds size limit")

// readLimited reads r to EOF, at most limit bytes, sizing its buffer from the
// Content-Length when known so a typical answer costs one allocation.
func readLimited(r io.Reader, size, limit int64) ([]byte, error) {
	return readLimitedInto(nil, r, size, limit)
}

// readLimitedInto is readLimited reading into buf[:0] (grown as needed).
func readLimitedInto(buf []byte, r io.Reader, size, limit int64) ([]byte, error) {
	n := int64(1024)
	if size >= 0 {
		n = size + 1 // +1 so the final Read sees EOF without growing
	}
	if n > limit+1 {
		n = limit + 1
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, 0, n)
	}
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if int64(len(buf)) > limit {
			return buf[:limit], errTooLarge
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

// drainClose reads a little of what is left so the connection can go back to
// the pool, then closes.
func drainClose(body io.ReadCloser) {
	_, _ = io.CopyN(io.Discard, body, 4<<10)
	_ = body.Close()
}

// isLocalHost reports whether host is a local server that may run without an
// API key: loopback, private or link-local addresses, localhost names, and
// unqualified names such as a compose service ("ollama", "vllm").
func isLocalHost(host string) bool {
	if host == "" {
		return false
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsUnspecified()
	}
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || !strings.Contains(h, ".") {
		return true
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".lan", ".home.arpa"} {
		if strings.HasSuffix(h, suffix) {
			return true
		}
	}
	return false
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", ch) >= 0:
		default:
			return false
		}
	}
	return true
}
