package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/internal/redisurl"
)

// FieldError is one problem, at a field path such as "providers[1].type".
type FieldError struct {
	Field   string
	Message string
}

func (e FieldError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// ValidationError lists every problem found, in file order.
type ValidationError struct {
	// File is set by Load.
	File   string
	Errors []FieldError
}

// Error gives one problem per line, each prefixed "config: ".
func (e *ValidationError) Error() string {
	var b strings.Builder
	for i, fe := range e.Errors {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("config: ")
		if e.File != "" {
			b.WriteString(e.File)
			b.WriteString(": ")
		}
		b.WriteString(fe.Error())
	}
	return b.String()
}

type checker struct{ errs []FieldError }

func (k *checker) add(field, format string, args ...any) {
	k.errs = append(k.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (k *checker) nonNegative(field string, d Duration) {
	if d < 0 {
		k.add(field, "must not be negative (got %s)", d)
	}
}

func (k *checker) oneOf(field, v string, known []string) {
	for _, s := range known {
		if v == s {
			return
		}
	}
	k.add(field, "unknown value %q (want one of %s)", v, strings.Join(known, ", "))
}

// Validate checks the whole config and returns a *ValidationError listing
// every problem, or nil. It expects defaults applied (Parse does that).
func (c *Config) Validate() error {
	k := &checker{}
	c.validateTop(k)
	c.Telemetry.validate(k)
	if c.Alerts.Interval != 0 && c.Alerts.Interval < Duration(time.Second) { // 0 takes the default
		k.add("alerts.interval", "must be at least 1s")
	}
	if c.Pricing.Refresh != 0 && c.Pricing.Refresh < Duration(time.Second) { // 0 takes the default
		k.add("pricing.refresh", "must be at least 1s")
	}
	if c.Alerts.MinSamples < 0 {
		k.add("alerts.min_samples", "must not be negative")
	}
	models := c.validateProviders(k)
	validateRouting(k, c.Routing, c.Routes, c.Providers, models)
	if len(k.errs) == 0 {
		return nil
	}
	return &ValidationError{Errors: k.errs}
}

func (c *Config) validateTop(k *checker) {
	if _, port, err := net.SplitHostPort(c.Listen); err != nil {
		k.add("listen", "want host:port, got %q", c.Listen)
	} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		k.add("listen", "invalid port %q", port)
	}
	k.oneOf("log.level", c.Log.Level, []string{"trace", "debug", "info", "warn", "error"})
	k.oneOf("log.format", c.Log.Format, []string{"text", "json"})
	if c.Server.MaxBodyBytes <= 0 {
		k.add("server.max_body_bytes", "must be greater than 0")
	}
	k.nonNegative("server.shutdown_timeout", c.Server.ShutdownTimeout)
	k.nonNegative("storage.responses_retention", c.Storage.ResponsesRetention)
	k.nonNegative("server.read_header_timeout", c.Server.ReadHeaderTimeout)
	k.nonNegative("server.request_timeout", c.Server.RequestTimeout)
	k.nonNegative("server.body_read_timeout", c.Server.BodyReadTimeout)
	k.nonNegative("server.idle_timeout", c.Server.IdleTimeout)
	if c.Server.MaxHeaderBytes < 0 {
		k.add("server.max_header_bytes", "must not be negative")
	}
	for i, h := range c.Server.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/ *") {
			k.add(fmt.Sprintf("server.allowed_hosts[%d]", i), "want a host name like gateway.internal, got %q", h)
		}
	}
	switch tok := c.Server.MetricsToken; {
	case tok == "":
	case len(unsetVars(tok)) > 0:
		k.add("server.metrics_token", "environment variable %s is not set", unsetVars(tok)[0])
	case len(tok) < 16:
		k.add("server.metrics_token", "too short: use at least 16 characters")
	}
	if u := c.Storage.PostgresURL; u != "" {
		if unset := unsetVars(u); len(unset) > 0 {
			k.add("storage.postgres_url", "environment variable %s is not set", unset[0])
		} else if pu, err := url.Parse(u); err != nil || (pu.Scheme != "postgres" && pu.Scheme != "postgresql") || pu.Host == "" {
			k.add("storage.postgres_url", "want postgres://user:pass@host:port/db")
		}
	}
	rc := c.ResponseCache
	if rc.Scope != "" { // "" takes the default
		k.oneOf("cache.scope", rc.Scope, []string{"shared", "key"})
	}
	if rc.Mode != "" {
		k.oneOf("cache.mode", rc.Mode, CacheModes())
	}
	k.nonNegative("cache.ttl", rc.TTL)
	if rc.MaxEntries < 0 {
		k.add("cache.max_entries", "must not be negative")
	}
	if rc.MaxBytes < 0 {
		k.add("cache.max_bytes", "must not be negative")
	}
	k.redisURL("cache.redis_url", rc.RedisURL)
	k.redisURL("storage.redis_url", c.Storage.RedisURL)
	seen := map[string]bool{}
	for i, key := range c.Auth.APIKeys {
		field := fmt.Sprintf("auth.api_keys[%d]", i)
		switch unset := unsetVars(key); {
		case len(unset) > 0:
			k.add(field, "environment variable %s is not set", unset[0])
		case len(key) < 16:
			k.add(field, "too short: client API keys need at least 16 characters")
		case seen[key]:
			k.add(field, "duplicate key")
		}
		seen[key] = true
	}
	for i, o := range c.Server.CORSOrigins {
		if o == "*" {
			continue
		}
		if u, err := url.Parse(o); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			k.add(fmt.Sprintf("server.cors_origins[%d]", i), "want an origin like https://app.example.com or *, got %q", o)
		}
	}
}

func validName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return s != ""
}

// validateProviders checks the providers and returns, by provider name, the
// set of models each lists (nil when it lists none).
func (c *Config) validateProviders(k *checker) map[string]map[string]bool {
	models := make(map[string]map[string]bool, len(c.Providers))
	if len(c.Providers) == 0 {
		k.add("providers", "at least one provider is required")
	}
	for i, p := range c.Providers {
		f := fmt.Sprintf("providers[%d]", i)
		switch {
		case p.Name == "":
			k.add(f+".name", "must not be empty")
		case !validName(p.Name):
			k.add(f+".name", "%q may only contain a-z, 0-9, _ and -", p.Name)
		default:
			if _, dup := models[p.Name]; dup {
				k.add(f+".name", "duplicate provider name %q", p.Name)
			}
		}
		known := p.validateType(k, f)
		if known {
			p.validateEndpoint(k, f)
			p.validateKeys(k, f)
		}
		set := p.validateModels(k, f)
		if _, dup := models[p.Name]; !dup && p.Name != "" {
			models[p.Name] = set
		}
		k.nonNegative(f+".timeout", p.Timeout)
		p.validateAPI(k, f)
		p.Quota.validate(k, f+".quota")
		if p.MaxIdleConnsPerHost < 0 {
			k.add(f+".max_idle_conns_per_host", "must not be negative")
		}
		for _, h := range sortedKeys(p.Headers) {
			v := p.Headers[h]
			if h == "" || strings.ContainsAny(h, " \t\r\n:") {
				k.add(f+".headers", "invalid header name %q", h)
			}
			for _, name := range unsetVars(v) {
				k.add(f+".headers."+h, "environment variable %s is not set", name)
			}
		}
		if p.Simulator != nil {
			if p.Type != TypeSimulator {
				k.add(f+".simulator", "only valid for type simulator")
			}
			p.Simulator.validate(k, f+".simulator")
		}
		if p.Anthropic != nil {
			if p.Type != TypeAnthropic {
				k.add(f+".anthropic", "only valid for type anthropic")
			}
			p.Anthropic.validate(k, f+".anthropic")
		}
	}
	return models
}

func (a *Anthropic) validate(k *checker, f string) {
	if a.StructuredOutputField != "" {
		k.oneOf(f+".structured_output_field", a.StructuredOutputField, []string{"output_config", "output_format"})
	}
	for _, e := range sortedKeys(a.ThinkingBudget) {
		if v := a.ThinkingBudget[e]; !(v >= 0 && v < 1) {
			k.add(f+".thinking_budget."+e, "must be at least 0 and below 1 (got %g)", v)
		}
	}
	if a.AutoCacheTokens < 0 {
		k.add(f+".auto_cache_tokens", "must not be negative")
	}
	if a.MaxPartBytes < 0 {
		k.add(f+".max_part_bytes", "must not be negative")
	}
	if a.Logprobs != "" && a.Logprobs != "refuse" && a.Logprobs != "ignore" {
		k.add(f+".logprobs", "must be refuse or ignore (got %q)", a.Logprobs)
	}
}

func (p *Provider) validateType(k *checker, f string) bool {
	for _, t := range Types() {
		if p.Type == t {
			return true
		}
	}
	if p.Type == "" {
		k.add(f+".type", "must not be empty (want one of %s)", strings.Join(Types(), ", "))
	} else {
		k.add(f+".type", "unknown type %q (want one of %s)", p.Type, strings.Join(Types(), ", "))
	}
	return false
}

func (p *Provider) validateEndpoint(k *checker, f string) {
	if p.Type == TypeSimulator {
		if p.BaseURL != "" {
			k.add(f+".base_url", "not used by type simulator")
		}
		return
	}
	switch {
	case len(unsetVars(p.BaseURL)) > 0:
		for _, name := range unsetVars(p.BaseURL) {
			k.add(f+".base_url", "environment variable %s is not set", name)
		}
	case p.BaseURL == "":
		k.add(f+".base_url", "required for type %s", p.Type)
	default:
		u, err := url.Parse(p.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			k.add(f+".base_url", "want an http(s) URL, got %q", redactURL(p.BaseURL))
		}
	}
	if p.Type == TypeAzure && p.APIVersion == "" {
		k.add(f+".api_version", "required for type azure (e.g. 2024-10-21)")
	}
}

func (p *Provider) validateKeys(k *checker, f string) {
	for j, key := range p.APIKeys {
		kf := fmt.Sprintf("%s.api_keys[%d]", f, j)
		if unset := unsetVars(key); len(unset) > 0 {
			for _, name := range unset {
				k.add(kf, "environment variable %s is not set", name)
			}
			continue
		}
		if strings.TrimSpace(key) == "" {
			k.add(kf, "is empty")
		}
	}
	// The simulator needs no key; a real upstream with none would fail every
	// request with 401, better said at startup.
	if p.Type != TypeSimulator && len(p.APIKeys) == 0 {
		k.add(f+".api_keys", "type %s needs at least one API key", p.Type)
	}
}

func (p *Provider) validateModels(k *checker, f string) map[string]bool {
	var set map[string]bool
	if len(p.Models) > 0 {
		set = make(map[string]bool, len(p.Models))
	}
	for j, m := range p.Models {
		mf := fmt.Sprintf("%s.models[%d]", f, j)
		switch {
		case strings.TrimSpace(m) == "":
			k.add(mf, "must not be empty")
		case set[m]:
			k.add(mf, "duplicate model %q", m)
		}
		set[m] = true
	}
	for _, m := range sortedKeys(p.Prices) {
		pr := p.Prices[m]
		pf := f + ".prices." + m
		if set != nil && !set[m] {
			k.add(pf, "price for model %q, which this provider does not list in models", m)
		}
		if pr.Input < 0 || pr.Output < 0 || pr.CachedInput < 0 || pr.CacheWrite < 0 || pr.CacheWrite1h < 0 {
			k.add(pf, "prices must not be negative")
		}
	}
	return set
}

func (s *Simulator) validate(k *checker, f string) {
	k.nonNegative(f+".token_delay", s.TokenDelay)
	k.nonNegative(f+".ttft", s.TTFT)
	k.nonNegative(f+".retry_after", s.RetryAfter)
	if s.ResponseTokens < 1 || s.ResponseTokens > 4096 {
		k.add(f+".response_tokens", "must be between 1 and 4096 (got %d)", s.ResponseTokens)
	}
	if s.FailRate < 0 || s.FailRate > 1 {
		k.add(f+".fail_rate", "must be between 0 and 1 (got %g)", s.FailRate)
	}
	if s.FailStatus < 400 || s.FailStatus > 599 {
		k.add(f+".fail_status", "must be an HTTP error status 400-599 (got %d)", s.FailStatus)
	}
}

func validateRouting(k *checker, r Routing, routes []Route, providers []Provider, models map[string]map[string]bool) {
	k.oneOf("routing.strategy", r.Strategy, Strategies())
	k.oneOf("routing.fallback_strategy", r.FallbackStrategy, FallbackStrategies())
	seenPW := map[string]bool{}
	for i, pw := range r.Providers {
		f := fmt.Sprintf("routing.providers[%d]", i)
		if _, ok := models[pw.Name]; !ok {
			k.add(f+".name", "unknown provider %q", pw.Name)
		} else if seenPW[pw.Name] {
			k.add(f+".name", "provider %q listed twice", pw.Name)
		}
		seenPW[pw.Name] = true
		if pw.Priority < 0 {
			k.add(f+".priority", "must not be negative")
		}
		if pw.Weight < 0 {
			k.add(f+".weight", "must not be negative")
		}
	}

	served := map[string]bool{}
	for _, p := range providers {
		for _, m := range p.Models {
			served[m] = true
		}
	}
	aliases := map[string]bool{}
	for i, rt := range routes {
		f := fmt.Sprintf("routes[%d]", i)
		switch {
		case strings.TrimSpace(rt.Model) == "":
			k.add(f+".model", "must not be empty")
		case aliases[rt.Model]:
			k.add(f+".model", "duplicate route %q", rt.Model)
		}
		aliases[rt.Model] = true
		k.oneOf(f+".strategy", rt.Strategy, Strategies())
		k.oneOf(f+".fallback_strategy", rt.FallbackStrategy, FallbackStrategies())
		if len(rt.Targets) == 0 {
			k.add(f+".targets", "at least one target is required")
		}
		for j, t := range rt.Targets {
			validateTarget(k, fmt.Sprintf("%s.targets[%d]", f, j), rt.Model, t, models)
		}
		validateRoutePolicies(k, f, rt)
		validateRules(k, f, rt, models)
	}
	validateSemanticModels(k, routes, served)
	for i, rt := range routes {
		for j, fb := range rt.Fallbacks {
			ff := fmt.Sprintf("routes[%d].fallbacks[%d]", i, j)
			switch {
			case fb == rt.Model:
				k.add(ff, "route %q cannot fall back to itself", fb)
			case !aliases[fb] && !served[fb]:
				k.add(ff, "%q is neither a route nor a model listed by a provider", fb)
			}
		}
	}
}

func validateTarget(k *checker, f, alias string, t Target, models map[string]map[string]bool) {
	set, ok := models[t.Provider]
	switch {
	case t.Provider == "":
		k.add(f+".provider", "must not be empty")
	case !ok:
		k.add(f+".provider", "unknown provider %q", t.Provider)
	case set != nil:
		m := t.Model
		if m == "" {
			m = alias
		}
		if !set[m] {
			if t.Model == "" {
				k.add(f+".model", "empty, so the alias %q is sent, but provider %q does not list it in models", alias, t.Provider)
			} else {
				k.add(f+".model", "provider %q does not list model %q", t.Provider, m)
			}
		}
	}
	if t.Weight < 0 {
		k.add(f+".weight", "must not be negative")
	}
	if t.Priority < 0 {
		k.add(f+".priority", "must not be negative")
	}
	if t.Quality < 0 || t.Quality > 1 {
		k.add(f+".quality", "must be between 0 and 1 (got %g)", t.Quality)
	}
}

func validateRoutePolicies(k *checker, f string, rt Route) {
	if rt.Retry.MaxAttempts < 0 {
		k.add(f+".retry.max_attempts", "must not be negative")
	}
	k.nonNegative(f+".retry.initial_backoff", rt.Retry.InitialBackoff)
	k.nonNegative(f+".retry.max_backoff", rt.Retry.MaxBackoff)
	k.nonNegative(f+".retry.per_try_timeout", rt.Retry.PerTryTimeout)
	k.nonNegative(f+".retry.overall_timeout", rt.Retry.OverallTimeout)
	if rt.Retry.MaxBackoff > 0 && rt.Retry.InitialBackoff > rt.Retry.MaxBackoff {
		k.add(f+".retry.max_backoff", "must not be less than initial_backoff (%s)", rt.Retry.InitialBackoff)
	}
	k.nonNegative(f+".hedge.delay", rt.Hedge.Delay)
	k.oneOf(f+".cache.mode", rt.Cache.Mode, CacheModes())
	k.nonNegative(f+".cache.ttl", rt.Cache.TTL)
	validateSemantic(k, f+".cache", rt.Cache)
	rt.Probe.validate(k, f+".probe")
	h := rt.Hybrid
	for _, w := range []struct {
		name string
		v    float64
	}{{"cost", h.Cost}, {"latency", h.Latency}, {"quality", h.Quality}, {"error_rate", h.ErrorRate}, {"load", h.Load}} {
		if w.v < 0 {
			k.add(f+".hybrid."+w.name, "must not be negative")
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// redisURL checks a Redis address: one node, a Sentinel master or a
// Cluster, in the forms internal/redisurl reads (its errors never repeat
// the URL, which may hold a password).
func (k *checker) redisURL(field, u string) {
	if u == "" {
		return
	}
	if unset := unsetVars(u); len(unset) > 0 {
		k.add(field, "environment variable %s is not set", unset[0])
	} else if _, _, err := redisurl.Parse(u); err != nil {
		k.add(field, "%v (want %s)", err, redisurl.Forms)
	}
}
