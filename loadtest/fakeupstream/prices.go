package fakeupstream

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"sort"
	"strconv"
)

// FeedPrice is one model's price in the fake feed, in USD per million
// tokens (the feed renders it per token, as the real feeds do).
type FeedPrice struct {
	Input       float64 `json:"input"`
	Output      float64 `json:"output"`
	CachedInput float64 `json:"cached_input,omitempty"`
}

func (s *Server) setPrices(p map[string]FeedPrice) {
	m := maps.Clone(p)
	if m == nil {
		m = map[string]FeedPrice{}
	}
	s.prices.Store(&m)
}

// Prices returns the feed's current prices.
func (s *Server) Prices() map[string]FeedPrice { return maps.Clone(*s.prices.Load()) }

// pricesControl serves GET (the feed, in the OpenRouter models shape or,
// with ?format=litellm, LiteLLM's model-prices shape) and POST (replace
// the prices) on /_control/prices, so a test can move a gateway's routing
// by changing a price.
func (s *Server) pricesControl(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		p := *s.prices.Load()
		switch f := r.URL.Query().Get("format"); f {
		case "", "openrouter":
			writeJSON(w, openRouterFeed(p))
		case "litellm":
			writeJSON(w, liteLLMFeed(p))
		default:
			controlError(w, http.StatusBadRequest, "format must be openrouter or litellm, not "+strconv.Quote(f))
		}
	case http.MethodPost:
		b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			controlError(w, http.StatusBadRequest, err.Error())
			return
		}
		var p map[string]FeedPrice
		if err := json.Unmarshal(b, &p); err != nil {
			controlError(w, http.StatusBadRequest, "prices: "+err.Error())
			return
		}
		s.setPrices(p)
		writeJSON(w, p)
	default:
		controlError(w, http.StatusMethodNotAllowed, "GET or POST /_control/prices")
	}
}

// perToken writes a per-million price as OpenRouter's per-token decimal string.
func perToken(perMillion float64) string {
	return strconv.FormatFloat(perMillion/1e6, 'f', -1, 64)
}

func openRouterFeed(p map[string]FeedPrice) any {
	type pricing struct {
		Prompt         string `json:"prompt"`
		Completion     string `json:"completion"`
		InputCacheRead string `json:"input_cache_read,omitempty"`
	}
	type model struct {
		ID      string  `json:"id"`
		Pricing pricing `json:"pricing"`
	}
	ids := make([]string, 0, len(p))
	for id := range p {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	out := struct {
		Data []model `json:"data"`
	}{Data: []model{}}
	for _, id := range ids {
		pr := pricing{Prompt: perToken(p[id].Input), Completion: perToken(p[id].Output)}
		if p[id].CachedInput > 0 {
			pr.InputCacheRead = perToken(p[id].CachedInput)
		}
		out.Data = append(out.Data, model{ID: id, Pricing: pr})
	}
	return out
}

func liteLLMFeed(p map[string]FeedPrice) any {
	type entry struct {
		Input     float64 `json:"input_cost_per_token"`
		Output    float64 `json:"output_cost_per_token"`
		CacheRead float64 `json:"cache_read_input_token_cost,omitempty"`
		Mode      string  `json:"mode"`
	}
	out := make(map[string]entry, len(p))
	for id, pr := range p {
		out[id] = entry{Input: pr.Input / 1e6, Output: pr.Output / 1e6, CacheRead: pr.CachedInput / 1e6, Mode: "chat"}
	}
	return out
}
