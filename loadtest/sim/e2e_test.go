package sim

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gatewayBin is SWITCHYARD_BIN, or the gateway built into a temp dir.
func gatewayBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("SWITCHYARD_BIN"); b != "" {
		abs, err := filepath.Abs(b)
		if err != nil {
			t.Fatal(err)
		}
		return abs
	}
	bin := filepath.Join(t.TempDir(), "switchyard")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/switchyard/switchyard/server/cmd/switchyard").CombinedOutput()
	if err != nil {
		t.Fatalf("building the gateway: %v\n%s", err, out)
	}
	return bin
}

// The whole pipeline on a short day: fakes, four gateways in turn, the
// script, the accounting and the three reports.
func TestSimulatedDayEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the gateway four times")
	}
	bin := gatewayBin(t)
	sc := Default()
	sc.MinRate, sc.MaxRate = 4, 25
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tmp := t.TempDir()
	var progress strings.Builder
	rep, err := Run(ctx, Options{
		Bin: bin, DayLength: 5 * time.Second, Scenario: sc, Policies: Policies(),
		Baseline: "single", Candidate: "hybrid_live", TempDir: tmp,
		Progress: &progress, ProgressEvery: time.Second, RequestTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("scratch directories left behind: %v", left)
	}
	by := map[string]Summary{}
	for _, s := range rep.Summaries {
		by[s.Policy] = s
		if s.Requests < 20 || s.OK == 0 || s.CostUSD <= 0 {
			t.Errorf("%s: %d requests, %d ok, %v USD: the day did not run", s.Policy, s.Requests, s.OK, s.CostUSD)
		}
	}
	if len(by) != 4 || by["single"].Requests != by["hybrid_live"].Requests {
		t.Fatalf("summaries %v: want four policies facing the same requests", rep.Summaries)
	}
	single := by["single"]
	if single.Served["openai"] != single.OK || single.SuccessPct != 100 {
		t.Errorf("single provider: served %v, success %v; want all by openai, 100%%", single.Served, single.SuccessPct)
	}
	// openai's price never moves and the gateway knows it: both figures agree.
	if d := single.CostUSD - single.GatewayCostUSD; d > 1e-6 || d < -1e-6 {
		t.Errorf("single: true cost %v, gateway's %v: want equal", single.CostUSD, single.GatewayCostUSD)
	}
	// Static priority sends to gemini, whose price the script cut at
	// 10:00 without the gateway knowing: it bills itself the old price,
	// the truth is lower.
	if pr := by["priority"]; pr.Served["gemini"] == 0 || !(pr.CostUSD < pr.GatewayCostUSD) {
		t.Errorf("priority: served %v, true %v vs gateway %v; want gemini answering and the true cost below the stale one",
			pr.Served, pr.CostUSD, pr.GatewayCostUSD)
	}
	// During the outage gemini answered nothing for anyone.
	for _, s := range rep.Summaries {
		for h := 14; h < 16; h++ {
			if n := s.HourlyServed[h]["gemini"]; n > 0 {
				t.Errorf("%s: gemini answered %d requests at %02d:00, in its outage", s.Policy, n, h)
			}
		}
	}
	hy := by["hybrid_live"]
	for id, p := range hy.Prices {
		if p.Source != "feed" {
			t.Errorf("hybrid_live started with %s priced from %q, want the feed", id, p.Source)
		}
	}
	if cs := by["cost_static"]; cs.Prices["deepseek/deepseek-chat"].Source != "builtin" {
		t.Errorf("cost_static prices %v, want the built-in table", cs.Prices)
	}
	if !strings.Contains(progress.String(), "[simulate] hybrid_live  sim ") {
		t.Errorf("no progress lines for hybrid_live:\n%s", progress.String())
	}
	out := t.TempDir()
	var table strings.Builder
	if err := Write(rep, out, &table); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"simulate.md", "simulate.json", "simulate.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	t.Logf("\n%s", table.String())
}
