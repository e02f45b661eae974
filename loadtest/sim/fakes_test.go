package sim

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// The script reaches the fakes: a price event rewrites the feed, an
// outage makes the provider's fake answer 503, Reset puts midnight back.
func TestApplyPutsTheScriptIntoTheFakes(t *testing.T) {
	sc := Default()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	f, err := StartFakes(&sc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ctx := context.Background()
	ep := f.Endpoints()

	feedPrice := func(id string) string {
		t.Helper()
		resp, err := http.Get(ep.Feed)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Data []struct {
				ID      string `json:"id"`
				Pricing struct {
					Prompt string `json:"prompt"`
				} `json:"pricing"`
			} `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
			t.Fatal(err)
		}
		for _, m := range out.Data {
			if m.ID == id {
				return m.Pricing.Prompt
			}
		}
		t.Fatalf("%s not in the feed: %+v", id, out.Data)
		return ""
	}
	chat := func() int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, ep.Providers["deepseek"]+"/v1/chat/completions",
			strings.NewReader(`{"model":"deepseek-chat","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer sk-x")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	if got := feedPrice("google/gemini-2.5-flash"); got != "0.0000003" {
		t.Errorf("midnight feed price %s, want 0.0000003 (0.30 per million)", got)
	}
	for _, e := range sc.Events {
		if e.Change.Price != nil {
			if err := f.Apply(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := feedPrice("google/gemini-2.5-flash"); got != "0.00000015" {
		t.Errorf("after the cut %s, want 0.00000015", got)
	}
	if got := feedPrice("openai/gpt-4o"); got != "0.0000025" {
		t.Errorf("openai's price moved to %s with gemini's", got)
	}

	down := Event{At: time.Hour, Provider: "deepseek", Label: "down", Change: Change{Status: ptr(503)}}
	sc.Events = append(sc.Events, down)
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := f.Apply(ctx, down); err != nil {
		t.Fatal(err)
	}
	if got := chat(); got != http.StatusServiceUnavailable {
		t.Errorf("in the outage the fake answered %d, want 503", got)
	}
	if got := f.Upstream()["deepseek"]; got != 1 {
		t.Errorf("deepseek's fake counted %d requests, want 1", got)
	}

	f.Reset()
	if got := chat(); got != http.StatusOK {
		t.Errorf("after Reset the fake answered %d, want 200", got)
	}
	if got := feedPrice("google/gemini-2.5-flash"); got != "0.0000003" {
		t.Errorf("after Reset the feed says %s, want midnight's 0.0000003", got)
	}
	if calls := f.ProbeCalls("ping"); len(calls) != 0 {
		t.Errorf("probe calls %v, want none: no request said ping", calls)
	}
	// What the gateway's probe sends to a Gemini target.
	req, _ := http.NewRequest(http.MethodPost, ep.Providers["gemini"]+"/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
		strings.NewReader(`{"contents":[{"role":"user","parts":[{"text":"ping"}]}],"generationConfig":{"maxOutputTokens":1}}`))
	req.Header.Set("x-goog-api-key", "k")
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if calls := f.ProbeCalls("ping"); len(calls) != 1 || calls[0].Provider != "gemini" {
		t.Errorf("probe calls %v, want the one to gemini", calls)
	}
}
