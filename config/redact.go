package config

import (
	"maps"
	"net/url"
	"slices"
	"strings"
)

// WithRouting returns a validated copy of c with the routing section and
// routes replaced; c itself is untouched. The live routing-config API uses
// it, so zero fields arriving from the API get the same defaults as a file.
// An unset panic_mode keeps the value in force (for a route, the one of the
// route with the same model): the API may not carry the switch, and a
// routing change must not quietly turn panic mode back on.
func (c *Config) WithRouting(r Routing, routes []Route) (*Config, error) {
	n := c.clone()
	n.Routing = cloneRouting(r)
	n.Routes = cloneRoutes(routes)
	if n.Routing.PanicMode == nil {
		n.Routing.PanicMode = clonePtr(c.Routing.PanicMode)
	}
	for i := range n.Routes {
		for _, old := range c.Routes {
			if n.Routes[i].PanicMode == nil && old.Model == n.Routes[i].Model {
				n.Routes[i].PanicMode = clonePtr(old.PanicMode)
			}
			if n.Routes[i].FanOutN == nil && old.Model == n.Routes[i].Model {
				n.Routes[i].FanOutN = clonePtr(old.FanOutN)
			}
			// The routing API does not carry probes: they stay as the file set them.
			if n.Routes[i].Probe == nil && old.Model == n.Routes[i].Model {
				n.Routes[i].Probe = clonePtr(old.Probe)
			}
		}
	}
	applyRoutingDefaults(&n.Routing, n.Routes)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	return n, nil
}

// Redacted returns a copy safe to log or serve: API keys become "****"
// plus their last four characters, header values that look like
// credentials are masked, and passwords in URLs are hidden.
func (c *Config) Redacted() *Config {
	n := c.clone()
	for i, k := range n.Auth.APIKeys {
		n.Auth.APIKeys[i] = MaskSecret(k)
	}
	if n.Server.MetricsToken != "" {
		n.Server.MetricsToken = MaskSecret(n.Server.MetricsToken)
	}
	n.ResponseCache.RedisURL = redactURL(n.ResponseCache.RedisURL)
	n.Storage.PostgresURL = redactURL(n.Storage.PostgresURL)
	n.Telemetry = n.Telemetry.redacted()
	n.Storage.RedisURL = redactURL(n.Storage.RedisURL)
	for i := range n.Providers {
		p := &n.Providers[i]
		for j, k := range p.APIKeys {
			p.APIKeys[j] = MaskSecret(k)
		}
		for h, v := range p.Headers {
			if sensitiveHeader(h) {
				p.Headers[h] = MaskSecret(v)
			}
		}
		p.BaseURL = redactURL(p.BaseURL)
	}
	return n
}

// MaskSecret shows only the last four characters of s. Short secrets are
// masked whole, since four characters of an eight-character key is half of
// it; an unexpanded ${NAME} is no secret and stays readable.
func MaskSecret(s string) string {
	if s == "" || (strings.HasPrefix(s, "${") && strings.HasSuffix(s, "}") && validEnvName(s[2:len(s)-1])) {
		return s
	}
	if len(s) <= 8 {
		return "****"
	}
	return "****" + s[len(s)-4:]
}

func sensitiveHeader(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"auth", "key", "token", "secret", "cookie", "password"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	return u.Redacted()
}

// clone deep-copies c so copies never share slices or maps with it.
func (c *Config) clone() *Config {
	n := *c
	n.Server.CORSOrigins = slices.Clone(c.Server.CORSOrigins)
	n.Auth.APIKeys = slices.Clone(c.Auth.APIKeys)
	n.Providers = slices.Clone(c.Providers)
	for i := range n.Providers {
		p := &n.Providers[i]
		p.APIKeys = slices.Clone(p.APIKeys)
		p.Models = slices.Clone(p.Models)
		p.Prices = maps.Clone(p.Prices)
		p.Headers = maps.Clone(p.Headers)
		if p.Simulator != nil {
			s := *p.Simulator
			p.Simulator = &s
		}
	}
	n.Routing = cloneRouting(c.Routing)
	n.Telemetry = c.Telemetry.clone()
	n.Routes = cloneRoutes(c.Routes)
	return &n
}

func cloneRouting(r Routing) Routing {
	r.Providers = slices.Clone(r.Providers)
	r.PanicMode = clonePtr(r.PanicMode)
	return r
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

func cloneRoutes(routes []Route) []Route {
	out := slices.Clone(routes)
	for i := range out {
		out[i].Targets = slices.Clone(out[i].Targets)
		out[i].Fallbacks = slices.Clone(out[i].Fallbacks)
		out[i].PanicMode = clonePtr(out[i].PanicMode)
		out[i].FanOutN = clonePtr(out[i].FanOutN)
		out[i].Probe = clonePtr(out[i].Probe)
		out[i].Rules = cloneRules(out[i].Rules)
	}
	return out
}

// RedactURL hides a URL's password (redis://user:secret@host → xxxxx).
func RedactURL(s string) string { return redactURL(s) }
