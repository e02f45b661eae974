// Package simulator is a built-in provider that answers without any
// upstream, so the gateway runs, demos and load-tests with no API keys.
//
// Answers are deterministic: the same model and messages always give the
// same text, derived from a hash of them, and a stream yields exactly the
// text of the unary answer. Latency (time to first token, delay per token)
// and faults (a failure rate, or per-request overrides in the request's
// Metadata) are configurable, which makes it the test double for the
// router's retries, failover, breakers and hedging.
//
// It implements route.Provider, route.ModelLister and route.Embedder
// without importing engine/route; the adapters meet the engine only in
// server/cmd.
package simulator

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Limits and defaults applied by New.
const (
	DefaultResponseTokens = 24
	MaxResponseTokens     = 4096
	DefaultFailStatus     = 503
	// MaxDelay caps every configured or requested delay, so a typo such as
	// "10m" per token cannot park requests for hours.
	MaxDelay            = time.Minute
	DefaultEmbeddingDim = 16
	MaxEmbeddingDim     = 4096
)

// Request Metadata keys that override the configuration for one request,
// so tests and load scenarios can inject faults through the public API.
const (
	// MetaFailStatus fails the request with this HTTP status ("503", "429").
	MetaFailStatus = "simulator.fail_status"
	// MetaRetryAfter is the Retry-After, in seconds, of an injected failure.
	MetaRetryAfter = "simulator.retry_after"
	// MetaFailAfterTokens aborts a stream with a 502 after N content chunks
	// (a unary request fails with 502 when it would produce more).
	MetaFailAfterTokens = "simulator.fail_after_tokens"
	// MetaTokens overrides the number of words in the answer.
	MetaTokens = "simulator.tokens"
	// MetaDelay overrides the delay per token (Go duration text).
	MetaDelay = "simulator.delay"
)

// BadKeyPrefix marks a simulated API key the simulated upstream refuses:
// a provider built WithAPIKey("bad-…") answers every call with a 401, as a
// real upstream answers a revoked key. Pools that mix good and bad keys
// show the router's per-key breakers and failover without any network.
const BadKeyPrefix = "bad-"

// Provider is a simulated provider. It is safe for concurrent use and
// holds no goroutines, so it needs no Close.
type Provider struct {
	name       string
	models     []string
	modelSet   map[string]bool
	tokenDelay time.Duration
	ttft       time.Duration
	tokens     int
	failRate   float64
	failStatus int
	retryAfter time.Duration
	seed       uint64
	// draws numbers fault decisions: decision n is a pure function of seed
	// and n, so the sequence is reproducible and needs no lock.
	draws atomic.Uint64
	// ids numbers completions: like a real upstream, every answer gets its
	// own id even when its text repeats.
	ids   atomic.Uint64
	now   func() time.Time
	vocab []string
	// badKey says the key this instance is called with is refused.
	badKey bool
	// autoTool is called unasked when offered (WithAutoTool).
	autoTool string
	// thinking answers requests that ask for thinking with a signed
	// reasoning block (WithThinking).
	thinking bool
}

// Option configures a Provider.
type Option func(*Provider)

// WithTokenDelay sets the pause between streamed words (capped at MaxDelay).
func WithTokenDelay(d time.Duration) Option { return func(p *Provider) { p.tokenDelay = d } }

// WithTTFT sets the pause before the first word (capped at MaxDelay).
func WithTTFT(d time.Duration) Option { return func(p *Provider) { p.ttft = d } }

// WithResponseTokens sets the words per answer: values below 1 give the
// default of 24, values above 4096 are capped.
func WithResponseTokens(n int) Option { return func(p *Provider) { p.tokens = n } }

// WithFailures fails the given fraction of requests (clamped to [0,1]) with
// an *llm.UpstreamError of the given status (400-599, else 503) carrying
// retryAfter.
func WithFailures(rate float64, status int, retryAfter time.Duration) Option {
	return func(p *Provider) { p.failRate, p.failStatus, p.retryAfter = rate, status, retryAfter }
}

// WithAutoTool makes the simulated model call the tool named name on its
// own (tool_choice absent or auto) whenever the request offers it and the
// conversation does not end in a tool result: one call, then a text answer
// to the result, as an agent's model does. For driving agent CLIs in tests.
func WithAutoTool(name string) Option { return func(p *Provider) { p.autoTool = name } }

// WithThinking makes the simulated model think when a request asks for
// it (Thinking enabled or adaptive): the answer carries a short, fixed
// reasoning text with a signature over it, before the text or tool call,
// as Anthropic's models answer. Signed reasoning handed back in the
// history is checked, as Anthropic checks it: a signature that does not
// match its text is refused with a 400, so a client or gateway that
// alters thinking on the way back is caught.
func WithThinking(on bool) Option { return func(p *Provider) { p.thinking = on } }

// WithAPIKey sets the key this simulated provider is called with. Any key
// is accepted but one starting with BadKeyPrefix, which answers 401.
func WithAPIKey(key string) Option {
	return func(p *Provider) { p.badKey = strings.HasPrefix(key, BadKeyPrefix) }
}

// WithRand seeds the fault sequence; by default it is seeded from the name,
// so runs are reproducible either way.
func WithRand(seed uint64) Option { return func(p *Provider) { p.seed = seed } }

// WithClock sets the clock used only for the Created timestamps; delays use
// context-aware timers, never the clock.
func WithClock(now func() time.Time) Option { return func(p *Provider) { p.now = now } }

// New returns a simulated provider named name serving models; an empty
// models list serves any model name.
func New(name string, models []string, opts ...Option) *Provider {
	if name == "" {
		name = "simulator"
	}
	p := &Provider{name: name, seed: hashString(fnvOffset, name), now: time.Now, vocab: vocabulary()}
	for _, m := range models {
		if m == "" || slices.Contains(p.models, m) {
			continue
		}
		p.models = append(p.models, m)
	}
	if len(p.models) > 0 {
		p.modelSet = make(map[string]bool, len(p.models))
		for _, m := range p.models {
			p.modelSet[m] = true
		}
	}
	for _, o := range opts {
		o(p)
	}
	p.tokenDelay = clampDelay(p.tokenDelay)
	p.ttft = clampDelay(p.ttft)
	p.retryAfter = clampDelay(p.retryAfter)
	switch {
	case p.tokens < 1:
		p.tokens = DefaultResponseTokens
	case p.tokens > MaxResponseTokens:
		p.tokens = MaxResponseTokens
	}
	switch {
	case math.IsNaN(p.failRate) || p.failRate < 0:
		p.failRate = 0
	case p.failRate > 1:
		p.failRate = 1
	}
	if p.failStatus < 400 || p.failStatus > 599 {
		p.failStatus = DefaultFailStatus
	}
	if p.now == nil {
		p.now = time.Now
	}
	return p
}

func clampDelay(d time.Duration) time.Duration {
	return min(max(d, 0), MaxDelay)
}

// Name returns the provider name used in errors.
func (p *Provider) Name() string { return p.name }

// ListModels lists the configured models.
func (p *Provider) ListModels(ctx context.Context) ([]llm.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	created := p.now().Unix()
	out := make([]llm.Model, len(p.models))
	for i, m := range p.models {
		out[i] = llm.Model{ID: m, Created: created, OwnedBy: p.name}
	}
	return out, nil
}

// Chat answers a request after the simulated latency: TTFT plus the token
// delay for every chunk a stream would send after the first.
func (p *Provider) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	pl, err := p.prepare(ctx, req, false)
	if err != nil {
		return nil, err
	}
	steps := pl.chunks()
	failing := pl.failAfter >= 0 && pl.failAfter < steps
	if failing {
		steps = pl.failAfter
	}
	if steps > 0 {
		if err := sleep(ctx, nil, pl.ttft+time.Duration(steps-1)*pl.delay); err != nil {
			return nil, err
		}
	}
	if failing {
		return nil, p.brokenStream(pl.failAfter)
	}
	msg := llm.Message{Role: llm.RoleAssistant, Content: pl.text, ReasoningContent: pl.reasoning, ReasoningSignature: pl.signature}
	if pl.tool != nil {
		msg.ToolCalls = []llm.ToolCall{*pl.tool}
	}
	return &llm.ChatResponse{
		ID:                pl.id,
		Created:           pl.created,
		Model:             pl.model,
		Choices:           []llm.Choice{{Message: msg, FinishReason: pl.finish}},
		Usage:             pl.usage,
		SystemFingerprint: "fp_simulator",
	}, nil
}

// ChatStream opens a stream of the same answer Chat gives. Failures decided
// up front (status overrides, the fail rate, an unknown model) are returned
// here, as an upstream's HTTP error would be; the stream itself only fails
// on cancellation or simulator.fail_after_tokens.
func (p *Provider) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	pl, err := p.prepare(ctx, req, true)
	if err != nil {
		return nil, err
	}
	return newStream(ctx, p, pl), nil
}

// Embed returns deterministic unit-length vectors, one per input, derived
// from a hash of the model and the input.
func (p *Provider) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := p.checkKey(); err != nil {
		return nil, err
	}
	if err := p.checkModel(req.Model); err != nil {
		return nil, err
	}
	if len(req.InputTokens) > 0 {
		return nil, llm.InvalidParam("input", "token-id input is not supported by the simulator; send text")
	}
	if len(req.Input) == 0 {
		return nil, p.invalid("input must not be empty")
	}
	dim := DefaultEmbeddingDim
	if req.Dimensions != nil {
		dim = *req.Dimensions
		if dim < 1 || dim > MaxEmbeddingDim {
			return nil, p.invalid("dimensions must be between 1 and %d, got %d", MaxEmbeddingDim, dim)
		}
	}
	if err := p.randomFailure(); err != nil {
		return nil, err
	}
	resp := &llm.EmbeddingResponse{Model: req.Model, Vectors: make([][]float32, len(req.Input))}
	base := hashString(hashString(fnvOffset, req.Model), "\xff")
	for i, in := range req.Input {
		resp.Vectors[i] = unitVector(hashString(base, in), dim)
		resp.Usage.PromptTokens += estimateTokens(len(in))
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	return resp, nil
}

func unitVector(h uint64, dim int) []float32 {
	v := make([]float32, dim)
	var norm float64
	for j := range v {
		// 53 random bits mapped to [-1, 1).
		x := float64(mix(h+uint64(j)*golden)>>11)/(1<<53)*2 - 1
		v[j] = float32(x)
		norm += x * x
	}
	if norm == 0 {
		v[0] = 1
		return v
	}
	inv := 1 / math.Sqrt(norm)
	for j := range v {
		v[j] = float32(float64(v[j]) * inv)
	}
	return v
}

// plan is one request's fully decided answer; Chat renders it at once and a
// stream chunk by chunk, so the two cannot disagree.
type plan struct {
	id      string
	model   string
	created int64
	text    string
	words   int
	ends    []int // end offset in text of each word chunk (streams only)
	tool    *llm.ToolCall
	frags   []int // end offsets in tool.Arguments of each fragment
	finish  string
	usage   llm.Usage
	ttft    time.Duration
	delay   time.Duration
	// reasoning and its signature, when the request asked for thinking
	// (WithThinking); streamed before the content.
	reasoning, signature string
	// failAfter is the number of content chunks after which the answer
	// breaks with a 502; -1 means never.
	failAfter int
}

// chunks counts the content chunks a stream sends between the role chunk
// and the finish chunk.
func (pl *plan) chunks() int {
	if pl.tool != nil {
		return 1 + len(pl.frags)
	}
	return pl.words
}

type overrides struct {
	tokens     int
	delay      time.Duration
	hasDelay   bool
	failStatus int
	retryAfter time.Duration
	failAfter  int
}

func (p *Provider) prepare(ctx context.Context, req *llm.ChatRequest, stream bool) (*plan, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if req == nil {
		return nil, p.invalid("request is nil")
	}
	if err := p.checkKey(); err != nil {
		return nil, err
	}
	ov, err := p.overrides(req.Metadata)
	if err != nil {
		return nil, err
	}
	if err := p.checkModel(req.Model); err != nil {
		return nil, err
	}
	if len(req.Messages) == 0 {
		return nil, p.invalid("messages must not be empty")
	}
	if req.MaxTokens != nil && *req.MaxTokens < 1 {
		return nil, p.invalid("max_tokens must be at least 1, got %d", *req.MaxTokens)
	}
	if ov.failStatus != 0 {
		return nil, &llm.UpstreamError{Provider: p.name, Status: ov.failStatus, RetryAfter: ov.retryAfter,
			Message: "simulated failure (" + MetaFailStatus + ")"}
	}
	if err := p.checkSignatures(req.Messages); err != nil {
		return nil, err
	}
	if err := p.randomFailure(); err != nil {
		return nil, err
	}

	h := hashRequest(req)
	pl := &plan{
		id:        "chatcmpl-sim-" + strconv.FormatUint((h^p.seed)|1<<63, 16)[:8] + "-" + strconv.FormatUint(p.ids.Add(1), 16),
		model:     req.Model,
		created:   p.now().Unix(),
		ttft:      p.ttft,
		delay:     p.tokenDelay,
		failAfter: ov.failAfter,
	}
	if ov.hasDelay {
		pl.delay = ov.delay
	}
	pl.usage.PromptTokens = promptTokens(req.Messages)

	if fn, ok, err := p.toolToCall(req); err != nil {
		return nil, err
	} else if ok {
		pl.tool = p.toolCall(h, fn)
		pl.finish = llm.FinishToolCalls
		pl.usage.CompletionTokens = estimateTokens(len(pl.tool.Name) + len(pl.tool.Arguments))
		pl.frags = fragments(pl.tool.Arguments, 8)
	} else {
		n := p.tokens
		if ov.tokens > 0 {
			n = ov.tokens
		}
		pl.finish = llm.FinishStop
		if req.MaxTokens != nil && *req.MaxTokens < n {
			n, pl.finish = *req.MaxTokens, llm.FinishLength
		}
		var ends *[]int
		if stream {
			pl.ends = make([]int, 0, n)
			ends = &pl.ends
		}
		pl.text = p.reply(req.Model, h, n, ends)
		pl.words = n
		pl.usage.CompletionTokens = n
	}
	if p.thinking && req.Thinking != nil && req.Thinking.Type != llm.ThinkingDisabled {
		pl.reasoning = p.thought(h)
		pl.signature = signature(pl.reasoning)
		// Thinking is output, billed as such (Anthropic counts it in
		// output_tokens).
		pl.usage.ReasoningTokens = estimateTokens(len(pl.reasoning))
		pl.usage.CompletionTokens += pl.usage.ReasoningTokens
	}
	pl.usage.TotalTokens = pl.usage.PromptTokens + pl.usage.CompletionTokens
	return pl, nil
}

func (p *Provider) overrides(md map[string]string) (overrides, error) {
	ov := overrides{failAfter: -1}
	if len(md) == 0 {
		return ov, nil
	}
	if s, ok := md[MetaTokens]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > MaxResponseTokens {
			return ov, p.invalid("metadata %s must be an integer 1-%d, got %q", MetaTokens, MaxResponseTokens, s)
		}
		ov.tokens = n
	}
	if s, ok := md[MetaDelay]; ok {
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil || d < 0 || d > MaxDelay {
			return ov, p.invalid("metadata %s must be a duration 0-%s, got %q", MetaDelay, MaxDelay, s)
		}
		ov.delay, ov.hasDelay = d, true
	}
	if s, ok := md[MetaFailStatus]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 400 || n > 599 {
			return ov, p.invalid("metadata %s must be an HTTP status 400-599, got %q", MetaFailStatus, s)
		}
		ov.failStatus = n
	}
	if s, ok := md[MetaRetryAfter]; ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || f < 0 || f > MaxDelay.Seconds() {
			return ov, p.invalid("metadata %s must be seconds 0-%g, got %q", MetaRetryAfter, MaxDelay.Seconds(), s)
		}
		ov.retryAfter = time.Duration(f * float64(time.Second))
	}
	if s, ok := md[MetaFailAfterTokens]; ok {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 0 {
			return ov, p.invalid("metadata %s must be a non-negative integer, got %q", MetaFailAfterTokens, s)
		}
		ov.failAfter = n
	}
	return ov, nil
}

// checkKey refuses calls made with a bad key, before anything else, as an
// upstream checks credentials first.
func (p *Provider) checkKey() error {
	if !p.badKey {
		return nil
	}
	return &llm.UpstreamError{Provider: p.name, Status: 401, Type: "authentication_error", Code: "invalid_api_key",
		Message: "simulated invalid API key (simulator keys starting with \"" + BadKeyPrefix + "\" are refused)"}
}

func (p *Provider) checkModel(model string) error {
	if model == "" {
		return p.invalid("model is required")
	}
	if p.modelSet != nil && !p.modelSet[model] {
		return &llm.UpstreamError{Provider: p.name, Status: 404, Type: "invalid_request_error", Code: "model_not_found",
			Message: fmt.Sprintf("model %q not found", model)}
	}
	return nil
}

func (p *Provider) invalid(format string, args ...any) error {
	return &llm.UpstreamError{Provider: p.name, Status: 400, Type: "invalid_request_error", Message: fmt.Sprintf(format, args...)}
}

func (p *Provider) brokenStream(after int) error {
	return &llm.UpstreamError{Provider: p.name, Status: 502,
		Message: fmt.Sprintf("simulated stream failure after %d chunks (%s)", after, MetaFailAfterTokens)}
}

// randomFailure draws the next fault decision.
func (p *Provider) randomFailure() error {
	if p.failRate == 0 {
		return nil
	}
	n := p.draws.Add(1)
	if float64(mix(p.seed+n*golden)>>11)/(1<<53) >= p.failRate {
		return nil
	}
	return &llm.UpstreamError{Provider: p.name, Status: p.failStatus, RetryAfter: p.retryAfter, Message: "simulated failure"}
}

// reply renders n words: "Simulated reply from <model>:" and then words
// picked from the vocabulary by the request hash. With ends set it records
// where each stream chunk (a word and the space after it) ends.
func (p *Provider) reply(model string, h uint64, n int, ends *[]int) string {
	var b strings.Builder
	b.Grow(len(model) + 8*n)
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
			if ends != nil {
				*ends = append(*ends, b.Len())
			}
		}
		switch i {
		case 0:
			b.WriteString("Simulated")
		case 1:
			b.WriteString("reply")
		case 2:
			b.WriteString("from")
		case 3:
			b.WriteString(model)
			b.WriteByte(':')
		default:
			b.WriteString(p.vocab[mix(h+uint64(i)*golden)%uint64(len(p.vocab))])
		}
	}
	if ends != nil {
		*ends = append(*ends, b.Len())
	}
	return b.String()
}

// promptTokens estimates about four characters a token, at least one per
// message; an image counts as a low-detail image does upstream.
func promptTokens(msgs []llm.Message) int {
	total := 0
	for _, m := range msgs {
		chars := len(m.Content) + len(m.Name) + len(m.ReasoningContent) + len(m.Refusal)
		images := 0
		for _, part := range m.Parts {
			chars += len(part.Text)
			if part.Type == llm.PartImage {
				images++
			}
		}
		for _, tc := range m.ToolCalls {
			chars += len(tc.Name) + len(tc.Arguments)
		}
		total += estimateTokens(chars) + 85*images
	}
	return total
}

func estimateTokens(chars int) int { return max(1, chars/4) }

// vocabulary returns a fresh word list per Provider; there is no package
// state to share.
func vocabulary() []string {
	return []string{
		"routing", "gateway", "latency", "token", "stream", "provider", "fallback", "cache",
		"request", "balance", "target", "weight", "priority", "budget", "upstream", "signal",
		"model", "answer", "quickly", "steady", "bright", "quiet", "river", "harbor",
		"beacon", "orbit", "lantern", "meadow", "summit", "canyon", "breeze", "copper",
		"silver", "amber", "cedar", "maple", "falcon", "otter", "pebble", "comet",
		"window", "bridge", "garden", "forest", "island", "valley", "thunder", "candle",
		"simple", "robust", "careful", "gentle", "precise", "nimble", "patient", "clever",
		"and", "the", "with", "through", "across", "beyond", "under", "within",
	}
}
