package sim

import (
	"strings"
	"testing"
)

func TestGatewayConfigPerPolicy(t *testing.T) {
	sc := Default()
	ep := Endpoints{Providers: map[string]string{}, Feed: "http://127.0.0.1:9/_control/prices"}
	for _, p := range sc.Providers {
		ep.Providers[p.Name] = "http://127.0.0.1:1" + p.Name[:1]
	}
	ps := Policies()
	for _, tc := range []struct {
		policy  Policy
		has     []string
		hasNot  []string
		wantErr string
	}{
		{policy: ps[0], has: []string{"strategy: priority", "{provider: openai, model: gpt-4o, priority: 1}", `base_url: "http://127.0.0.1:1o/v1"`},
			hasNot: []string{"pricing:", "anthropic", "hybrid:", "probe:"}},
		{policy: ps[1], has: []string{"{provider: gemini, model: gemini-2.5-flash, priority: 1}", "{provider: deepseek, model: deepseek-chat, priority: 4}",
			`type: gemini, base_url: "http://127.0.0.1:1g"`, `type: anthropic, base_url: "http://127.0.0.1:1a"`, `type: openai-compatible, base_url: "http://127.0.0.1:1d/v1"`},
			hasNot: []string{"pricing:"}},
		{policy: ps[2], has: []string{"strategy: cost_priority"}, hasNot: []string{"pricing:", "hybrid:"}},
		{policy: ps[3], has: []string{"strategy: hybrid", "hybrid: {cost: 0.5, latency: 0.4, quality: 0, error_rate: 0.1, load: 0}",
			`pricing: {feed_url: "http://127.0.0.1:9/_control/prices", refresh: 1s}`, `probe: {enabled: true, interval: 1s, timeout: 3s`, "retry: " + Retry}},
		{policy: Policy{Name: "x", Strategy: "priority", Targets: []string{"ghost"}}, wantErr: `unknown provider "ghost"`},
	} {
		t.Run(tc.policy.Name, func(t *testing.T) {
			y, err := GatewayConfig(&sc, tc.policy, ep, "127.0.0.1:5", "/d")
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range append(tc.has, `listen: "127.0.0.1:5"`, `storage: {data_dir: "/d"}`) {
				if !strings.Contains(y, s) {
					t.Errorf("config lacks %q:\n%s", s, y)
				}
			}
			for _, s := range tc.hasNot {
				if strings.Contains(y, s) {
					t.Errorf("config has %q:\n%s", s, y)
				}
			}
		})
	}
	noFeed := ep
	noFeed.Feed = ""
	if _, err := GatewayConfig(&sc, ps[3], noFeed, "l", "d"); err == nil {
		t.Error("live prices without a feed accepted")
	}
}
