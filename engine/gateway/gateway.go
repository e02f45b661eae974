// Package gateway is the one request lifecycle every transport calls once
// per request: admit (the caller's key: allowlists, RPM/TPM, budget hold)
// → route (cache, coalescing, pick, breaker, retries, fallback, hedging,
// adapter) → settle (the real or estimated cost, exactly once) → record
// (one Record to the observer: metrics, ledger, tracing, alerts). It works
// in domain types only: transports decode their wire format into engine/llm
// and encode the answer back, and hold no lifecycle logic of their own.
package gateway

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

// Router is what the lifecycle needs of the engine's router.
type Router interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, route.Info, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (*route.Stream, error)
	Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, route.Info, error)
}

// falseHitReporter is the router's semantic false-hit report
// (route.Router.ReportSemanticFalseHit).
type falseHitReporter interface {
	ReportSemanticFalseHit(ctx context.Context, entry string) (bool, error)
}

// ReportSemanticFalseHit passes a client's report that a semantic hit
// answered a different question to the semantic cache. Any client may
// report: an entry id is only learnt from a hit in the client's scope.
func (g *Gateway) ReportSemanticFalseHit(ctx context.Context, entry string) (bool, error) {
	r, ok := g.router.(falseHitReporter)
	if !ok {
		return false, &llm.Error{Kind: llm.KindNotFound, Message: "no route has a semantic cache"}
	}
	return r.ReportSemanticFalseHit(ctx, entry)
}

// Admitter admits a request for a client key: allowed models, rate limits
// and budget (access.Gate). A nil ticket is valid.
type Admitter interface {
	Admit(ctx context.Context, k *access.Key, req *llm.ChatRequest) (*access.Ticket, error)
}

// Observer receives one Record per finished request, refusals, failures,
// cache hits and partial streams included. ctx is the request's (a
// transport's tracing span rides on it); Observe must not block.
type Observer interface {
	RequestStarted()
	RequestFinished()
	Observe(ctx context.Context, rec Record)
}

// Call is what a transport knows of a request at the door.
type Call struct {
	RequestID string
	// Client names the caller's key in records ("" without auth).
	Client string
	// Key is the caller's policy; nil admits without checks.
	Key *access.Key
	// Dialect is the wire format the request came in: "grpc", "openai",
	// "anthropic", … (recorded in the ledger).
	Dialect string
	// Region is the client's X-Switchyard-Region, for route rules.
	Region string
	// SetHeader, when set, receives the rate-limit state (x-ratelimit-*),
	// denials included.
	SetHeader func(name, value string)
}

// hint hands route rules who is asking: the client, its region and its
// key's labels.
func (c *Call) hint(h *llm.Hints) {
	h.Client, h.Region = c.Client, c.Region
	if c.Key != nil {
		h.Labels = c.Key.Labels
	}
}

// Record describes one finished request.
type Record struct {
	RequestID string
	Client    string
	Dialect   string
	Route     string
	Provider  string
	Target    string
	Model     string // upstream model
	Status    string // ok, or the error kind (StatusLabel)
	Cache     string // hit | semantic_hit | miss | coalesced | bypass | ""
	Stream    bool
	Partial   bool // a stream that broke after its first chunk
	Embedding bool
	Attempts  int
	Latency   time.Duration
	TTFT      time.Duration
	// Usage is what the request is billed for: its own and, when hedged,
	// the losing lanes' (route.Info.Extra).
	Usage llm.Usage
	Cost  llm.Money
	// Estimated marks usage (and so cost) the provider did not report.
	Estimated bool
}

// Gateway runs the lifecycle.
type Gateway struct {
	router Router
	gate   Admitter
	obs    Observer
	log    hclog.Logger
	now    func() time.Time
}

// Option configures a Gateway.
type Option func(*Gateway)

// WithAdmission checks every request with a before it is routed and
// settles its reservations afterwards.
func WithAdmission(a Admitter) Option { return func(g *Gateway) { g.gate = a } }

// WithObserver reports every finished request to o.
func WithObserver(o Observer) Option { return func(g *Gateway) { g.obs = o } }

// WithClock injects the clock that latencies are measured on (tests).
func WithClock(now func() time.Time) Option { return func(g *Gateway) { g.now = now } }

// New returns a Gateway over router; log (nil: discard) gets the routing
// decisions at debug level.
func New(router Router, log hclog.Logger, opts ...Option) *Gateway {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	g := &Gateway{router: router, log: log, obs: nopObserver{}, now: time.Now}
	for _, o := range opts {
		o(g)
	}
	return g
}

type nopObserver struct{}

func (nopObserver) RequestStarted()                 {}
func (nopObserver) RequestFinished()                {}
func (nopObserver) Observe(context.Context, Record) {}

// admit runs the gate and reports the rate-limit state to the call's
// response headers, denials included.
func (g *Gateway) admit(ctx context.Context, c Call, req *llm.ChatRequest) (*access.Ticket, error) {
	if g.gate == nil || c.Key == nil {
		return nil, nil
	}
	t, err := g.gate.Admit(ctx, c.Key, req)
	st := t.Status()
	if err != nil {
		st, _ = limits.StatusOf(err)
	}
	if st != (limits.Status{}) && c.SetHeader != nil {
		st.Headers(c.SetHeader)
	}
	return t, err
}

// settle charges a request's usage and cost to its key's limits and budget,
// once. A failure to settle (Redis gone) is logged: the answer is out.
func (g *Gateway) settle(ctx context.Context, c Call, t *access.Ticket, info route.Info, u llm.Usage) {
	if t == nil {
		return
	}
	u, cost := billable(info, u), info.Cost
	if sem := info.Semantic; sem != nil && sem.Embedded {
		// The semantic lookup's embedding reached a provider: it is the
		// caller's, hit or miss.
		u, cost = u.Add(sem.EmbedUsage), cost+sem.Embed.Cost
	}
	if err := t.Settle(ctx, u, cost); err != nil {
		g.log.Warn("settling rate limit and budget failed", "request_id", c.RequestID, "error", err)
	}
}

// billable is the usage a request takes from its key's token allowance:
// answers served from the cache cost the upstream nothing, so they take
// nothing, nor does one shared with an identical request that paid for it
// (a coalesced request with no cost of its own); a hedged request takes
// its losing lanes' tokens too.
func billable(info route.Info, u llm.Usage) llm.Usage {
	if info.Cache == llm.CacheHit || info.Cache == llm.CacheSemanticHit || (info.Cache == llm.CacheCoalesced && info.Cost == 0) {
		return llm.Usage{}
	}
	return u.Add(info.Extra)
}

func (g *Gateway) record(c Call, info route.Info, u llm.Usage, err error, latency, ttft time.Duration) Record {
	return Record{
		RequestID: c.RequestID, Client: c.Client, Dialect: c.Dialect,
		Provider: info.Provider, Target: info.Target, Model: info.UpstreamModel, Route: info.Route, Status: StatusLabel(err),
		Cache: info.Cache.String(), Attempts: info.Attempts, Latency: latency, TTFT: ttft, Usage: u.Add(info.Extra),
		Cost: info.Cost, Estimated: info.Estimated,
	}
}

// observeEmbedding records the embedding call a semantic lookup made as a
// request of its own (same request id and client, Embedding set), so the
// ledger bills it like any embeddings request.
func (g *Gateway) observeEmbedding(ctx context.Context, c Call, info route.Info) {
	sem := info.Semantic
	if sem == nil || !sem.Embedded {
		return
	}
	rec := g.record(c, sem.Embed, sem.EmbedUsage, nil, 0, 0)
	rec.Embedding = true
	g.obs.Observe(ctx, rec)
}

func (g *Gateway) logDecision(c Call, info route.Info, err error) {
	if !g.log.IsDebug() {
		return
	}
	g.log.Debug("routed", "request_id", c.RequestID, "dialect", c.Dialect, "route", info.Route, "rule", info.Rule, "strategy", info.Strategy,
		"target", info.Target, "attempts", info.Attempts, "hedged", info.Hedged, "panic", info.Panic, "scores", info.Scores, "error", err)
}

// StatusLabel names an outcome for metrics and the ledger: ok, or the
// error kind.
func StatusLabel(err error) string {
	if err == nil {
		return "ok"
	}
	switch llm.KindOf(err) {
	case llm.KindInvalidRequest:
		return "invalid_request"
	case llm.KindUnauthenticated:
		return "unauthenticated"
	case llm.KindPermissionDenied:
		return "permission_denied"
	case llm.KindNotFound:
		return "not_found"
	case llm.KindRateLimited:
		return "rate_limited"
	case llm.KindUnavailable:
		return "unavailable"
	case llm.KindTimeout:
		return "timeout"
	case llm.KindCanceled:
		return "canceled"
	}
	return "error"
}

// Chat serves a unary chat request.
func (g *Gateway) Chat(ctx context.Context, c Call, req *llm.ChatRequest) (*llm.ChatResponse, route.Info, error) {
	c.hint(&req.Hints)
	return unary(ctx, g, c, req, false, func() (*llm.ChatResponse, llm.Usage, route.Info, error) {
		resp, info, err := g.router.Chat(ctx, req)
		if resp == nil {
			return nil, llm.Usage{}, info, err
		}
		return resp, resp.Usage, info, err
	})
}

// Embed serves an embeddings request. Admission sizes it as a prompt with
// no completion.
func (g *Gateway) Embed(ctx context.Context, c Call, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, route.Info, error) {
	probe := &llm.ChatRequest{Model: req.Model, Hints: req.Hints, MaxTokens: new(int), Messages: make([]llm.Message, len(req.Input), len(req.Input)+len(req.InputTokens))}
	for i, s := range req.Input {
		probe.Messages[i] = llm.Message{Role: llm.RoleUser, Content: s}
	}
	// Token-id input is sized by its ids: admission counts text at three
	// bytes a token, so each id stands for three bytes of a shared pad
	// (slices of it, nothing copied).
	for _, ids := range req.InputTokens {
		for n := len(ids); n > 0; n -= len(tokenPad) / 3 {
			probe.Messages = append(probe.Messages, llm.Message{Role: llm.RoleUser, Content: tokenPad[:3*min(n, len(tokenPad)/3)]})
		}
	}
	return unary(ctx, g, c, probe, true, func() (*llm.EmbeddingResponse, llm.Usage, route.Info, error) {
		resp, info, err := g.router.Embed(ctx, req)
		if resp == nil {
			return nil, llm.Usage{}, info, err
		}
		return resp, resp.Usage, info, err
	})
}

// unary is the lifecycle of one unary call: admit (sized by probe), call,
// settle, record — a refusal is recorded too.
func unary[T any](ctx context.Context, g *Gateway, c Call, probe *llm.ChatRequest, embedding bool,
	call func() (T, llm.Usage, route.Info, error)) (T, route.Info, error) {
	var zero T
	start := g.now()
	ticket, err := g.admit(ctx, c, probe)
	if err != nil {
		info := route.Info{Route: probe.Model}
		rec := g.record(c, info, llm.Usage{}, err, g.now().Sub(start), 0)
		rec.Embedding = embedding
		g.obs.Observe(ctx, rec)
		return zero, info, err
	}
	g.obs.RequestStarted()
	resp, usage, info, err := call()
	g.obs.RequestFinished()
	g.settle(ctx, c, ticket, info, usage)
	rec := g.record(c, info, usage, err, g.now().Sub(start), 0)
	rec.Embedding = embedding
	g.obs.Observe(ctx, rec)
	g.observeEmbedding(ctx, c, info)
	g.logDecision(c, info, err)
	return resp, info, err
}

// ChatStream admits and opens a stream. It fails before anything is sent,
// so transports can still answer with a proper error status; after that
// the Stream's Close settles and records the request.
func (g *Gateway) ChatStream(ctx context.Context, c Call, req *llm.ChatRequest) (*Stream, error) {
	c.hint(&req.Hints)
	start := g.now()
	ticket, err := g.admit(ctx, c, req)
	if err != nil {
		rec := g.record(c, route.Info{Route: req.Model}, llm.Usage{}, err, g.now().Sub(start), 0)
		rec.Stream = true
		g.obs.Observe(ctx, rec)
		return nil, err
	}
	g.obs.RequestStarted()
	st, err := g.router.ChatStream(ctx, req)
	if err != nil {
		info := route.Info{Route: req.Model}
		g.settle(ctx, c, ticket, info, llm.Usage{})
		g.obs.RequestFinished()
		rec := g.record(c, info, llm.Usage{}, err, g.now().Sub(start), 0)
		rec.Stream = true
		g.obs.Observe(ctx, rec)
		g.logDecision(c, info, err)
		return nil, err
	}
	g.logDecision(c, st.Info(), nil)
	return &Stream{g: g, ctx: ctx, call: c, st: st, ticket: ticket, start: start}, nil
}

// Stream is an admitted, routed stream. Recv is for one goroutine; Close
// must be called once the transport is done with it, whatever happened.
type Stream struct {
	g      *Gateway
	ctx    context.Context
	call   Call
	st     *route.Stream
	ticket *access.Ticket
	start  time.Time
	ttft   time.Duration
	sent   int
	err    error
	closed bool
}

// Recv returns the next chunk, io.EOF after the last, or the error that
// ended the stream. When the transport cancelled the request with a domain
// error as its cause (a drain deadline), that cause is the error: the
// client is still there to be told.
func (s *Stream) Recv() (llm.Chunk, error) {
	c, err := s.st.Recv()
	if err != nil {
		if !errors.Is(err, io.EOF) {
			var de *llm.Error
			if cause := context.Cause(s.ctx); s.ctx.Err() != nil && errors.As(cause, &de) {
				err = de
			}
			s.err = err
		}
		return c, err
	}
	if s.sent == 0 {
		s.ttft = s.g.now().Sub(s.start)
	}
	s.sent++
	return c, nil
}

// Info reports the routing decision and the cost so far.
func (s *Stream) Info() route.Info { return s.st.Info() }

// Usage is the usage the upstream reported, or (partial) an estimate of
// what was relayed before the stream broke.
func (s *Stream) Usage() (u llm.Usage, partial bool) { return s.st.Usage() }

// Close releases the upstream stream, then settles and records the
// request once: the bill is final after the router's Close (an estimate
// when the upstream never sent its usage, plus any hedge lane that lost).
func (s *Stream) Close() error {
	err := s.st.Close()
	if s.closed {
		return err
	}
	s.closed = true
	u, partial := s.st.Usage()
	info := s.st.Info()
	// The request's own context may be gone (the client left): settling
	// must still happen.
	ctx := context.WithoutCancel(s.ctx)
	s.g.settle(ctx, s.call, s.ticket, info, u)
	s.g.obs.RequestFinished()
	rec := s.g.record(s.call, info, u, s.err, s.g.now().Sub(s.start), s.ttft)
	rec.Stream, rec.Partial = true, s.err != nil && s.sent > 0
	rec.Estimated = rec.Estimated || (partial && info.Cost > 0)
	s.g.obs.Observe(ctx, rec)
	s.g.observeEmbedding(ctx, s.call, info)
	return err
}

// CountTokens estimates the prompt tokens of req without calling a provider
// (Anthropic's count_tokens, Gemini's countTokens): about four bytes a token
// over the text, tool definitions and tool calls, plus a few tokens of
// framing per message. It is an estimate, said so to the client by the
// dialects that can; no provider's tokenizer runs here.
func (g *Gateway) CountTokens(ctx context.Context, c Call, req *llm.ChatRequest) (int, error) {
	n := 0
	for i := range req.Messages {
		m := &req.Messages[i]
		n += len(m.Content) + 4*4 // role and message framing
		for _, p := range m.Parts {
			n += len(p.Text)
		}
		for _, tc := range m.ToolCalls {
			n += len(tc.Name) + len(tc.Arguments)
		}
	}
	for _, t := range req.Tools {
		n += len(t.Name) + len(t.Description) + len(t.Parameters)
	}
	return (n + 3) / 4, nil
}

// tokenPad sizes token-id embedding input for admission (Embed); never
// written.
var tokenPad = strings.Repeat("x", 3*8192)
