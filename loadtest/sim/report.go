package sim

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Report is the outcome of a Run.
type Report struct {
	Scenario  Scenario      `json:"scenario"`
	DayLength time.Duration `json:"day_length"`
	Baseline  string        `json:"baseline"`
	Candidate string        `json:"candidate"`
	Retry     string        `json:"retry"`
	Policies  []Policy      `json:"policies"`
	Summaries []Summary     `json:"summaries"`
	Verdict   Verdict       `json:"verdict"`
	Notes     []string      `json:"notes,omitempty"`
}

// Verdict is the acceptance target: the candidate beats the baseline on
// cost, with success >= 99.9% and p95 within 20% of the fastest policy's.
type Verdict struct {
	Met           bool    `json:"met"`
	CheaperThan   bool    `json:"cheaper_than_baseline"`
	SuccessOK     bool    `json:"success_ok"`
	P95OK         bool    `json:"p95_ok"`
	Cost          float64 `json:"cost_usd"`
	BaselineCost  float64 `json:"baseline_cost_usd"`
	SuccessPct    float64 `json:"success_pct"`
	P95ms         float64 `json:"p95_ms"`
	FastestPolicy string  `json:"fastest_policy"`
	FastestP95ms  float64 `json:"fastest_p95_ms"`
	LimitP95ms    float64 `json:"limit_p95_ms"`
}

// MinSuccessPct and P95Slack are the acceptance target's bounds.
const (
	MinSuccessPct = 99.9
	P95Slack      = 1.20
)

// Judge checks the acceptance target for candidate against baseline.
func Judge(sums []Summary, baseline, candidate string) Verdict {
	var v Verdict
	var cand, base *Summary
	for i := range sums {
		s := &sums[i]
		switch s.Policy {
		case candidate:
			cand = s
		case baseline:
			base = s
		}
		if s.OK > 0 && (v.FastestPolicy == "" || s.P95ms < v.FastestP95ms) {
			v.FastestPolicy, v.FastestP95ms = s.Policy, s.P95ms
		}
	}
	if cand == nil || base == nil {
		return v
	}
	v.Cost, v.BaselineCost, v.SuccessPct, v.P95ms = cand.CostUSD, base.CostUSD, cand.SuccessPct, cand.P95ms
	v.LimitP95ms = v.FastestP95ms * P95Slack
	v.CheaperThan = cand.CostUSD < base.CostUSD
	v.SuccessOK = cand.SuccessPct >= MinSuccessPct
	v.P95OK = cand.OK > 0 && cand.P95ms <= v.LimitP95ms
	v.Met = v.CheaperThan && v.SuccessOK && v.P95OK
	return v
}

// JSON is the raw report.
func (r *Report) JSON() ([]byte, error) { return json.MarshalIndent(r, "", "  ") }

func yes(b bool) string {
	if b {
		return "yes"
	}
	return "**no**"
}

// Markdown renders the report: results, the acceptance check, who
// answered, and the scenario it all came from.
func (r *Report) Markdown() string {
	var b strings.Builder
	r.mdResults(&b)
	r.mdVerdict(&b)
	r.mdAnswered(&b)
	r.hourly(&b)
	r.mdScenario(&b)
	return b.String()
}

// mdResults writes the title and the results table.
func (r *Report) mdResults(b *strings.Builder) {
	sc := &r.Scenario
	b.WriteString("# Simulated day: what the cost router saves\n\n")
	fmt.Fprintf(b, "Written by `make simulate` (`loadtest/cmd/simulate`). One synthetic day, compressed into %v of real time per policy, "+
		"replayed through the real gateway binary against %d fake providers on loopback (`loadtest/fakeupstream`, one server each); "+
		"the same %d requests at the same moments for every policy. Chart: [simulate.svg](simulate.svg); raw figures: [simulate.json](simulate.json).\n\n",
		r.DayLength, len(sc.Providers), firstRequests(r))
	b.WriteString("## Results\n\n")
	b.WriteString("| policy | requests | success % | p50 ms | p95 ms | stream TTFT p95 ms | cost USD (true prices) | cost the gateway billed itself | saving vs single provider |\n")
	b.WriteString("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, s := range r.Summaries {
		fmt.Fprintf(b, "| %s (`%s`) | %d | %.2f | %.0f | %.0f | %.0f | %.4f | %.4f | %.1f%% |\n",
			s.Title, s.Policy, s.Requests, s.SuccessPct, s.P50ms, s.P95ms, s.StreamTTFTP95ms, s.CostUSD, s.GatewayCostUSD, s.SavingPct)
	}
	b.WriteString("\nSuccess is 2xx answers (streams: ending in `[DONE]` with no error event) over requests sent. p50/p95 are the client-measured " +
		"latencies of successful unary requests; streams are reported by their time to first token. Cost is computed here, " +
		"from each answer's usage and the scripted price of the provider that answered (`X-Switchyard-Provider`) at the simulated " +
		"moment it was sent; the gateway's own figure (the sum of its answers' `cost_usd`) is shown beside it, since a gateway routing on stale prices bills itself at stale prices; " +
		"it leaves out probes, which the gateway bills to `system:probe` in its ledger rather than to an answer, and which the true cost includes.\n\n")

}

// mdVerdict writes the acceptance check.
func (r *Report) mdVerdict(b *strings.Builder) {
	v := r.Verdict
	fmt.Fprintf(b, "## Acceptance target\n\n`%s` beats `%s` on cost, with success >= %.1f%% and p95 within %.0f%% of the fastest policy: **%s**.\n\n",
		r.Candidate, r.Baseline, MinSuccessPct, (P95Slack-1)*100, map[bool]string{true: "met", false: "not met"}[v.Met])
	fmt.Fprintf(b, "| check | measured | bound | holds |\n|---|---:|---:|---|\n")
	fmt.Fprintf(b, "| cost | %.4f USD | < %.4f USD (`%s`) | %s |\n", v.Cost, v.BaselineCost, r.Baseline, yes(v.CheaperThan))
	fmt.Fprintf(b, "| success | %.2f%% | >= %.1f%% | %s |\n", v.SuccessPct, MinSuccessPct, yes(v.SuccessOK))
	fmt.Fprintf(b, "| p95 | %.0f ms | <= %.0f ms (%.0f%% of `%s`'s %.0f ms) | %s |\n\n", v.P95ms, v.LimitP95ms, P95Slack*100, v.FastestPolicy, v.FastestP95ms, yes(v.P95OK))

}

// mdAnswered writes who answered, probes and failures.
func (r *Report) mdAnswered(b *strings.Builder) {
	sc := &r.Scenario
	names := make([]string, 0, len(sc.Providers))
	for _, p := range sc.Providers {
		names = append(names, p.Name)
	}
	b.WriteString("## Who answered\n\nAnswers per provider (requests that reached its fake, failed ones and any probes included, in brackets; then the p95 of that provider's unary answers).\n\n| policy |")
	for _, n := range names {
		fmt.Fprintf(b, " %s |", n)
	}
	b.WriteString("\n|---|" + strings.Repeat("---:|", len(names)) + "\n")
	for _, s := range r.Summaries {
		fmt.Fprintf(b, "| `%s` |", s.Policy)
		for _, n := range names {
			if p95, ok := s.ProviderP95ms[n]; ok {
				fmt.Fprintf(b, " %d (%d), %.0f ms |", s.Served[n], s.Upstream[n], p95)
			} else {
				fmt.Fprintf(b, " %d (%d) |", s.Served[n], s.Upstream[n])
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
	for _, s := range r.Summaries {
		if len(s.ProbeCalls) == 0 {
			continue
		}
		n := 0
		var per []string
		for _, name := range names {
			if c := s.ProbeCalls[name]; c > 0 {
				n += c
				per = append(per, fmt.Sprintf("%s %d", name, c))
			}
		}
		fmt.Fprintf(b, "Probes of `%s`: %d calls (%s), %.6f USD at the true prices, included in its cost.\n\n",
			s.Policy, n, strings.Join(per, ", "), s.ProbeCostUSD)
	}
	for _, s := range r.Summaries {
		if len(s.Failures) == 0 {
			continue
		}
		fmt.Fprintf(b, "Failures of `%s`:", s.Policy)
		keys := make([]string, 0, len(s.Failures))
		for k := range s.Failures {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(b, " %d × `%s`;", s.Failures[k], strings.ReplaceAll(k, "`", "'"))
		}
		b.WriteString("\n\n")
	}

}

// mdScenario writes the providers, script, load and policies.
func (r *Report) mdScenario(b *strings.Builder) {
	sc := &r.Scenario
	b.WriteString("## Scenario\n\n| provider | wire format (type) | model | price in / out, USD per 1M tokens at 00:00 | time to first token | per token | note |\n|---|---|---|---|---:|---:|---|\n")
	for _, p := range sc.Providers {
		fmt.Fprintf(b, "| %s | %s | %s | %.2f / %.2f | %v | %v | %s |\n", p.Name, p.Type, p.Model, p.Price.Input, p.Price.Output,
			p.Latency.Latency+p.Latency.TTFT, p.Latency.TokenDelay, p.Note)
	}
	b.WriteString("\nStarting prices are the providers' list prices as the gateway's built-in table (`config/prices.go`) has them, so the " +
		"static-price policies are right until the script moves a price. Latencies are round figures of the kind public latency " +
		"leaderboards show for these models; they are illustrative, not measured. The fake waits the same for a unary answer " +
		"as it would take to stream it.\n\nScript (simulated time):\n\n")
	for _, e := range sc.Events {
		fmt.Fprintf(b, "- %s — %s\n", e.Label, describe(e.Change))
	}
	fmt.Fprintf(b, "\nLoad: a Poisson arrival process (seed %d) whose rate follows a raised cosine from %.0f requests per real second at 01:00 to %.0f at 13:00 "+
		"(one simulated hour = %v). Mix: %.0f%% short unary (%d prompt words, %d answer tokens), %.0f%% long unary (%d / %d), %.0f%% streams (%d / %d). "+
		"Each prompt is unique, so no cache or coalescing joins two requests.\n\n",
		sc.Seed, sc.MinRate, sc.MaxRate, r.DayLength/24, 100*(1-sc.Mix.Long-sc.Mix.Stream), sc.Short.PromptWords, sc.Short.AnswerTokens,
		100*sc.Mix.Long, sc.Long.PromptWords, sc.Long.AnswerTokens, 100*sc.Mix.Stream, sc.Stream.PromptWords, sc.Stream.AnswerTokens)
	b.WriteString("Policies (one route `chat`; every one has the same `retry: " + r.Retry + "`):\n\n| policy | strategy | targets (priority order) | prices | hybrid weights | probes | why |\n|---|---|---|---|---|---|---|\n")
	for _, p := range r.Policies {
		prices := "built-in table"
		if p.LiveFeed {
			prices = "live feed, refresh 1s"
		}
		w := ""
		if h := p.Hybrid; h != nil {
			w = fmt.Sprintf("cost %g, latency %g, quality %g, error_rate %g, load %g", h.Cost, h.Latency, h.Quality, h.ErrorRate, h.Load)
		}
		probe := "—"
		if p.Probe != nil {
			probe = "`" + p.Probe.YAML() + "`"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", p.Name, p.Strategy, strings.Join(p.Targets, ", "), prices, w, probe, p.Note)
	}
	for _, p := range r.Policies {
		if pr := p.Probe; pr != nil && pr.AnswerTokens > 0 {
			fmt.Fprintf(b, "\n`%s` probes an idle target with a prompt whose answer is %d tokens, the size of the long requests: the hybrid latency is "+
				"peak-sensitive, so a busy target is judged by its slowest answers and an idle one must be measured on an answer of that size. "+
				"A probe over its %v timeout marks the target unavailable until one succeeds, which keeps out a target that cannot deliver such an answer in %v.\n",
				p.Name, pr.AnswerTokens, pr.Timeout, pr.Timeout)
		}
	}
	c := Clock{DayLength: r.DayLength}
	fmt.Fprintf(b, "\nOnly the script and the load are compressed: the gateway's own constants run in real time. The latency EWMA's 10 s time constant "+
		"is %v of simulated time, a breaker's 5 s open period %v (doubling on each re-open), the 1 s probe interval and price refresh %v, "+
		"so the gateway reacts to each event more slowly, in simulated time, than it would over a real day.\n",
		c.Sim(10*time.Second), c.Sim(5*time.Second), c.Sim(time.Second))
	if len(r.Notes) > 0 {
		b.WriteString("\nNotes:\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(b, "- %s\n", n)
		}
	}
	b.WriteString("\n![true cost per simulated hour and hourly p95 per policy](simulate.svg)\n")
}

// hourly writes, per simulated hour and policy, who answered most, the
// p95 of unary answers and the true cost: where each policy's latency and
// spend went.
func (r *Report) hourly(b *strings.Builder) {
	b.WriteString("## Hour by hour\n\nPer simulated hour: the providers that answered (answers), p95 of unary answers, true cost.\n\n| hour |")
	for _, s := range r.Summaries {
		fmt.Fprintf(b, " `%s` |", s.Policy)
	}
	b.WriteString("\n|---|" + strings.Repeat("---|", len(r.Summaries)) + "\n")
	for h := range 24 {
		fmt.Fprintf(b, "| %02d:00 |", h)
		for _, s := range r.Summaries {
			var who []string
			if h < len(s.HourlyServed) {
				names := make([]string, 0, len(s.HourlyServed[h]))
				for n := range s.HourlyServed[h] {
					names = append(names, n)
				}
				sort.Slice(names, func(i, j int) bool {
					a, c := s.HourlyServed[h][names[i]], s.HourlyServed[h][names[j]]
					return a > c || a == c && names[i] < names[j]
				})
				for _, n := range names {
					who = append(who, fmt.Sprintf("%s %d", n, s.HourlyServed[h][n]))
				}
			}
			fmt.Fprintf(b, " %s; %.0f ms; %.4f |", strings.Join(who, ", "), s.HourlyP95ms[h], s.HourlyCost[h])
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

func firstRequests(r *Report) int {
	if len(r.Summaries) == 0 {
		return 0
	}
	return r.Summaries[0].Requests
}

func describe(c Change) string {
	var parts []string
	if p := c.Price; p != nil {
		parts = append(parts, fmt.Sprintf("price %.2f / %.2f USD per 1M tokens (the feed is POSTed)", p.Input, p.Output))
	}
	if c.Status != nil {
		if *c.Status == 0 {
			parts = append(parts, "answers again")
		} else {
			parts = append(parts, fmt.Sprintf("every request answered %d", *c.Status))
		}
	}
	if l := c.Latency; l != nil {
		parts = append(parts, fmt.Sprintf("latency before the response %v, first token %v, %v per token", l.Latency, l.TTFT, l.TokenDelay))
	}
	return strings.Join(parts, "; ")
}
