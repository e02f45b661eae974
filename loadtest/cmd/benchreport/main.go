// Command benchreport turns the raw results of scripts/bench.sh (JSON lines
// from loadclient, labelled "target|kind|round") and the run's meta file into
// the benchmark's markdown table and a JSON summary for the chart. With
// -ghz it summarises ghz JSON reports instead (make loadtest).
//
//	benchreport -raw results/bench-raw.jsonl -meta meta.json -md results/bench.md -json results/bench.json
//	benchreport -ghz unary=u.json,stream=s.json [-extra loadclient.jsonl]
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"reflect"
	"slices"
	"strings"

	"github.com/switchyard/switchyard/loadtest/load"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchreport", flag.ContinueOnError)
	raw := fs.String("raw", "", "loadclient JSON lines labelled target|kind|round")
	metaPath := fs.String("meta", "", "meta JSON written by scripts/bench.sh")
	mdPath := fs.String("md", "", "write the markdown report here (also printed)")
	jsonPath := fs.String("json", "", "write the summary JSON here")
	ghz := fs.String("ghz", "", "name=ghz-report.json,... : summarise ghz runs instead")
	extra := fs.String("extra", "", "with -ghz: loadclient JSON lines to add as rows")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ghz != "" {
		return ghzSummary(*ghz, *extra, stdout)
	}
	if *raw == "" || *metaPath == "" {
		return errors.New("-raw and -meta are required (or -ghz)")
	}
	var meta Meta
	if err := readJSON(*metaPath, &meta); err != nil {
		return err
	}
	results, err := readResults(*raw)
	if err != nil {
		return err
	}
	sum := Summarize(meta, results)
	md := Markdown(sum)
	fmt.Fprint(stdout, md)
	if *mdPath != "" {
		if err := os.WriteFile(*mdPath, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if *jsonPath != "" {
		b, err := json.MarshalIndent(jsonSafe(sum), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonPath, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Meta is what the bench script knows beside the measurements.
type Meta struct {
	Date     string            `json:"date"`
	Machine  string            `json:"machine"`
	Versions map[string]string `json:"versions"`
	Rounds   int               `json:"rounds"`
	Settings string            `json:"settings"`
	// Targets in display order, with their status.
	Targets []TargetMeta `json:"targets"`
}

// TargetMeta describes one measured (or unavailable) target.
type TargetMeta struct {
	Name string `json:"name"`
	// Status is "ok", or why the target could not be measured.
	Status string `json:"status"`
	// StreamStatus is "ok", or why its streams could not be measured.
	StreamStatus string `json:"stream_status"`
	// PeakRSSKB is VmHWM of the serving process at the end of the run.
	PeakRSSKB int64 `json:"peak_rss_kb"`
	Gateway   bool  `json:"gateway"` // false for the direct baseline
	// Label is the name shown in the report (Name when empty).
	Label string `json:"label,omitempty"`
	// BaselineOf names the target this one is an older build of
	// (BASELINE_REV): the report compares the two, after ÷ before.
	BaselineOf string `json:"baseline_of,omitempty"`
}

// Row is one target's figures: medians over the rounds.
type Row struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	// StreamStatus is "ok" or why the stream figures are missing.
	StreamStatus string  `json:"stream_status"`
	Gateway      bool    `json:"gateway"`
	P50          float64 `json:"p50_ms"`
	P99          float64 `json:"p99_ms"`
	AddedP50     float64 `json:"added_p50_ms"`
	AddedP99     float64 `json:"added_p99_ms"`
	RPS32        float64 `json:"rps_c32"`
	RPSRatio     float64 `json:"rps_ratio_to_direct"`
	TTFT         float64 `json:"ttft_p50_ms"`
	// AddedTTFT is TTFT minus the direct TTFT.
	AddedTTFT float64 `json:"added_ttft_ms"`
	CPUPer1k  float64 `json:"cpu_ms_per_1k"`
	PeakRSSMB float64 `json:"peak_rss_mb"`
	Requests  int     `json:"requests"`
	Errors    int     `json:"errors"`
	// Label and BaselineOf as in TargetMeta.
	Label      string `json:"label,omitempty"`
	BaselineOf string `json:"baseline_of,omitempty"`
}

// Display is the row's name in the report.
func (r Row) Display() string {
	if r.Label != "" {
		return r.Label
	}
	return r.Name
}

// Summary is the whole report.
type Summary struct {
	Meta Meta  `json:"meta"`
	Rows []Row `json:"rows"`
	// Compare holds one before/after comparison per baseline target.
	Compare []Compare `json:"compare,omitempty"`
}

// Compare sets a target (after) beside an older build of it (before).
type Compare struct {
	After, Before           string // target names
	AfterLabel, BeforeLabel string
	Figures                 []Figure
}

// Figure is one measure before and after.
type Figure struct {
	Name          string
	Before, After float64 // medians over the rounds, as in the rows
	// Ratio is After ÷ Before.
	Ratio float64
	// RoundRatios are the ratios within each round (both measured moments
	// apart), for the spread; empty for figures taken once per run.
	RoundRatios []float64
	// HigherBetter is true for req/s, false for costs.
	HigherBetter bool
}

type labelled struct {
	target, kind string
	round        string
	res          load.Result
}

func readResults(path string) ([]labelled, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []labelled
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if len(strings.TrimSpace(sc.Text())) == 0 {
			continue
		}
		var r load.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		parts := strings.Split(r.Label, "|")
		if len(parts) != 3 {
			return nil, fmt.Errorf("%s: label %q is not target|kind|round", path, r.Label)
		}
		out = append(out, labelled{parts[0], parts[1], parts[2], r})
	}
	return out, sc.Err()
}

// Summarize computes each target's medians over rounds; "added" figures are
// the median of the per-round differences to the direct run of the same
// round, so drift between rounds cancels.
func Summarize(meta Meta, results []labelled) Summary {
	by := map[string]map[string]map[string]load.Result{} // target -> kind -> round
	for _, l := range results {
		if by[l.target] == nil {
			by[l.target] = map[string]map[string]load.Result{}
		}
		if by[l.target][l.kind] == nil {
			by[l.target][l.kind] = map[string]load.Result{}
		}
		by[l.target][l.kind][l.round] = l.res
	}
	direct := by["direct"]
	sum := Summary{Meta: meta}
	for _, tm := range meta.Targets {
		row := Row{Name: tm.Name, Status: tm.Status, StreamStatus: tm.StreamStatus, Gateway: tm.Gateway, PeakRSSMB: float64(tm.PeakRSSKB) / 1024,
			Label: tm.Label, BaselineOf: tm.BaselineOf}
		kinds := by[tm.Name]
		if tm.Status != "ok" || kinds == nil {
			if row.Status == "ok" {
				row.Status = "no results"
			}
			sum.Rows = append(sum.Rows, row)
			continue
		}
		var p50, p99, a50, a99, rps, ratio, ttft, attft, cpu []float64
		for round, r := range kinds["lat"] {
			p50, p99 = append(p50, r.Latency.P50), append(p99, r.Latency.P99)
			if d, ok := direct["lat"][round]; ok {
				a50 = append(a50, r.Latency.P50-d.Latency.P50)
				a99 = append(a99, r.Latency.P99-d.Latency.P99)
			}
		}
		for round, r := range kinds["tput"] {
			rps = append(rps, r.RPS)
			if d, ok := direct["tput"][round]; ok && d.RPS > 0 {
				ratio = append(ratio, r.RPS/d.RPS)
			}
			if r.Proc != nil {
				cpu = append(cpu, r.Proc.CPUPer1k*1000)
			}
		}
		for round, r := range kinds["ttft"] {
			if r.TTFT == nil {
				continue
			}
			ttft = append(ttft, r.TTFT.P50)
			if d, ok := direct["ttft"][round]; ok && d.TTFT != nil {
				attft = append(attft, r.TTFT.P50-d.TTFT.P50)
			}
		}
		for _, k := range kinds {
			for _, r := range k {
				row.Requests += r.Requests
				row.Errors += r.Errors
			}
		}
		row.P50, row.P99, row.AddedP50, row.AddedP99 = median(p50), median(p99), median(a50), median(a99)
		row.RPS32, row.RPSRatio = median(rps), median(ratio)
		row.TTFT, row.AddedTTFT, row.CPUPer1k = median(ttft), median(attft), median(cpu)
		sum.Rows = append(sum.Rows, row)
	}
	for _, before := range sum.Rows {
		if before.BaselineOf == "" || before.Status != "ok" {
			continue
		}
		i := slices.IndexFunc(sum.Rows, func(r Row) bool { return r.Name == before.BaselineOf })
		if i < 0 || sum.Rows[i].Status != "ok" {
			continue
		}
		sum.Compare = append(sum.Compare, compare(sum.Rows[i], before, by[sum.Rows[i].Name], by[before.Name]))
	}
	return sum
}

// compare builds the before/after figures of two rows; a and b are their
// raw results by kind and round, for the per-round ratios.
func compare(after, before Row, a, b map[string]map[string]load.Result) Compare {
	c := Compare{After: after.Name, Before: before.Name, AfterLabel: after.Display(), BeforeLabel: before.Display()}
	rounds := func(kind string, v func(load.Result) (float64, bool)) []float64 {
		var out []float64
		for round, ra := range a[kind] {
			rb, ok := b[kind][round]
			if !ok {
				continue
			}
			x, okA := v(ra)
			y, okB := v(rb)
			if okA && okB && y > 0 {
				out = append(out, x/y)
			}
		}
		return out
	}
	fig := func(name string, av, bv float64, higher bool, rr []float64) {
		c.Figures = append(c.Figures, Figure{Name: name, Before: bv, After: av, Ratio: ratio(av, bv), RoundRatios: rr, HigherBetter: higher})
	}
	lat := func(p func(load.Percentiles) float64) func(load.Result) (float64, bool) {
		return func(r load.Result) (float64, bool) { return p(r.Latency), true }
	}
	fig("p50 c=1 (ms)", after.P50, before.P50, false, rounds("lat", lat(func(p load.Percentiles) float64 { return p.P50 })))
	fig("p99 c=1 (ms)", after.P99, before.P99, false, rounds("lat", lat(func(p load.Percentiles) float64 { return p.P99 })))
	fig("added p50 c=1 (ms)", after.AddedP50, before.AddedP50, false, nil)
	fig("added p99 c=1 (ms)", after.AddedP99, before.AddedP99, false, nil)
	fig("req/s c=32", after.RPS32, before.RPS32, true, rounds("tput", func(r load.Result) (float64, bool) { return r.RPS, true }))
	fig("req/s c=32 × direct", after.RPSRatio, before.RPSRatio, true, nil)
	fig("SSE TTFT p50 c=1 (ms)", after.TTFT, before.TTFT, false, rounds("ttft", func(r load.Result) (float64, bool) {
		if r.TTFT == nil {
			return 0, false
		}
		return r.TTFT.P50, true
	}))
	fig("added TTFT (ms)", after.AddedTTFT, before.AddedTTFT, false, nil)
	fig("CPU ms / 1k req", after.CPUPer1k, before.CPUPer1k, false, rounds("tput", func(r load.Result) (float64, bool) {
		if r.Proc == nil {
			return 0, false
		}
		return r.Proc.CPUPer1k, true
	}))
	fig("peak RSS (MB)", after.PeakRSSMB, before.PeakRSSMB, false, nil)
	return c
}

func ratio(num, den float64) float64 {
	if math.IsNaN(num) || math.IsNaN(den) || den <= 0 || num <= 0 {
		return math.NaN()
	}
	return num / den
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func f(v float64, prec int) string {
	if math.IsNaN(v) {
		return "—"
	}
	return fmt.Sprintf("%.*f", prec, v)
}

// FloorTarget names the bare net/http forwarder: a reference, not a peer.
const FloorTarget = "nethttp-floor"

// Markdown renders the report.
func Markdown(s Summary) string {
	var b strings.Builder
	m := s.Meta
	fmt.Fprintf(&b, "## Benchmark — %s\n\n", m.Date)
	fmt.Fprintf(&b, "Machine: %s  \n", m.Machine)
	keys := make([]string, 0, len(m.Versions))
	for k := range m.Versions {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var vs []string
	for _, k := range keys {
		vs = append(vs, k+" "+m.Versions[k])
	}
	fmt.Fprintf(&b, "Versions: %s  \n", strings.Join(vs, "; "))
	fmt.Fprintf(&b, "Method: %s; medians of %d interleaved rounds.\n\n", m.Settings, m.Rounds)
	b.WriteString("| target | p50 / p99 c=1 (ms) | added p50 (ms) | added p99 (ms) | req/s c=32 | × direct | SSE TTFT p50 (ms) | added TTFT (ms) | CPU ms / 1k req | peak RSS (MB) | errors |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	var notes []string
	for _, r := range s.Rows {
		ttftCell := func(v float64) string { return f(v, 3) }
		if r.Status == "ok" && r.StreamStatus != "" && r.StreamStatus != "ok" {
			notes = append(notes, fmt.Sprintf("%s streams: %s", r.Display(), r.StreamStatus))
			ttftCell = func(float64) string { return fmt.Sprintf("fails [%d]", len(notes)) }
		}
		if r.Status != "ok" {
			fmt.Fprintf(&b, "| %s | %s | | | | | | | | | |\n", r.Display(), "**not measured: "+strings.ReplaceAll(r.Status, "|", "/")+"**")
			continue
		}
		added := func(v float64) string {
			if !r.Gateway {
				return "—"
			}
			return f(v, 3)
		}
		cpu, rss := f(r.CPUPer1k, 1), f(r.PeakRSSMB, 1)
		if !r.Gateway {
			cpu, rss = "("+cpu+")", "("+rss+")"
		}
		ratio := f(r.RPSRatio, 2)
		fmt.Fprintf(&b, "| %s | %s / %s | %s | %s | %s | %s | %s | %s | %s | %s | %d / %d |\n",
			r.Display(), f(r.P50, 3), f(r.P99, 3), added(r.AddedP50), added(r.AddedP99), f(r.RPS32, 0), ratio,
			ttftCell(r.TTFT), added(r.AddedTTFT), cpu, rss, r.Errors, r.Requests+r.Errors)
	}
	b.WriteString("\nThe direct row's CPU and RSS (in brackets) are the fake upstream's own.\n")
	for _, r := range s.Rows {
		if r.Name == FloorTarget && r.Status == "ok" {
			b.WriteString(FloorTarget + " is a bare net/http forwarder (loadtest/cmd/floorproxy: no parsing, routing or accounting): " +
				"what any gateway built on Go's HTTP server and client costs on this machine before doing any work.\n")
		}
	}
	for i, n := range notes {
		fmt.Fprintf(&b, "[%d] %s\n", i+1, n)
	}

	for _, c := range s.Compare {
		fmt.Fprintf(&b, "\n### Before / after: %s\n\n", c.After)
		fmt.Fprintf(&b, "| figure | before: %s | after: %s | after ÷ before | per round: median [min – max] |\n|---|---|---|---|---|\n", c.BeforeLabel, c.AfterLabel)
		for _, fg := range c.Figures {
			prec := 3
			if strings.HasPrefix(fg.Name, "req/s c=32 ×") {
				prec = 2
			} else if strings.HasPrefix(fg.Name, "req/s") || strings.HasPrefix(fg.Name, "CPU") || strings.HasPrefix(fg.Name, "peak") {
				prec = 1
			}
			spread := "—"
			if len(fg.RoundRatios) > 0 {
				spread = fmt.Sprintf("%s [%s – %s]", f(median(fg.RoundRatios), 3), f(slices.Min(fg.RoundRatios), 3), f(slices.Max(fg.RoundRatios), 3))
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", fg.Name, f(fg.Before, prec), f(fg.After, prec), f(fg.Ratio, 3), spread)
		}
		b.WriteString("\nafter ÷ before: below 1 is better for latency, CPU and RSS, above 1 for req/s. " +
			"Per round: the same ratio within each round, where both ran moments apart (latency and req/s from the same round, CPU from its throughput run).\n")
	}

	// Ratios of Switchyard to each peer that was measured.
	var sy []Row
	var peers []Row
	for _, r := range s.Rows {
		switch {
		case r.BaselineOf != "":
			// An older build: compared above, not a peer.
		case strings.HasPrefix(r.Name, "switchyard") && r.Status == "ok":
			sy = append(sy, r)
		case r.Gateway && r.Status == "ok" && r.Name != FloorTarget:
			peers = append(peers, r)
		}
	}
	if len(sy) > 0 && len(peers) > 0 {
		b.WriteString("\n### Switchyard beside its peers\n\n")
		b.WriteString("| | peer | added p50 | added p99 | req/s c=32 | SSE TTFT | CPU / 1k req | peak RSS |\n|---|---|---|---|---|---|---|---|\n")
		for _, a := range sy {
			for _, p := range peers {
				fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", a.Name, p.Name,
					times(p.AddedP50, a.AddedP50, "lower"), times(p.AddedP99, a.AddedP99, "lower"),
					times(a.RPS32, p.RPS32, "higher"), times(p.TTFT, a.TTFT, "lower"),
					times(p.CPUPer1k, a.CPUPer1k, "lower"), times(p.PeakRSSMB, a.PeakRSSMB, "lower"))
			}
		}
		b.WriteString("\nEach cell says how many times better Switchyard is (peer ÷ Switchyard for costs, Switchyard ÷ peer for req/s).\n")
	}
	return b.String()
}

func times(num, den float64, _ string) string {
	if math.IsNaN(num) || math.IsNaN(den) || den <= 0 || num <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f×", num/den)
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// jsonSafe turns the summary into plain values with NaN (a figure that was
// not measured) as null, which encoding/json cannot write by itself.
func jsonSafe(s Summary) any {
	b, _ := json.Marshal(s.Meta)
	var meta any
	_ = json.Unmarshal(b, &meta)
	rows := make([]map[string]any, 0, len(s.Rows))
	for _, r := range s.Rows {
		m := map[string]any{}
		v := reflect.ValueOf(r)
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			fv := v.Field(i).Interface()
			if x, ok := fv.(float64); ok && math.IsNaN(x) {
				fv = nil
			}
			m[name] = fv
		}
		rows = append(rows, m)
	}
	out := map[string]any{"meta": meta, "rows": rows}
	num := func(v float64) any {
		if math.IsNaN(v) {
			return nil
		}
		return v
	}
	var cmp []map[string]any
	for _, c := range s.Compare {
		var figs []map[string]any
		for _, fg := range c.Figures {
			rr := make([]any, 0, len(fg.RoundRatios))
			for _, x := range fg.RoundRatios {
				rr = append(rr, num(x))
			}
			figs = append(figs, map[string]any{"name": fg.Name, "before": num(fg.Before), "after": num(fg.After),
				"after_over_before": num(fg.Ratio), "round_ratios": rr, "higher_better": fg.HigherBetter})
		}
		cmp = append(cmp, map[string]any{"after": c.After, "before": c.Before, "after_label": c.AfterLabel,
			"before_label": c.BeforeLabel, "figures": figs})
	}
	if len(cmp) > 0 {
		out["compare"] = cmp
	}
	return out
}
