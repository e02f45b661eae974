// Package config reads the gateway's one YAML file: listen address, logging,
// HTTP server limits, providers with their keys and prices, and the routing
// section (the default route plus named route aliases).
//
// Parse decodes strictly (an unknown key is an error naming its line),
// expands ${NAME} in secrets and URLs from an injected getenv, applies
// defaults and validates; Validate reports every problem at once with a
// field path, so one edit fixes a whole file. server/cmd is the only
// importer that builds the running gateway from a Config; server/rpc uses
// the routing types for the live routing-config API.
package config

import (
	"fmt"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/switchyard/switchyard/engine/balancer"
)

// Config is the whole gateway configuration.
type Config struct {
	// Listen is the host:port the one server port binds.
	Listen    string     `yaml:"listen"`
	Log       Log        `yaml:"log"`
	Server    Server     `yaml:"server"`
	Providers []Provider `yaml:"providers"`
	// Routing is the default route: how plain model names (not aliases)
	// served by several providers are balanced.
	Routing Routing `yaml:"routing"`
	// Routes are the named aliases, each with its own targets and policies.
	Routes []Route `yaml:"routes"`
	// Auth protects the API. With no keys the gateway is open, so keep it on
	// loopback.
	Auth Auth `yaml:"auth"`
	// ResponseCache sizes the response cache shared by every route (each
	// route's cache.mode decides what it stores).
	ResponseCache ResponseCache `yaml:"cache"`
	// Storage is where the usage ledger (and, as they land, client keys,
	// API-added provider keys and alerts) persist.
	Storage Storage `yaml:"storage"`
	// Telemetry exports OpenTelemetry traces; off without an OTLP endpoint.
	Telemetry Telemetry `yaml:"telemetry"`
	// Alerts tunes the evaluation of the alerts created through
	// BillingService (budget, error rate, p95 latency).
	Alerts Alerts `yaml:"alerts"`
	// Pricing refreshes model prices from a live feed; off without a feed.
	Pricing Pricing `yaml:"pricing"`
}

// Pricing is the live price feed. A price set in a provider's `prices`
// wins over the feed, and the feed over the built-in table, so an operator's
// contract price is never replaced by a list price.
type Pricing struct {
	// FeedURL is an http(s) URL or a file path holding either the
	// OpenRouter models JSON or LiteLLM's model_prices_and_context_window.json
	// (told apart by shape); empty turns the feed off.
	FeedURL string `yaml:"feed_url"`
	// Refresh is the time between fetches (default 5m, at least 1s).
	Refresh Duration `yaml:"refresh"`
}

// Storage selects the state store: SQLite in DataDir by default, Postgres
// when PostgresURL is set.
type Storage struct {
	DataDir     string `yaml:"data_dir"`     // default "data" (relative to the working directory)
	PostgresURL string `yaml:"postgres_url"` // literal or ${ENV}
	// RedisURL moves the per-key rate limit buckets, budget counters and
	// provider-key quotas into Redis, shared by every instance; without it
	// they live in process. One node (host:port, redis[s]://host:port/db),
	// Sentinel (redis+sentinel://s1:p,s2:p/master) or Cluster
	// (redis+cluster://n1:p,n2:p); see internal/redisurl.
	RedisURL string `yaml:"redis_url"`
	// ResponsesRetention is how long stored Responses API responses (for
	// previous_response_id and GET /v1/responses/{id}) are kept; default
	// 720h, OpenAI's 30 days.
	ResponsesRetention Duration `yaml:"responses_retention"`
}

// ResponseCache configures the in-process cache (L1) and an optional shared
// Redis (L2). Identical in-flight requests are coalesced whenever a request
// is cacheable.
type ResponseCache struct {
	// RedisURL shares cached answers between gateway instances; it takes
	// the forms storage.redis_url does (one node, Sentinel, Cluster). A Redis outage degrades to L1 with a warning.
	RedisURL string `yaml:"redis_url"`
	// MaxEntries and MaxBytes bound L1 (defaults 10000 and 64 MiB).
	MaxEntries int   `yaml:"max_entries"`
	MaxBytes   int64 `yaml:"max_bytes"`
	// TTL is the default entry lifetime (default 5m); routes and requests
	// may set their own.
	TTL Duration `yaml:"ttl"`
	// Scope is shared (one cache for every client) or key (entries are
	// private to the client key that made them). Default shared.
	Scope string `yaml:"scope"`
	// Mode is the policy for model names that are no alias:
	// off | deterministic (default) | all.
	Mode string `yaml:"mode"`
	// Semantic sizes the semantic cache's index, shared by the routes
	// that turn it on (routes[].cache.semantic); with redis_url its entries
	// are shared by every instance.
	Semantic SemanticIndex `yaml:"semantic"`
}

// SemanticIndex bounds the in-process semantic index.
type SemanticIndex struct {
	// MaxEntries and MaxBytes bound it (defaults 10000 and 64 MiB; an
	// entry of 1536 dimensions counts about 6.4 KB).
	MaxEntries int   `yaml:"max_entries"`
	MaxBytes   int64 `yaml:"max_bytes"`
}

// Auth lists the API keys clients may present (Authorization: Bearer KEY or
// x-api-key). Health checks, reflection and /healthz stay open.
type Auth struct {
	// APIKeys are literal or ${ENV}; at least 16 characters each.
	APIKeys []string `yaml:"api_keys"`
}

// Log configures the injected hclog logger.
type Log struct {
	Level  string `yaml:"level"`  // trace|debug|info|warn|error
	Format string `yaml:"format"` // text|json
}

// Server holds the HTTP server's limits.
type Server struct {
	MaxBodyBytes      int64    `yaml:"max_body_bytes"`
	ShutdownTimeout   Duration `yaml:"shutdown_timeout"`
	ReadHeaderTimeout Duration `yaml:"read_header_timeout"`
	// BodyReadTimeout bounds reading a request body (not gRPC or Connect
	// streams), so a client that sends headers then nothing is dropped.
	BodyReadTimeout Duration `yaml:"body_read_timeout"`
	// IdleTimeout closes keep-alive connections left idle this long.
	IdleTimeout Duration `yaml:"idle_timeout"`
	// MaxHeaderBytes caps the request header size.
	MaxHeaderBytes int `yaml:"max_header_bytes"`
	// RequestTimeout bounds one whole unary request; streams are not cut.
	RequestTimeout Duration `yaml:"request_timeout"`
	// CORSOrigins lists the browser origins allowed; empty disables CORS,
	// and a request carrying any other Origin is refused.
	CORSOrigins []string `yaml:"cors_origins"`
	// AllowedHosts are Host names served besides loopback. While no client
	// key exists only loopback and these are served (DNS rebinding); with
	// keys, Host is checked only when this is set.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// MetricsToken (literal or ${ENV}) lets a scraper read /metrics with
	// 'Authorization: Bearer TOKEN' when the gateway listens beyond
	// loopback; the admin key works too.
	MetricsToken string `yaml:"metrics_token"`
}

// Provider is one upstream account: a wire format, where it lives, its
// keys and the models it serves.
type Provider struct {
	Name    string `yaml:"name"`
	Type    string `yaml:"type"`
	BaseURL string `yaml:"base_url"`
	// APIKeys are literal or ${ENV}; several keys form a pool.
	APIKeys []string `yaml:"api_keys"`
	Models  []string `yaml:"models"`
	// Prices by model, in USD per million tokens.
	Prices  map[string]Price  `yaml:"prices"`
	Timeout Duration          `yaml:"timeout"`
	Headers map[string]string `yaml:"headers"`
	// APIVersion is required for azure; anthropic defaults to 2023-06-01.
	APIVersion          string `yaml:"api_version"`
	MaxIdleConnsPerHost int    `yaml:"max_idle_conns_per_host"`
	// ResponsesAPI says an openai-compatible upstream serves the OpenAI
	// Responses API too: Responses requests reach it with the client's body
	// (type openai always does).
	ResponsesAPI bool `yaml:"responses_api"`
	// API is how requests that did not come in as Responses reach an
	// upstream that serves the Responses API: chat, responses (translated
	// from the request), or auto (the default: the OpenAI adapter's list of
	// models that need Responses, e.g. o3-pro, gpt-5 codex, gpt-5.x with
	// tools and reasoning).
	API string `yaml:"api"`
	// ModelAPI sets chat or responses per upstream model, by exact name or
	// glob (the most specific wins), over api and the built-in list.
	ModelAPI map[string]string `yaml:"model_api"`
	// Simulator tunes the built-in provider; only for type simulator.
	Simulator *Simulator `yaml:"simulator"`
	// Anthropic tunes how other dialects' fields reach an Anthropic
	// upstream; only for type anthropic.
	Anthropic *Anthropic `yaml:"anthropic"`
	// Quota declares each key's subscription limits (quota.go); routing
	// then keeps every key under them.
	Quota *Quota `yaml:"quota"`
}

// Anthropic configures translation to the Messages API.
type Anthropic struct {
	// NativeStructuredOutput lists models (exact, or a prefix ending in *)
	// that take output_config.format; others serve response_format by a
	// forced tool.
	NativeStructuredOutput []string `yaml:"native_structured_output"`
	// StructuredOutputField is output_config (the default, generally
	// available form) or output_format (the beta form, sent with anthropic-beta
	// structured-outputs-2025-11-13, for platforms where it is still beta).
	StructuredOutputField string `yaml:"structured_output_field"`
	// ThinkingBudget is the share of max_tokens thought with per
	// reasoning_effort (minimal, low, medium, high), each in [0, 1).
	ThinkingBudget map[string]float64 `yaml:"thinking_budget"`
	// AutoCacheTokens > 0 adds a cache breakpoint after tools and system
	// prompt when they are estimated at least this many tokens and the
	// request has none; 0 is off.
	AutoCacheTokens int `yaml:"auto_cache_tokens"`
	// MaxPartBytes caps one image or document part (default 32 MiB).
	MaxPartBytes int `yaml:"max_part_bytes"`
	// Logprobs is what a request asking for log probabilities gets:
	// refuse (the default: a 400 naming logprobs, since Anthropic has
	// none) or ignore (answered without them).
	Logprobs string `yaml:"logprobs"`
}

// Price is a model's price in USD per million tokens.
type Price struct {
	Input       float64 `yaml:"input"`
	Output      float64 `yaml:"output"`
	CachedInput float64 `yaml:"cached_input"`
	// CacheWrite and CacheWrite1h price prompt-cache writes (5-minute and
	// 1-hour lifetime); unset they are 1.25× and 2× input, Anthropic's rates.
	CacheWrite   float64 `yaml:"cache_write"`
	CacheWrite1h float64 `yaml:"cache_write_1h"`
}

// Simulator configures the built-in simulated provider.
type Simulator struct {
	TokenDelay     Duration `yaml:"token_delay"`
	TTFT           Duration `yaml:"ttft"`
	ResponseTokens int      `yaml:"response_tokens"`
	// FailRate is the fraction of requests, in [0,1], that fail with
	// FailStatus.
	FailRate   float64  `yaml:"fail_rate"`
	FailStatus int      `yaml:"fail_status"`
	RetryAfter Duration `yaml:"retry_after"`
	// AutoTool is a tool the simulated model calls on its own when offered
	// (once per turn, then it answers the result): for driving agent CLIs.
	AutoTool string `yaml:"auto_tool"`
	// Thinking answers requests that ask for thinking (Anthropic thinking
	// enabled or adaptive) with a short signed reasoning block, and checks
	// signatures handed back: for SDK and agent tests of thinking.
	Thinking bool `yaml:"thinking"`
}

// Routing is the default route, applied to plain model names.
type Routing struct {
	Strategy         string `yaml:"strategy"`
	FallbackStrategy string `yaml:"fallback_strategy"`
	// PanicMode, on unless set false, tries a route's targets anyway when
	// every one is breaker-open, instead of answering 503 no_healthy_target.
	// Routes inherit it.
	PanicMode *bool `yaml:"panic_mode"`
	// Providers rank the providers that serve the same model name.
	Providers []ProviderWeight `yaml:"providers"`
}

// ProviderWeight ranks one provider in the default route; lower priority is
// tried first.
type ProviderWeight struct {
	Name     string `yaml:"name"`
	Priority int    `yaml:"priority"`
	Weight   int    `yaml:"weight"`
}

// Route is a model alias and how requests for it are served.
type Route struct {
	Model            string   `yaml:"model"`
	Strategy         string   `yaml:"strategy"`
	FallbackStrategy string   `yaml:"fallback_strategy"`
	Targets          []Target `yaml:"targets"`
	// Fallbacks name other routes or served models tried after the targets.
	Fallbacks []string `yaml:"fallbacks"`
	Retry     Retry    `yaml:"retry"`
	Hedge     Hedge    `yaml:"hedge"`
	Cache     Cache    `yaml:"cache"`
	Hybrid    Hybrid   `yaml:"hybrid"`
	// PanicMode overrides routing.panic_mode for this route.
	PanicMode *bool `yaml:"panic_mode"`
	// FanOutN, off by default, serves n > 1 on targets that answer one
	// choice per call (Anthropic, the simulator) by n upstream calls, up to
	// 16, merged into one answer and each billed with its prompt. Without
	// it they refuse n > 1. A routing-API update that leaves it unset keeps
	// the running value.
	FanOutN *bool `yaml:"fan_out_n"`
	// Probe measures idle targets with a tiny synthetic prompt (probe.go);
	// off unless enabled.
	Probe *Probe `yaml:"probe"`
	// Rules pick targets from request attributes, first match wins (rules.go).
	Rules []Rule `yaml:"rules"`
}

// Target is one provider model behind a route.
type Target struct {
	Provider string `yaml:"provider"`
	// Model is the upstream model; empty sends the alias itself.
	Model    string  `yaml:"model"`
	Weight   int     `yaml:"weight"`
	Priority int     `yaml:"priority"`
	Quality  float64 `yaml:"quality"`
}

// Retry bounds the attempts of one request.
type Retry struct {
	MaxAttempts    int      `yaml:"max_attempts"`
	InitialBackoff Duration `yaml:"initial_backoff"`
	MaxBackoff     Duration `yaml:"max_backoff"`
	PerTryTimeout  Duration `yaml:"per_try_timeout"`
	OverallTimeout Duration `yaml:"overall_timeout"`
}

// Hedge sends a second attempt when the first is slower than Delay.
type Hedge struct {
	Enabled bool     `yaml:"enabled"`
	Delay   Duration `yaml:"delay"`
}

// Cache is a route's response cache policy.
type Cache struct {
	// Mode is off, deterministic (only requests with temperature 0 or a
	// seed) or all.
	Mode string `yaml:"mode"`
	// TTL of 0 leaves the cache's own default.
	TTL Duration `yaml:"ttl"`
	// Semantic also answers a request whose last user turn means the same
	// as one already answered, everything else equal. Off unless enabled.
	Semantic Semantic `yaml:"semantic"`
}

// Semantic is a route's semantic cache.
type Semantic struct {
	Enabled bool `yaml:"enabled"`
	// Model is the embedding model (a route or a provider's model the
	// gateway serves), called through the gateway and billed like any
	// embeddings request.
	Model string `yaml:"model"`
	// Dimensions, when > 0, asks the model for vectors that size.
	Dimensions int `yaml:"dimensions"`
	// Threshold is the cosine similarity a match needs (default 0.95).
	Threshold float64 `yaml:"threshold"`
	// TTL of an entry (default: the route's cache ttl).
	TTL Duration `yaml:"ttl"`
	// Scope is key (a request matches only its own client key's entries,
	// the default) or shared.
	Scope string `yaml:"scope"`
	// AllowTools lets conversations that called tools be matched.
	AllowTools bool `yaml:"allow_tools"`
	// Timeout bounds the embedding call (default 2s); slower is a miss.
	Timeout Duration `yaml:"timeout"`
}

// Semantic cache scopes.
const (
	SemanticScopeKey    = "key"
	SemanticScopeShared = "shared"
)

// Hybrid weighs the hybrid strategy's score terms.
type Hybrid struct {
	Cost      float64 `yaml:"cost"`
	Latency   float64 `yaml:"latency"`
	Quality   float64 `yaml:"quality"`
	ErrorRate float64 `yaml:"error_rate"`
	Load      float64 `yaml:"load"`
}

// Provider types.
const (
	TypeOpenAI           = "openai"
	TypeAnthropic        = "anthropic"
	TypeGemini           = "gemini"
	TypeOpenAICompatible = "openai-compatible"
	TypeAzure            = "azure"
	TypeSimulator        = "simulator"
)

// Routing strategies: the engine's names (engine/balancer), so the config
// accepts exactly what the router runs.
const (
	StrategyConsistentHash   = balancer.StrategyConsistentHash
	StrategyLeastConnections = balancer.StrategyLeastConnections
	StrategyHybrid           = balancer.StrategyHybrid
	StrategyWeighted         = balancer.StrategyWeighted
	StrategyPriority         = balancer.StrategyPriority
	StrategyLatencyPriority  = balancer.StrategyLatencyPriority
	StrategyCostPriority     = balancer.StrategyCostPriority
)

// Fallback strategies.
const (
	FallbackFailover = "failover"
	FallbackNone     = "none"
)

// Cache modes.
const (
	CacheOff           = "off"
	CacheDeterministic = "deterministic"
	CacheAll           = "all"
)

// Types lists the known provider types.
func Types() []string {
	return []string{TypeOpenAI, TypeAnthropic, TypeGemini, TypeOpenAICompatible, TypeAzure, TypeSimulator}
}

// Strategies lists the known routing strategies (balancer.Strategies).
func Strategies() []string { return balancer.Strategies() }

// FallbackStrategies lists the known fallback strategies.
func FallbackStrategies() []string { return []string{FallbackFailover, FallbackNone} }

// CacheModes lists the known cache modes.
func CacheModes() []string { return []string{CacheOff, CacheDeterministic, CacheAll} }

// Duration is a time.Duration written as Go duration text ("250ms", "2s",
// "1m") in YAML, and marshalled back to that text.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// String formats d like time.Duration.
func (d Duration) String() string { return time.Duration(d).String() }

// MarshalYAML writes the duration text.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML reads duration text. A bare number is refused (except 0)
// because "30" could mean seconds or nanoseconds; the error names the line
// since yaml.v3 does not add it to errors from custom unmarshalers.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: a duration must be text like \"30s\"", n.Line)
	}
	s := strings.TrimSpace(n.Value)
	if s == "0" {
		*d = 0
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("line %d: invalid duration %q (want e.g. \"250ms\", \"30s\", \"1m\")", n.Line, n.Value)
	}
	*d = Duration(v)
	return nil
}

// MarshalText writes the duration text (JSON and other text encoders).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads duration text.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("invalid duration %q", b)
	}
	*d = Duration(v)
	return nil
}

// Alerts tunes alert evaluation; the alerts themselves are created through
// the API (POST /v1/billing/alerts) and kept in the state store.
type Alerts struct {
	// Interval between evaluations (default 15s, at least 1s). A budget
	// crossing triggers one at once.
	Interval Duration `yaml:"interval"`
	// MinSamples is the fewest requests in a window for an error-rate or
	// latency alert to fire (default 20), so one failure of two pages no one.
	MinSamples int `yaml:"min_samples"`
}
