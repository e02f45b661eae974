package openai

import (
	"context"
	stdjson "encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/ingress"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rest"
)

// Dialect names Chat Completions and Embeddings requests in the ledger.
const Dialect = rest.DialectOpenAI

// Handler serves the Chat Completions and Embeddings routes over the
// request lifecycle.
type Handler struct {
	gw   *gateway.Gateway
	auth ingress.Authorizer
	log  hclog.Logger
	bufs sync.Pool
}

// Option configures a Handler.
type Option func(*Handler)

// New returns the OpenAI dialect; auth nil serves everyone.
func New(gw *gateway.Gateway, auth ingress.Authorizer, log hclog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := &Handler{gw: gw, auth: auth, log: log,
		bufs: sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Register mounts POST /v1/chat/completions and POST /v1/embeddings.
// GET /v1/models stays with the REST facade (server/rest), which also
// answers unknown paths in OpenAI's shape.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /v1/chat/completions", ingress.Guard(h.auth, rest.WriteError, h.chat))
	mux.Handle("POST /v1/embeddings", ingress.Guard(h.auth, rest.WriteError, h.embeddings))
	mux.Handle("POST /v1/cache/false_hits", ingress.Guard(h.auth, rest.WriteError, h.falseHit))
}

// falseHit takes {"entry": "<X-Switchyard-Cache-Entry>"}: a semantic hit
// that answered a different question, taken out of semantic matching.
func (h *Handler) falseHit(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Entry string `json:"entry"`
	}
	if err := stdjson.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&in); err != nil {
		rest.WriteError(w, llm.InvalidParam("", "the body must be {\"entry\": \"<X-Switchyard-Cache-Entry>\"}: %v", err))
		return
	}
	removed, err := h.gw.ReportSemanticFalseHit(r.Context(), in.Entry)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	b, _ := stdjson.Marshal(struct {
		Entry   string `json:"entry"`
		Removed bool   `json:"removed"`
	}{in.Entry, removed})
	writeJSON(w, b)
}

func (h *Handler) getBuf() *[]byte { return h.bufs.Get().(*[]byte) }

func (h *Handler) putBuf(b *[]byte) {
	if cap(*b) <= 1<<20 { // don't pin huge buffers
		*b = (*b)[:0]
		h.bufs.Put(b)
	}
}

// readBody reads the whole body into buf; the body limit is set by the
// middleware.
func readBody(r *http.Request, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Body.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if errors.Is(err, io.EOF) {
			*buf = b
			return b, nil
		}
		if err != nil {
			*buf = b
			return nil, err
		}
	}
}

// Shared header values: net/http only reads them, after the handler set
// them (it copies the map when it writes the head), and a shared slice
// saves an allocation per request.
var (
	jsonContentType  = []string{"application/json"}
	eventContentType = []string{"text/event-stream"}
	noCache          = []string{"no-cache"}
	noBuffering      = []string{"no"}

	cacheMissHeader      = []string{llm.CacheMiss.String()}
	cacheHitHeader       = []string{llm.CacheHit.String()}
	cacheCoalescedHeader = []string{llm.CacheCoalesced.String()}
	cacheBypassHeader    = []string{llm.CacheBypass.String()}
	cacheSemanticHeader  = []string{llm.CacheSemanticHit.String()}
)

func cacheHeader(s llm.CacheStatus) []string {
	switch s {
	case llm.CacheMiss:
		return cacheMissHeader
	case llm.CacheHit:
		return cacheHitHeader
	case llm.CacheCoalesced:
		return cacheCoalescedHeader
	case llm.CacheBypass:
		return cacheBypassHeader
	case llm.CacheSemanticHit:
		return cacheSemanticHeader
	}
	return nil
}

func writeJSON(w http.ResponseWriter, body []byte) {
	w.Header()["Content-Type"] = jsonContentType
	_, _ = w.Write(body)
}

// setRoutingHeaders is ingress.RoutingHeaders without its allocations.
func setRoutingHeaders(h http.Header, info *route.Info) {
	if info.Provider != "" {
		h["X-Switchyard-Provider"] = []string{info.Provider}
	}
	if info.Rule != "" {
		h["X-Switchyard-Rule"] = []string{info.Rule}
	}
	if v := cacheHeader(info.Cache); v != nil {
		h["X-Switchyard-Cache"] = v
	}
	if info.Cache == llm.CacheSemanticHit {
		ingress.SemanticHeaders(h, info)
	}
}

func (h *Handler) chat(w http.ResponseWriter, r *http.Request) {
	buf := h.getBuf()
	defer h.putBuf(buf)
	body, err := readBody(r, buf)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	req, err := decodeChat(body)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	if v := r.Header.Get("X-Switchyard-Cache"); v != "" {
		cc, ok := cacheControls[strings.ToLower(strings.TrimSpace(v))]
		if !ok || strings.TrimSpace(v) == "" {
			rest.WriteError(w, llm.InvalidParam("x-switchyard-cache", "unknown cache directive %q (want default, no-cache, no-store or refresh)", v))
			return
		}
		if req.options == nil {
			req.options = &requestOptions{}
		}
		req.options.cacheControl = cc
	}
	if err := req.validate(); err != nil {
		rest.WriteError(w, err)
		return
	}
	ctx := r.Context()
	call := ingress.CallOf(w, r, Dialect)
	if req.stream {
		h.stream(ctx, w, call, req, buf)
		return
	}
	resp, info, err := h.gw.Chat(ctx, call, &req.ChatRequest)
	if err != nil {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	setRoutingHeaders(w.Header(), &info)
	*buf = appendCompletion((*buf)[:0], resp, &info, call.RequestID)
	writeJSON(w, *buf)
}

var (
	sseData = []byte("data: ")
	sseEnd  = []byte("\n\n")
	sseDone = []byte("data: [DONE]\n\n")
)

// next is the stream's next chunk for the client: a usage-only chunk the
// client did not ask for is accounted by the router and not sent.
func next(st *gateway.Stream, includeUsage bool) (llm.Chunk, error) {
	for {
		c, err := st.Recv()
		if err != nil || includeUsage || c.Usage == nil || len(c.Choices) > 0 {
			return c, err
		}
	}
}

// stream answers with Server-Sent Events. Errors before the first event get
// a normal HTTP error status; after it, an in-band error event ends the
// stream (no [DONE], so clients cannot mistake it for a clean end). The
// routing block rides on the first chunk and on the usage chunk.
func (h *Handler) stream(ctx context.Context, w http.ResponseWriter, call gateway.Call, req *chatRequest, buf *[]byte) {
	st, err := h.gw.ChatStream(ctx, call, &req.ChatRequest)
	if err != nil {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	defer st.Close()
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd["Content-Type"] = eventContentType
	hd["Cache-Control"] = noCache
	hd["X-Accel-Buffering"] = noBuffering
	// The first chunk is read before the head is written: a failure the
	// upstream reports at once still gets a status, and the routing
	// headers know who answered.
	c, err := next(st, req.IncludeUsage)
	if err != nil && !errors.Is(err, io.EOF) {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	var info route.Info
	if err == nil {
		info = st.Info()
		setRoutingHeaders(hd, &info)
	}
	w.WriteHeader(http.StatusOK)
	var pieces [3]llm.Chunk
	for sent := 0; err == nil; {
		for _, p := range frame(pieces[:0], &c, sent == 0, req.IncludeUsage) {
			var ri *route.Info
			if sent == 0 || (req.IncludeUsage && p.Usage != nil) {
				if sent > 0 {
					info = st.Info()
				}
				ri = &info
			}
			b := append((*buf)[:0], sseData...)
			b = appendChunk(b, &p, req.IncludeUsage, ri, call.RequestID)
			b = append(b, sseEnd...)
			*buf = b
			if _, err := w.Write(b); err != nil {
				return // client gone; ctx cancellation stops the upstream
			}
			sent++
		}
		if err := rc.Flush(); err != nil {
			return
		}
		c, err = next(st, req.IncludeUsage)
		if err != nil && !errors.Is(err, io.EOF) {
			// The drain deadline ends ctx too, but then the client is
			// still there to be told why.
			if ctx.Err() == nil || middleware.ShuttingDown(ctx) != nil {
				h.streamError(w, rc, st, call.RequestID, buf, ingress.DrainCause(ctx, err))
			}
			return
		}
	}
	_, _ = w.Write(sseDone)
	_ = rc.Flush()
}

// frame appends to dst the chunks OpenAI's own stream would send for c,
// whatever framing the target used: the first chunk carries the role; a
// finish_reason rides alone on an empty delta after the choice's last
// content (Gemini and some compatible servers put it on the last content
// chunk, and then SDK accumulators — openai-go's JustFinishedContent and
// JustFinishedToolCall — never see the state change they wait for); usage
// comes last on a chunk of its own with no choices, when asked for.
func frame(dst []llm.Chunk, c *llm.Chunk, first, includeUsage bool) []llm.Chunk {
	split := false
	for i := range c.Choices {
		if ch := &c.Choices[i]; ch.FinishReason != "" && hasDelta(&ch.Delta) {
			split = true
			break
		}
	}
	body := *c
	if first && len(body.Choices) > 0 && body.Choices[0].Delta.Role == "" {
		body.Choices = slices.Clone(body.Choices)
		body.Choices[0].Delta.Role = llm.RoleAssistant
	}
	withUsage := c.Usage != nil && len(c.Choices) > 0
	if withUsage {
		body.Usage = nil
	}
	if !split {
		dst = append(dst, body)
	} else {
		content := body
		content.Choices = slices.Clone(body.Choices)
		fin := llm.Chunk{ID: c.ID, Created: c.Created, Model: c.Model}
		for i := range content.Choices {
			ch := &content.Choices[i]
			if ch.FinishReason != "" {
				fin.Choices = append(fin.Choices, llm.ChunkChoice{Index: ch.Index, FinishReason: ch.FinishReason})
				ch.FinishReason = ""
			}
		}
		dst = append(dst, content, fin)
	}
	if withUsage && includeUsage {
		dst = append(dst, llm.Chunk{ID: c.ID, Created: c.Created, Model: c.Model, Usage: c.Usage})
	}
	return dst
}

// hasDelta reports whether a delta carries anything but the role.
func hasDelta(m *llm.Message) bool {
	return m.Content != "" || len(m.ToolCalls) > 0 || m.Refusal != "" || m.ReasoningContent != "" ||
		m.ReasoningSignature != "" || len(m.RedactedReasoning) > 0
}

// streamError ends a stream with an in-band error event. The partial usage
// rides on it (OpenAI SDKs ignore the extra key) so the client knows what
// it got.
func (h *Handler) streamError(w http.ResponseWriter, rc *http.ResponseController, st *gateway.Stream, requestID string, buf *[]byte, err error) {
	u, partial := st.Usage()
	b := append((*buf)[:0], sseData...)
	b = rest.AppendError(b, err)
	b = append(b[:len(b)-1], `,"usage":{"prompt_tokens":`...)
	b = strconv.AppendInt(b, int64(u.PromptTokens), 10)
	b = append(b, `,"completion_tokens":`...)
	b = strconv.AppendInt(b, int64(u.CompletionTokens), 10)
	b = append(b, `,"total_tokens":`...)
	b = strconv.AppendInt(b, int64(u.TotalTokens), 10)
	b = append(b, `,"estimated":`...)
	b = strconv.AppendBool(b, partial)
	b = append(b, "}}"...)
	b = append(b, sseEnd...)
	*buf = b
	_, _ = w.Write(b)
	_ = rc.Flush()
	h.log.Warn("stream failed after first chunk", "request_id", requestID, "error", err,
		"provider", st.Info().Provider, "completion_tokens", u.CompletionTokens, "usage_estimated", partial)
}

func (h *Handler) embeddings(w http.ResponseWriter, r *http.Request) {
	buf := h.getBuf()
	defer h.putBuf(buf)
	body, err := readBody(r, buf)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	req, err := decodeEmbeddings(body)
	if err == nil {
		err = req.validate()
	}
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	ctx := r.Context()
	call := ingress.CallOf(w, r, Dialect)
	resp, info, err := h.gw.Embed(ctx, call, &req.EmbeddingRequest)
	if err != nil {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	setRoutingHeaders(w.Header(), &info)
	*buf = appendEmbeddings((*buf)[:0], resp, &info, call.RequestID, req.EncodingFormat == "base64")
	writeJSON(w, *buf)
}
