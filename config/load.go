package config

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Defaults applied by Parse.
const (
	DefaultListen              = "127.0.0.1:8080"
	DefaultLogLevel            = "info"
	DefaultLogFormat           = "text"
	DefaultMaxBodyBytes        = 8 << 20
	DefaultShutdownTimeout     = 30 * time.Second
	DefaultResponsesRetention  = 30 * 24 * time.Hour
	DefaultReadHeaderTimeout   = 10 * time.Second
	DefaultRequestTimeout      = 10 * time.Minute
	DefaultBodyReadTimeout     = 60 * time.Second
	DefaultIdleTimeout         = 120 * time.Second
	DefaultMaxHeaderBytes      = 1 << 20
	DefaultProviderTimeout     = 120 * time.Second
	DefaultMaxIdleConnsPerHost = 256
	DefaultAnthropicVersion    = "2023-06-01"
	DefaultResponseTokens      = 24
	DefaultFailStatus          = 503
)

// defaultBaseURL is the public endpoint of the provider types that have one.
func defaultBaseURL(typ string) string {
	switch typ {
	case TypeOpenAI:
		return "https://api.openai.com/v1"
	case TypeAnthropic:
		return "https://api.anthropic.com"
	case TypeGemini:
		return "https://generativelanguage.googleapis.com"
	}
	return ""
}

//go:embed default.yaml
var defaultYAML []byte

// Parse decodes a YAML config, expands ${NAME} in api_keys, base_url and
// header values through getenv, applies defaults and validates. An unset
// variable is left as written, so Validate can name it.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	c, err := decode(data)
	if err != nil {
		return nil, err
	}
	return finish(c, getenv)
}

// Load reads and parses the file at path; errors name the file.
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data, getenv)
	if err != nil {
		var ve *ValidationError
		if errors.As(err, &ve) {
			ve.File = path
			return nil, ve
		}
		return nil, fmt.Errorf("config: %s: %s", path, strings.TrimPrefix(err.Error(), "config: "))
	}
	return c, nil
}

// Default returns the built-in configuration: the simulator provider and
// an "auto" alias, plus every real provider whose API key variable is set
// and non-empty in getenv. A provider whose keys are all unset is removed
// together with the route targets that point at it, so the default runs
// with no keys at all and uses real upstreams as soon as a key is given.
func Default(getenv func(string) (string, bool)) (*Config, error) {
	c, err := decode(defaultYAML)
	if err != nil {
		return nil, fmt.Errorf("config: embedded default: %w", err)
	}
	if getenv == nil {
		getenv = noEnv
	}
	kept := c.Providers[:0]
	dropped := map[string]bool{}
	for _, p := range c.Providers {
		if len(p.APIKeys) == 0 || anyKeyResolves(p.APIKeys, getenv) {
			kept = append(kept, p)
		} else {
			dropped[p.Name] = true
		}
	}
	c.Providers = kept
	for i := range c.Routes {
		r := &c.Routes[i]
		ts := r.Targets[:0]
		for _, t := range r.Targets {
			if !dropped[t.Provider] {
				ts = append(ts, t)
			}
		}
		r.Targets = ts
	}
	return finish(c, getenv)
}

func noEnv(string) (string, bool) { return "", false }

func anyKeyResolves(keys []string, getenv func(string) (string, bool)) bool {
	for _, k := range keys {
		if v, unset := expand(k, getenv); len(unset) == 0 && strings.TrimSpace(v) != "" {
			return true
		}
	}
	return false
}

func decode(data []byte) (*Config, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	c := &Config{}
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, errors.New("config: more than one YAML document; a config file holds exactly one")
	}
	return c, nil
}

func finish(c *Config, getenv func(string) (string, bool)) (*Config, error) {
	if getenv == nil {
		getenv = noEnv
	}
	c.expandEnv(getenv)
	c.Telemetry.resolve(getenv)
	// SWITCHYARD_DATA_DIR wins over the file, so test suites and second
	// instances never share the ./data of a gateway started by make run.
	if d, ok := getenv("SWITCHYARD_DATA_DIR"); ok && d != "" {
		c.Storage.DataDir = d
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) expandEnv(getenv func(string) (string, bool)) {
	c.ResponseCache.RedisURL, _ = expand(c.ResponseCache.RedisURL, getenv)
	c.Storage.PostgresURL, _ = expand(c.Storage.PostgresURL, getenv)
	c.Storage.RedisURL, _ = expand(c.Storage.RedisURL, getenv)
	c.Server.MetricsToken, _ = expand(c.Server.MetricsToken, getenv)
	for j, k := range c.Auth.APIKeys {
		c.Auth.APIKeys[j], _ = expand(k, getenv)
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		p.BaseURL, _ = expand(p.BaseURL, getenv)
		for j, k := range p.APIKeys {
			p.APIKeys[j], _ = expand(k, getenv)
		}
		for h, v := range p.Headers {
			p.Headers[h], _ = expand(v, getenv)
		}
	}
}

// expand replaces each ${NAME} whose variable is set. Unset ones stay as
// written and are returned, so validation can say which variable is missing
// instead of silently sending an empty key upstream.
func expand(s string, getenv func(string) (string, bool)) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	var unset []string
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		j := strings.IndexByte(s[i+2:], '}')
		if j < 0 || !validEnvName(s[i+2:i+2+j]) {
			b.WriteString(s[:i+2])
			s = s[i+2:]
			continue
		}
		name := s[i+2 : i+2+j]
		b.WriteString(s[:i])
		if v, ok := getenv(name); ok {
			b.WriteString(v)
		} else {
			b.WriteString(s[i : i+3+j])
			unset = append(unset, name)
		}
		s = s[i+3+j:]
	}
	return b.String(), unset
}

// unsetVars lists the ${NAME} references still present in s.
func unsetVars(s string) []string {
	_, unset := expand(s, noEnv)
	return unset
}

func validEnvName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func (c *Config) applyDefaults() {
	if c.Pricing.Refresh == 0 {
		c.Pricing.Refresh = Duration(5 * time.Minute)
	}
	if c.Alerts.Interval == 0 {
		c.Alerts.Interval = Duration(15 * time.Second)
	}
	if c.Alerts.MinSamples == 0 {
		c.Alerts.MinSamples = 20
	}
	if c.Storage.DataDir == "" {
		c.Storage.DataDir = "data"
	}
	if c.Storage.ResponsesRetention == 0 {
		c.Storage.ResponsesRetention = Duration(DefaultResponsesRetention)
	}
	if c.ResponseCache.MaxEntries == 0 {
		c.ResponseCache.MaxEntries = 10000
	}
	if c.ResponseCache.MaxBytes == 0 {
		c.ResponseCache.MaxBytes = 64 << 20
	}
	if c.ResponseCache.TTL == 0 {
		c.ResponseCache.TTL = Duration(5 * time.Minute)
	}
	if c.ResponseCache.Scope == "" {
		c.ResponseCache.Scope = "shared"
	}
	if c.ResponseCache.Mode == "" {
		c.ResponseCache.Mode = "deterministic"
	}
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if c.Log.Level == "" {
		c.Log.Level = DefaultLogLevel
	}
	if c.Log.Format == "" {
		c.Log.Format = DefaultLogFormat
	}
	s := &c.Server
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.ShutdownTimeout == 0 {
		s.ShutdownTimeout = Duration(DefaultShutdownTimeout)
	}
	if s.ReadHeaderTimeout == 0 {
		s.ReadHeaderTimeout = Duration(DefaultReadHeaderTimeout)
	}
	if s.RequestTimeout == 0 {
		s.RequestTimeout = Duration(DefaultRequestTimeout)
	}
	if s.BodyReadTimeout == 0 {
		s.BodyReadTimeout = Duration(DefaultBodyReadTimeout)
	}
	if s.IdleTimeout == 0 {
		s.IdleTimeout = Duration(DefaultIdleTimeout)
	}
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	for i := range c.Providers {
		p := &c.Providers[i]
		if p.BaseURL == "" {
			p.BaseURL = defaultBaseURL(p.Type)
		}
		if p.Timeout == 0 {
			p.Timeout = Duration(DefaultProviderTimeout)
		}
		if p.MaxIdleConnsPerHost == 0 {
			p.MaxIdleConnsPerHost = DefaultMaxIdleConnsPerHost
		}
		p.Quota.applyDefaults()
		if p.Type == TypeAnthropic && p.APIVersion == "" {
			p.APIVersion = DefaultAnthropicVersion
		}
		if p.Type == TypeSimulator {
			if p.Simulator == nil {
				p.Simulator = &Simulator{}
			}
			if p.Simulator.ResponseTokens == 0 {
				p.Simulator.ResponseTokens = DefaultResponseTokens
			}
			if p.Simulator.FailStatus == 0 {
				p.Simulator.FailStatus = DefaultFailStatus
			}
		}
	}
	applyRoutingDefaults(&c.Routing, c.Routes)
}

// applyRoutingDefaults fills the routing section; WithRouting reuses it for
// sections that arrive through the API, where unset fields are zero.
func applyRoutingDefaults(r *Routing, routes []Route) {
	if r.Strategy == "" {
		r.Strategy = StrategyPriority
	}
	if r.FallbackStrategy == "" {
		r.FallbackStrategy = FallbackFailover
	}
	if r.PanicMode == nil {
		on := true
		r.PanicMode = &on
	}
	for i := range routes {
		rt := &routes[i]
		// Routes inherit the default route's strategies; writing them out
		// keeps what the routing API reports equal to what runs.
		if rt.Strategy == "" {
			rt.Strategy = r.Strategy
		}
		if rt.FallbackStrategy == "" {
			rt.FallbackStrategy = r.FallbackStrategy
		}
		if rt.PanicMode == nil {
			rt.PanicMode = clonePtr(r.PanicMode)
		}
		if rt.Cache.Mode == "" {
			rt.Cache.Mode = CacheDeterministic
		}
		semanticDefaults(&rt.Cache.Semantic)
		rt.Probe.applyDefaults()
		h := &rt.Hybrid
		if h.Cost == 0 && h.Latency == 0 && h.Quality == 0 && h.ErrorRate == 0 && h.Load == 0 {
			*h = Hybrid{Cost: 0.4, Latency: 0.3, Quality: 0.3}
		}
	}
}
