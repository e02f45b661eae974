package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Options configure a Run.
type Options struct {
	// Bin is the gateway binary.
	Bin string
	// DayLength is how long the simulated day lasts in real time, per policy.
	DayLength time.Duration
	Scenario  Scenario
	Policies  []Policy
	// Baseline names the policy savings are measured against; Candidate
	// the one the acceptance target is about.
	Baseline, Candidate string
	// TempDir is where each gateway's scratch directory goes ("" = the
	// system's); each is removed when its policy ends.
	TempDir string
	// Progress gets a line every ProgressEvery (nil: none).
	Progress      io.Writer
	ProgressEvery time.Duration
	// RequestTimeout bounds each client request.
	RequestTimeout time.Duration
	// Now is the clock (time.Now by default).
	Now func() time.Time
}

// Run replays the scenario's day once per policy and reports.
func Run(ctx context.Context, o Options) (*Report, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DayLength <= 0 {
		return nil, fmt.Errorf("sim: day length %v", o.DayLength)
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 60 * time.Second
	}
	if o.ProgressEvery <= 0 {
		o.ProgressEvery = 2 * time.Second
	}
	// The gateway runs in its scratch directory, so a relative path
	// (bin/switchyard) must be made absolute first.
	bin, err := filepath.Abs(o.Bin)
	if err != nil {
		return nil, err
	}
	o.Bin = bin
	sc := o.Scenario
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	sched := sc.Schedule(o.DayLength)
	fakes, err := StartFakes(&sc)
	if err != nil {
		return nil, err
	}
	defer fakes.Close()
	rep := &Report{Scenario: sc, DayLength: o.DayLength, Baseline: o.Baseline, Candidate: o.Candidate, Retry: Retry}
	for _, p := range o.Policies {
		if p.Probe != nil {
			if err := probeSupported(ctx, o, &sc, p, fakes.Endpoints()); err != nil {
				rep.Notes = append(rep.Notes, fmt.Sprintf("%s: this gateway does not take routes[].probe (%v), so the policy ran without probes", p.Name, firstLine(err.Error())))
				p.Probe = nil
			}
		}
		rep.Policies = append(rep.Policies, p)
		s, err := runPolicy(ctx, o, &sc, p, sched, fakes)
		if err != nil {
			return nil, fmt.Errorf("policy %s: %w", p.Name, err)
		}
		if p.Probe != nil && len(s.ProbeCalls) == 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: the gateway took the probe config, but no probe reached a provider during the day", p.Name))
		}
		rep.Summaries = append(rep.Summaries, s)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	Savings(rep.Summaries, o.Baseline)
	rep.Verdict = Judge(rep.Summaries, o.Baseline, o.Candidate)
	return rep, nil
}

func probeSupported(ctx context.Context, o Options, sc *Scenario, p Policy, ep Endpoints) error {
	dir, err := os.MkdirTemp(o.TempDir, "switchyard-sim-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	yaml, err := GatewayConfig(sc, p, ep, "127.0.0.1:0", dir+"/data")
	if err != nil {
		return err
	}
	return CheckConfig(ctx, o.Bin, dir, yaml)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

func runPolicy(ctx context.Context, o Options, sc *Scenario, p Policy, sched []Arrival, fakes *Fakes) (Summary, error) {
	fakes.Reset()
	dir, err := os.MkdirTemp(o.TempDir, "switchyard-sim-")
	if err != nil {
		return Summary{}, err
	}
	defer os.RemoveAll(dir)
	gw, err := StartGateway(ctx, o.Bin, dir, func(listen, data string) (string, error) {
		return GatewayConfig(sc, p, fakes.Endpoints(), listen, data)
	})
	if err != nil {
		return Summary{}, err
	}
	defer gw.Stop()
	tr := &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: 30 * time.Second}
	defer tr.CloseIdleConnections()
	cl := &Client{HTTP: &http.Client{Transport: tr}, URL: gw.URL, Timeout: o.RequestTimeout, Now: o.Now}
	startPrices := gatewayPrices(ctx, cl)
	if p.LiveFeed {
		// The first fetch runs beside the start; the day begins once every
		// target is priced from the feed, as a long-running gateway's are.
		deadline := o.Now().Add(10 * time.Second)
		for !allFromFeed(startPrices) {
			if o.Now().After(deadline) {
				return Summary{}, fmt.Errorf("the gateway did not take the feed's prices within 10 s: %+v", startPrices)
			}
			time.Sleep(50 * time.Millisecond)
			startPrices = gatewayPrices(ctx, cl)
		}
	}
	results, start, err := day(ctx, o, sc, p, sched, fakes, cl)
	if err != nil {
		return Summary{}, err
	}
	if err := gw.Stop(); err != nil {
		return Summary{}, err
	}
	s := Summarize(sc, p, results)
	s.Upstream = fakes.Upstream()
	if p.Probe != nil {
		BillProbes(sc, &s, p.Probe, fakes.ProbeCalls(p.Probe.Prompt()), start, Clock{DayLength: o.DayLength})
	}
	s.Prices = startPrices
	return s, nil
}

func allFromFeed(m map[string]PriceSeen) bool {
	for _, p := range m {
		if p.Source != "feed" {
			return false
		}
	}
	return len(m) > 0
}

// gatewayPrices is what GET /v1/prices says is in force.
func gatewayPrices(ctx context.Context, cl *Client) map[string]PriceSeen {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cl.URL+"/v1/prices", nil)
	if err != nil {
		return nil
	}
	resp, err := cl.HTTP.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct {
		Data []struct {
			Provider string  `json:"provider"`
			Model    string  `json:"model"`
			Input    float64 `json:"input_per_million"`
			Output   float64 `json:"output_per_million"`
			Source   string  `json:"source"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil {
		return nil
	}
	m := map[string]PriceSeen{}
	for _, d := range out.Data {
		m[d.Provider+"/"+d.Model] = PriceSeen{Input: d.Input, Output: d.Output, Source: d.Source}
	}
	return m
}
