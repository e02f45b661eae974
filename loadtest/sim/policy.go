package sim

import (
	"fmt"
	"strings"
	"time"
)

// Hybrid is the hybrid strategy's term weights (routes[].hybrid).
type Hybrid struct {
	Cost      float64 `json:"cost"`
	Latency   float64 `json:"latency"`
	Quality   float64 `json:"quality"`
	ErrorRate float64 `json:"error_rate"`
	Load      float64 `json:"load"`
}

// Policy is one way to route the day's traffic: one route, alias "chat",
// over some of the scenario's providers.
type Policy struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Strategy is the route's strategy.
	Strategy string `json:"strategy"`
	// Targets are provider names, in priority order (priority 1, 2, …).
	Targets []string `json:"targets"`
	// LiveFeed points pricing.feed_url at the scenario's price feed;
	// without it the gateway prices from the built-in table.
	LiveFeed bool    `json:"live_feed"`
	Hybrid   *Hybrid `json:"hybrid,omitempty"`
	// Probe is the route's probe block; nil for none (and dropped when
	// the gateway does not take one).
	Probe *Probe `json:"probe,omitempty"`
	Note  string `json:"note,omitempty"`
}

// Retry is the retry block every policy's route gets, so policies differ
// only in how they pick: up to one attempt per provider, a short backoff
// (the 503s of an outage are fast), and a per-try timeout above the
// slowest legitimate answer of the scenario (a long answer from the slow
// provider during nothing worse than its normal day is ~6.7 s), so no
// answer that would have come is abandoned — an abandoned attempt is still
// billed by a real provider, and the accounting here sees only answers.
const Retry = "{max_attempts: 4, initial_backoff: 50ms, max_backoff: 500ms, per_try_timeout: 20s, overall_timeout: 45s}"

// Policies are the four policies of the brief, over the default
// scenario's providers.
func Policies() []Policy {
	return []Policy{
		{Name: "single", Title: "one provider (openai)", Strategy: "priority", Targets: []string{"openai"},
			Note: "the expensive, reliable default everyone starts with"},
		{Name: "priority", Title: "static priority", Strategy: "priority", Targets: []string{"gemini", "anthropic", "openai", "deepseek"},
			Note: "fixed order: the cheap fast one first, the two big ones next, the slow cheap one last"},
		{Name: "cost_static", Title: "cost_priority, static prices", Strategy: "cost_priority", Targets: []string{"openai", "anthropic", "gemini", "deepseek"},
			Note: "cheapest by the built-in price table; no feed"},
		{Name: "hybrid_live", Title: "hybrid, live prices", Strategy: "hybrid", Targets: []string{"openai", "anthropic", "gemini", "deepseek"}, LiveFeed: true,
			Hybrid: &Hybrid{Cost: 0.5, Latency: 0.4, ErrorRate: 0.1}, Probe: DefaultProbe(),
			Note: "cost and latency weighed about equally; a little error-rate weight so a flaky target loses before its breaker opens; quality 0 (the fake answers are all alike)"},
	}
}

// Probe is a route's probe block (routes[].probe).
type Probe struct {
	Interval, Timeout, TTFT, Total time.Duration
	// AnswerTokens, when > 0, shapes the probe like the traffic: its
	// prompt makes the fake answer that many tokens (as a real operator
	// would pick a prompt with a typical answer) and max_tokens allows
	// them. 0 is the gateway's default probe: "ping", max_tokens 1.
	AnswerTokens int
}

// Prompt is the probe's prompt.
func (p *Probe) Prompt() string {
	if p.AnswerTokens > 0 {
		return fmt.Sprintf("[[fake:tokens=%d]] ping", p.AnswerTokens)
	}
	return "ping"
}

// Usage is what the fake bills a probe: the prompt's words in, the
// answer's tokens out.
func (p *Probe) Usage() (prompt, output int) {
	return len(strings.Fields(p.Prompt())), max(p.AnswerTokens, 1)
}

// YAML is the block as a flow mapping.
func (p *Probe) YAML() string {
	return fmt.Sprintf("{enabled: true, interval: %v, timeout: %v, ttft: %v, total: %v, prompt: %q, max_tokens: %d}",
		p.Interval, p.Timeout, p.TTFT, p.Total, p.Prompt(), max(p.AnswerTokens, 1))
}

// DefaultProbe is the hybrid policy's probe, as an operator with a ~3 s
// latency objective for long answers would set it:
//   - every real second (20 simulated minutes; the gateway's minimum) for
//     a target without real traffic;
//   - shaped like the long requests (a 200-token answer), because the
//     hybrid latency is peak-sensitive: a busy target is judged by its
//     slowest answers, so an idle one must be measured on an answer of
//     that size to compare like with like. With the default 1-token ping
//     every idle target looks faster than the busy one and the route
//     flaps between them (loadtest/README.md has the tuning runs);
//   - a 3 s timeout, so a target that cannot deliver such an answer in 3 s
//     counts as unavailable until it can: this, more than the weights, is
//     what keeps the slow providers out while Gemini is down.
//
// Probes are not free: each is billed here at the true price.
func DefaultProbe() *Probe {
	return &Probe{Interval: time.Second, Timeout: 3 * time.Second, TTFT: time.Second, Total: 3 * time.Second, AnswerTokens: 200}
}

// Endpoints are where the gateway finds the fakes.
type Endpoints struct {
	// Providers maps a provider name to its fake's base URL (http://host:port).
	Providers map[string]string
	// Feed is the price feed's URL.
	Feed string
}

// baseURL is the base URL the gateway wants for a provider type at the
// fake: the OpenAI family puts /v1 in it, the others add their own paths.
func baseURL(typ, root string) string {
	switch typ {
	case "openai", "openai-compatible":
		return root + "/v1"
	default:
		return root
	}
}

// GatewayConfig is the gateway's YAML for policy p: the scenario's
// providers at their fakes, one route "chat", keyless on listen, its store
// in dataDir.
func GatewayConfig(sc *Scenario, p Policy, ep Endpoints, listen, dataDir string) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "listen: %q\nlog: {level: warn, format: text}\nstorage: {data_dir: %q}\nproviders:\n", listen, dataDir)
	used := map[string]bool{}
	for _, name := range p.Targets {
		used[name] = true
	}
	for _, pr := range sc.Providers {
		if !used[pr.Name] {
			continue
		}
		root, ok := ep.Providers[pr.Name]
		if !ok {
			return "", fmt.Errorf("policy %s: no fake for provider %q", p.Name, pr.Name)
		}
		fmt.Fprintf(&b, "  - {name: %s, type: %s, base_url: %q, api_keys: [sk-sim-%s-000000001], models: [%s]}\n",
			pr.Name, pr.Type, baseURL(pr.Type, root), pr.Name, pr.Model)
	}
	fmt.Fprintf(&b, "routes:\n  - model: chat\n    strategy: %s\n    retry: %s\n", p.Strategy, Retry)
	if h := p.Hybrid; h != nil {
		fmt.Fprintf(&b, "    hybrid: {cost: %g, latency: %g, quality: %g, error_rate: %g, load: %g}\n", h.Cost, h.Latency, h.Quality, h.ErrorRate, h.Load)
	}
	if p.Probe != nil {
		fmt.Fprintf(&b, "    probe: %s\n", p.Probe.YAML())
	}
	b.WriteString("    targets:\n")
	for i, name := range p.Targets {
		pr, ok := sc.Provider(name)
		if !ok {
			return "", fmt.Errorf("policy %s: unknown provider %q", p.Name, name)
		}
		fmt.Fprintf(&b, "      - {provider: %s, model: %s, priority: %d}\n", pr.Name, pr.Model, i+1)
	}
	if p.LiveFeed {
		if ep.Feed == "" {
			return "", fmt.Errorf("policy %s: live prices without a feed", p.Name)
		}
		// 1 s is the shortest refresh the gateway takes: 20 simulated
		// minutes at the default pace, where a real deployment's 5 m is
		// a blink of a real day.
		fmt.Fprintf(&b, "pricing: {feed_url: %q, refresh: 1s}\n", ep.Feed)
	}
	return b.String(), nil
}
