package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// The simulator takes a key pool like a real provider, from the config and
// through the API; a "bad-" key answers 401, so requests fail over to the
// good keys and the bad key's breaker opens at its first refusal, all
// offline.
func TestSimulatorKeyPoolFailsOverFromABadKey(t *testing.T) {
	cfg := fmt.Sprintf(`
storage: {data_dir: %q}
providers:
  - name: sim
    type: simulator
    api_keys: ["sk-sim-good-0001", "bad-sim-key-0002"]
    models: [m]
    simulator: {token_delay: 0s, ttft: 0s}
routing: {strategy: weighted, fallback_strategy: failover}
`, t.TempDir())
	p := startProc(t, cfg, "SWITCHYARD_ADMIN_KEY=")

	type keyState struct {
		ID        string `json:"id"`
		MaskedKey string `json:"masked_key"`
		Source    string `json:"source"`
		State     string `json:"state"`
	}
	listKeys := func() []keyState {
		t.Helper()
		st, _, b := call(t, "GET", p.base+"/v1/providers", "", "")
		if st != 200 {
			t.Fatalf("providers: %d %s", st, b)
		}
		var out struct {
			Providers []struct {
				Name string     `json:"name"`
				Keys []keyState `json:"keys"`
			} `json:"providers"`
		}
		if err := json.Unmarshal(b, &out); err != nil || len(out.Providers) != 1 {
			t.Fatalf("providers: %v %s", err, b)
		}
		return out.Providers[0].Keys
	}
	if keys := listKeys(); len(keys) != 2 || strings.Contains(fmt.Sprint(keys), "good") || strings.Contains(fmt.Sprint(keys), "bad-sim") {
		t.Fatalf("want two masked config keys, got %+v", keys)
	}

	failedOver := 0
	// Weighted round robin sends every other request to the bad key first.
	for i := range 60 {
		st, _, b := call(t, "POST", p.base+"/v1/chat/completions", "", fmt.Sprintf(`{"model":"m","max_tokens":1,"messages":[{"role":"user","content":"hello %d"}]}`, i))
		if st != 200 {
			t.Fatalf("request %d: %d %s (the good key should have answered)", i, st, b)
		}
		var r struct {
			Switchyard struct {
				Attempts int `json:"attempts"`
			} `json:"switchyard"`
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		if r.Switchyard.Attempts > 1 {
			failedOver++
		}
	}
	if failedOver == 0 {
		t.Fatal("no request was first sent to the bad key and failed over")
	}
	for _, k := range listKeys() {
		bad := strings.HasSuffix(k.MaskedKey, "0002")
		open := strings.HasSuffix(k.State, "OPEN") // TARGET_STATE_OPEN or _HALF_OPEN
		if bad != open {
			t.Fatalf("want only the bad key's breaker open, got %+v", listKeys())
		}
	}
	// Keys added through the API join the pool, bad ones included.
	for _, key := range []string{"sk-sim-added-0003", "bad-sim-added-0004"} {
		if st, _, b := call(t, "POST", p.base+"/v1/providers/sim/keys", "", `{"api_key":"`+key+`","label":"added"}`); st != 200 {
			t.Fatalf("add %s: %d %s", key, st, b)
		}
	}
	if keys := listKeys(); len(keys) != 4 {
		t.Fatalf("want 4 keys after adding 2, got %+v", keys)
	}
}
