package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
	"github.com/switchyard/switchyard/server/control"
)

// Two providers at the fake upstream behind a cost_priority alias; their
// prices come only from the fake's feed (neither model is in the built-in
// table nor priced in the config).
const livePriceConfig = `
log: {level: error}
providers:
  - name: alpha
    type: openai-compatible
    base_url: %[1]s/v1
    api_keys: ["sk-alpha-key-000000001"]
    models: [model-a]
  - name: beta
    type: openai-compatible
    base_url: %[1]s/v1
    api_keys: ["sk-beta-key-0000000001"]
    models: [model-b]
routes:
  - model: cheap
    strategy: cost_priority
    targets:
      - {provider: alpha, model: model-a}
      - {provider: beta, model: model-b}
pricing: {feed_url: "%[1]s/_control/prices", refresh: 1h}
`

func TestAPriceChangeInTheFeedMovesTrafficWithinOneRefresh(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{Tokens: 4}, Prices: map[string]fakeupstream.FeedPrice{
		"openai/model-a": {Input: 1, Output: 2},
		"acme/model-b":   {Input: 3, Output: 6},
	}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	// The refresh interval is an hour; the test ticks it by hand, so "one
	// refresh" is exactly one tick.
	tick := make(chan time.Time)
	g := startGateway(t, fmt.Sprintf(livePriceConfig, up.URL), control.WithPriceTicker(tick))
	g.ctl.StartPriceFeed() // main does this after Restore

	// pricesOf reads GET /v1/prices until model's input price is want
	// (the first fetch and each refresh run on the feed goroutine).
	pricesOf := func(model string, want float64) map[string]any {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			resp := getPrices(t, g.base+"/v1/prices")
			var out struct {
				Data []map[string]any `json:"data"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			for _, row := range out.Data {
				if row["model"] == model && row["input_per_million"] == want {
					return row
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s never priced at %v: %+v", model, want, out.Data)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	servedBy := func() map[string]int {
		t.Helper()
		n := map[string]int{}
		for range 6 {
			resp := post(t, g.base+"/v1/chat/completions", `{"model":"cheap","messages":[{"role":"user","content":"hi"}]}`)
			var out struct {
				Model string `json:"model"`
			}
			if resp.StatusCode != 200 {
				t.Fatalf("chat: %d", resp.StatusCode)
			}
			if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
				t.Fatal(err)
			}
			n[out.Model]++
		}
		return n
	}

	row := pricesOf("model-a", 1)
	if row["source"] != "feed" || row["feed_id"] != "openai/model-a" || row["fetched_at"] == nil {
		t.Errorf("model-a row = %+v", row)
	}
	if got := servedBy(); got["model-a"] != 6 {
		t.Fatalf("before the change: %v, want all on model-a (the cheaper)", got)
	}

	resp := post(t, up.URL+"/_control/prices", `{"openai/model-a":{"input":5,"output":10},"acme/model-b":{"input":0.5,"output":1}}`)
	if resp.StatusCode != 200 {
		t.Fatalf("changing the feed: %d", resp.StatusCode)
	}
	tick <- time.Now()
	pricesOf("model-b", 0.5)
	if got := servedBy(); got["model-b"] != 6 {
		t.Fatalf("after one refresh: %v, want all on model-b (now the cheaper)", got)
	}
}

// getPrices is GET url, closed when the test ends.
func getPrices(t *testing.T, url string) *http.Response {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}
