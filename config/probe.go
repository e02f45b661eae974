package config

import "time"

// Probe sends a tiny synthetic prompt to each of a route's own targets
// that has had no real traffic for Interval, so the latency the hybrid
// score and the breaker act on is fresh for idle targets too. Off unless
// enabled. Probes are billed like any call, to the system key
// "system:probe" in the usage ledger. Set in the config file; a change
// through the routing API keeps the route's probe as it is.
type Probe struct {
	Enabled bool `yaml:"enabled"`
	// Interval is both how long a target must have gone without real
	// traffic and the time between its probes (default 5m, at least 1s).
	Interval Duration `yaml:"interval"`
	// Timeout ends a probe; one that times out or fails marks the target
	// unavailable (its breaker opens) until it proves itself again
	// (default 5s).
	Timeout Duration `yaml:"timeout"`
	// TTFT and Total are the preferred time to first token and whole-call
	// time (defaults 500ms and 2s): a probe over either is reported slow.
	TTFT  Duration `yaml:"ttft"`
	Total Duration `yaml:"total"`
	// Prompt (default "ping") and MaxTokens (default 1) shape the probe.
	Prompt    string `yaml:"prompt"`
	MaxTokens int    `yaml:"max_tokens"`
}

// Probe defaults, the seed's thresholds.
const (
	DefaultProbeInterval = 5 * time.Minute
	DefaultProbeTimeout  = 5 * time.Second
	DefaultProbeTTFT     = 500 * time.Millisecond
	DefaultProbeTotal    = 2 * time.Second
	DefaultProbePrompt   = "ping"
)

func (p *Probe) applyDefaults() {
	if p == nil {
		return
	}
	def := func(d *Duration, v time.Duration) {
		if *d == 0 {
			*d = Duration(v)
		}
	}
	def(&p.Interval, DefaultProbeInterval)
	def(&p.Timeout, DefaultProbeTimeout)
	def(&p.TTFT, DefaultProbeTTFT)
	def(&p.Total, DefaultProbeTotal)
	if p.Prompt == "" {
		p.Prompt = DefaultProbePrompt
	}
	if p.MaxTokens == 0 {
		p.MaxTokens = 1
	}
}

func (p *Probe) validate(k *checker, f string) {
	if p == nil {
		return
	}
	if p.Interval.D() < time.Second {
		k.add(f+".interval", "must be at least 1s, got %v", p.Interval)
	}
	for _, d := range []struct {
		name string
		v    Duration
	}{{"timeout", p.Timeout}, {"ttft", p.TTFT}, {"total", p.Total}} {
		if d.v <= 0 {
			k.add(f+"."+d.name, "must be positive, got %v", d.v)
		}
	}
	if p.MaxTokens < 1 {
		k.add(f+".max_tokens", "must be at least 1, got %d", p.MaxTokens)
	}
}
