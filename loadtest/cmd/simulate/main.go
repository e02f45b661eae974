// Command simulate replays a synthetic day against fake providers through
// the gateway binary, once per routing policy, and writes
// simulate.{md,json,svg} (see package loadtest/sim).
//
//	simulate --bin bin/switchyard --day 72s --out loadtest/results
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/loadtest/sim"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "simulate:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	bin := fs.String("bin", envOr("SWITCHYARD_BIN", "bin/switchyard"), "gateway binary (env SWITCHYARD_BIN)")
	dayLen := fs.Duration("day", 72*time.Second, "real time one simulated day lasts, per policy")
	out := fs.String("out", "loadtest/results", "directory for simulate.md, simulate.json and simulate.svg")
	limit := fs.Duration("timeout", 15*time.Minute, "stop the whole run after this long")
	only := fs.String("policies", "", "comma-separated policy names to run (default all)")
	weights := fs.String("hybrid", "", "override hybrid_live's weights: cost=0.5,latency=0.4,quality=0,error_rate=0.1,load=0")
	probeTokens := fs.Int("probe-tokens", -1, "override the answer tokens of hybrid_live's probe (0: the gateway's default ping)")
	probeTimeout := fs.Duration("probe-timeout", 0, "override the timeout of hybrid_live's probe")
	render := fs.String("render", "", "rewrite the report from this simulate.json instead of running")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *render != "" {
		b, err := os.ReadFile(*render)
		if err != nil {
			return err
		}
		var rep sim.Report
		if err := json.Unmarshal(b, &rep); err != nil {
			return fmt.Errorf("%s: %w", *render, err)
		}
		return sim.Write(&rep, *out, os.Stdout)
	}
	policies, err := pick(sim.Policies(), *only)
	if err != nil {
		return err
	}
	if *weights != "" {
		if err := setWeights(policies, *weights); err != nil {
			return err
		}
	}
	if *probeTokens >= 0 {
		for i := range policies {
			if pr := policies[i].Probe; pr != nil {
				pr.AnswerTokens = *probeTokens
			}
		}
	}
	if *probeTimeout > 0 {
		for i := range policies {
			if pr := policies[i].Probe; pr != nil {
				pr.Timeout = *probeTimeout
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	rep, err := sim.Run(ctx, sim.Options{
		Bin: *bin, DayLength: *dayLen, Scenario: sim.Default(), Policies: policies,
		Baseline: "single", Candidate: "hybrid_live", Progress: os.Stderr,
	})
	if err != nil {
		return err
	}
	return sim.Write(rep, *out, os.Stdout)
}

func pick(all []sim.Policy, only string) ([]sim.Policy, error) {
	if only == "" {
		return all, nil
	}
	var out []sim.Policy
	for _, name := range strings.Split(only, ",") {
		found := false
		for _, p := range all {
			if p.Name == strings.TrimSpace(name) {
				out, found = append(out, p), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown policy %q", name)
		}
	}
	return out, nil
}

func setWeights(ps []sim.Policy, spec string) error {
	h := sim.Hybrid{}
	for _, kv := range strings.Split(spec, ",") {
		k, v, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(v, 64)
		if !ok || err != nil {
			return fmt.Errorf("--hybrid: %q is not name=number", kv)
		}
		switch k {
		case "cost":
			h.Cost = f
		case "latency":
			h.Latency = f
		case "quality":
			h.Quality = f
		case "error_rate":
			h.ErrorRate = f
		case "load":
			h.Load = f
		default:
			return fmt.Errorf("--hybrid: unknown weight %q", k)
		}
	}
	for i := range ps {
		if ps[i].Hybrid != nil {
			ps[i].Hybrid = &h
		}
	}
	return nil
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
