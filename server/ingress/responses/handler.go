package responses

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/ingress"
	"github.com/switchyard/switchyard/server/rest"
	"github.com/switchyard/switchyard/store"
)

// Dialect names Responses API requests in the ledger.
const Dialect = llm.DialectResponses

// DefaultRetention is how long a stored response is kept: OpenAI's 30 days.
const DefaultRetention = 30 * 24 * time.Hour

// Store keeps responses for chains and retrieval (store.Store).
type Store interface {
	PutResponse(ctx context.Context, r store.StoredResponse) error
	GetResponse(ctx context.Context, owner, id string, now time.Time) (store.StoredResponse, error)
	DeleteResponse(ctx context.Context, owner, id string) error
	PruneResponses(ctx context.Context, now time.Time) (int64, error)
}

// pruneEvery is how many stored responses go between two deletions of the
// expired ones: the table stays bounded by the retention without a
// background loop, at one indexed DELETE per that many requests.
const pruneEvery = 256

// Handler serves the Responses routes over the request lifecycle.
type Handler struct {
	gw        *gateway.Gateway
	auth      ingress.Authorizer
	store     Store
	retention time.Duration
	now       func() time.Time
	log       hclog.Logger
	stored    atomic.Uint64 // responses stored, for pruneEvery
}

// Option configures a Handler.
type Option func(*Handler)

// WithRetention keeps stored responses for d (0: until deleted).
func WithRetention(d time.Duration) Option { return func(h *Handler) { h.retention = d } }

// WithClock sets the clock created_at and expiry are read from.
func WithClock(now func() time.Time) Option { return func(h *Handler) { h.now = now } }

// New returns the Responses dialect. auth nil serves everyone; st nil
// keeps nothing, and store: true requests are answered but not kept.
func New(gw *gateway.Gateway, auth ingress.Authorizer, st Store, log hclog.Logger, opts ...Option) *Handler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	h := &Handler{gw: gw, auth: auth, store: st, retention: DefaultRetention, now: time.Now, log: log}
	for _, o := range opts {
		o(h)
	}
	return h
}

// Register mounts POST /v1/responses and the stored-response routes.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("POST /v1/responses", ingress.Guard(h.auth, rest.WriteError, h.create))
	mux.Handle("GET /v1/responses/{id}", ingress.Guard(h.auth, rest.WriteError, h.get))
	mux.Handle("DELETE /v1/responses/{id}", ingress.Guard(h.auth, rest.WriteError, h.delete))
	mux.Handle("GET /v1/responses/{id}/input_items", ingress.Guard(h.auth, rest.WriteError, h.inputItems))
}

// owner is the client key a stored response belongs to; "" when keyless.
func owner(ctx context.Context) string {
	if k := access.FromContext(ctx); k != nil {
		return k.ID
	}
	return ""
}

func notFound(id string) error {
	return &llm.Error{Kind: llm.KindNotFound, Message: "Response with id '" + id + "' not found."}
}

// load is owner's stored response id, or a 404 in OpenAI's words.
func (h *Handler) load(ctx context.Context, id string) (store.StoredResponse, error) {
	if h.store == nil {
		return store.StoredResponse{}, notFound(id)
	}
	r, err := h.store.GetResponse(ctx, owner(ctx), id, h.now())
	if errors.Is(err, store.ErrNotFound) {
		return r, notFound(id)
	}
	return r, err
}

func (h *Handler) create(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	body, err := io.ReadAll(r.Body)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	p, err := decode(body)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	// Items named by reference (item_reference, as the Vercel AI SDK sends
	// the turns it got back) are read out of the responses that hold them.
	resolved, refs, err := h.resolve(ctx, p.items)
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	p.items = resolved
	items := p.items
	if id := p.in.PreviousResponseID; id != "" {
		prev, err := h.load(ctx, id)
		if err != nil {
			if llm.KindOf(err) == llm.KindNotFound {
				err = &llm.Error{Kind: llm.KindNotFound, Param: "previous_response_id", Message: "Previous response with id '" + id + "' not found."}
			}
			rest.WriteError(w, err)
			return
		}
		if items, err = chain(prev, p.items); err != nil {
			rest.WriteError(w, err)
			return
		}
	}
	if p.req.Messages, err = conversation(p.in.Instructions, items); err != nil {
		rest.WriteError(w, err)
		return
	}
	if p.req.Original, err = original(body, items, len(items)-len(p.items), p.in.PreviousResponseID != "" || refs); err != nil {
		rest.WriteError(w, err)
		return
	}
	if len(p.dropped) > 0 {
		w.Header().Set("X-Switchyard-Dropped-Tools", strings.Join(p.dropped, ","))
		h.log.Debug("hosted tools left out: no target runs them", "tools", p.dropped)
	}
	obj := newObject(p, newID("resp_"), h.now().Unix())
	call := ingress.CallOf(w, r, Dialect)
	if p.in.Stream {
		h.stream(w, r, call, p, obj, items)
		return
	}
	resp, info, err := h.gw.Chat(ctx, call, p.req)
	if err != nil {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	ingress.RoutingHeaders(w.Header(), info)
	var m llm.Message
	reason := ""
	if len(resp.Choices) > 0 {
		m, reason = resp.Choices[0].Message, resp.Choices[0].FinishReason
	}
	obj.finish(outputOf(m, p.kinds, obj.ID), resp.Usage, reason)
	h.keep(ctx, p, obj, items)
	writeJSON(w, obj)
}

// chain is the input of a response made after prev: everything prev was
// made from, prev's output, then the new input.
func chain(prev store.StoredResponse, input []json.RawMessage) ([]json.RawMessage, error) {
	var before []json.RawMessage
	if err := json.Unmarshal(prev.Input, &before); err != nil {
		return nil, err
	}
	var o struct {
		Output []json.RawMessage `json:"output"`
	}
	if err := json.Unmarshal(prev.Response, &o); err != nil {
		return nil, err
	}
	out := make([]json.RawMessage, 0, len(before)+len(o.Output)+len(input))
	out = append(append(append(out, before...), o.Output...), input...)
	return out, nil
}

// original is the body an OpenAI Responses target is sent: the client's,
// except that a chain the gateway stored, or items it was named by
// reference, are spelled out, since the upstream has never seen the
// gateway's ids. The first history items came
// from the store: their ids are the gateway's, so they are left out.
// Reasoning items whose encrypted_content the gateway carried for another
// provider (reasoning.go) are left out too: OpenAI cannot read them.
func original(body []byte, items []json.RawMessage, history int, chained bool) (*llm.Original, error) {
	carriedSeen := bytes.Contains(body, []byte(carriedPrefix))
	if !chained && !carriedSeen {
		return &llm.Original{Dialect: Dialect, Body: body}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	delete(m, "previous_response_id")
	out := make([]json.RawMessage, 0, len(items))
	for i, it := range items {
		if carriedSeen {
			var r struct {
				Type             string
				EncryptedContent string `json:"encrypted_content"`
			}
			if json.Unmarshal(it, &r) == nil && r.Type == "reasoning" {
				if _, _, ok := uncarryReasoning(r.EncryptedContent); ok {
					continue
				}
			}
		}
		out = append(out, it)
		if i >= history {
			continue
		}
		var fields map[string]json.RawMessage
		if json.Unmarshal(it, &fields) == nil {
			delete(fields, "id")
			out[len(out)-1] = raw(fields)
		}
	}
	m["input"] = raw(out)
	return &llm.Original{Dialect: Dialect, Body: raw(m)}, nil
}

// resolve replaces each item_reference in input with the item it names:
// an output or input item of a response of this client's that the gateway
// stored, without its id (the upstream never saw it). An id the gateway did
// not give, or whose response is gone or another key's, is a 404.
func (h *Handler) resolve(ctx context.Context, input []json.RawMessage) ([]json.RawMessage, bool, error) {
	var out []json.RawMessage
	loaded := map[string][]json.RawMessage{}
	for i, it := range input {
		if !bytes.Contains(it, []byte(`"item_reference"`)) {
			continue
		}
		var ref struct{ Type, ID string }
		if json.Unmarshal(it, &ref) != nil || ref.Type != "item_reference" {
			continue
		}
		param := fmt.Sprintf("input[%d].id", i)
		if ref.ID == "" {
			return nil, false, invalid(param, "Missing required parameter: '%s'.", param)
		}
		missing := &llm.Error{Kind: llm.KindNotFound, Param: param, Message: "Item with id '" + ref.ID + "' not found."}
		respID, ok := responseOf(ref.ID)
		if !ok {
			return nil, false, missing
		}
		items, ok := loaded[respID]
		if !ok {
			sr, err := h.load(ctx, respID)
			if llm.KindOf(err) == llm.KindNotFound {
				return nil, false, missing
			}
			if err != nil {
				return nil, false, err
			}
			var o struct {
				Output []json.RawMessage `json:"output"`
			}
			var before []json.RawMessage
			if json.Unmarshal(sr.Response, &o) != nil || json.Unmarshal(sr.Input, &before) != nil {
				return nil, false, missing
			}
			items = append(o.Output, before...)
			loaded[respID] = items
		}
		var found json.RawMessage
		for _, c := range items {
			if itemID(c) == ref.ID {
				found = c
				break
			}
		}
		if found == nil {
			return nil, false, missing
		}
		var fields map[string]json.RawMessage
		if err := json.Unmarshal(found, &fields); err != nil {
			return nil, false, missing
		}
		delete(fields, "id")
		if out == nil {
			out = append([]json.RawMessage(nil), input...)
		}
		out[i] = raw(fields)
	}
	if out == nil {
		return input, false, nil
	}
	return out, true, nil
}

// keep stores a finished response when the request asked for it (the
// default, as with OpenAI). A failure to store does not fail an answer the
// client already paid for; it is logged, and a later chain on it gets 404.
func (h *Handler) keep(ctx context.Context, p *parsed, obj *object, items []json.RawMessage) {
	if !p.store || h.store == nil {
		return
	}
	now := h.now()
	sr := store.StoredResponse{ID: obj.ID, Owner: owner(ctx), Response: raw(obj), Input: raw(withIDs(items, obj.ID)), CreatedAt: now}
	if h.retention > 0 {
		sr.ExpiresAt = now.Add(h.retention)
	}
	// The client may be gone by now (a stream it stopped reading); the
	// answer it got is still worth keeping.
	bg := context.WithoutCancel(ctx)
	if err := h.store.PutResponse(bg, sr); err != nil {
		h.log.Error("could not store response", "response_id", obj.ID, "error", err)
		return
	}
	if h.stored.Add(1)%pruneEvery == 0 {
		if n, err := h.store.PruneResponses(bg, now); err != nil {
			h.log.Warn("could not delete expired responses", "error", err)
		} else if n > 0 {
			h.log.Debug("deleted expired responses", "count", n)
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(raw(v))
}

func (h *Handler) get(w http.ResponseWriter, r *http.Request) {
	sr, err := h.load(r.Context(), r.PathValue("id"))
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(sr.Response)
}

func (h *Handler) delete(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id := r.PathValue("id")
	if h.store == nil {
		rest.WriteError(w, notFound(id))
		return
	}
	err := h.store.DeleteResponse(ctx, owner(ctx), id)
	if errors.Is(err, store.ErrNotFound) {
		err = notFound(id)
	}
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	writeJSON(w, map[string]any{"id": id, "object": "response", "deleted": true})
}

// stream relays the answer as the Responses event sequence. Errors before
// the first event are answered with a status; after it, response.failed.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, call gateway.Call, p *parsed, obj *object, items []json.RawMessage) {
	ctx := r.Context()
	st, err := h.gw.ChatStream(ctx, call, p.req)
	if err != nil {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	defer st.Close()
	// The first chunk is read before the head is written: a failure the
	// upstream reports at once still gets a status, and the routing
	// headers know who answered.
	c, err := st.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		rest.WriteError(w, ingress.DrainCause(ctx, err))
		return
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-cache")
	ingress.RoutingHeaders(hd, st.Info())
	w.WriteHeader(http.StatusOK)
	enc := newEncoder(obj, p.kinds)
	emit := func(evs []*event) bool {
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
			evs := enc.finish()
			h.keep(ctx, p, obj, items)
			emit(evs)
			return
		}
		if err != nil {
			if ctx.Err() == nil || ingress.DrainCause(ctx, nil) != nil {
				code, msg := rest.ErrorCode(ingress.DrainCause(ctx, err))
				emit(enc.fail(code, msg))
			}
			h.log.Warn("responses stream failed after it started", "request_id", call.RequestID, "error", err)
			return
		}
		if !emit(enc.chunk(c)) {
			return
		}
	}
}
