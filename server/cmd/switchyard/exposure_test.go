package main

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/server/middleware"
)

// The listen address is the configured one: the tests bind loopback, but
// the gate decides on what the operator asked for.
func TestMetricsNeedATokenWhenListeningBeyondLoopback(t *testing.T) {
	const token = "scrape-token-0123456789"
	loopback := testConfig + "auth: {api_keys: [sk-test-key-0123456789]}\n"
	keyed := strings.Replace(loopback, "server: {", "listen: 0.0.0.0:8080\nserver: {", 1)
	tests := []struct {
		name   string
		yaml   string
		bearer string
		want   int
	}{
		{"loopback listener stays open", loopback, "", 200},
		{"no token configured", keyed, "", 403},
		{"token configured, not sent", strings.Replace(keyed, "server: {", "server: {metrics_token: "+token+", ", 1), "", 401},
		{"token configured and sent", strings.Replace(keyed, "server: {", "server: {metrics_token: "+token+", ", 1), token, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := startGateway(t, tc.yaml)
			req, err := http.NewRequest(http.MethodGet, g.base+"/metrics", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tc.bearer)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_ = resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("GET /metrics: %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestStartupLogSaysHowToOpenMetrics(t *testing.T) {
	tests := []struct {
		name, listen, token, admin string
		warn                       bool
	}{
		{"loopback", "127.0.0.1:8080", "", "", false},
		{"beyond loopback, nothing set", "0.0.0.0:8080", "", "", true},
		{"beyond loopback, token", "0.0.0.0:8080", "scrape-token-0123456789", "", false},
		{"beyond loopback, admin key", ":8080", "", "admin-key-0123456789abcd", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := hclog.New(&hclog.LoggerOptions{Output: &buf})
			cfg := &config.Config{Listen: tc.listen, Server: config.Server{MetricsToken: tc.token}}
			warnMetricsAccess(log, cfg, middleware.NewAuth(nil, middleware.WithAdminKey(tc.admin)))
			got := buf.String()
			if tc.warn != (got != "") {
				t.Fatalf("log %q, want a warning: %v", got, tc.warn)
			}
			if tc.warn && !strings.Contains(got, "server.metrics_token") {
				t.Fatalf("the warning does not say how to open /metrics: %q", got)
			}
		})
	}
}
