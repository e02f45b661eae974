package main

import (
	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/server/middleware"
)

// warnMetricsAccess says at start when /metrics is closed to scrapers, and
// how to open it: a gateway listening beyond loopback serves it only with
// server.metrics_token or the admin key (middleware.MetricsGate).
func warnMetricsAccess(log hclog.Logger, cfg *config.Config, auth *middleware.Auth) {
	if !middleware.ListensBeyondLoopback(cfg.Listen) || cfg.Server.MetricsToken != "" || auth.HasAdminKey() {
		return
	}
	log.Warn("/metrics is refused: the gateway listens beyond loopback and neither server.metrics_token nor SWITCHYARD_ADMIN_KEY is set; "+
		"set one and scrape with 'Authorization: Bearer TOKEN' (loopback callers are served only while no client key exists)", "listen", cfg.Listen)
}
