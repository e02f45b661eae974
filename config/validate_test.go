package config

import (
	"errors"
	"strings"
	"testing"
)

// fakeEnv is a getenv over a map; tests never read the real environment.
func fakeEnv(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// baseProviders is a valid providers section the rows build on: a
// simulator with two models, a simulator with none, and an OpenAI account.
const baseProviders = `
providers:
  - name: sim
    type: simulator
    models: [m1, m2]
  - name: anysim
    type: simulator
  - name: oai
    type: openai
    api_keys: [sk-test-0123456789]
    models: [gpt-x]
`

const baseRoute = `
routes:
  - model: auto
    targets: [{provider: sim, model: m1}]
`

func TestValidateRules(t *testing.T) {
	env := fakeEnv(map[string]string{"EMPTY": "", "KEY": "sk-live-abcdefgh"})
	tests := []struct {
		name  string
		yaml  string
		field string // empty: the config is valid
		msg   string
	}{
		{"minimal config is valid", baseProviders + baseRoute, "", ""},
		{"listen without port", "listen: localhost\n" + baseProviders, "listen", "want host:port"},
		{"listen port out of range", "listen: ':99999'\n" + baseProviders, "listen", `invalid port "99999"`},
		{"listen with empty host is valid", "listen: ':9000'\n" + baseProviders, "", ""},
		{"unknown log level", "log: {level: verbose}\n" + baseProviders, "log.level", `unknown value "verbose" (want one of trace, debug, info, warn, error)`},
		{"unknown log format", "log: {format: xml}\n" + baseProviders, "log.format", `unknown value "xml"`},
		{"negative max body", "server: {max_body_bytes: -1}\n" + baseProviders, "server.max_body_bytes", "greater than 0"},
		{"negative shutdown timeout", "server: {shutdown_timeout: -1s}\n" + baseProviders, "server.shutdown_timeout", "must not be negative"},
		{"negative request timeout", "server: {request_timeout: -1m}\n" + baseProviders, "server.request_timeout", "must not be negative"},
		{"negative read header timeout", "server: {read_header_timeout: -2s}\n" + baseProviders, "server.read_header_timeout", "must not be negative"},
		{"cors origin without scheme", "server: {cors_origins: [app.example.com]}\n" + baseProviders, "server.cors_origins[0]", "want an origin"},
		{"cors wildcard is valid", "server: {cors_origins: ['*']}\n" + baseProviders, "", ""},
		{"allowed host with a scheme", "server: {allowed_hosts: ['http://gw.internal']}\n" + baseProviders, "server.allowed_hosts[0]", "want a host name"},
		{"allowed host with a port is valid", "server: {allowed_hosts: ['gw.internal:8080']}\n" + baseProviders, "", ""},
		{"negative idle timeout", "server: {idle_timeout: -1s}\n" + baseProviders, "server.idle_timeout", "negative"},
		{"metrics token too short", "server: {metrics_token: short}\n" + baseProviders, "server.metrics_token", "at least 16"},
		{"metrics token env unset", "server: {metrics_token: '${NO_SUCH_METRICS_VAR}'}\n" + baseProviders, "server.metrics_token", "NO_SUCH_METRICS_VAR is not set"},
		{"metrics token valid", "server: {metrics_token: scrape-0123456789abcdef}\n" + baseProviders, "", ""},
		{"redis sentinel URL is valid", "storage: {redis_url: 'redis+sentinel://s1:26379,s2:26379/mymaster'}\n" + baseProviders, "", ""},
		{"redis cluster URL is valid", "cache: {redis_url: 'redis+cluster://n1:7000,n2:7001'}\n" + baseProviders, "", ""},
		{"redis sentinel URL without a master", "storage: {redis_url: 'redis+sentinel://s1:26379'}\n" + baseProviders, "storage.redis_url", "names no master"},
		{"redis URL with a foreign scheme", "cache: {redis_url: 'http://h:1'}\n" + baseProviders, "cache.redis_url", "want host:port, redis[s]://"},
		{"auth key too short", "auth: {api_keys: [short]}\n" + baseProviders, "auth.api_keys[0]", "at least 16"},
		{"auth key env unset", "auth: {api_keys: ['${NO_SUCH_KEY_VAR}']}\n" + baseProviders, "auth.api_keys[0]", "NO_SUCH_KEY_VAR is not set"},
		{"auth key duplicate", "auth: {api_keys: [sk-0123456789abcdef, sk-0123456789abcdef]}\n" + baseProviders, "auth.api_keys[1]", "duplicate"},
		{"auth keys valid", "auth: {api_keys: [sk-0123456789abcdef]}\n" + baseProviders, "", ""},
		{"no providers", "listen: 127.0.0.1:1\n", "providers", "at least one provider is required"},
		{"provider without name", "providers: [{type: simulator}]", "providers[0].name", "must not be empty"},
		{"provider name with capitals and space", "providers: [{name: Open AI, type: simulator}]", "providers[0].name", "may only contain a-z, 0-9, _ and -"},
		{"duplicate provider name", "providers: [{name: a, type: simulator}, {name: a, type: simulator}]", "providers[1].name", `duplicate provider name "a"`},
		{"unknown provider type", "providers: [{name: a, type: simulator}, {name: b, type: foo}]", "providers[1].type", `unknown type "foo" (want one of openai, anthropic, gemini, openai-compatible, azure, simulator)`},
		{"missing provider type", "providers: [{name: a}]", "providers[0].type", "must not be empty"},
		{"openai-compatible needs base_url", "providers: [{name: a, type: openai-compatible, api_keys: [k-0123456789]}]", "providers[0].base_url", "required for type openai-compatible"},
		{"azure needs base_url", "providers: [{name: a, type: azure, api_version: v, api_keys: [k-0123456789]}]", "providers[0].base_url", "required for type azure"},
		{"azure needs api_version", "providers: [{name: a, type: azure, base_url: 'https://x.openai.azure.com', api_keys: [k-0123456789]}]", "providers[0].api_version", "required for type azure"},
		{"base_url not http", "providers: [{name: a, type: openai, base_url: 'ftp://x', api_keys: [k-0123456789]}]", "providers[0].base_url", "want an http(s) URL"},
		{"base_url without host", "providers: [{name: a, type: openai, base_url: 'https://', api_keys: [k-0123456789]}]", "providers[0].base_url", "want an http(s) URL"},
		{"base_url unset variable", "providers: [{name: a, type: openai-compatible, base_url: 'https://${HOST}/v1', api_keys: [k-0123456789]}]", "providers[0].base_url", "environment variable HOST is not set"},
		{"simulator must not have base_url", "providers: [{name: a, type: simulator, base_url: 'http://x'}]", "providers[0].base_url", "not used by type simulator"},
		{"real provider needs api key", "providers: [{name: a, type: anthropic}]", "providers[0].api_keys", "type anthropic needs at least one API key"},
		{"api key unset variable", "providers: [{name: a, type: gemini, api_keys: ['${MISSING}']}]", "providers[0].api_keys[0]", "environment variable MISSING is not set"},
		{"api key set but empty", "providers: [{name: a, type: gemini, api_keys: ['${EMPTY}']}]", "providers[0].api_keys[0]", "is empty"},
		{"api key literal empty", "providers: [{name: a, type: gemini, api_keys: [k-0123456789, '']}]", "providers[0].api_keys[1]", "is empty"},
		{"api key from set variable is valid", "providers: [{name: a, type: gemini, api_keys: ['${KEY}']}]", "", ""},
		{"simulator needs no api key", "providers: [{name: a, type: simulator}]", "", ""},
		{"negative price", "providers: [{name: a, type: simulator, models: [m], prices: {m: {input: -1}}}]", "providers[0].prices.m", "must not be negative"},
		{"price for unlisted model", "providers: [{name: a, type: simulator, models: [m], prices: {zz: {input: 1}}}]", "providers[0].prices.zz", "does not list in models"},
		{"duplicate model", "providers: [{name: a, type: simulator, models: [m, m]}]", "providers[0].models[1]", `duplicate model "m"`},
		{"empty model", "providers: [{name: a, type: simulator, models: ['']}]", "providers[0].models[0]", "must not be empty"},
		{"negative provider timeout", "providers: [{name: a, type: simulator, timeout: -1s}]", "providers[0].timeout", "must not be negative"},
		{"negative idle conns", "providers: [{name: a, type: simulator, max_idle_conns_per_host: -1}]", "providers[0].max_idle_conns_per_host", "must not be negative"},
		{"header unset variable", "providers: [{name: a, type: simulator, headers: {X-Key: '${NOPE}'}}]", "providers[0].headers.X-Key", "environment variable NOPE is not set"},
		{"header name with colon", "providers: [{name: a, type: simulator, headers: {'X:Y': v}}]", "providers[0].headers", `invalid header name "X:Y"`},
		{"simulator fail_rate above 1", "providers: [{name: a, type: simulator, simulator: {fail_rate: 1.5}}]", "providers[0].simulator.fail_rate", "between 0 and 1"},
		{"simulator fail_rate negative", "providers: [{name: a, type: simulator, simulator: {fail_rate: -0.1}}]", "providers[0].simulator.fail_rate", "between 0 and 1"},
		{"simulator fail_status not an error", "providers: [{name: a, type: simulator, simulator: {fail_status: 200}}]", "providers[0].simulator.fail_status", "400-599"},
		{"simulator too many tokens", "providers: [{name: a, type: simulator, simulator: {response_tokens: 5000}}]", "providers[0].simulator.response_tokens", "between 1 and 4096"},
		{"simulator negative token delay", "providers: [{name: a, type: simulator, simulator: {token_delay: -1ms}}]", "providers[0].simulator.token_delay", "must not be negative"},
		{"simulator negative ttft", "providers: [{name: a, type: simulator, simulator: {ttft: -1ms}}]", "providers[0].simulator.ttft", "must not be negative"},
		{"simulator negative retry_after", "providers: [{name: a, type: simulator, simulator: {retry_after: -1s}}]", "providers[0].simulator.retry_after", "must not be negative"},
		{"anthropic block on another type", "providers: [{name: a, type: openai, api_keys: [k-0123456789], anthropic: {}}]", "providers[0].anthropic", "only valid for type anthropic"},
		{"anthropic thinking share of one", "providers: [{name: a, type: anthropic, api_keys: [k-0123456789], anthropic: {thinking_budget: {high: 1}}}]", "providers[0].anthropic.thinking_budget.high", "below 1"},
		{"anthropic negative auto cache", "providers: [{name: a, type: anthropic, api_keys: [k-0123456789], anthropic: {auto_cache_tokens: -1}}]", "providers[0].anthropic.auto_cache_tokens", "must not be negative"},
		{"anthropic negative part limit", "providers: [{name: a, type: anthropic, api_keys: [k-0123456789], anthropic: {max_part_bytes: -1}}]", "providers[0].anthropic.max_part_bytes", "must not be negative"},
		{"anthropic unknown structured output field", "providers: [{name: a, type: anthropic, api_keys: [k-0123456789], anthropic: {structured_output_field: response_format}}]", "providers[0].anthropic.structured_output_field", "unknown value"},
		{"simulator block on a real provider", "providers: [{name: a, type: openai, api_keys: [k-0123456789], simulator: {}}]", "providers[0].simulator", "only valid for type simulator"},
		{"unknown routing strategy", "routing: {strategy: random}\n" + baseProviders, "routing.strategy", `unknown value "random" (want one of consistent_hash, least_connections, hybrid, weighted, priority, latency_priority, cost_priority)`},
		{"unknown routing fallback", "routing: {fallback_strategy: retry}\n" + baseProviders, "routing.fallback_strategy", `(want one of failover, none)`},
		{"routing provider unknown", "routing: {providers: [{name: ghost}]}\n" + baseProviders, "routing.providers[0].name", `unknown provider "ghost"`},
		{"routing provider twice", "routing: {providers: [{name: sim}, {name: sim}]}\n" + baseProviders, "routing.providers[1].name", "listed twice"},
		{"routing provider negative priority", "routing: {providers: [{name: sim, priority: -1}]}\n" + baseProviders, "routing.providers[0].priority", "must not be negative"},
		{"routing provider negative weight", "routing: {providers: [{name: sim, weight: -1}]}\n" + baseProviders, "routing.providers[0].weight", "must not be negative"},
		{"route without model", baseProviders + "routes: [{targets: [{provider: sim, model: m1}]}]", "routes[0].model", "must not be empty"},
		{"duplicate route", baseProviders + "routes: [{model: a, targets: [{provider: sim, model: m1}]}, {model: a, targets: [{provider: sim, model: m1}]}]", "routes[1].model", `duplicate route "a"`},
		{"route alias equal to a served model is allowed", baseProviders + "routes: [{model: gpt-x, targets: [{provider: sim, model: m1}]}]", "", ""},
		{"unknown route strategy", baseProviders + "routes: [{model: a, strategy: fastest, targets: [{provider: sim, model: m1}]}]", "routes[0].strategy", `unknown value "fastest"`},
		{"unknown route fallback strategy", baseProviders + "routes: [{model: a, fallback_strategy: retry, targets: [{provider: sim, model: m1}]}]", "routes[0].fallback_strategy", `unknown value "retry"`},
		{"route without targets", baseProviders + "routes: [{model: a}]", "routes[0].targets", "at least one target is required"},
		{"target unknown provider", baseProviders + "routes: [{model: a, targets: [{provider: nope, model: m1}]}]", "routes[0].targets[0].provider", `unknown provider "nope"`},
		{"target without provider", baseProviders + "routes: [{model: a, targets: [{model: m1}]}]", "routes[0].targets[0].provider", "must not be empty"},
		{"target model not listed", baseProviders + "routes: [{model: a, targets: [{provider: sim, model: m9}]}]", "routes[0].targets[0].model", `provider "sim" does not list model "m9"`},
		{"target alias not listed", baseProviders + "routes: [{model: auto, targets: [{provider: sim}]}]", "routes[0].targets[0].model", `the alias "auto" is sent, but provider "sim" does not list it`},
		{"target alias listed is valid", baseProviders + "routes: [{model: m2, targets: [{provider: sim}]}]", "", ""},
		{"target on provider without model list is valid", baseProviders + "routes: [{model: a, targets: [{provider: anysim, model: whatever}]}]", "", ""},
		{"target negative weight", baseProviders + "routes: [{model: a, targets: [{provider: sim, model: m1, weight: -1}]}]", "routes[0].targets[0].weight", "must not be negative"},
		{"target negative priority", baseProviders + "routes: [{model: a, targets: [{provider: sim, model: m1, priority: -1}]}]", "routes[0].targets[0].priority", "must not be negative"},
		{"target quality above 1", baseProviders + "routes: [{model: a, targets: [{provider: sim, model: m1, quality: 1.5}]}]", "routes[0].targets[0].quality", "between 0 and 1"},
		{"fallback unknown", baseProviders + "routes: [{model: a, fallbacks: [ghost], targets: [{provider: sim, model: m1}]}]", "routes[0].fallbacks[0]", `"ghost" is neither a route nor a model listed by a provider`},
		{"fallback to itself", baseProviders + "routes: [{model: a, fallbacks: [a], targets: [{provider: sim, model: m1}]}]", "routes[0].fallbacks[0]", "cannot fall back to itself"},
		{"fallback to a later route and a served model is valid", baseProviders + "routes: [{model: a, fallbacks: [b, gpt-x], targets: [{provider: sim, model: m1}]}, {model: b, targets: [{provider: sim, model: m2}]}]", "", ""},
		{"negative max attempts", baseProviders + "routes: [{model: a, retry: {max_attempts: -1}, targets: [{provider: sim, model: m1}]}]", "routes[0].retry.max_attempts", "must not be negative"},
		{"negative initial backoff", baseProviders + "routes: [{model: a, retry: {initial_backoff: -1ms}, targets: [{provider: sim, model: m1}]}]", "routes[0].retry.initial_backoff", "must not be negative"},
		{"max backoff below initial", baseProviders + "routes: [{model: a, retry: {initial_backoff: 2s, max_backoff: 1s}, targets: [{provider: sim, model: m1}]}]", "routes[0].retry.max_backoff", "must not be less than initial_backoff (2s)"},
		{"negative per try timeout", baseProviders + "routes: [{model: a, retry: {per_try_timeout: -1s}, targets: [{provider: sim, model: m1}]}]", "routes[0].retry.per_try_timeout", "must not be negative"},
		{"negative overall timeout", baseProviders + "routes: [{model: a, retry: {overall_timeout: -1s}, targets: [{provider: sim, model: m1}]}]", "routes[0].retry.overall_timeout", "must not be negative"},
		{"negative hedge delay", baseProviders + "routes: [{model: a, hedge: {enabled: true, delay: -1ms}, targets: [{provider: sim, model: m1}]}]", "routes[0].hedge.delay", "must not be negative"},
		{"unknown cache mode", baseProviders + "routes: [{model: a, cache: {mode: sometimes}, targets: [{provider: sim, model: m1}]}]", "routes[0].cache.mode", `unknown value "sometimes" (want one of off, deterministic, all)`},
		{"negative cache ttl", baseProviders + "routes: [{model: a, cache: {ttl: -1s}, targets: [{provider: sim, model: m1}]}]", "routes[0].cache.ttl", "must not be negative"},
		{"negative hybrid weight", baseProviders + "routes: [{model: a, hybrid: {cost: -0.1, latency: 1}, targets: [{provider: sim, model: m1}]}]", "routes[0].hybrid.cost", "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), env)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("want valid, got:\n%v", err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want *ValidationError, got %T: %v", err, err)
			}
			for _, fe := range ve.Errors {
				if fe.Field == tt.field && strings.Contains(fe.Message, tt.msg) {
					return
				}
			}
			t.Fatalf("no error at %s containing %q; got:\n%v", tt.field, tt.msg, err)
		})
	}
}

func TestValidateReportsEveryProblemInOrder(t *testing.T) {
	src := `
listen: nowhere
log: {level: loud}
providers:
  - {name: a, type: foo}
  - {name: b, type: openai}
routes:
  - {model: r, targets: [{provider: zz}]}
`
	_, err := Parse([]byte(src), fakeEnv(nil))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want *ValidationError, got %v", err)
	}
	want := []string{"listen", "log.level", "providers[0].type", "providers[1].api_keys", "routes[0].targets[0].provider"}
	var got []string
	for _, fe := range ve.Errors {
		got = append(got, fe.Field)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("fields = %v, want %v", got, want)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("Error() has %d lines, want %d:\n%s", len(lines), len(want), err)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, "config: ") {
			t.Errorf("line %q lacks the config: prefix", l)
		}
	}
}

func TestValidateOnConfigBuiltInCode(t *testing.T) {
	// Validate alone (no Parse) still names unexpanded variables.
	c := &Config{
		Listen: "127.0.0.1:0", Log: Log{Level: "info", Format: "text"}, Server: Server{MaxBodyBytes: 1},
		Routing:   Routing{Strategy: StrategyPriority, FallbackStrategy: FallbackFailover},
		Providers: []Provider{{Name: "o", Type: TypeOpenAI, BaseURL: "https://api.openai.com/v1", APIKeys: []string{"${OPENAI_API_KEY}"}}},
	}
	err := c.Validate()
	if err == nil || err.Error() != "config: providers[0].api_keys[0]: environment variable OPENAI_API_KEY is not set" {
		t.Fatalf("got %v", err)
	}
	c.Providers[0].APIKeys[0] = "sk-0123456789"
	if err := c.Validate(); err != nil {
		t.Fatalf("want valid, got %v", err)
	}
}
