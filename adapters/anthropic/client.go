// Package anthropic adapts Anthropic's Messages API to the gateway's domain
// types: requests in OpenAI's shape become /v1/messages bodies, and answers
// and stream events come back as llm values.
package anthropic

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
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Defaults applied by New.
const (
	DefaultBaseURL    = "https://api.anthropic.com"
	DefaultAPIVersion = "2023-06-01"
	DefaultName       = "anthropic"
	// DefaultMaxTokens is sent when a request does not say; the Messages API
	// requires max_tokens, OpenAI's format does not.
	DefaultMaxTokens = 4096
)

// Options configures a Client.
type Options struct {
	// Name identifies the provider in errors; default "anthropic".
	Name    string
	BaseURL string
	APIKey  string
	// HTTPClient is shared by every call. When nil, New builds one whose
	// transport keeps up to 256 idle connections per host.
	HTTPClient *http.Client
	// Headers are added to every request and may override the defaults
	// (for example to send anthropic-beta).
	Headers map[string]string
	// APIVersion is sent as anthropic-version; default "2023-06-01".
	APIVersion string
}

// Client calls one Anthropic endpoint. It is safe for concurrent use.
type Client struct {
	name       string
	base       string
	apiKey     string
	apiVersion string
	headers    map[string]string
	hc         *http.Client
	now        func() time.Time
}

// New validates opts and fills in defaults.
func New(opts Options) (*Client, error) {
	if opts.APIKey == "" {
		return nil, errors.New("anthropic: APIKey is required")
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("anthropic: BaseURL %q must be an absolute http(s) URL without a query", base)
	}
	c := &Client{
		name:       opts.Name,
		base:       strings.TrimRight(base, "/"),
		apiKey:     opts.APIKey,
		apiVersion: opts.APIVersion,
		hc:         opts.HTTPClient,
		now:        time.Now,
	}
	if c.name == "" {
		c.name = DefaultName
	}
	if c.apiVersion == "" {
		c.apiVersion = DefaultAPIVersion
	}
	if c.hc == nil {
		c.hc = newHTTPClient()
	}
	if len(opts.Headers) > 0 {
		c.headers = make(map[string]string, len(opts.Headers))
		for k, v := range opts.Headers {
			if k == "" || strings.ContainsAny(k, " \r\n:") || strings.ContainsAny(v, "\r\n") {
				return nil, fmt.Errorf("anthropic: invalid header %q", k)
			}
			c.headers[k] = v
		}
	}
	return c, nil
}

// newHTTPClient sizes the idle pool for a gateway's concurrency: the
// default of two idle connections per host would make most requests dial.
// It sets no overall timeout because streams last as long as they last;
// callers bound requests with their context.
func newHTTPClient() *http.Client {
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// Chat sends one request and waits for the whole answer.
func (c *Client) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	body, err := encodeRequest(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/messages", body)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp.Body)
	var wr wireResponse
	if err := json.NewDecoder(resp.Body).Decode(&wr); err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: read response: %w", c.name, ctx.Err())
		}
		return nil, &llm.UpstreamError{Provider: c.name, Status: resp.StatusCode, Message: "malformed response body", Err: err}
	}
	return decodeResponse(&wr, c.now()), nil
}

// ChatStream starts a streamed answer. It reads up to the first chunk
// before returning, so a failure the upstream reports at once (an
// overloaded_error event, say) comes back here, before any byte reaches
// the client, where a retry is still possible.
func (c *Client) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	body, err := encodeRequest(req, true)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/messages", body)
	if err != nil {
		return nil, err
	}
	s := newStream(c, resp.Body, c.now().Unix())
	first, err := s.Recv()
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.pending, s.hasPending = first, true
	return s, nil
}

// ListModels pages through GET /v1/models.
func (c *Client) ListModels(ctx context.Context) ([]llm.Model, error) {
	var models []llm.Model
	after := ""
	for page := 0; page < 100; page++ {
		path := "/v1/models?limit=1000"
		if after != "" {
			path += "&after_id=" + url.QueryEscape(after)
		}
		resp, err := c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		var list struct {
			Data []struct {
				ID        string `json:"id"`
				CreatedAt string `json:"created_at"`
			} `json:"data"`
			HasMore bool   `json:"has_more"`
			LastID  string `json:"last_id"`
		}
		err = json.NewDecoder(resp.Body).Decode(&list)
		closeBody(resp.Body)
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%s: list models: %w", c.name, ctx.Err())
			}
			return nil, &llm.UpstreamError{Provider: c.name, Status: resp.StatusCode, Message: "malformed model list", Err: err}
		}
		for _, m := range list.Data {
			model := llm.Model{ID: m.ID, OwnedBy: "anthropic"}
			if t, err := time.Parse(time.RFC3339, m.CreatedAt); err == nil {
				model.Created = t.Unix()
			}
			models = append(models, model)
		}
		if !list.HasMore || list.LastID == "" || list.LastID == after {
			break
		}
		after = list.LastID
	}
	return models, nil
}

// do sends one call and returns the response when its status is 2xx.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	hreq, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: build request: %w", c.name, err)
	}
	h := hreq.Header
	h["X-Api-Key"] = []string{c.apiKey}
	h["Anthropic-Version"] = []string{c.apiVersion}
	if body != nil {
		h["Content-Type"] = []string{"application/json"}
	}
	for k, v := range c.headers {
		h.Set(k, v)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		return nil, c.transportError("request", err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := c.statusError(resp)
		closeBody(resp.Body)
		return nil, err
	}
	return resp, nil
}

// closeBody drains a little of what is left so the connection can return
// to the pool, then closes it.
func closeBody(b io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(b, 64<<10))
	_ = b.Close()
}
