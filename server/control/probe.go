package control

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/store"
)

// ProbeKey is the ledger key probes are billed to: what measuring idle
// targets costs is spend like any other, but nobody's.
const ProbeKey = "system:probe"

// probeParallel bounds the probes running at once, so a table of many idle
// targets is measured without a burst.
const probeParallel = 4

// probeIdle is how often the loop looks again when no route probes (a
// routing change may turn probes on).
const probeIdle = 5 * time.Second

// WithProbeTicker replaces the probe loop's timer (tests drive it).
func WithProbeTicker(tick <-chan time.Time) Option { return func(c *Control) { c.probeTick = tick } }

func probeSpec(p *config.Probe) route.ProbeSpec {
	if p == nil || !p.Enabled {
		return route.ProbeSpec{}
	}
	return route.ProbeSpec{Interval: p.Interval.D(), Timeout: p.Timeout.D(), TTFT: p.TTFT.D(), Total: p.Total.D(),
		Prompt: p.Prompt, MaxTokens: p.MaxTokens}
}

// StartProbes runs the routes' active probes until Close: on each tick the
// targets due (idle for their route's interval) are probed, at most
// probeParallel at a time, each result logged and billed to ProbeKey. The
// loop follows the table in force, so a reload that turns probes on or off
// needs no restart. Call it after SetStore, before serving.
func (c *Control) StartProbes() {
	if c.stopProbes != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	c.stopProbes = func() { cancel(); <-done }
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		defer wg.Wait()
		sem := make(chan struct{}, probeParallel)
		for {
			tick, timer := c.probeTick, (*time.Timer)(nil)
			if tick == nil {
				every := c.router.ProbeEvery()
				if every <= 0 {
					every = probeIdle
				}
				timer = time.NewTimer(min(max(every, 100*time.Millisecond), time.Minute))
				tick = timer.C
			}
			select {
			case <-ctx.Done():
				if timer != nil {
					timer.Stop()
				}
				return
			case <-tick:
			}
			for _, j := range c.router.DueProbes() {
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					return
				}
				wg.Add(1)
				go func() {
					defer func() { <-sem; wg.Done() }()
					c.recordProbe(c.router.Probe(ctx, j))
				}()
			}
		}
	}()
}

// recordProbe logs a probe and bills it to ProbeKey in the ledger.
func (c *Control) recordProbe(res route.ProbeResult) {
	log := c.log.Named("probe")
	status := "ok"
	switch {
	case res.Err != nil:
		status = "unavailable"
		log.Warn("probe failed; target marked unavailable", "route", res.Route, "target", res.Target, "total_ms", res.Total.Milliseconds(), "error", res.Err)
	case res.Slow:
		log.Info("probe slower than preferred", "route", res.Route, "target", res.Target, "ttft_ms", res.TTFT.Milliseconds(), "total_ms", res.Total.Milliseconds())
	default:
		log.Debug("probe", "route", res.Route, "target", res.Target, "ttft_ms", res.TTFT.Milliseconds(), "total_ms", res.Total.Milliseconds())
	}
	if c.ledger == nil {
		return
	}
	c.ledger.Record(store.UsageRecord{
		KeyID: ProbeKey, Route: res.Route, Dialect: "probe", Provider: res.Provider, Model: res.Model, Target: res.Target,
		PromptTokens: int64(res.Usage.PromptTokens), CompletionTokens: int64(res.Usage.CompletionTokens),
		CostNanos: int64(res.Cost), LatencyMS: res.Total.Milliseconds(), TTFTMS: res.TTFT.Milliseconds(),
		Status: status, Attempts: 1, Stream: true, Estimated: res.Estimated,
	})
}
