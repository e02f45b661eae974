package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// haproxyRetrySummary is what the report says HAProxy was set to do.
const haproxyRetrySummary = "health check GET /healthz every 250ms (fall 2, rise 2); retries 3, option redispatch 1, " +
	"retry-on conn-failure empty-response response-timeout; timeout connect 500ms; balance roundrobin"

// startHAProxy fronts the replicas. A replica that is killed or draining
// refuses connections or closes one without an answer: those requests are
// retried on another replica (redispatch) as an operator would configure.
// A stream already answering cannot be retried.
func (f *fleet) startHAProxy(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	var servers strings.Builder
	for _, g := range f.gws {
		fmt.Fprintf(&servers, "  server %s %s check\n", g.name, g.addr())
	}
	cfg := fmt.Sprintf(`global
  maxconn 4096
defaults
  mode http
  timeout connect 500ms
  timeout client 30s
  timeout server 30s
  timeout queue 5s
  timeout http-keep-alive 10s
  retries 3
  option redispatch 1
  retry-on conn-failure empty-response response-timeout
frontend fleet
  bind 127.0.0.1:%d
  default_backend gateways
backend gateways
  balance roundrobin
  option httpchk GET /healthz
  http-check expect status 200
  default-server inter 250ms fall 2 rise 2
%s`, port, servers.String())
	path := filepath.Join(f.work, "haproxy.cfg")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		return err
	}
	p, err := startProc("haproxy", filepath.Join(f.work, "haproxy.log"), nil, f.opts.haproxy, "-db", "-f", path)
	if err != nil {
		return err
	}
	f.lb = p
	f.lbURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	if err := waitHTTP(ctx, f.lbURL+"/healthz", 10*time.Second); err != nil {
		return fmt.Errorf("haproxy: %w (log: %s)", err, tail(filepath.Join(f.work, "haproxy.log")))
	}
	return nil
}
