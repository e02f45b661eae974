package gemini

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
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/ingress"
)

// Dialect names Gemini API requests in the ledger.
const Dialect = llm.DialectGemini

// Models lists what the gateway routes (route.Table).
type Models interface {
	Models() []route.ModelInfo
	Model(id string) (route.ModelInfo, bool)
}

// Handler serves the Gemini routes over the request lifecycle.
type Handler struct {
	gw     *gateway.Gateway
	auth   ingress.Authorizer
	models func() Models
	log    hclog.Logger
}

// New returns the Gemini dialect; auth nil serves everyone. models is read
// per request: the routing table is swapped on every change.
func New(gw *gateway.Gateway, auth ingress.Authorizer, models func() Models, log hclog.Logger) *Handler {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Handler{gw: gw, auth: auth, models: models, log: log}
}

// Register mounts /v1beta/models and the model methods under it (and
// under /v1/models for clients on Google's v1 paths).
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle("GET /v1beta/models", h.guard(h.listModels))
	// ServeMux cannot match "{model}:{method}" inside one segment: the
	// method is split off here.
	mux.Handle("POST /v1beta/models/{rest...}", h.guard(h.call))
	mux.Handle("GET /v1beta/models/{rest...}", h.guard(h.getModel))
	// google-genai 3.x defaults to Google's v1 paths. POSTs under
	// /v1/models/ are Gemini's alone; GET /v1/models stays OpenAI's list.
	mux.Handle("POST /v1/models/{rest...}", h.guard(h.call))
}

// guard authenticates by x-goog-api-key, Authorization: Bearer, or the
// ?key= query parameter Google's clients may use instead.
func (h *Handler) guard(next http.HandlerFunc) http.Handler {
	g := ingress.Guard(h.auth, writeError, next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := r.URL.Query().Get("key"); k != "" && r.Header.Get("x-goog-api-key") == "" {
			r.Header.Set("x-goog-api-key", k)
		}
		g(w, r)
	})
}

// NotFound claims unknown paths from Gemini clients (under /v1beta/, or
// carrying x-goog-api-key) and answers in Google's shape.
func (h *Handler) NotFound(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/v1beta/") && r.Header.Get("x-goog-api-key") == "" {
		return false
	}
	writeError(w, &llm.Error{Kind: llm.KindNotFound, Message: "Method not found: " + r.Method + " " + r.URL.Path})
	return true
}

func newID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (h *Handler) call(w http.ResponseWriter, r *http.Request) {
	rest := r.PathValue("rest")
	i := strings.LastIndexByte(rest, ':')
	if i <= 0 {
		h.NotFound(w, r)
		return
	}
	model, method := rest[:i], rest[i+1:]
	switch method {
	case "generateContent", "streamGenerateContent", "countTokens", "embedContent", "batchEmbedContents":
	default:
		writeError(w, &llm.Error{Kind: llm.KindNotFound, Message: "Method " + method + " is not supported by this gateway"})
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		writeError(w, err)
		return
	}
	if method == "embedContent" || method == "batchEmbedContents" {
		h.embed(w, r, model, body, method == "batchEmbedContents")
		return
	}
	req, err := decode(body, model)
	if err != nil {
		writeError(w, err)
		return
	}
	ctx := r.Context()
	call := ingress.CallOf(w, r, Dialect)
	switch method {
	case "countTokens":
		n, err := h.gw.CountTokens(ctx, call, req)
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, map[string]int{"totalTokens": n})
		return
	case "streamGenerateContent":
		// A Gemini target gets this body as it is.
		req.Original = &llm.Original{Dialect: Dialect, Body: body}
		h.stream(w, r, call, req, r.URL.Query().Get("alt") == "sse")
		return
	}
	req.Original = &llm.Original{Dialect: Dialect, Body: body}
	resp, info, err := h.gw.Chat(ctx, call, req)
	if err != nil {
		writeError(w, ingress.DrainCause(ctx, err))
		return
	}
	ingress.RoutingHeaders(w.Header(), info)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(encodeAnswer(resp, model, newID()))
}

func writeJSON(w http.ResponseWriter, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// stream relays the answer as SSE (alt=sse) or as one JSON array written
// element by element, as Google does without alt. Errors before the first
// event get a status; after it, an error object in band.
func (h *Handler) stream(w http.ResponseWriter, r *http.Request, call gateway.Call, req *llm.ChatRequest, sse bool) {
	ctx := r.Context()
	st, err := h.gw.ChatStream(ctx, call, req)
	if err != nil {
		writeError(w, ingress.DrainCause(ctx, err))
		return
	}
	defer st.Close()
	c, err := st.Recv()
	if err != nil && !errors.Is(err, io.EOF) {
		writeError(w, ingress.DrainCause(ctx, err))
		return
	}
	rc := http.NewResponseController(w)
	hd := w.Header()
	if sse {
		hd.Set("Content-Type", "text/event-stream")
	} else {
		hd.Set("Content-Type", "application/json")
	}
	hd.Set("Cache-Control", "no-cache")
	ingress.RoutingHeaders(hd, st.Info())
	w.WriteHeader(http.StatusOK)
	enc := newEncoder(req.Model, newID())
	n := 0
	emit := func(ev []byte) bool {
		if ev == nil {
			return true
		}
		var b []byte
		switch {
		case sse:
			b = append(append(append(b, "data: "...), ev...), "\r\n\r\n"...)
		case n == 0:
			b = append(append(b, '['), ev...)
		default:
			b = append(append(b, ",\r\n"...), ev...)
		}
		n++
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	end := func() {
		if !sse {
			if n == 0 {
				_, _ = w.Write([]byte("["))
			}
			_, _ = w.Write([]byte("]"))
			_ = rc.Flush()
		}
	}
	for ; ; c, err = st.Recv() {
		if errors.Is(err, io.EOF) {
			emit(enc.finish())
			end()
			return
		}
		if err != nil {
			if ctx.Err() == nil || ingress.DrainCause(ctx, nil) != nil {
				emit(errorBody(ingress.DrainCause(ctx, err)))
				end()
			}
			h.log.Warn("gemini stream failed after it started", "request_id", call.RequestID, "error", err)
			return
		}
		if !emit(enc.chunk(c)) {
			return
		}
	}
}

// modelOut is a model in Google's list shape.
type modelOut struct {
	Name                       string   `json:"name"`
	BaseModelID                string   `json:"baseModelId"`
	Version                    string   `json:"version"`
	DisplayName                string   `json:"displayName"`
	Description                string   `json:"description"`
	InputTokenLimit            int      `json:"inputTokenLimit"`
	OutputTokenLimit           int      `json:"outputTokenLimit"`
	SupportedGenerationMethods []string `json:"supportedGenerationMethods"`
}

func toModel(m route.ModelInfo) modelOut {
	desc := "Served by " + strings.Join(m.Providers, ", ") + " through Switchyard"
	if m.Alias {
		desc = "Switchyard route over " + strings.Join(m.Providers, ", ")
	}
	return modelOut{Name: "models/" + m.ID, BaseModelID: m.ID, Version: "switchyard", DisplayName: m.ID, Description: desc,
		InputTokenLimit: 1 << 20, OutputTokenLimit: 1 << 16,
		SupportedGenerationMethods: []string{"generateContent", "streamGenerateContent", "countTokens"}}
}

func (h *Handler) listModels(w http.ResponseWriter, _ *http.Request) {
	out := []modelOut{}
	for _, m := range h.models().Models() {
		out = append(out, toModel(m))
	}
	writeJSON(w, map[string]any{"models": out})
}

func (h *Handler) getModel(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.PathValue("rest"), "models/")
	m, ok := h.models().Model(id)
	if !ok {
		writeError(w, &llm.Error{Kind: llm.KindNotFound, Message: "models/" + id + " is not found for API version v1beta"})
		return
	}
	writeJSON(w, toModel(m))
}
