package anthropic

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/ingress"
	"github.com/switchyard/switchyard/server/middleware"
)

// Dialect names Anthropic Messages requests in the ledger.
const Dialect = "anthropic"

// Handler serves the Messages routes over the request lifecycle.
type Handler struct {
	gw     *gateway.Gateway
	auth   ingress.Authorizer
	log    hclog.Logger
	models func() Models // nil: no Anthropic-shaped model list
}

// New returns the Messages dialect; auth nil serves everyone.
func New(gw *gateway.Gateway, auth ingress.Authorizer, log hclog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := &Handler{gw: gw, auth: auth, log: log}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Register mounts POST /v1/messages and POST /v1/messages/count_tokens.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /v1/messages", ingress.Guard(h.auth, writeError, h.messages))
	mux.Handle("POST /v1/messages/count_tokens", ingress.Guard(h.auth, writeError, h.countTokens))
}

// NotFound claims requests to unknown paths from Anthropic clients (they
// send anthropic-version; the SDKs always do) and answers in their shape.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) bool {
	if r.Header.Get("anthropic-version") == "" && !strings.HasPrefix(r.URL.Path, "/v1/messages") {
		return false
	}
	writeError(w, &llm.Error{Kind: llm.KindNotFound, Message: "Not found: " + r.Method + " " + r.URL.Path})
	return true
}

func newID(prefix string) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func (h *Handler) messages(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	req, stream, err := decode(body, false)
	if err != nil {
		writeError(w, err)
		return
	}
	// An Anthropic target gets this body as it is: nothing is lost; and
	// the headers that shape it (betas) go along.
	req.Original = &llm.Original{Dialect: llm.DialectAnthropic, Body: body}
	req.Anthropic = anthropicOptions(r.Header)
	call := ingress.CallOf(w, r, Dialect)
	if stream {
		h.stream(w, r, call, req)
		return
	}
	resp, info, err := h.gw.Chat(r.Context(), call, req)
	if err != nil {
		writeError(w, ingress.DrainCause(r.Context(), err))
		return
	}
	ingress.RoutingHeaders(w.Header(), info)
	out, err := encodeMessage(resp, req.Model, newID("msg_"))
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

func (h *Handler) countTokens(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	req, _, err := decode(body, true)
	if err != nil {
		writeError(w, err)
		return
	}
	n, err := h.gw.CountTokens(r.Context(), ingress.CallOf(w, r, Dialect), req)
	if err != nil {
		writeError(w, err)
		return
	}
	out, _ := json.Marshal(map[string]int{"input_tokens": n})
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(out)
}

// stream relays the answer as Anthropic's event sequence. Errors before
// the first event are answered with a status; after it, in band.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, call gateway.Call, req *llm.ChatRequest) {
	ctx := r.Context()
	st, err := h.gw.ChatStream(ctx, call, req)
	if err != nil {
		writeError(w, ingress.DrainCause(ctx, err))
		return
	}
	defer st.Close()
	// The first chunk is read before the head: an upstream fault reported
	// at once still gets its status, and the routing headers know who answered.
	c, err := st.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		writeError(w, ingress.DrainCause(ctx, err))
		return
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	ingress.RoutingHeaders(hd, st.Info())
	w.WriteHeader(http.StatusOK)
	enc := newEncoder(newID("msg_"), req.Model)
	emit := func(evs []event) bool {
		for _, e := range evs {
			if _, err := w.Write(e.frame()); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	if !emit(enc.start()) {
		return
	}
	for ; ; c, err = st.Recv() {
		if errors.Is(err, io.EOF) {
			emit(enc.finish())
			return
		}
		if err != nil {
			if ctx.Err() == nil || middleware.ShuttingDown(ctx) != nil {
				emit([]event{{name: "error", data: errorBody(ingress.DrainCause(ctx, err))}})
			}
			h.log.Warn("messages stream failed after it started", "request_id", call.RequestID, "error", err)
			return
		}
		if !emit(enc.chunk(c)) {
			return
		}
	}
}
