// Package gemini adapts Google's Gemini API (generateContent and
// streamGenerateContent) to the gateway's domain types.
package gemini

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

// Defaults applied by New.
const (
	DefaultBaseURL = "https://generativelanguage.googleapis.com"
	DefaultName    = "gemini"
)

// Options configures a Client.
type Options struct {
	// Name identifies the provider in errors; default "gemini".
	Name    string
	BaseURL string
	APIKey  string
	// HTTPClient is shared by every call. When nil, New builds one whose
	// transport keeps up to 256 idle connections per host
	// (upstream.NewHTTPClient).
	HTTPClient *http.Client
	// Headers are added to every request and may override the defaults.
	Headers map[string]string

	// ThinkingLevelModels are the model name prefixes that take a
	// reasoning effort as thinkingLevel; nil means
	// DefaultThinkingLevelModels, empty means none.
	ThinkingLevelModels []string
	// EffortBudgets and EffortLevels override entries of
	// DefaultEffortBudgets and DefaultEffortLevels.
	EffortBudgets map[string]int
	EffortLevels  map[string]string
	// MaxPartBytes caps one inline part after decoding; 0 means
	// DefaultMaxPartBytes.
	MaxPartBytes int
	// OmitThoughts stops asking for thought summaries (includeThoughts).
	OmitThoughts bool
	// NoSignatureFallback sends a function call without a signature as it
	// is, instead of with SkipSignature.
	NoSignatureFallback bool
}

// Client calls one Gemini endpoint. It is safe for concurrent use.
type Client struct {
	name   string
	base   string
	apiKey string
	hc     *http.Client
	up     *upstream.Client // sends through hc with the auth and operator headers
	tr     *translation
	now    func() time.Time
}

// New validates opts and fills in defaults.
func New(opts Options) (*Client, error) {
	if opts.APIKey == "" {
		return nil, errors.New("gemini: APIKey is required")
	}
	base := opts.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return nil, fmt.Errorf("gemini: BaseURL %q must be an absolute http(s) URL without a query", base)
	}
	if opts.MaxPartBytes < 0 {
		return nil, errors.New("gemini: MaxPartBytes must not be negative")
	}
	for e, b := range opts.EffortBudgets {
		if b < -1 {
			return nil, fmt.Errorf("gemini: EffortBudgets[%q] = %d, want -1 (dynamic) or more", e, b)
		}
	}
	for e, l := range opts.EffortLevels {
		if l == "" {
			return nil, fmt.Errorf("gemini: EffortLevels[%q] is empty", e)
		}
	}
	c := &Client{
		tr:     newTranslation(&opts),
		name:   opts.Name,
		base:   strings.TrimRight(base, "/"),
		apiKey: opts.APIKey,
		hc:     opts.HTTPClient,
		now:    time.Now,
	}
	if c.name == "" {
		c.name = DefaultName
	}
	if c.hc == nil {
		c.hc = upstream.NewHTTPClient(upstream.DefaultMaxIdleConnsPerHost, 0)
	}
	// The auth header goes first so an operator's Headers can replace it.
	headers := [][2]string{{"X-Goog-Api-Key", c.apiKey}}
	for k, v := range opts.Headers {
		if k == "" || strings.ContainsAny(k, " \r\n:") || strings.ContainsAny(v, "\r\n") {
			return nil, fmt.Errorf("gemini: invalid header %q", k)
		}
		headers = append(headers, [2]string{http.CanonicalHeaderKey(k), v})
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

// modelPath is the resource path of a model: "gemini-2.5-flash" and
// "models/gemini-2.5-flash" both give models/gemini-2.5-flash; tuned models
// keep their own collection.
func modelPath(model string) (string, error) {
	m := strings.TrimPrefix(model, "models/")
	collection := "models/"
	if rest, ok := strings.CutPrefix(m, "tunedModels/"); ok {
		m, collection = rest, "tunedModels/"
	}
	if m == "" || strings.ContainsAny(m, "/?#:% \t\r\n") {
		return "", llm.InvalidParam("model", "invalid model name %q", model)
	}
	return collection + m, nil
}

// Chat sends one request and waits for the whole answer.
func (c *Client) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	path, err := modelPath(req.Model)
	if err != nil {
		return nil, err
	}
	body, err := encode(req, c.tr)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1beta/"+path+":generateContent", body)
	if err != nil {
		return nil, err
	}
	return upstream.Decode(ctx, c.up, resp, func(data []byte) (*llm.ChatResponse, error) {
		var gr gResponse
		if err := json.Unmarshal(data, &gr); err != nil {
			return nil, &llm.UpstreamError{Message: "malformed response body", Err: err}
		}
		if gr.Error != nil {
			// An error document inside a 200: its own code, not the 200.
			return nil, gr.Error.upstream(c.name, 0)
		}
		return decodeResponse(&gr, req.Model, c.now()), nil
	})
}

// ChatStream starts a streamed answer. It reads up to the first chunk
// before returning, so a failure reported at once comes back here, before
// any byte reaches the client, where a retry is still possible.
func (c *Client) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	path, err := modelPath(req.Model)
	if err != nil {
		return nil, err
	}
	body, err := encode(req, c.tr)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1beta/"+path+":streamGenerateContent?alt=sse", body)
	if err != nil {
		return nil, err
	}
	s := newStream(c.name, resp.Body, req.Model, c.now().Unix())
	first, err := s.Recv()
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	s.pending, s.hasPending = first, true
	return s, nil
}

// ListModels pages through GET /v1beta/models.
func (c *Client) ListModels(ctx context.Context) ([]llm.Model, error) {
	var models []llm.Model
	token := ""
	for page := 0; page < 100; page++ {
		path := "/v1beta/models?pageSize=1000"
		if token != "" {
			path += "&pageToken=" + url.QueryEscape(token)
		}
		resp, err := c.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		list, err := upstream.Decode(ctx, c.up, resp, decodeModelPage)
		if err != nil {
			return nil, err
		}
		for _, m := range list.Models {
			models = append(models, llm.Model{ID: strings.TrimPrefix(m.Name, "models/"), OwnedBy: "google"})
		}
		if list.NextPageToken == "" || list.NextPageToken == token {
			break
		}
		token = list.NextPageToken
	}
	return models, nil
}

type modelPage struct {
	Models []struct {
		Name string `json:"name"`
	} `json:"models"`
	NextPageToken string `json:"nextPageToken"`
}

func decodeModelPage(data []byte) (*modelPage, error) {
	var p modelPage
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, &llm.UpstreamError{Message: "malformed model list", Err: err}
	}
	return &p, nil
}

// Embed asks batchEmbedContents for one vector per input.
func (c *Client) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	path, err := modelPath(req.Model)
	if err != nil {
		return nil, err
	}
	if len(req.InputTokens) > 0 {
		// Gemini embeds text only; its token ids are not OpenAI's either.
		return nil, llm.InvalidParam("input", "token-id input is not supported by Gemini targets; send text")
	}
	if len(req.Input) == 0 {
		return nil, llm.InvalidParam("input", "input must not be empty")
	}
	if req.Dimensions != nil && *req.Dimensions <= 0 {
		return nil, llm.InvalidParam("dimensions", "dimensions must be positive")
	}
	type embedRequest struct {
		Model                string   `json:"model"`
		Content              gContent `json:"content"`
		OutputDimensionality *int     `json:"outputDimensionality,omitempty"`
	}
	batch := struct {
		Requests []embedRequest `json:"requests"`
	}{Requests: make([]embedRequest, len(req.Input))}
	for i, text := range req.Input {
		batch.Requests[i] = embedRequest{
			Model:                path,
			Content:              gContent{Parts: []gPart{{Text: text}}},
			OutputDimensionality: req.Dimensions,
		}
	}
	body, err := json.Marshal(batch)
	if err != nil {
		return nil, llm.InvalidParam("input", "cannot encode request: %v", err)
	}
	resp, err := c.do(ctx, http.MethodPost, "/v1beta/"+path+":batchEmbedContents", body)
	if err != nil {
		return nil, err
	}
	return upstream.Decode(ctx, c.up, resp, func(data []byte) (*llm.EmbeddingResponse, error) {
		var out struct {
			Embeddings []struct {
				Values []float32 `json:"values"`
			} `json:"embeddings"`
		}
		if err := json.Unmarshal(data, &out); err != nil {
			return nil, &llm.UpstreamError{Message: "malformed embedding response", Err: err}
		}
		if len(out.Embeddings) != len(req.Input) {
			return nil, &llm.UpstreamError{
				Message: fmt.Sprintf("got %d embeddings for %d inputs", len(out.Embeddings), len(req.Input))}
		}
		er := &llm.EmbeddingResponse{Model: strings.TrimPrefix(req.Model, "models/"), Vectors: make([][]float32, len(out.Embeddings))}
		for i, e := range out.Embeddings {
			er.Vectors[i] = e.Values
		}
		return er, nil
	})
}

// do sends one call and returns the response when its status is 2xx.
func (c *Client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	return c.up.Send(ctx, method, c.base+path, body, "")
}
