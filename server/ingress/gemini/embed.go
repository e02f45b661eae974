package gemini

import (
	"encoding/json"
	"net/http"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/ingress"
)

// embedRequest is one :embedContent body, and one element of
// :batchEmbedContents' requests (google-genai's embed_content always
// calls the batch method). Only text parts can be embedded through the
// gateway's embeddings model.
type embedRequest struct {
	Content                   *content `json:"content"`
	OutputDimensionality      *int     `json:"outputDimensionality"`
	OutputDimensionalitySnake *int     `json:"output_dimensionality,omitempty"`
}

type batchEmbedRequest struct {
	Requests []embedRequest `json:"requests"`
}

type embedding struct {
	Values []float32 `json:"values"`
}

// embed serves :embedContent (batch false) and :batchEmbedContents as one
// embeddings request through the gateway, so the route, limits, budget and
// ledger apply as to any embeddings call.
func (h *Handler) embed(w http.ResponseWriter, r *http.Request, model string, body []byte, batch bool) {
	var reqs []embedRequest
	if batch {
		var in batchEmbedRequest
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, invalid("Invalid JSON payload received. %v", err))
			return
		}
		if len(in.Requests) == 0 {
			writeError(w, invalid("* BatchEmbedContentsRequest.requests: requests is not specified"))
			return
		}
		reqs = in.Requests
	} else {
		var in embedRequest
		if err := json.Unmarshal(body, &in); err != nil {
			writeError(w, invalid("Invalid JSON payload received. %v", err))
			return
		}
		reqs = []embedRequest{in}
	}
	req := &llm.EmbeddingRequest{Model: model, Input: make([]string, len(reqs))}
	for i, e := range reqs {
		if e.Content == nil || len(e.Content.Parts) == 0 {
			writeError(w, invalid("* EmbedContentRequest.content: content is not specified (requests[%d])", i))
			return
		}
		for j, p := range e.Content.Parts {
			if p.Text == "" {
				writeError(w, invalid("requests[%d].content.parts[%d]: only text parts can be embedded through this gateway", i, j))
				return
			}
		}
		req.Input[i] = textOf(e.Content.Parts)
		d := e.OutputDimensionality
		if d == nil {
			d = e.OutputDimensionalitySnake
		}
		switch {
		case d == nil:
		case *d < 1:
			writeError(w, invalid("requests[%d].outputDimensionality must be at least 1", i))
			return
		case req.Dimensions != nil && *req.Dimensions != *d:
			writeError(w, invalid("requests[%d].outputDimensionality differs from the first request's; one batch takes one size", i))
			return
		default:
			req.Dimensions = d
		}
	}
	ctx := r.Context()
	resp, info, err := h.gw.Embed(ctx, ingress.CallOf(w, r, Dialect), req)
	if err != nil {
		writeError(w, ingress.DrainCause(ctx, err))
		return
	}
	ingress.RoutingHeaders(w.Header(), info)
	if !batch {
		writeJSON(w, struct {
			Embedding embedding `json:"embedding"`
		}{embedding{resp.Vectors[0]}})
		return
	}
	out := struct {
		Embeddings []embedding `json:"embeddings"`
	}{make([]embedding, len(resp.Vectors))}
	for i, v := range resp.Vectors {
		out.Embeddings[i] = embedding{v}
	}
	writeJSON(w, out)
}
