package anthropic

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/ingress"
)

// Models lists what the gateway routes (route.Table).
type Models interface {
	Models() []route.ModelInfo
	Model(id string) (route.ModelInfo, bool)
}

// Option configures a Handler.
type Option func(*Handler)

// WithModels serves GET /v1/models[/{id}] in Anthropic's shape to
// Anthropic clients; models is read per request, as the routing table is
// swapped on every change. Without it those clients get OpenAI's list.
func WithModels(models func() Models) Option { return func(h *Handler) { h.models = models } }

// Page sizes of the model list, as Anthropic's API bounds limit.
const (
	defaultModelPage = 20
	maxModelPage     = 1000
)

// ServeModels answers GET /v1/models and GET /v1/models/{id} when r comes
// from an Anthropic client, and reports whether it did. The path is
// OpenAI's too and that facade owns the route, so it offers each request
// here first (ingress.ModelsServer); only anthropic-version, which the
// Anthropic SDKs always send and OpenAI's never do, tells the two apart.
func (h *Handler) ServeModels(w http.ResponseWriter, r *http.Request) bool {
	if h.models == nil || r.Header.Get("anthropic-version") == "" {
		return false
	}
	serve := h.listModels
	if r.PathValue("id") != "" {
		serve = h.getModel
	}
	ingress.Guard(h.auth, writeError, serve)(w, r)
	return true
}

type modelOut struct {
	Type        string `json:"type"`
	ID          string `json:"id"`
	DisplayName string `json:"display_name"`
	CreatedAt   string `json:"created_at"` // RFC 3339
	// Lifecycle is required by the newer SDKs' ModelInfo; whatever the
	// gateway routes is callable.
	Lifecycle string `json:"lifecycle"`
}

func toModel(m route.ModelInfo) modelOut {
	return modelOut{Type: "model", ID: m.ID, DisplayName: m.ID, Lifecycle: "active",
		CreatedAt: time.Unix(m.Created, 0).UTC().Format(time.RFC3339)}
}

type modelPage struct {
	Data    []modelOut `json:"data"`
	HasMore bool       `json:"has_more"`
	FirstID *string    `json:"first_id"`
	LastID  *string    `json:"last_id"`
}

// listModels pages as Anthropic's API does: limit (1-1000, default 20),
// then after_id or before_id, ids that are not listed giving an empty page.
func (h *Handler) listModels(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := defaultModelPage
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxModelPage {
			writeError(w, invalid("limit", "limit: must be an integer from 1 to %d", maxModelPage))
			return
		}
		limit = n
	}
	page, more := pageOf(h.models().Models(), q.Get("after_id"), q.Get("before_id"), limit)
	out := modelPage{Data: make([]modelOut, len(page)), HasMore: more}
	for i, m := range page {
		out.Data[i] = toModel(m)
	}
	if len(page) > 0 {
		first, last := page[0].ID, page[len(page)-1].ID
		out.FirstID, out.LastID = &first, &last
	}
	writeJSON(w, out)
}

// pageOf is the page of all after the model after (or before the model
// before) of at most limit models, and whether more lie beyond it.
func pageOf(all []route.ModelInfo, after, before string, limit int) ([]route.ModelInfo, bool) {
	at := func(id string) int {
		return slices.IndexFunc(all, func(m route.ModelInfo) bool { return m.ID == id })
	}
	switch {
	case before != "":
		end := at(before)
		if end < 0 {
			return nil, false
		}
		start := max(end-limit, 0)
		return all[start:end], start > 0
	case after != "":
		i := at(after)
		if i < 0 {
			return nil, false
		}
		all = all[i+1:]
	}
	if len(all) > limit {
		return all[:limit], true
	}
	return all, false
}

func (h *Handler) getModel(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m, ok := h.models().Model(id)
	if !ok {
		writeError(w, &llm.Error{Kind: llm.KindNotFound, Message: "model: " + id})
		return
	}
	writeJSON(w, toModel(m))
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}
