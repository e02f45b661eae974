package sim

import (
	"math"
	"strings"
	"testing"
	"time"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-12 }

func TestAccountBillsTheAnsweringProviderAtItsTruePriceThen(t *testing.T) {
	sc := Default()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		r    Result
		want float64
	}{
		{"gemini before the cut", Result{OK: true, Provider: "gemini", Sim: 9 * time.Hour, Prompt: 1000, Output: 100}, (1000*0.30 + 100*2.50) / 1e6},
		{"gemini after the cut", Result{OK: true, Provider: "gemini", Sim: 11 * time.Hour, Prompt: 1000, Output: 100}, (1000*0.15 + 100*0.60) / 1e6},
		{"the gateway's own figure plays no part", Result{OK: true, Provider: "gemini", Sim: 11 * time.Hour, Prompt: 1000, Output: 100, GatewayCost: 1}, (1000*0.15 + 100*0.60) / 1e6},
		{"openai all day", Result{OK: true, Provider: "openai", Sim: 23 * time.Hour, Prompt: 40, Output: 40}, (40*2.50 + 40*10) / 1e6},
		{"a failure before any answer", Result{Status: 503}, 0},
		{"a provider the scenario does not know", Result{OK: true, Provider: "ghost", Prompt: 10, Output: 10}, 0},
		{"a broken stream is billed what it reported", Result{Provider: "deepseek", Sim: time.Hour, Prompt: 100}, 100 * 0.27 / 1e6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rs := []Result{tc.r}
			total := Account(&sc, rs)
			if !near(total, tc.want) || !near(rs[0].Cost, tc.want) {
				t.Errorf("cost %v (result %v), want %v", total, rs[0].Cost, tc.want)
			}
		})
	}
}

func TestPercentileIsNearestRank(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = 100 - i // descending: Percentile must sort
	}
	for _, tc := range []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"none", nil, 95, 0},
		{"one", ms(7), 95, 7 * time.Millisecond},
		{"p50 of four", ms(4, 1, 3, 2), 50, 2 * time.Millisecond},
		{"p95 of 1..100", ms(hundred...), 95, 95 * time.Millisecond},
		{"p100 is the max", ms(hundred...), 100, 100 * time.Millisecond},
		{"p95 of twenty is the 19th", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20), 95, 19 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.in, tc.p); got != tc.want {
				t.Errorf("Percentile(p%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestSummarizeCountsSuccessLatencyAndCostPerHour(t *testing.T) {
	sc := Default()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	rs := []Result{
		{ID: 0, Kind: Short, OK: true, Status: 200, Provider: "openai", Sim: 1 * time.Hour, Latency: 100 * time.Millisecond, Prompt: 1e6},
		{ID: 1, Kind: Long, OK: true, Status: 200, Provider: "gemini", Sim: 11 * time.Hour, Latency: 300 * time.Millisecond, Output: 1e6, GatewayCost: 2.5},
		{ID: 2, Kind: Stream, OK: true, Status: 200, Provider: "gemini", Sim: 11 * time.Hour, Latency: 9 * time.Second, TTFT: 50 * time.Millisecond},
		{ID: 3, Kind: Short, Status: 503, Err: "no healthy target", Sim: 14 * time.Hour, Latency: time.Millisecond},
	}
	s := Summarize(&sc, Policy{Name: "p", Title: "P"}, rs)
	if s.Requests != 4 || s.OK != 3 || !near(s.SuccessPct, 75) {
		t.Errorf("requests %d ok %d success %v, want 4, 3, 75", s.Requests, s.OK, s.SuccessPct)
	}
	// Unary only: the stream's 9 s is not a unary latency, the failure's
	// 1 ms is not an answer.
	if s.P50ms != 100 || s.P95ms != 300 || s.StreamTTFTP95ms != 50 {
		t.Errorf("p50 %v p95 %v ttft %v, want 100, 300, 50", s.P50ms, s.P95ms, s.StreamTTFTP95ms)
	}
	if !near(s.CostUSD, 2.50+0.60) || !near(s.GatewayCostUSD, 2.5) {
		t.Errorf("cost %v gateway %v, want 3.10 (1M input at 2.50, 1M output at the cut 0.60) and 2.5", s.CostUSD, s.GatewayCostUSD)
	}
	if !near(s.HourlyCost[1], 2.50) || !near(s.HourlyCost[11], 0.60) || s.HourlyCost[14] != 0 {
		t.Errorf("hourly cost %v", s.HourlyCost)
	}
	if s.Served["gemini"] != 2 || s.Served["openai"] != 1 || s.HourlyServed[11]["gemini"] != 2 {
		t.Errorf("served %v, hourly %v", s.Served, s.HourlyServed[11])
	}
	if s.Failures["HTTP 503: no healthy target"] != 1 {
		t.Errorf("failures %v", s.Failures)
	}
}

func TestSavingsAndJudge(t *testing.T) {
	base := Summary{Policy: "single", CostUSD: 10, OK: 1000, Requests: 1000, SuccessPct: 100, P95ms: 1000}
	for _, tc := range []struct {
		name string
		cand Summary
		want Verdict
	}{
		{"met", Summary{Policy: "hybrid", CostUSD: 4, OK: 999, Requests: 1000, SuccessPct: 99.9, P95ms: 1200},
			Verdict{Met: true, CheaperThan: true, SuccessOK: true, P95OK: true}},
		{"too slow", Summary{Policy: "hybrid", CostUSD: 4, OK: 1000, Requests: 1000, SuccessPct: 100, P95ms: 1201},
			Verdict{CheaperThan: true, SuccessOK: true}},
		{"too many failures", Summary{Policy: "hybrid", CostUSD: 4, OK: 998, Requests: 1000, SuccessPct: 99.8, P95ms: 900},
			Verdict{CheaperThan: true, P95OK: true}},
		{"not cheaper", Summary{Policy: "hybrid", CostUSD: 10, OK: 1000, Requests: 1000, SuccessPct: 100, P95ms: 900},
			Verdict{SuccessOK: true, P95OK: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sums := []Summary{base, tc.cand}
			Savings(sums, "single")
			if want := 100 * (10 - tc.cand.CostUSD) / 10; !near(sums[1].SavingPct, want) || sums[0].SavingPct != 0 {
				t.Errorf("savings %v, %v; want 0, %v", sums[0].SavingPct, sums[1].SavingPct, want)
			}
			v := Judge(sums, "single", "hybrid")
			got := Verdict{Met: v.Met, CheaperThan: v.CheaperThan, SuccessOK: v.SuccessOK, P95OK: v.P95OK}
			if got != tc.want {
				t.Errorf("verdict %+v, want %+v", v, tc.want)
			}
			fastest := min(1000, tc.cand.P95ms)
			if v.FastestP95ms != fastest || !near(v.LimitP95ms, fastest*P95Slack) {
				t.Errorf("fastest %v limit %v, want %v and 1.2×", v.FastestP95ms, v.LimitP95ms, fastest)
			}
		})
	}
}

func TestBillProbesAtTheTruePriceWhenEachReachedTheProvider(t *testing.T) {
	sc := Default()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) // any instant: only the offsets matter
	c := Clock{DayLength: 24 * time.Second}              // one simulated hour per second
	s := Summary{CostUSD: 1}
	BillProbes(&sc, &s, &Probe{Interval: time.Second}, []ProbeCall{ // the 1-token ping
		{Provider: "gemini", Time: start.Add(9 * time.Second)},  // 09:00, before the cut
		{Provider: "gemini", Time: start.Add(11 * time.Second)}, // 11:00, after it
		{Provider: "openai", Time: start.Add(11 * time.Second)},
	}, start, c)
	before, after, openai := (0.30+2.50)/1e6, (0.15+0.60)/1e6, (2.50+10)/1e6
	if !near(s.ProbeCostUSD, before+after+openai) || !near(s.CostUSD, 1+before+after+openai) {
		t.Errorf("probe cost %v, total %v", s.ProbeCostUSD, s.CostUSD)
	}
	if !near(s.HourlyCost[9], before) || !near(s.HourlyCost[11], after+openai) {
		t.Errorf("hourly %v", s.HourlyCost)
	}
	if s.ProbeCalls["gemini"] != 2 || s.ProbeCalls["openai"] != 1 {
		t.Errorf("calls %v", s.ProbeCalls)
	}
}

func TestProbeShapesPromptUsageAndYAML(t *testing.T) {
	for _, tc := range []struct {
		name        string
		p           Probe
		prompt      string
		in, out     int
		yamlContain string
	}{
		{"the gateway's default probe", Probe{Interval: time.Second}, "ping", 1, 1, `prompt: "ping", max_tokens: 1}`},
		{"shaped like the traffic", Probe{Interval: time.Second, AnswerTokens: 40}, "[[fake:tokens=40]] ping", 2, 40, `prompt: "[[fake:tokens=40]] ping", max_tokens: 40}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Prompt(); got != tc.prompt {
				t.Errorf("prompt %q, want %q", got, tc.prompt)
			}
			if in, out := tc.p.Usage(); in != tc.in || out != tc.out {
				t.Errorf("usage %d/%d, want %d/%d", in, out, tc.in, tc.out)
			}
			if y := tc.p.YAML(); !strings.HasPrefix(y, "{enabled: true, interval: 1s, ") || !strings.HasSuffix(y, tc.yamlContain) {
				t.Errorf("yaml %s", y)
			}
		})
	}
}
