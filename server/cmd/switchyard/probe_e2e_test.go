package main

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
	"github.com/switchyard/switchyard/server/control"
	"github.com/switchyard/switchyard/store"
)

// Two providers behind a latency_priority alias with probes on; neither
// has had traffic, so the first tick probes both.
const probeConfig = `
log: {level: error}
providers:
  - name: quick
    type: openai-compatible
    base_url: %[1]s/v1
    api_keys: ["sk-quick-key-00000001"]
    models: [fake-gpt]
  - name: sluggish
    type: openai-compatible
    base_url: %[2]s/v1
    api_keys: ["sk-sluggish-key-00001"]
    models: [fake-gpt]
routes:
  - model: fastest
    strategy: latency_priority
    targets:
      - {provider: sluggish, model: fake-gpt}
      - {provider: quick, model: fake-gpt}
    probe: {enabled: true, interval: 1h, ttft: 100ms, total: 2s, timeout: 5s}
`

// Probes measure idle targets before any real request, so the first real
// request already goes to the faster one; each probe is in the ledger under
// the system key, priced.
func TestProbesRankIdleTargetsAndAreBilledToTheSystemKey(t *testing.T) {
	quick := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{Tokens: 1, TTFT: 5 * time.Millisecond}})
	sluggish := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{Tokens: 1, TTFT: 200 * time.Millisecond}})
	uq, us := httptest.NewServer(quick), httptest.NewServer(sluggish)
	t.Cleanup(func() { quick.Close(); sluggish.Close(); uq.Close(); us.Close() })
	tick := make(chan time.Time)
	g := startGatewayWithStore(t, fmt.Sprintf(probeConfig, uq.URL, us.URL), control.WithProbeTicker(tick))
	g.ctl.StartProbes()
	tick <- time.Now()

	// Both probes land in the ledger (flushed every 20 ms).
	var rows []store.UsageRow
	deadline := time.Now().Add(5 * time.Second)
	for {
		var err error
		rows, _, err = g.ctl.Store().Usage(context.Background(), store.UsageQuery{KeyID: control.ProbeKey, GroupBy: []string{"provider"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(rows) != 2 {
		t.Fatalf("probe rows by provider = %+v, want one per target", rows)
	}
	for _, r := range rows {
		if r.Requests != 1 || r.PromptTokens == 0 {
			t.Errorf("probe row %+v: want one probe with its prompt billed", r)
		}
	}
	for i := range 4 {
		resp := post(t, g.base+"/v1/chat/completions", `{"model":"fastest","messages":[{"role":"user","content":"hi"}]}`)
		if got := resp.Header.Get("X-Switchyard-Provider"); resp.StatusCode != 200 || got != "quick" {
			t.Fatalf("request %d: %d from %q, want the target the probes found faster (quick)", i, resp.StatusCode, got)
		}
	}
	if n := len(sluggish.Records()); n != 1 {
		t.Errorf("the slower target saw %d requests, want only its probe", n)
	}
}
