package middleware

import (
	"crypto/sha256"
	"crypto/subtle"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// ListensBeyondLoopback reports whether a listen address (host:port) takes
// connections from other hosts: an empty host, an unspecified address
// (0.0.0.0, ::), any IP outside loopback, or a name. Names are not
// resolved; only "localhost" counts as loopback, so a name that might
// reach the network protects /metrics rather than exposing it.
func ListensBeyondLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr // no port
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return true
	}
	return !ip.Unmap().IsLoopback()
}

// MetricsGate guards GET /metrics. On a loopback-only listener it is open,
// as Prometheus scrapes from the same host. On one beyond loopback the
// metrics name providers, models, routes and key ids, so a scrape needs
// 'Authorization: Bearer' with token (server.metrics_token) or the admin
// key. With neither configured only a keyless gateway's loopback callers
// are served, as for every other API in keyless mode.
func MetricsGate(auth *Auth, token string, beyondLoopback bool, next http.Handler) http.Handler {
	if !beyondLoopback {
		return next
	}
	if auth == nil {
		auth = NewAuth(nil)
	}
	var tokenSum *[32]byte
	if token != "" {
		s := sha256.Sum256([]byte(token))
		tokenSum = &s
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if secret := presented(r.Header); secret != "" {
			sum := sha256.Sum256([]byte(secret))
			if (tokenSum != nil && subtle.ConstantTimeCompare(sum[:], tokenSum[:]) == 1) || auth.isAdmin(sum) {
				next.ServeHTTP(w, r)
				return
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			refuse(w, http.StatusUnauthorized, "invalid_metrics_token", "the bearer token is neither server.metrics_token nor the admin key")
			return
		}
		if tokenSum == nil && !auth.HasAdminKey() {
			if !auth.Enabled() && isLoopback(r.RemoteAddr) {
				next.ServeHTTP(w, r)
				return
			}
			refuse(w, http.StatusForbidden, "metrics_token_required",
				"this gateway listens beyond loopback, so /metrics needs a credential: set server.metrics_token (or SWITCHYARD_ADMIN_KEY) and scrape with 'Authorization: Bearer TOKEN'")
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
		refuse(w, http.StatusUnauthorized, "missing_metrics_token", "send server.metrics_token or the admin key as 'Authorization: Bearer TOKEN'")
	})
}
