package control

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/switchyard/switchyard/config"
)

// feedPrices is one parsed price feed: prices per million tokens by the
// feed's own model id, and an index from a model name to the id it maps to.
type feedPrices struct {
	format string // openrouter | litellm
	byID   map[string]config.Price
}

// errFeedShape is a feed that is neither format (or holds no price).
var errFeedShape = errors.New("price feed is neither the OpenRouter models JSON ({\"data\":[...]}) nor the LiteLLM model-prices JSON")

// parseFeed reads either format, told apart by shape: OpenRouter's is an
// object whose "data" is an array; LiteLLM's is an object of model objects.
// Entries without a usable price (OpenRouter's "-1" for variable-priced
// routers, LiteLLM's sample_spec) are skipped rather than read as free.
func parseFeed(b []byte) (*feedPrices, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", errFeedShape, err)
	}
	var (
		f   *feedPrices
		err error
	)
	if d, ok := top["data"]; ok && bytes.HasPrefix(bytes.TrimSpace(d), []byte("[")) {
		f, err = parseOpenRouter(d)
	} else {
		f, err = parseLiteLLM(top)
	}
	if err != nil {
		return nil, err
	}
	if len(f.byID) == 0 {
		return nil, fmt.Errorf("%w: no model has a price", errFeedShape)
	}
	return f, nil
}

func parseOpenRouter(data json.RawMessage) (*feedPrices, error) {
	var rows []struct {
		ID      string `json:"id"`
		Pricing struct {
			Prompt          string `json:"prompt"`
			Completion      string `json:"completion"`
			InputCacheRead  string `json:"input_cache_read"`
			InputCacheWrite string `json:"input_cache_write"`
		} `json:"pricing"`
	}
	if err := json.Unmarshal(data, &rows); err != nil {
		return nil, fmt.Errorf("openrouter feed: %w", err)
	}
	f := &feedPrices{format: "openrouter", byID: map[string]config.Price{}}
	for _, r := range rows {
		in, ok1 := perToken(r.Pricing.Prompt)
		out, ok2 := perToken(r.Pricing.Completion)
		if r.ID == "" || !ok1 || !ok2 {
			continue
		}
		p := config.Price{Input: in, Output: out}
		p.CachedInput, _ = perToken(r.Pricing.InputCacheRead)
		p.CacheWrite, _ = perToken(r.Pricing.InputCacheWrite)
		f.byID[r.ID] = p
	}
	return f, nil
}

func parseLiteLLM(top map[string]json.RawMessage) (*feedPrices, error) {
	f := &feedPrices{format: "litellm", byID: map[string]config.Price{}}
	for id, raw := range top {
		var e struct {
			Input      *float64 `json:"input_cost_per_token"`
			Output     *float64 `json:"output_cost_per_token"`
			CacheRead  float64  `json:"cache_read_input_token_cost"`
			CacheWrite float64  `json:"cache_creation_input_token_cost"`
		}
		if id == "sample_spec" || json.Unmarshal(raw, &e) != nil || e.Input == nil || e.Output == nil || *e.Input < 0 || *e.Output < 0 {
			continue
		}
		f.byID[id] = config.Price{Input: perMillion(*e.Input), Output: perMillion(*e.Output),
			CachedInput: perMillion(max(e.CacheRead, 0)), CacheWrite: perMillion(max(e.CacheWrite, 0))}
	}
	return f, nil
}

// perToken reads OpenRouter's per-token decimal string as USD per million.
func perToken(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, false
	}
	return perMillion(v), true
}

// perMillion rounds away the float noise of ×1e6 (0.0000025 → 2.5, not
// 2.4999999999999996) so shown prices read as the feed wrote them.
func perMillion(perToken float64) float64 { return math.Round(perToken*1e15) / 1e9 }

// lookup maps a configured model of a provider of type ptype to a feed
// entry. The rule: the feed id equal to the model ("gpt-4o", LiteLLM's
// usual key); else "<ptype>/<model>" ("openai/gpt-4o", OpenRouter's
// vendor/model); else any "<vendor>/<model>" whose model part (after the
// last "/") is the model, the alphabetically first when several vendors
// list it, so the choice does not change between refreshes.
func (f *feedPrices) lookup(ptype, model string) (config.Price, string, bool) {
	if f == nil {
		return config.Price{}, "", false
	}
	if p, ok := f.byID[model]; ok {
		return p, model, true
	}
	if p, ok := f.byID[ptype+"/"+model]; ok {
		return p, ptype + "/" + model, true
	}
	var ids []string
	for id := range f.byID {
		if i := strings.LastIndexByte(id, '/'); i >= 0 && id[i+1:] == model {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return config.Price{}, "", false
	}
	sort.Strings(ids)
	return f.byID[ids[0]], ids[0], true
}
