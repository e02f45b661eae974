package sim

import (
	"math"
	"sort"
	"strconv"
	"time"
)

// Account prices every answer at the true price in force when it was sent
// — the scripted price of the provider that answered — and returns the
// total. A request without a provider or usage (refused, failed before any
// answer) costs nothing: the real providers do not bill a 5xx.
func Account(sc *Scenario, results []Result) float64 {
	total := 0.0
	for i := range results {
		r := &results[i]
		r.Cost = 0
		if r.Provider == "" {
			continue
		}
		if _, ok := sc.Provider(r.Provider); !ok {
			continue
		}
		r.Cost = sc.PriceAt(r.Provider, r.Sim).Cost(r.Prompt, r.Output)
		total += r.Cost
	}
	return total
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of ds; 0
// for none.
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	rank = min(max(rank, 1), len(s))
	return s[rank-1]
}

// Summary is one policy's day.
type Summary struct {
	Policy   string `json:"policy"`
	Title    string `json:"title"`
	Requests int    `json:"requests"`
	OK       int    `json:"ok"`
	// SuccessPct is 2xx answers (streams: that reached [DONE] without an
	// error event) over requests sent.
	SuccessPct float64 `json:"success_pct"`
	// Unary latency over successful unary answers, milliseconds.
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
	// StreamTTFTP95ms is the p95 time to first token of successful streams.
	StreamTTFTP95ms float64 `json:"stream_ttft_p95_ms"`
	// CostUSD is the true spend; GatewayCostUSD what the gateway billed
	// itself at the prices it knew.
	CostUSD        float64 `json:"cost_usd"`
	GatewayCostUSD float64 `json:"gateway_cost_usd"`
	// SavingPct is the saving against the single-provider baseline.
	SavingPct float64 `json:"saving_pct"`
	// Served counts answers per provider; Upstream the requests that
	// reached each provider's fake (answered or not, probes included).
	Served map[string]int `json:"served"`
	// ProbeCalls counts the gateway's own probes per provider; their cost
	// (ProbeCostUSD) is in CostUSD.
	ProbeCalls   map[string]int    `json:"probe_calls,omitempty"`
	ProbeCostUSD float64           `json:"probe_cost_usd,omitempty"`
	Upstream     map[string]uint64 `json:"upstream,omitempty"`
	// ProviderP95ms is the p95 of each provider's unary answers.
	ProviderP95ms map[string]float64 `json:"provider_p95_ms,omitempty"`
	// HourlyCost and HourlyP95ms are per simulated hour; HourlyServed the
	// answers per provider per hour.
	HourlyCost   [24]float64          `json:"hourly_cost"`
	HourlyP95ms  [24]float64          `json:"hourly_p95_ms"`
	HourlyServed []map[string]int     `json:"hourly_served"`
	Failures     map[string]int       `json:"failures,omitempty"`
	Prices       map[string]PriceSeen `json:"prices_at_start,omitempty"`
}

// PriceSeen is a price the gateway reported in force (GET /v1/prices).
type PriceSeen struct {
	Input  float64 `json:"input"`
	Output float64 `json:"output"`
	Source string  `json:"source"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// Summarize accounts results (see Account) and sums them up.
func Summarize(sc *Scenario, p Policy, results []Result) Summary {
	s := Summary{Policy: p.Name, Title: p.Title, Requests: len(results), Served: map[string]int{}, Failures: map[string]int{}}
	s.CostUSD = Account(sc, results)
	s.HourlyServed = make([]map[string]int, 24)
	for h := range s.HourlyServed {
		s.HourlyServed[h] = map[string]int{}
	}
	var unary, ttft []time.Duration
	hourly := make([][]time.Duration, 24)
	byProvider := map[string][]time.Duration{}
	for _, r := range results {
		h := min(int(r.Sim/time.Hour), 23)
		s.HourlyCost[h] += r.Cost
		s.GatewayCostUSD += r.GatewayCost
		if !r.OK {
			s.Failures[failureKey(r)]++
			continue
		}
		s.OK++
		s.Served[r.Provider]++
		s.HourlyServed[h][r.Provider]++
		if r.Kind == Stream {
			ttft = append(ttft, r.TTFT)
			continue
		}
		unary = append(unary, r.Latency)
		hourly[h] = append(hourly[h], r.Latency)
		byProvider[r.Provider] = append(byProvider[r.Provider], r.Latency)
	}
	if s.Requests > 0 {
		s.SuccessPct = 100 * float64(s.OK) / float64(s.Requests)
	}
	s.P50ms, s.P95ms = ms(Percentile(unary, 50)), ms(Percentile(unary, 95))
	s.StreamTTFTP95ms = ms(Percentile(ttft, 95))
	for h := range hourly {
		s.HourlyP95ms[h] = ms(Percentile(hourly[h], 95))
	}
	s.ProviderP95ms = map[string]float64{}
	for name, ds := range byProvider {
		s.ProviderP95ms[name] = ms(Percentile(ds, 95))
	}
	return s
}

func failureKey(r Result) string {
	msg := r.Err
	if len(msg) > 120 {
		msg = msg[:120]
	}
	if r.Status != 0 {
		return "HTTP " + strconv.Itoa(r.Status) + ": " + msg
	}
	return msg
}

// BillProbes adds the probes, each at the true price in force when it
// reached the provider (start is when the day began), to s: real
// providers bill a probe like any call.
func BillProbes(sc *Scenario, s *Summary, p *Probe, calls []ProbeCall, start time.Time, c Clock) {
	in, out := p.Usage()
	if s.ProbeCalls == nil {
		s.ProbeCalls = map[string]int{}
	}
	for _, pc := range calls {
		at := c.Sim(pc.Time.Sub(start))
		cost := sc.PriceAt(pc.Provider, at).Cost(in, out)
		s.ProbeCalls[pc.Provider]++
		s.ProbeCostUSD += cost
		s.CostUSD += cost
		s.HourlyCost[min(int(at/time.Hour), 23)] += cost
	}
}

// Savings fills each summary's SavingPct against the one named baseline.
func Savings(sums []Summary, baseline string) {
	base := 0.0
	for _, s := range sums {
		if s.Policy == baseline {
			base = s.CostUSD
		}
	}
	for i := range sums {
		if base > 0 {
			sums[i].SavingPct = 100 * (base - sums[i].CostUSD) / base
		}
	}
}
