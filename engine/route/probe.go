package route

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// ProbeSpec turns on active probes for a route's own targets: a target
// that has had no real call for Interval gets a tiny streamed prompt, whose
// time to first token and whole time feed the target's stats (so the
// hybrid score and latency_priority see idle targets as they are now, not
// as they were when last used) and whose failure opens its breaker. Passive
// stats from real traffic make probes unnecessary, so busy targets are
// never probed.
type ProbeSpec struct {
	Interval time.Duration // 0 = off
	// Timeout ends a probe; a probe that times out or fails marks the
	// target unavailable (its breaker opens, as for a refused key).
	Timeout time.Duration
	// TTFT and Total are the preferred figures; a probe over either is
	// reported Slow.
	TTFT, Total time.Duration
	Prompt      string
	MaxTokens   int
}

// ProbeJob is one target due for a probe. Run it with Router.Probe.
type ProbeJob struct {
	Route  string
	Target string
	spec   ProbeSpec
	tg     *Target
}

// ProbeResult is what one probe measured and cost.
type ProbeResult struct {
	Route, Provider, Target, Model string
	TTFT, Total                    time.Duration
	// Slow: over the route's preferred TTFT or total. Err: the probe
	// failed or timed out, and the target was marked unavailable.
	Slow  bool
	Err   error
	Usage llm.Usage
	Cost  llm.Money
	// Estimated marks usage the provider did not report.
	Estimated bool
}

// ProbeEvery is how often DueProbes is worth calling: half the shortest
// probe interval of the table in force, 0 when no route probes.
func (r *Router) ProbeEvery() time.Duration {
	best := time.Duration(0)
	for _, rt := range r.table.Load().routes {
		if iv := rt.Probe.Interval; iv > 0 && (best == 0 || iv < best) {
			best = iv
		}
	}
	return best / 2
}

// DueProbes lists the targets of probed routes that have had no call (real
// or probe) for their route's interval and whose breaker lets calls
// through: an open breaker already decides when the target is tried again.
// Each job is claimed: until its Probe returns it is not listed again. A
// target in several probed routes is probed once, on the shortest interval.
func (r *Router) DueProbes() []ProbeJob {
	now := r.now()
	var jobs []ProbeJob
	seen := map[*Target]int{}
	for _, rt := range r.table.Load().routes {
		if rt.Probe.Interval <= 0 || len(rt.groups) == 0 {
			continue
		}
		for _, tg := range rt.groups[0].targets {
			if i, ok := seen[tg]; ok {
				if rt.Probe.Interval < jobs[i].spec.Interval {
					jobs[i].Route, jobs[i].spec = rt.Name, rt.Probe
				}
				continue
			}
			if last := tg.state.used.Load(); last != 0 && now.Sub(time.Unix(0, last)) < rt.Probe.Interval {
				continue
			}
			if !tg.state.breaker.Available(now) {
				continue
			}
			seen[tg] = len(jobs)
			jobs = append(jobs, ProbeJob{Route: rt.Name, Target: tg.ID, spec: rt.Probe, tg: tg})
		}
	}
	out := jobs[:0]
	for _, j := range jobs {
		if j.tg.state.probing.CompareAndSwap(false, true) {
			out = append(out, j)
		}
	}
	return out
}

// Probe runs one job: a streamed prompt straight to the target's adapter,
// past the cache and coalescing, timed from the call to its first chunk
// and to its end. The outcome is recorded in the target's stats and
// breaker like a real call's.
func (r *Router) Probe(ctx context.Context, j ProbeJob) ProbeResult {
	tg, spec := j.tg, j.spec
	defer tg.state.probing.Store(false)
	res := ProbeResult{Route: j.Route, Provider: tg.Provider, Target: tg.ID, Model: tg.Model}
	maxTokens := max(spec.MaxTokens, 1)
	req := &llm.ChatRequest{Model: tg.Model, IncludeUsage: true, MaxTokens: &maxTokens,
		Messages: []llm.Message{{Role: llm.RoleUser, Content: spec.Prompt}}}
	prompt, _ := estimateTokens(req)
	ctx, cancel := context.WithTimeout(ctx, spec.Timeout)
	defer cancel()
	start := r.now()
	tg.state.used.Store(start.UnixNano())
	tg.state.stats.Begin()
	var out int
	err := func() error {
		st, err := tg.impl.ChatStream(ctx, req)
		if err != nil {
			return err
		}
		defer st.Close()
		for {
			c, err := st.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			if err != nil {
				return err
			}
			if res.TTFT == 0 {
				res.TTFT = r.now().Sub(start)
			}
			out += outputBytes(&c)
			if c.Usage != nil {
				res.Usage = *c.Usage
			}
		}
	}()
	res.Total = r.now().Sub(start)
	if err == nil && res.TTFT == 0 {
		err = &llm.UpstreamError{Provider: tg.Provider, Status: 502, Message: "probe stream ended before any data", Err: io.ErrUnexpectedEOF}
	}
	// Judged on the router's clock as well as the context's, so an answer
	// that came in just as the timeout fired is unavailable all the same.
	if (err != nil && ctx.Err() != nil) || res.Total > spec.Timeout {
		err = fmt.Errorf("%w: probe took over %v", context.DeadlineExceeded, spec.Timeout)
	}
	if res.Usage == (llm.Usage{}) {
		// A probe that broke, or an upstream that does not report usage on
		// streams, is billed as a stream is: the prompt counted from the
		// request, the answer from what arrived.
		res.Usage, res.Estimated = estimatedUsage(prompt, out), true
	}
	res.Cost = tg.Price.Cost(res.Usage)
	res.Err = err
	res.Slow = err == nil && ((spec.TTFT > 0 && res.TTFT > spec.TTFT) || (spec.Total > 0 && res.Total > spec.Total))
	tg.state.stats.Done(r.now(), balancer.DoneInfo{Latency: res.Total, TTFT: res.TTFT, Failed: err != nil})
	o := breaker.Success
	if err != nil {
		// Too slow to answer within the timeout is unavailable, not merely
		// a failure to count towards the ratio: the seed's "5 s counts as
		// unavailable". The breaker's half-open calls decide when it is back.
		o = breaker.Rejected
	}
	tg.state.breaker.Record(false, o, 0)
	// A probe that answers is the early sign a degraded target is back
	// (rules' consecutive_failures); one that fails extends the streak.
	tg.state.streak.record(o, r.now)
	return res
}
