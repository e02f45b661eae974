package main

import (
	"math"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/loadtest/load"
)

func res(p50, p99, rps float64, cpu float64, ttft float64) load.Result {
	r := load.Result{Requests: 100, RPS: rps, Latency: load.Percentiles{P50: p50, P99: p99}}
	if cpu > 0 {
		r.Proc = &load.ProcResult{CPUPer1k: cpu}
	}
	if ttft > 0 {
		r.TTFT = &load.Percentiles{P50: ttft}
	}
	return r
}

func TestSummarizeTakesMediansOfPerRoundDifferences(t *testing.T) {
	meta := Meta{Targets: []TargetMeta{
		{Name: "direct", Status: "ok", StreamStatus: "ok"},
		{Name: "gw", Status: "ok", StreamStatus: "ok", Gateway: true, PeakRSSKB: 2048},
		{Name: "peer", Status: "not installable: no", Gateway: true},
		{Name: "nostream", Status: "ok", StreamStatus: "sse requests fail: 500", Gateway: true},
	}}
	var in []labelled
	add := func(target, kind, round string, r load.Result) {
		in = append(in, labelled{target, kind, round, r})
	}
	// Round 2 is noisy for everyone; differences stay small.
	for i, round := range []string{"1", "2", "3"} {
		noise := float64(i%2) * 10
		add("direct", "lat", round, res(1+noise, 2+noise, 0, 0, 0))
		add("gw", "lat", round, res(1.1+noise, 2.3+noise, 0, 0, 0))
		add("direct", "tput", round, res(0, 0, 1000/(1+noise), 0, 0))
		add("gw", "tput", round, res(0, 0, 500/(1+noise), 0.04, 0))
		add("direct", "ttft", round, res(0, 0, 0, 0, 0.2+noise))
		add("gw", "ttft", round, res(0, 0, 0, 0, 0.5+noise))
		add("nostream", "lat", round, res(3, 4, 0, 0, 0))
	}
	s := Summarize(meta, in)
	gw := s.Rows[1]
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
	if !near(gw.AddedP50, 0.1) || !near(gw.AddedP99, 0.3) || !near(gw.RPSRatio, 0.5) || !near(gw.AddedTTFT, 0.3) {
		t.Errorf("gw row = %+v, want added p50 0.1, p99 0.3, ratio 0.5, ttft +0.3", gw)
	}
	if !near(gw.CPUPer1k, 40) || !near(gw.PeakRSSMB, 2) || gw.Requests != 900 {
		t.Errorf("gw cpu %v ms/1k, rss %v MB, requests %d; want 40, 2, 900", gw.CPUPer1k, gw.PeakRSSMB, gw.Requests)
	}
	md := Markdown(s)
	for _, want := range []string{"| peer | **not measured: not installable: no**", "fails [1]", "[1] nostream streams: sse requests fail: 500", "| gw | peer |"} {
		if strings.Contains(md, want) == (want == "| gw | peer |") {
			t.Errorf("markdown, looking for %q (a peer that was not measured gets no ratio row):\n%s", want, md)
		}
	}
	if j := jsonSafe(s); j == nil {
		t.Error("jsonSafe returned nil")
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{7}, 7},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestFloorIsAReferenceNotAPeer(t *testing.T) {
	meta := Meta{Targets: []TargetMeta{
		{Name: "direct", Status: "ok", StreamStatus: "ok"},
		{Name: "switchyard-rest", Status: "ok", StreamStatus: "ok", Gateway: true},
		{Name: FloorTarget, Status: "ok", StreamStatus: "ok", Gateway: true},
		{Name: "portkey", Status: "ok", StreamStatus: "ok", Gateway: true},
	}}
	var in []labelled
	for _, name := range []string{"direct", "switchyard-rest", FloorTarget, "portkey"} {
		in = append(in, labelled{name, "lat", "1", res(1, 2, 0, 0, 0)}, labelled{name, "tput", "1", res(0, 0, 100, 0.05, 0)})
	}
	md := Markdown(Summarize(meta, in))
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"| " + FloorTarget + " | ", true},
		{FloorTarget + " is a bare net/http forwarder", true},
		{"| switchyard-rest | portkey |", true},
		{"| switchyard-rest | " + FloorTarget + " |", false},
	} {
		if strings.Contains(md, tc.text) != tc.want {
			t.Errorf("markdown contains %q = %v, want %v:\n%s", tc.text, !tc.want, tc.want, md)
		}
	}
}

func TestBaselineIsComparedNotAPeer(t *testing.T) {
	meta := Meta{Targets: []TargetMeta{
		{Name: "direct", Status: "ok", StreamStatus: "ok"},
		{Name: "switchyard-rest", Status: "ok", StreamStatus: "ok", Gateway: true, PeakRSSKB: 40 << 10, Label: "switchyard-rest (abc1234)"},
		{Name: "switchyard-rest-baseline", Status: "ok", StreamStatus: "ok", Gateway: true, PeakRSSKB: 50 << 10,
			Label: "switchyard-rest (baseline 5d36ed3)", BaselineOf: "switchyard-rest"},
		{Name: "portkey", Status: "ok", StreamStatus: "ok", Gateway: true},
	}}
	var in []labelled
	for i, round := range []string{"1", "2", "3"} {
		noise := float64(i % 2)
		in = append(in,
			labelled{"direct", "lat", round, res(1+noise, 2+noise, 0, 0, 0)},
			labelled{"direct", "tput", round, res(0, 0, 1000, 0, 0)},
			labelled{"direct", "ttft", round, res(0, 0, 0, 0, 0.2)},
			labelled{"switchyard-rest", "lat", round, res(1.2+noise, 2.4+noise, 0, 0, 0)},
			labelled{"switchyard-rest", "tput", round, res(0, 0, 600/(1+noise), 0.1, 0)},
			labelled{"switchyard-rest", "ttft", round, res(0, 0, 0, 0, 0.4)},
			labelled{"switchyard-rest-baseline", "lat", round, res(1.4+noise, 2.8+noise, 0, 0, 0)},
			labelled{"switchyard-rest-baseline", "tput", round, res(0, 0, 500/(1+noise), 0.125, 0)},
			labelled{"switchyard-rest-baseline", "ttft", round, res(0, 0, 0, 0, 0.6)},
			labelled{"portkey", "lat", round, res(2, 4, 0, 0, 0)},
			labelled{"portkey", "tput", round, res(0, 0, 100, 1, 0)},
		)
	}
	s := Summarize(meta, in)
	if len(s.Compare) != 1 {
		t.Fatalf("compare = %+v, want one", s.Compare)
	}
	want := map[string]float64{"added p50 c=1 (ms)": 0.5, "req/s c=32": 1.2, "req/s c=32 × direct": 1.2,
		"SSE TTFT p50 c=1 (ms)": 0.4 / 0.6, "CPU ms / 1k req": 0.8, "peak RSS (MB)": 0.8}
	for _, fg := range s.Compare[0].Figures {
		if w, ok := want[fg.Name]; ok && math.Abs(fg.Ratio-w) > 1e-9 {
			t.Errorf("%s: after ÷ before = %v, want %v", fg.Name, fg.Ratio, w)
		}
		if fg.Name == "req/s c=32" && (len(fg.RoundRatios) != 3 || math.Abs(median(fg.RoundRatios)-1.2) > 1e-9) {
			t.Errorf("req/s round ratios = %v, want three of 1.2", fg.RoundRatios)
		}
	}
	md := Markdown(s)
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"| switchyard-rest (baseline 5d36ed3) | ", true},
		{"### Before / after: switchyard-rest", true},
		{"| req/s c=32 | 500.0 | 600.0 | 1.200 | 1.200 [1.200 – 1.200] |", true},
		{"| switchyard-rest | portkey |", true},
		{"| switchyard-rest-baseline | portkey |", false},
	} {
		if strings.Contains(md, tc.text) != tc.want {
			t.Errorf("markdown contains %q = %v, want %v:\n%s", tc.text, !tc.want, tc.want, md)
		}
	}
	if _, ok := jsonSafe(s).(map[string]any)["compare"]; !ok {
		t.Error("summary JSON has no compare")
	}
}
