package config

import (
	"strings"
	"testing"
	"time"
)

func TestQuotaAndProbeDefaultsAndValidation(t *testing.T) {
	provider := func(quota string) string {
		return "providers:\n  - {name: sim, type: simulator, models: [m1]" + quota + "}\n"
	}
	route := func(probe string) string {
		return "routes: [{model: a, targets: [{provider: sim, model: m1}]" + probe + "}]\n"
	}
	tests := []struct {
		name, src, wantErr string
		check              func(t *testing.T, c *Config)
	}{
		{"quota gets the 80% headroom", provider(", quota: {rpm: 100}") + route(""), "", func(t *testing.T, c *Config) {
			if q := c.Providers[0].Quota; q == nil || q.RPM != 100 || q.Headroom != 0.8 {
				t.Errorf("quota = %+v", q)
			}
		}},
		{"quota with nothing declared", provider(", quota: {headroom: 0.5}") + route(""), "providers[0].quota: declares neither rpm nor tpm", nil},
		{"negative rpm", provider(", quota: {rpm: -1, tpm: 5}") + route(""), "providers[0].quota.rpm: must be >= 0", nil},
		{"headroom above one", provider(", quota: {tpm: 5, headroom: 1.5}") + route(""), "providers[0].quota.headroom: must be in (0, 1]", nil},
		{"probe defaults are the seed's thresholds", provider("") + route(", probe: {enabled: true}"), "", func(t *testing.T, c *Config) {
			p := c.Routes[0].Probe
			if p == nil || p.Interval.D() != 5*time.Minute || p.Timeout.D() != 5*time.Second || p.TTFT.D() != 500*time.Millisecond ||
				p.Total.D() != 2*time.Second || p.Prompt != "ping" || p.MaxTokens != 1 {
				t.Errorf("probe = %+v", p)
			}
		}},
		{"probe interval under a second", provider("") + route(", probe: {enabled: true, interval: 100ms}"), "routes[0].probe.interval: must be at least 1s", nil},
		{"probe max_tokens", provider("") + route(", probe: {enabled: true, max_tokens: -2}"), "routes[0].probe.max_tokens: must be at least 1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.src), fakeEnv(nil))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// The routing API carries no probe: a change through it keeps the file's.
func TestWithRoutingKeepsTheRoutesProbe(t *testing.T) {
	c, err := Parse([]byte("providers:\n  - {name: sim, type: simulator, models: [m1]}\nroutes: [{model: a, targets: [{provider: sim, model: m1}], probe: {enabled: true, interval: 1m}}]\n"), fakeEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.WithRouting(c.Routing, []Route{{Model: "a", Strategy: StrategyHybrid, Targets: []Target{{Provider: "sim", Model: "m1"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if p := n.Routes[0].Probe; p == nil || !p.Enabled || p.Interval.D() != time.Minute {
		t.Fatalf("probe after a routing change = %+v", p)
	}
}
