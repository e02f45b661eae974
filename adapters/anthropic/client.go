// Package anthropic adapts Anthropic's Messages API to the gateway's domain
// types: requests in OpenAI's shape become /v1/messages bodies, and answers
// and stream events come back as llm values.
package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/upstream"
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
	// transport keeps up to 256 idle connections per host
	// (upstream.NewHTTPClient).
	HTTPClient *http.Client
	// Headers are added to every request and may override the defaults
	// (for example to send anthropic-beta).
	Headers map[string]string
	// APIVersion is sent as anthropic-version; default "2023-06-01".
	APIVersion string

	// NativeStructuredOutput lists the models that take Anthropic's
	// structured outputs (output_config.format), by exact name or a prefix
	// ending in "*". A json_schema response_format for any other model is
	// served by a forced tool whose input is the schema (see structured.go).
	NativeStructuredOutput []string
	// StructuredOutputBeta sends the beta form instead, top-level
	// output_format with anthropic-beta structured-outputs-2025-11-13, for
	// platforms where the feature is still beta.
	StructuredOutputBeta bool
	// ThinkingBudget is the share of max_tokens given to thinking for each
	// reasoning_effort when a request asks for an effort but no explicit
	// thinking; missing efforts take DefaultThinkingBudget's.
	ThinkingBudget map[string]float64
	// AutoCacheTokens, when positive, puts one prompt-cache breakpoint after
	// the tools and system prompt of a request that carries none of its own
	// and whose tools and system prompt are estimated at least this many
	// tokens. 0 (the default) leaves caching to the client.
	AutoCacheTokens int
	// MaxPartBytes caps one image or document part, decoded; a larger part
	// is refused with a 400 naming it. Default DefaultMaxPartBytes.
	MaxPartBytes int
	// IgnoreLogprobs answers a request that asks for log probabilities
	// without them; by default it is refused with a 400 naming logprobs
	// (the Messages API has none, and a silent null misleads a client
	// that depends on them).
	IgnoreLogprobs bool
}

// DefaultMaxPartBytes is Anthropic's own request limit (32 MB): a part
// larger than that could never be sent.
const DefaultMaxPartBytes = 32 << 20

// DefaultThinkingBudget is the share of max_tokens each reasoning_effort
// thinks with: the rest is left for the answer, and a budget is never
// below the API's 1024 (minimal thinks with exactly that).
func DefaultThinkingBudget() map[string]float64 {
	return map[string]float64{"minimal": 0, "low": 0.25, "medium": 0.5, "high": 0.8}
}

// Client calls one Anthropic endpoint. It is safe for concurrent use.
type Client struct {
	name       string
	base       string
	apiKey     string
	apiVersion string
	hc         *http.Client
	up         *upstream.Client // sends through hc with the auth and operator headers
	now        func() time.Time
	// betas are the operator's anthropic-beta flags (Headers), which a
	// client's own are added to; versionPinned says the operator set
	// anthropic-version in Headers, which then wins over a client's.
	betas         []string
	versionPinned bool
	set           settings
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
	set, err := newSettings(opts)
	if err != nil {
		return nil, err
	}
	c.set = set
	if c.apiVersion == "" {
		c.apiVersion = DefaultAPIVersion
	}
	if c.hc == nil {
		c.hc = upstream.NewHTTPClient(upstream.DefaultMaxIdleConnsPerHost, 0)
	}
	// The auth headers go first so an operator's Headers can replace them.
	headers := [][2]string{{"X-Api-Key", c.apiKey}, {"Anthropic-Version", c.apiVersion}}
	for k, v := range opts.Headers {
		if k == "" || strings.ContainsAny(k, " \r\n:") || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("anthropic: invalid header %q", k)
		}
		k = http.CanonicalHeaderKey(k)
		switch k {
		case "Anthropic-Beta":
			c.betas = splitBetas(c.betas, v)
		case "Anthropic-Version":
			c.versionPinned = true
		}
		headers = append(headers, [2]string{k, v})
	}
	c.up = upstream.New(upstream.Options{
		Name:         c.name,
		HTTP:         c.hc,
		Headers:      headers,
		MaxErrorBody: maxErrorBody,
		StatusError:  c.statusError,
	})
	return c, nil
}

// Chat sends one request and waits for the whole answer.
func (c *Client) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	body, pl, err := c.set.encode(req, false)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/messages", body, c.callHeaders(req, pl)...)
	if err != nil {
		return nil, err
	}
	return upstream.Decode(ctx, c.up, resp, func(data []byte) (*llm.ChatResponse, error) {
		var wr wireResponse
		if err := json.Unmarshal(data, &wr); err != nil {
			return nil, &llm.UpstreamError{Message: "malformed response body", Err: err}
		}
		return decodeResponse(&wr, c.now(), pl.jsonTool), nil
	})
}

// ChatStream starts a streamed answer. It reads up to the first chunk
// before returning, so a failure the upstream reports at once (an
// overloaded_error event, say) comes back here, before any byte reaches
// the client, where a retry is still possible.
func (c *Client) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	body, pl, err := c.set.encode(req, true)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1/messages", body, c.callHeaders(req, pl)...)
	if err != nil {
		return nil, err
	}
	s := newStream(c, resp.Body, c.now().Unix())
	s.jsonTool = pl.jsonTool
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
		list, err := upstream.Decode(ctx, c.up, resp, decodeModelPage)
		if err != nil {
			return nil, err
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

type modelPage struct {
	Data []struct {
		ID        string `json:"id"`
		CreatedAt string `json:"created_at"`
	} `json:"data"`
	HasMore bool   `json:"has_more"`
	LastID  string `json:"last_id"`
}

func decodeModelPage(data []byte) (*modelPage, error) {
	var p modelPage
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, &llm.UpstreamError{Message: "malformed model list", Err: err}
	}
	return &p, nil
}

// do sends one call and returns the response when its status is 2xx.
func (c *Client) do(ctx context.Context, method, path string, body []byte, extra ...[2]string) (*http.Response, error) {
	return c.up.Send(ctx, method, c.base+path, body, "", extra...)
}

// callHeaders are what one request adds to the configured headers: its
// client's anthropic-beta flags after the operator's, then the ones the
// translation needs (pl.betas), each once (the API takes a comma-separated
// list), and its client's anthropic-version unless the operator pinned one.
// A request from another dialect adds only the translation's flags.
func (c *Client) callHeaders(req *llm.ChatRequest, pl plan) [][2]string {
	a := req.Anthropic
	if a == nil && len(pl.betas) == 0 {
		return nil
	}
	var h [][2]string
	var betas []string
	if a != nil {
		betas = a.Betas
	}
	if len(betas) > 0 || len(pl.betas) > 0 {
		flags := append(append(slices.Clip(c.betas), betas...), pl.betas...)
		h = append(h, [2]string{"Anthropic-Beta", strings.Join(dedupe(flags), ",")})
	}
	if a != nil && a.Version != "" && !c.versionPinned {
		h = append(h, [2]string{"Anthropic-Version", a.Version})
	}
	return h
}

// splitBetas appends the flags of one anthropic-beta header value.
func splitBetas(dst []string, v string) []string {
	for f := range strings.SplitSeq(v, ",") {
		if f = strings.TrimSpace(f); f != "" {
			dst = append(dst, f)
		}
	}
	return dst
}

// dedupe keeps the first of each flag, in order.
func dedupe(flags []string) []string {
	out := make([]string, 0, len(flags))
	for _, f := range flags {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}
