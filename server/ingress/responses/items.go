package responses

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/rest"
)

// withIDs gives every stored input item the shape input_items lists: a
// type, an id, and message content as parts (a bare string becomes one
// input_text or output_text part). Unknown fields of an item are kept;
// ids given here are response respID's (ownedID).
func withIDs(items []json.RawMessage, respID string) []json.RawMessage {
	out := make([]json.RawMessage, 0, len(items))
	for _, it := range items {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(it, &m); err != nil {
			out = append(out, it)
			continue
		}
		var typ, role string
		_ = json.Unmarshal(m["type"], &typ)
		_ = json.Unmarshal(m["role"], &role)
		if typ == "" {
			typ = "message"
			m["type"] = raw(typ)
		}
		if _, ok := m["id"]; !ok {
			prefix := "item_"
			switch typ {
			case "message":
				prefix = "msg_"
			case "function_call":
				prefix = "fc_"
			case "function_call_output":
				prefix = "fco_"
			case "reasoning":
				prefix = "rs_"
			}
			m["id"] = raw(ownedID(prefix, respID))
		}
		if c := bytes.TrimSpace(m["content"]); typ == "message" && len(c) > 0 && c[0] == '"' {
			var s string
			_ = json.Unmarshal(c, &s)
			pt := "input_text"
			if role == "assistant" {
				pt = "output_text"
			}
			m["content"] = raw([]map[string]string{{"type": pt, "text": s}})
		}
		out = append(out, raw(m))
	}
	return out
}

// inputItems lists a stored response's input: GET
// /v1/responses/{id}/input_items with order (desc by default, as OpenAI),
// limit (1–100, default 20) and after (an item id).
func (h *Handler) inputItems(w http.ResponseWriter, r *http.Request) {
	sr, err := h.load(r.Context(), r.PathValue("id"))
	if err != nil {
		rest.WriteError(w, err)
		return
	}
	var items []json.RawMessage
	if err := json.Unmarshal(sr.Input, &items); err != nil {
		rest.WriteError(w, err)
		return
	}
	q := r.URL.Query()
	limit := 20
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 100 {
			rest.WriteError(w, llm.InvalidParam("limit", "limit: want an integer from 1 to 100, got %q", s))
			return
		}
		limit = n
	}
	switch q.Get("order") {
	case "", "desc":
		for i, j := 0, len(items)-1; i < j; i, j = i+1, j-1 {
			items[i], items[j] = items[j], items[i]
		}
	case "asc":
	default:
		rest.WriteError(w, llm.InvalidParam("order", "order: want asc or desc, got %q", q.Get("order")))
		return
	}
	if after := q.Get("after"); after != "" {
		for i, it := range items {
			if itemID(it) == after {
				items = items[i+1:]
				break
			}
		}
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	page := map[string]any{"object": "list", "data": items, "has_more": more, "first_id": nil, "last_id": nil}
	if len(items) > 0 {
		page["first_id"], page["last_id"] = itemID(items[0]), itemID(items[len(items)-1])
	}
	if items == nil {
		page["data"] = []json.RawMessage{}
	}
	writeJSON(w, page)
}

func itemID(it json.RawMessage) string {
	var v struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(it, &v)
	return v.ID
}
