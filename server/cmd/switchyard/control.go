package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/adapters/anthropic"
	"github.com/switchyard/switchyard/adapters/gemini"
	"github.com/switchyard/switchyard/adapters/openai"
	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rpc"
)

// control owns the live configuration: it builds provider adapters and
// routing tables and swaps them atomically on SIGHUP or UpdateRoutingConfig.
// A config that fails validation or building is refused whole.
type control struct {
	log    hclog.Logger
	path   string
	router *route.Router
	auth   *middleware.Auth

	mu        sync.Mutex // serialises changes; reads of the table are lock-free
	cfg       *config.Config
	providers []route.ProviderSpec
	version   int64
	updatedAt time.Time
}

func newControl(log hclog.Logger, path string, cfg *config.Config) (*control, error) {
	c := &control{log: log, path: path, auth: middleware.NewAuth(cfg.Auth.APIKeys)}
	providers, err := buildProviders(cfg)
	if err != nil {
		return nil, err
	}
	t, err := buildTable(cfg, providers)
	if err != nil {
		return nil, err
	}
	c.router = route.New(t)
	c.cfg, c.providers, c.version, c.updatedAt = cfg, providers, 1, time.Now()
	return c, nil
}

// reload re-reads the config file (SIGHUP). Providers are rebuilt; requests
// in flight finish on the adapters they started with.
func (c *control) reload() error {
	if c.path == "" {
		return fmt.Errorf("no --config file to reload (running on the embedded default)")
	}
	cfg, err := config.Load(c.path, os.LookupEnv)
	if err != nil {
		return err
	}
	providers, err := buildProviders(cfg)
	if err != nil {
		return err
	}
	t, err := buildTable(cfg, providers)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if cfg.Listen != c.cfg.Listen {
		c.log.Warn("listen address changes need a restart; keeping the current one", "current", c.cfg.Listen, "new", cfg.Listen)
		cfg.Listen = c.cfg.Listen
	}
	c.router.Swap(t)
	c.auth.SetKeys(cfg.Auth.APIKeys)
	c.cfg, c.providers = cfg, providers
	c.version++
	c.updatedAt = time.Now()
	c.log.Info("config reloaded", "file", c.path, "version", c.version, "routing", t.String())
	return nil
}

func (c *control) Routing() rpc.RoutingState {
	c.mu.Lock()
	defer c.mu.Unlock()
	return rpc.RoutingState{Routing: c.cfg.Routing, Routes: c.cfg.Routes, Version: c.version, UpdatedAt: c.updatedAt}
}

func (c *control) ValidateRouting(r config.Routing, routes []config.Route) error {
	c.mu.Lock()
	cfg := c.cfg
	c.mu.Unlock()
	_, err := cfg.WithRouting(r, routes)
	return err
}

func (c *control) UpdateRouting(ctx context.Context, r config.Routing, routes []config.Route) (rpc.RoutingState, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next, err := c.cfg.WithRouting(r, routes)
	if err != nil {
		return rpc.RoutingState{}, err
	}
	t, err := buildTable(next, c.providers)
	if err != nil {
		return rpc.RoutingState{}, llm.InvalidParam("config", "%v", err)
	}
	c.router.Swap(t)
	c.cfg = next
	c.version++
	c.updatedAt = time.Now()
	c.log.Info("routing config updated through the API", "version", c.version, "routing", t.String())
	return rpc.RoutingState{Routing: next.Routing, Routes: next.Routes, Version: c.version, UpdatedAt: c.updatedAt}, nil
}

func buildTable(cfg *config.Config, providers []route.ProviderSpec) (*route.Table, error) {
	rank := map[string]config.ProviderWeight{}
	for _, pw := range cfg.Routing.Providers {
		rank[pw.Name] = pw
	}
	spec := route.Spec{
		DefaultStrategy: cfg.Routing.Strategy,
		DefaultFallback: cfg.Routing.FallbackStrategy,
		Created:         time.Now().Unix(),
	}
	for _, p := range providers {
		p.Priority, p.Weight = rank[p.Name].Priority, rank[p.Name].Weight
		spec.Providers = append(spec.Providers, p)
	}
	for _, r := range cfg.Routes {
		rs := route.RouteSpec{Model: r.Model, Strategy: r.Strategy, FallbackStrategy: r.FallbackStrategy, Fallbacks: r.Fallbacks}
		for _, t := range r.Targets {
			rs.Targets = append(rs.Targets, route.TargetSpec{Provider: t.Provider, Model: t.Model, Weight: t.Weight, Priority: t.Priority, Quality: t.Quality})
		}
		spec.Routes = append(spec.Routes, rs)
	}
	return route.NewTable(spec)
}

// buildProviders makes one adapter per provider key, all keys of a provider
// sharing one HTTP transport (one keep-alive pool per upstream).
func buildProviders(cfg *config.Config) ([]route.ProviderSpec, error) {
	var out []route.ProviderSpec
	for _, p := range cfg.Providers {
		prices := make(map[string]route.Price, len(p.Prices))
		for m, pr := range p.Prices {
			prices[m] = route.Price{Input: pr.Input, Output: pr.Output, CachedInput: pr.CachedInput}
		}
		impl, err := buildProvider(p)
		if err != nil {
			return nil, fmt.Errorf("provider %q: %w", p.Name, err)
		}
		out = append(out, route.ProviderSpec{Name: p.Name, Type: p.Type, Provider: impl, Models: p.Models, Prices: prices})
	}
	return out, nil
}

func buildProvider(p config.Provider) (route.Provider, error) {
	if p.Type == "simulator" {
		var opts []simulator.Option
		if s := p.Simulator; s != nil {
			opts = append(opts,
				simulator.WithTokenDelay(time.Duration(s.TokenDelay)),
				simulator.WithTTFT(time.Duration(s.TTFT)),
				simulator.WithResponseTokens(s.ResponseTokens),
				simulator.WithFailures(s.FailRate, s.FailStatus, time.Duration(s.RetryAfter)))
		}
		return simulator.New(p.Name, p.Models, opts...), nil
	}
	hc := openai.NewHTTPClient(p.MaxIdleConnsPerHost, time.Duration(p.Timeout))
	var keys []route.Provider
	for _, key := range p.APIKeys {
		impl, err := buildKeyed(p, key, hc)
		if err != nil {
			return nil, err
		}
		keys = append(keys, impl)
	}
	if len(keys) == 1 {
		return keys[0], nil
	}
	return &keyRing{keys: keys}, nil
}

func buildKeyed(p config.Provider, key string, hc *http.Client) (route.Provider, error) {
	switch p.Type {
	case "openai", "openai-compatible", "azure":
		return openai.New(openai.Options{
			Name: p.Name, BaseURL: p.BaseURL, APIKey: key, HTTPClient: hc, Headers: p.Headers,
			Azure: p.Type == "azure", APIVersion: p.APIVersion, LegacyMaxTokens: p.Type != "openai",
		})
	case "anthropic":
		return anthropic.New(anthropic.Options{Name: p.Name, BaseURL: p.BaseURL, APIKey: key, HTTPClient: hc, Headers: p.Headers, APIVersion: p.APIVersion})
	case "gemini":
		return gemini.New(gemini.Options{Name: p.Name, BaseURL: p.BaseURL, APIKey: key, HTTPClient: hc, Headers: p.Headers})
	}
	return nil, fmt.Errorf("unknown provider type %q", p.Type)
}

// keyRing spreads requests over a provider's keys in turn. Per-key health,
// cooldowns and balancing come with the routing engine's key pools.
type keyRing struct {
	keys []route.Provider
	next atomic.Uint64
}

func (k *keyRing) pick() route.Provider { return k.keys[(k.next.Add(1)-1)%uint64(len(k.keys))] }

func (k *keyRing) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	return k.pick().Chat(ctx, req)
}

func (k *keyRing) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	return k.pick().ChatStream(ctx, req)
}

func (k *keyRing) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	e, ok := k.pick().(route.Embedder)
	if !ok {
		return nil, llm.Errorf(llm.KindInvalidRequest, "provider does not serve embeddings")
	}
	return e.Embed(ctx, req)
}
