package sim

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// fixedReport is a report from made-up figures, so the rendering is
// checked on its own.
func fixedReport(t *testing.T) *Report {
	t.Helper()
	sc := Default()
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	r := &Report{Scenario: sc, DayLength: 72 * time.Second, Baseline: "single", Candidate: "hybrid_live", Retry: Retry, Policies: Policies()}
	r.Policies[3].Probe = &Probe{Interval: 2 * time.Second, Timeout: time.Second, TTFT: time.Second, Total: time.Second, AnswerTokens: 40}
	r.Notes = []string{"a note"}
	for i, p := range r.Policies {
		s := Summary{Policy: p.Name, Title: p.Title, Requests: 1000, OK: 1000 - i, P50ms: 500 + 10*float64(i), P95ms: 2000 + 100*float64(i),
			StreamTTFTP95ms: 400, Served: map[string]int{p.Targets[0]: 1000 - i}, Upstream: map[string]uint64{p.Targets[0]: uint64(1000 + i)},
			ProviderP95ms: map[string]float64{p.Targets[0]: 2000 + 100*float64(i)}, HourlyServed: make([]map[string]int, 24)}
		s.SuccessPct = float64(s.OK) / 10
		for h := range 24 {
			s.HourlyCost[h] = float64(4-i) * 0.01 * (1 + float64(h%5))
			s.CostUSD += s.HourlyCost[h]
			s.HourlyP95ms[h] = 1000 + float64(100*i+10*h)
			s.HourlyServed[h] = map[string]int{p.Targets[0]: 40 - i, p.Targets[len(p.Targets)-1]: h % 3}
		}
		s.GatewayCostUSD = s.CostUSD * 1.5
		if i == 3 {
			s.ProbeCalls, s.ProbeCostUSD = map[string]int{"openai": 5, "deepseek": 3}, 0.0001
		}
		if i == 2 {
			s.Failures = map[string]int{"HTTP 503: no healthy `target`": 2}
		}
		r.Summaries = append(r.Summaries, s)
	}
	Savings(r.Summaries, r.Baseline)
	r.Verdict = Judge(r.Summaries, r.Baseline, r.Candidate)
	return r
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file (go test ./loadtest/sim -update rewrites it); got:\n%s", name, got)
	}
}

func TestMarkdownReportFromFixedFigures(t *testing.T) {
	r := fixedReport(t)
	md := r.Markdown()
	golden(t, "report.md.golden", md)
	for _, want := range []string{
		"| one provider (openai) (`single`) | 1000 | 100.00 | 500 | 2000 |",
		"saving vs single provider",
		"**not met**", // hybrid answered 99.7%, under 99.9%
		"10:00 Gemini price cut",
		"`{enabled: true, interval: 2s, timeout: 1s, ttft: 1s, total: 1s, prompt: \"[[fake:tokens=40]] ping\", max_tokens: 40}`",
		"2 × `HTTP 503: no healthy 'target'`",
		"| 04:00 | openai 1; 1040 ms; 0.2000 | gemini 39, deepseek 1; 1140 ms; 0.1500 |", // most answers first
		"a prompt whose answer is 40 tokens",
		"The latency EWMA's 10 s time constant is 3h20m0s of simulated time, a breaker's 5 s open period 1h40m0s",
		"Probes of `hybrid_live`: 8 calls (openai 5, deepseek 3), 0.000100 USD",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

func TestSVGChartFromFixedFigures(t *testing.T) {
	r := fixedReport(t)
	svg := r.SVG()
	golden(t, "report.svg.golden", svg)
	if !strings.HasPrefix(svg, "<svg ") || !strings.HasSuffix(svg, "</svg>\n") {
		t.Error("not one svg element")
	}
	// Two panels × four policies, and each marked event in both panels.
	if n := strings.Count(svg, "<polyline"); n != 8 {
		t.Errorf("%d polylines, want 8", n)
	}
	for _, e := range []string{"10:00 Gemini price cut", "14:00 Gemini outage (503)", "18:00 Gemini latency +2 s"} {
		if n := strings.Count(svg, ">"+e+"<"); n != 2 {
			t.Errorf("event %q marked %d times, want 2", e, n)
		}
	}
	if strings.Contains(svg, "16:00 Gemini back") {
		t.Error("an unmarked event is on the chart")
	}
}

func TestJSONReportRoundTrips(t *testing.T) {
	r := fixedReport(t)
	b, err := r.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Summaries) != 4 || back.Summaries[3].CostUSD != r.Summaries[3].CostUSD || back.Verdict != r.Verdict {
		t.Errorf("round trip lost figures: %+v", back.Verdict)
	}
}

func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		max  float64
		step float64
		n    int
	}{
		{0, 1, 1}, {0.9, 0.2, 5}, {1, 0.2, 5}, {2.3, 0.5, 5}, {7, 2, 4}, {2600, 500, 6}, {0.0123, 0.005, 3},
	} {
		step, n := niceTicks(tc.max)
		if !near(step, tc.step) || n != tc.n {
			t.Errorf("niceTicks(%v) = %v × %d, want %v × %d", tc.max, step, n, tc.step, tc.n)
		}
	}
}

func TestLogAxisSpansWholeDecadesAndFloorsZeros(t *testing.T) {
	a := logAxis([][]float64{{0, 0.003, 0.04}, {0.2}})
	if len(a.ticks) != 4 || !near(a.ticks[0], 0.001) || !near(a.ticks[3], 1) {
		t.Fatalf("ticks %v, want 0.001 0.01 0.1 1", a.ticks)
	}
	for _, tc := range []struct{ v, frac float64 }{{0, 0}, {0.001, 0}, {0.01, 1.0 / 3}, {1, 1}} {
		if got := a.frac(tc.v); !near(got, tc.frac) {
			t.Errorf("frac(%v) = %v, want %v", tc.v, got, tc.frac)
		}
	}
	if got := a.label(0.001); got != "0.001" {
		t.Errorf("label %q", got)
	}
}
