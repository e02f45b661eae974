// Package rpc implements the generated service handlers: proto in, domain
// call, proto out. It is shared by every protocol: connect-go serves it as
// gRPC, gRPC-Web and Connect; the REST facade calls it in-process.
package rpc

import (
	"context"
	"errors"
	"io"
	"time"

	"net/http"

	"connectrpc.com/connect"
	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/telemetry"
)

// Router is what the chat, model and embedding services need from the engine.
type Router interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, route.Info, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (*route.Stream, error)
	Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, route.Info, error)
	Table() *route.Table
}

// Chat implements ChatService. Its methods return domain errors; the
// connect interceptor (Interceptor) and the REST facade map them.
type Chat struct {
	router Router
	log    hclog.Logger
	obs    Observer
	gate   Admitter
}

// Admitter admits a request for the caller's client key: allowed models,
// rate limits and budget (engine/access.Gate). A nil ticket is valid.
type Admitter interface {
	Admit(ctx context.Context, k *access.Key, req *llm.ChatRequest) (*access.Ticket, error)
}

// WithAdmission checks every chat request with a before it is routed and
// settles its reservations with the real usage afterwards.
func WithAdmission(a Admitter) ChatOption { return func(c *Chat) { c.gate = a } }

// admit runs the gate and reports the rate-limit state to the caller's
// response headers (x-ratelimit-*), denials included.
func admit(ctx context.Context, gate Admitter, req *llm.ChatRequest) (*access.Ticket, error) {
	if gate == nil {
		return nil, nil
	}
	k := access.FromContext(ctx)
	if k == nil {
		return nil, nil
	}
	t, err := gate.Admit(ctx, k, req)
	st := t.Status()
	if err != nil {
		st, _ = limits.StatusOf(err)
	}
	if st != (limits.Status{}) {
		if set := headerSetter(ctx); set != nil {
			st.Headers(set)
		}
	}
	return t, err
}

// responseHeaderKey carries the REST facade's response headers: in-process
// calls have no connect call info to set headers on.
type responseHeaderKey struct{}

// WithResponseHeader lets the services set response headers (x-ratelimit-*)
// on h when called in-process.
func WithResponseHeader(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, responseHeaderKey{}, h)
}

func headerSetter(ctx context.Context) func(name, value string) {
	if h, ok := ctx.Value(responseHeaderKey{}).(http.Header); ok {
		return h.Set
	}
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		return ci.ResponseHeader().Set
	}
	return nil
}

// Observer receives one record per finished request (Prometheus metrics,
// the usage ledger): streams, partial streams, cache hits and failures.
type Observer interface {
	RequestStarted()
	RequestFinished()
	Observe(RequestRecord)
}

// RequestRecord describes one finished request.
type RequestRecord struct {
	RequestID string
	Client    string // client key fingerprint, "" without auth
	Route     string
	Provider  string
	Target    string
	Model     string // upstream model
	Status    string // ok, or the error kind
	Cache     string // hit | miss | coalesced | bypass | ""
	Stream    bool
	Partial   bool // a stream that broke after its first chunk
	Attempts  int
	Latency   time.Duration
	TTFT      time.Duration
	// Usage is what the request is billed for: its own and, when hedged,
	// the losing lanes' (route.Info.Extra).
	Usage llm.Usage
	Cost  llm.Money
	// Estimated marks usage (and so cost) the provider did not report:
	// counted from the request and from what was relayed.
	Estimated bool
}

// ChatOption configures Chat.
type ChatOption func(*Chat)

// WithObserver reports every finished request to o.
func WithObserver(o Observer) ChatOption { return func(c *Chat) { c.obs = o } }

// NewChat returns the chat service over router. log receives one debug
// line per routing decision (with the hybrid scores); nil discards.
func NewChat(router Router, log hclog.Logger, opts ...ChatOption) *Chat {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	c := &Chat{router: router, log: log, obs: nopObserver{}}
	for _, o := range opts {
		o(c)
	}
	return c
}

type nopObserver struct{}

func (nopObserver) RequestStarted()       {}
func (nopObserver) RequestFinished()      {}
func (nopObserver) Observe(RequestRecord) {}

// observe reports a finished request to the observer and to the request's
// trace span.
func (s *Chat) observe(ctx context.Context, rec RequestRecord) {
	traceRequest(telemetry.SpanFrom(ctx), rec)
	s.obs.Observe(rec)
}

func traceRequest(span telemetry.Span, rec RequestRecord) {
	span.AnnotateRequest(telemetry.Request{Route: rec.Route, Provider: rec.Provider, Target: rec.Target, Model: rec.Model,
		Status: rec.Status, Cache: rec.Cache, Stream: rec.Stream, Partial: rec.Partial, Attempts: rec.Attempts,
		PromptTokens: rec.Usage.PromptTokens, CompletionTokens: rec.Usage.CompletionTokens,
		CachedTokens: rec.Usage.CachedTokens, ReasoningTokens: rec.Usage.ReasoningTokens, CostUSD: rec.Cost.Dollars()})
}

// statusLabel names an outcome for metrics: ok, or the error kind.
func statusLabel(err error) string {
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

func recordOf(ctx context.Context, info route.Info, u llm.Usage, err error, latency, ttft time.Duration) RequestRecord {
	return RequestRecord{
		RequestID: middleware.RequestID(ctx), Client: middleware.Client(ctx),
		Provider: info.Provider, Target: info.Target, Model: info.UpstreamModel, Route: info.Route, Status: statusLabel(err),
		Cache: info.Cache.String(), Attempts: info.Attempts, Latency: latency, TTFT: ttft, Usage: u.Add(info.Extra),
		Cost: info.Cost, Estimated: info.Estimated,
	}
}

func (s *Chat) logDecision(ctx context.Context, info route.Info, err error) {
	if !s.log.IsDebug() {
		return
	}
	s.log.Debug("routed", "request_id", middleware.RequestID(ctx), "route", info.Route, "strategy", info.Strategy,
		"target", info.Target, "attempts", info.Attempts, "hedged", info.Hedged, "panic", info.Panic, "scores", info.Scores, "error", err)
}

// CreateChatCompletion serves a unary chat request.
func (s *Chat) CreateChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest) (*pb.ChatCompletion, error) {
	req, err := ChatRequestFromProto(in)
	if err != nil {
		return nil, err
	}
	req.Hints.Client = middleware.Client(ctx)
	start := time.Now()
	ticket, err := admit(ctx, s.gate, req)
	if err != nil {
		s.observe(ctx, recordOf(ctx, route.Info{Route: req.Model}, llm.Usage{}, err, time.Since(start), 0))
		return nil, err
	}
	s.obs.RequestStarted()
	resp, info, err := s.router.Chat(ctx, req)
	s.obs.RequestFinished()
	var usage llm.Usage
	if resp != nil {
		usage = resp.Usage
	}
	s.settle(ctx, ticket, billable(info, usage), info.Cost)
	s.observe(ctx, recordOf(ctx, info, usage, err, time.Since(start), 0))
	s.logDecision(ctx, info, err)
	if err != nil {
		return nil, err
	}
	return ChatResponseToProto(resp, infoToProto(middleware.RequestID(ctx), info)), nil
}

// StreamOpen is a chat stream opened and ready to relay. Open fails before
// anything is sent so transports can still answer with a proper error status.
type StreamOpen struct {
	st           *route.Stream
	includeUsage bool
	requestID    string
	sent         int
	obs          Observer
	start        time.Time
	ttft         time.Duration
	err          error
	closed       bool
	client       string
	ticket       *access.Ticket
	chat         *Chat
	span         telemetry.Span
	ctx          context.Context // the request's: says whether a drain cut it
}

// billable is the usage a request takes from its key's token allowance:
// answers served from the cache cost the upstream nothing, so they take
// nothing, nor does one shared with an identical request that paid for it
// (a coalesced request with no cost of its own); a hedged request takes
// its losing lanes' tokens too.
func billable(info route.Info, u llm.Usage) llm.Usage {
	if info.Cache == llm.CacheHit || (info.Cache == llm.CacheCoalesced && info.Cost == 0) {
		return llm.Usage{}
	}
	return u.Add(info.Extra)
}

// settle charges a request's real usage to its key's limits and budget.
// A failure to settle (Redis gone) is logged: the answer is already out.
func (s *Chat) settle(ctx context.Context, t *access.Ticket, u llm.Usage, cost llm.Money) {
	if t == nil {
		return
	}
	if err := t.Settle(ctx, u, cost); err != nil {
		s.log.Warn("settling rate limit and budget failed", "request_id", middleware.RequestID(ctx), "error", err)
	}
}

// OpenStream validates the request and opens the upstream stream.
func (s *Chat) OpenStream(ctx context.Context, in *pb.CreateChatCompletionRequest) (*StreamOpen, error) {
	req, err := ChatRequestFromProto(in)
	if err != nil {
		return nil, err
	}
	req.Hints.Client = middleware.Client(ctx)
	start := time.Now()
	ticket, err := admit(ctx, s.gate, req)
	if err != nil {
		rec := recordOf(ctx, route.Info{Route: req.Model}, llm.Usage{}, err, time.Since(start), 0)
		rec.Stream = true
		s.observe(ctx, rec)
		return nil, err
	}
	s.obs.RequestStarted()
	st, err := s.router.ChatStream(ctx, req)
	if err != nil {
		s.settle(ctx, ticket, llm.Usage{}, 0)
		s.obs.RequestFinished()
		rec := recordOf(ctx, route.Info{Route: req.Model}, llm.Usage{}, err, time.Since(start), 0)
		rec.Stream = true
		s.observe(ctx, rec)
		s.logDecision(ctx, route.Info{Route: req.Model}, err)
		return nil, err
	}
	s.logDecision(ctx, st.Info(), nil)
	return &StreamOpen{st: st, includeUsage: req.IncludeUsage, requestID: middleware.RequestID(ctx), obs: s.obs, start: start,
		client: middleware.Client(ctx), ticket: ticket, chat: s, span: telemetry.SpanFrom(ctx), ctx: ctx}, nil
}

// Next returns the next chunk for the client, or io.EOF. The routing block
// rides on the first chunk and the usage chunk (or the last chunk when
// usage was not asked for).
func (o *StreamOpen) Next() (*pb.ChatCompletionChunk, error) {
	for {
		c, err := o.st.Recv()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				o.err = err
				// Cut by the drain deadline, not by the client: recorded
				// (and answered) as the gateway's unavailability.
				if sd := middleware.ShuttingDown(o.ctx); sd != nil {
					o.err, err = sd, sd
				}
			}
			return nil, err
		}
		if o.ttft == 0 {
			o.ttft = time.Since(o.start)
		}
		if c.Usage != nil && len(c.Choices) == 0 && !o.includeUsage {
			continue // accounted by the router; the client did not ask for it
		}
		out := ChunkToProto(&c)
		if !o.includeUsage {
			out.Usage = nil
		}
		if o.sent == 0 || out.Usage != nil {
			out.Switchyard = infoToProto(o.requestID, o.st.Info())
		}
		o.sent++
		return out, nil
	}
}

// Close releases the upstream stream and reports the request, partial
// streams included.
func (o *StreamOpen) Close() error {
	err := o.st.Close()
	if !o.closed {
		o.closed = true
		// After Close the bill is final: an estimate when the upstream never
		// sent its usage chunk, plus any hedge lane that lost.
		u, partial := o.st.Usage()
		info := o.st.Info()
		o.chat.settle(context.Background(), o.ticket, billable(info, u), info.Cost)
		o.obs.RequestFinished()
		rec := recordOf(context.Background(), info, u, o.err, time.Since(o.start), o.ttft)
		rec.RequestID, rec.Client, rec.Stream, rec.Partial = o.requestID, o.client, true, o.err != nil && o.sent > 0
		rec.Estimated = rec.Estimated || (partial && info.Cost > 0)
		traceRequest(o.span, rec)
		o.obs.Observe(rec)
	}
	return err
}

// Usage is the usage the upstream reported, or (partial=true) an estimate
// of the completion tokens relayed before the stream broke.
func (o *StreamOpen) Usage() (u llm.Usage, partial bool) { return o.st.Usage() }

// Info reports the routing decision and cost so far.
func (o *StreamOpen) Info() route.Info { return o.st.Info() }

// StreamChatCompletion relays a stream through send. Errors after the first
// chunk end the stream in-band (the transport's trailer status).
func (s *Chat) StreamChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest, send func(*pb.ChatCompletionChunk) error) error {
	o, err := s.OpenStream(ctx, in)
	if err != nil {
		return err
	}
	defer o.Close()
	for {
		c, err := o.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := send(c); err != nil {
			return err
		}
	}
}

// connectChat adapts Chat to connect's handler interface (simple mode).
type connectChat struct{ *Chat }

func (c connectChat) StreamChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest, st *connect.ServerStream[pb.ChatCompletionChunk]) error {
	return c.Chat.StreamChatCompletion(ctx, in, st.Send)
}
