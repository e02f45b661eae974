package control

import (
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/switchyard/switchyard/adapters/anthropic"
	"github.com/switchyard/switchyard/adapters/gemini"
	"github.com/switchyard/switchyard/adapters/openai"
	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/route"
)

// Adapter is one provider type: how a config entry of that type becomes an
// adapter per key. Prices stay in config (config.BuiltinPrices), since they
// belong to models, not to wire formats.
type Adapter struct {
	// Type is the config's providers[].type.
	Type string
	// DefaultBaseURL serves a provider that names none; "" means the config
	// must give one.
	DefaultBaseURL string
	// Local types answer in process: they get no HTTP client, and without
	// configured keys serve as one keyless target.
	Local bool
	// New builds the adapter for one key. hc is the provider's shared
	// transport (nil for Local types).
	New func(p config.Provider, key string, hc *http.Client) (route.Provider, error)
}

// Registry maps provider type names to their adapters. It is built by a
// constructor rather than by init() so each gateway (and each test) holds
// its own.
type Registry struct {
	byType map[string]Adapter
	order  []string
}

// NewRegistry checks that each type is named once and can be built.
func NewRegistry(adapters ...Adapter) (*Registry, error) {
	r := &Registry{byType: make(map[string]Adapter, len(adapters))}
	for _, a := range adapters {
		if a.Type == "" || a.New == nil {
			return nil, fmt.Errorf("provider registry: adapter %q needs a type and a constructor", a.Type)
		}
		if _, dup := r.byType[a.Type]; dup {
			return nil, fmt.Errorf("provider registry: type %q registered twice", a.Type)
		}
		r.byType[a.Type] = a
		r.order = append(r.order, a.Type)
	}
	return r, nil
}

// Builtin is the registry of the adapters this build ships: adding a
// provider type is one line here.
func Builtin() *Registry {
	r, err := NewRegistry(
		Adapter{Type: config.TypeOpenAI, DefaultBaseURL: "https://api.openai.com/v1", New: newOpenAI},
		Adapter{Type: config.TypeAnthropic, DefaultBaseURL: "https://api.anthropic.com", New: newAnthropic},
		Adapter{Type: config.TypeGemini, DefaultBaseURL: "https://generativelanguage.googleapis.com", New: newGemini},
		Adapter{Type: config.TypeOpenAICompatible, New: newOpenAI},
		Adapter{Type: config.TypeAzure, New: newOpenAI},
		Adapter{Type: config.TypeSimulator, Local: true, New: newSimulator},
	)
	if err != nil {
		// The list above is fixed at compile time; TestBuiltinRegistry keeps it valid.
		panic(err)
	}
	return r
}

// Types lists the registered type names in registration order.
func (r *Registry) Types() []string { return slices.Clone(r.order) }

// Lookup returns the adapter registered for typ.
func (r *Registry) Lookup(typ string) (Adapter, bool) {
	a, ok := r.byType[typ]
	return a, ok
}

// build makes the adapter of one key of p.
func (r *Registry) build(p config.Provider, key string, hc *http.Client) (route.Provider, error) {
	a, ok := r.byType[p.Type]
	if !ok {
		return nil, fmt.Errorf("unknown provider type %q", p.Type)
	}
	if p.BaseURL == "" {
		p.BaseURL = a.DefaultBaseURL
	}
	return a.New(p, key, hc)
}

// newOpenAI serves openai, azure and every OpenAI-compatible upstream: only
// OpenAI itself takes max_completion_tokens.
func newOpenAI(p config.Provider, key string, hc *http.Client) (route.Provider, error) {
	return openai.New(openai.Options{
		Name: p.Name, BaseURL: p.BaseURL, APIKey: key, HTTPClient: hc, Headers: p.Headers,
		Azure: p.Type == config.TypeAzure, APIVersion: p.APIVersion, LegacyMaxTokens: p.Type != config.TypeOpenAI,
		ResponsesAPI: p.Type == config.TypeOpenAI || p.ResponsesAPI, API: p.API, ModelAPI: p.ModelAPI,
	})
}

func newAnthropic(p config.Provider, key string, hc *http.Client) (route.Provider, error) {
	o := anthropic.Options{Name: p.Name, BaseURL: p.BaseURL, APIKey: key, HTTPClient: hc, Headers: p.Headers, APIVersion: p.APIVersion}
	if a := p.Anthropic; a != nil {
		o.NativeStructuredOutput, o.ThinkingBudget = a.NativeStructuredOutput, a.ThinkingBudget
		o.StructuredOutputBeta = a.StructuredOutputField == "output_format"
		o.AutoCacheTokens, o.MaxPartBytes = a.AutoCacheTokens, a.MaxPartBytes
		o.IgnoreLogprobs = a.Logprobs == "ignore"
	}
	return anthropic.New(o)
}

func newGemini(p config.Provider, key string, hc *http.Client) (route.Provider, error) {
	return gemini.New(gemini.Options{Name: p.Name, BaseURL: p.BaseURL, APIKey: key, HTTPClient: hc, Headers: p.Headers})
}

// newSimulator makes one simulated key; a key starting with
// simulator.BadKeyPrefix answers 401, for failover demos.
func newSimulator(p config.Provider, key string, _ *http.Client) (route.Provider, error) {
	opts := []simulator.Option{simulator.WithAPIKey(key)}
	if s := p.Simulator; s != nil {
		opts = append(opts,
			simulator.WithTokenDelay(time.Duration(s.TokenDelay)),
			simulator.WithTTFT(time.Duration(s.TTFT)),
			simulator.WithResponseTokens(s.ResponseTokens),
			simulator.WithFailures(s.FailRate, s.FailStatus, time.Duration(s.RetryAfter)),
			simulator.WithAutoTool(s.AutoTool),
			simulator.WithThinking(s.Thinking))
	}
	return simulator.New(p.Name, p.Models, opts...), nil
}
