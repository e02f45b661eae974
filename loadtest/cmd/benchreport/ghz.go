package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/switchyard/switchyard/loadtest/load"
)

// ghzReport is the part of ghz's JSON report (-O json) the summary uses.
type ghzReport struct {
	Count       int            `json:"count"`
	Total       time.Duration  `json:"total"`
	RPS         float64        `json:"rps"`
	ErrorDist   map[string]int `json:"errorDistribution"`
	StatusDist  map[string]int `json:"statusCodeDistribution"`
	LatencyDist []struct {
		Percentage int           `json:"percentage"`
		Latency    time.Duration `json:"latency"`
	} `json:"latencyDistribution"`
	Options struct {
		Concurrency int    `json:"concurrency"`
		Call        string `json:"call"`
	} `json:"options"`
}

func (r ghzReport) percentile(p int) float64 {
	for _, d := range r.LatencyDist {
		if d.Percentage == p {
			return float64(d.Latency) / 1e6
		}
	}
	return -1
}

// ghzSummary prints one table row per ghz report (and per loadclient
// result in extra): rps, p50/p95/p99, errors, and the cache figures.
func ghzSummary(spec, extra string, w io.Writer) error {
	fmt.Fprintln(w, "| scenario | tool | c | requests | req/s | p50 (ms) | p95 (ms) | p99 (ms) | errors | notes |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|")
	for _, item := range strings.Split(spec, ",") {
		name, path, ok := strings.Cut(item, "=")
		if !ok {
			return fmt.Errorf("-ghz %q: want name=file", item)
		}
		var r ghzReport
		if err := readJSON(path, &r); err != nil {
			return err
		}
		errs := 0
		var kinds []string
		for code, n := range r.StatusDist {
			if code != "OK" {
				errs += n
				kinds = append(kinds, fmt.Sprintf("%s×%d", code, n))
			}
		}
		for msg, n := range r.ErrorDist {
			if len(kinds) < 3 {
				if len(msg) > 80 {
					msg = msg[:80]
				}
				kinds = append(kinds, fmt.Sprintf("%q×%d", msg, n))
			}
		}
		fmt.Fprintf(w, "| %s | ghz | %d | %d | %.0f | %.3f | %.3f | %.3f | %d | %s |\n", name, r.Options.Concurrency, r.Count, r.RPS,
			r.percentile(50), r.percentile(95), r.percentile(99), errs, strings.Join(kinds, " "))
	}
	if extra == "" {
		return nil
	}
	f, err := os.Open(extra)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var r load.Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %w", extra, err)
		}
		var notes []string
		if len(r.Cache) > 0 && r.Cache["bypass"] < r.Requests {
			total := 0
			for _, n := range r.Cache {
				total += n
			}
			notes = append(notes, fmt.Sprintf("cache hit ratio %.1f%% (%v, from switchyard.cache)", 100*float64(r.Cache["hit"])/float64(total), r.Cache))
		}
		if r.TTFT != nil {
			notes = append(notes, fmt.Sprintf("TTFT p50 %.3f ms", r.TTFT.P50))
		}
		if p := r.Proc; p != nil {
			notes = append(notes, fmt.Sprintf("RSS %d→%d KB (min %d, max %d)", p.Before.RSSKB, p.After.RSSKB, p.RSSMinKB, p.RSSMaxKB))
		}
		if r.Errors > 0 {
			notes = append(notes, fmt.Sprintf("errors %v, first: %.100s", r.ErrorKinds, r.FirstError))
		}
		fmt.Fprintf(w, "| %s | loadclient | %d | %d | %.0f | %.3f | %.3f | %.3f | %d | %s |\n", r.Label, r.Concurrency, r.Requests+r.Errors, r.RPS,
			r.Latency.P50, r.Latency.P95, r.Latency.P99, r.Errors, strings.Join(notes, "; "))
	}
	return sc.Err()
}
