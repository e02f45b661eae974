package main

import (
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
	"github.com/switchyard/switchyard/server/control"
)

// Two keys of 10 requests a minute each, on two providers behind a
// priority route; %[2]s is the quota declaration (empty: quota-blind).
const quotaConfig = `
log: {level: error}
providers:
  - name: first
    type: openai-compatible
    base_url: %[1]s/v1
    api_keys: ["sk-first-key-00000001"]
    models: [fake-gpt]
    %[2]s
  - name: second
    type: openai-compatible
    base_url: %[1]s/v1
    api_keys: ["sk-second-key-0000001"]
    models: [fake-gpt]
    %[2]s
routes:
  - model: pool
    strategy: priority
    targets:
      - {provider: first, model: fake-gpt, priority: 1}
      - {provider: second, model: fake-gpt, priority: 2}
`

type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A fake that enforces each key's RPM as a provider does, offered 90% of
// the two keys' summed quota for five minutes (on a clock the test steps,
// shared by the fake and the gateway's quota meter): quota-blind routing
// sends everything to the first key and meets 429s; quota-aware routing
// gets none and answers every request.
func TestQuotaAwareRoutingGetsNo429AtNinetyPercentOfTheSummedQuota(t *testing.T) {
	const rpm, perMinute, minutes = 10, 18, 5
	results := map[bool]map[string]int{}
	for _, aware := range []bool{false, true} {
		clk := &stepClock{t: time.Unix(1_800_000_000, 0)}
		fs := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{Tokens: 4}, Now: clk.now,
			KeyRPM: map[string]int{"sk-first-key-00000001": rpm, "sk-second-key-0000001": rpm}})
		up := httptest.NewServer(fs)
		decl := ""
		if aware {
			decl = fmt.Sprintf("quota: {rpm: %d}", rpm)
		}
		g := startGateway(t, fmt.Sprintf(quotaConfig, up.URL, decl), control.WithQuotaClock(clk.now))
		status := map[int]int{}
		for range perMinute * minutes {
			resp := post(t, g.base+"/v1/chat/completions", `{"model":"pool","messages":[{"role":"user","content":"hi"}]}`)
			status[resp.StatusCode]++
			_ = resp.Body.Close()
			clk.advance(time.Minute / perMinute)
		}
		limited := fs.RateLimited()
		results[aware] = map[string]int{"200": status[200], "client_non_200": perMinute*minutes - status[200],
			"upstream_429_first": limited["sk-first-key-00000001"], "upstream_429_second": limited["sk-second-key-0000001"]}
		t.Logf("quota-aware=%v: %d requests at %d/min against 2 keys of %d rpm: %v", aware, perMinute*minutes, perMinute, rpm, results[aware])
		fs.Close()
		up.Close()
	}
	blind, aware := results[false], results[true]
	if blind["upstream_429_first"]+blind["upstream_429_second"] == 0 {
		t.Errorf("quota-blind routing met no 429 at 90%% of the summed quota: %v (the test cannot tell the two apart)", blind)
	}
	if n := aware["upstream_429_first"] + aware["upstream_429_second"]; n != 0 {
		t.Errorf("quota-aware routing met %d upstream 429s: %v", n, aware)
	}
	if aware["200"] != perMinute*minutes {
		t.Errorf("quota-aware routing answered %d of %d: %v", aware["200"], perMinute*minutes, aware)
	}
}
