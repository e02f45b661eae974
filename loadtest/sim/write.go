package sim

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write puts simulate.md, simulate.json and simulate.svg in dir and the
// results table on w.
func Write(r *Report, dir string, w io.Writer) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	js, err := r.JSON()
	if err != nil {
		return err
	}
	for name, body := range map[string][]byte{
		"simulate.md":   []byte(r.Markdown()),
		"simulate.json": append(js, '\n'),
		"simulate.svg":  []byte(r.SVG()),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%-14s %8s %9s %8s %8s %11s %9s\n", "policy", "requests", "success%", "p50ms", "p95ms", "cost USD", "saving%")
	for _, s := range r.Summaries {
		fmt.Fprintf(w, "%-14s %8d %9.2f %8.0f %8.0f %11.4f %8.1f%%\n", s.Policy, s.Requests, s.SuccessPct, s.P50ms, s.P95ms, s.CostUSD, s.SavingPct)
	}
	fmt.Fprintf(w, "acceptance (%s vs %s): met=%v %+v\nwrote %s/simulate.{md,json,svg}\n", r.Candidate, r.Baseline, r.Verdict.Met, r.Verdict, dir)
	return nil
}
