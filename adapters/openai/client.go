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
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/upstream"
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
const DefaultMaxIdleConnsPerHost = upstream.DefaultMaxIdleConnsPerHost

const maxIdleConnsPerHostCap = upstream.MaxIdleConnsPerHostCap

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
	// ResponsesAPI says the upstream serves POST {base}/responses: requests
	// that came in as OpenAI Responses go there with the client's body, not
	// through Chat Completions. OpenAI itself does; some compatible servers too.
	ResponsesAPI bool
	// API is how requests that did not come in as Responses reach an
	// upstream with ResponsesAPI: APIChat, APIResponses (translated), or
	// APIAuto / "" to follow DefaultModelAPIs per model.
	API string
	// ModelAPI overrides API per upstream model: an exact name or a
	// path.Match glob (most specific wins) to APIChat or APIResponses.
	ModelAPI map[string]string
	// DefaultModelAPIs replaces the built-in list; nil keeps it.
	DefaultModelAPIs []ModelAPI
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
	responses  bool
	apis       *apiChooser // which API a non-Responses request takes
	http       *http.Client
	up         *upstream.Client // sends through http with the headers above
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
		responses:  opts.ResponsesAPI && !opts.Azure,
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

	defaults := opts.DefaultModelAPIs
	if defaults == nil {
		defaults = DefaultModelAPIs()
	}
	if c.apis, err = newAPIChooser(c.name, opts.API, opts.ModelAPI, defaults); err != nil {
		return nil, err
	}
	if !c.responses && (c.apis.provider == APIResponses || slices.Contains(slices.Collect(maps.Values(opts.ModelAPI)), APIResponses)) {
		return nil, fmt.Errorf("%s: api responses needs an upstream that serves the Responses API (type openai, or responses_api on a compatible one; not azure)", c.name)
	}

	key := strings.TrimSpace(opts.APIKey)
	if key == "" && !isLocalHost(u.Hostname()) {
		return nil, fmt.Errorf("%s: an API key is required for %s", c.name, u.Host)
	}
	if strings.ContainsAny(key, "\r\n") {
		return nil, fmt.Errorf("%s: API key contains a line break", c.name)
	}
	// The auth header goes first so an operator's Headers can replace it.
	var headers [][2]string
	if key != "" {
		if opts.Azure {
			c.apiKey = key
			headers = append(headers, [2]string{"Api-Key", key})
		} else {
			c.auth = "Bearer " + key
			headers = append(headers, [2]string{"Authorization", c.auth})
		}
	}

	for name, value := range opts.Headers {
		if !validHeaderName(name) {
			return nil, fmt.Errorf("%s: invalid header name %q", c.name, name)
		}
		if strings.ContainsAny(value, "\r\n\x00") {
			return nil, fmt.Errorf("%s: header %s: value contains a line break", c.name, name)
		}
		headers = append(headers, [2]string{http.CanonicalHeaderKey(name), value})
	}

	if c.http == nil {
		c.http = NewHTTPClient(DefaultMaxIdleConnsPerHost, 0)
	}
	c.up = upstream.New(upstream.Options{
		Name:    c.name,
		HTTP:    c.http,
		Headers: headers,
		StatusError: func(status int, h http.Header, body []byte) error {
			return c.statusErrorFromBody(status, h, body)
		},
	})
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
	return upstream.NewHTTPClient(maxIdlePerHost, timeout)
}

// Chat sends one unary chat completion.
func (c *Client) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	if c.useResponses(req) {
		return c.responsesChat(ctx, req)
	}
	body, err := encodeChat(req, false, c.legacyMax)
	if err != nil {
		return nil, err
	}
	resp, err := c.send(ctx, http.MethodPost, c.chatEndpoint(req.Model), body, false)
	if err != nil {
		return nil, err
	}
	// The decoded answer copies what it keeps, so the read buffer is reused.
	return upstream.Decode(ctx, c.up, resp, decodeChatResponse)
}

// ChatStream starts a streamed chat completion. It always asks for a final
// usage chunk, whatever req.IncludeUsage says, so streams are never billed as
// zero. The caller must Close the stream.
func (c *Client) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	if c.useResponses(req) {
		return c.responsesStream(ctx, req)
	}
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
		data, err := c.up.ReadBody(ctx, resp)
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
	return upstream.Decode(ctx, c.up, resp, decodeModelList)
}

func decodeModelList(data []byte) ([]llm.Model, error) {
	var w wireModelList
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
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
	inputs := embeddingInputs(req)
	return upstream.Decode(ctx, c.up, resp, func(data []byte) (*llm.EmbeddingResponse, error) {
		return decodeEmbedding(data, inputs)
	})
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

// send performs one request and returns the response when its status is 2xx;
// any other status comes back as an *llm.UpstreamError.
func (c *Client) send(ctx context.Context, method, u string, body []byte, stream bool) (*http.Response, error) {
	accept := "application/json"
	if stream {
		accept = "text/event-stream"
	}
	return c.up.Send(ctx, method, u, body, accept)
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
