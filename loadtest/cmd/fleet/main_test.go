package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The verdict holds the run to the success rate and propagation bound.
func TestVerdictHoldsTheRunToItsBounds(t *testing.T) {
	o := options{minSuccess: 0.999, maxPropagat: 2 * time.Second}
	tests := []struct {
		name string
		rep  report
		want string // "" passes
	}{
		{"passes", report{Load: loadResult{Requests: 10000, SuccessRate: 0.9995}, Propagation: []float64{0.05}}, ""},
		{"success rate below", report{Load: loadResult{Requests: 10000, SuccessRate: 0.998}, Propagation: []float64{0.05}}, "success rate"},
		{"slow propagation", report{Load: loadResult{Requests: 10000, SuccessRate: 1}, Propagation: []float64{2.5}}, "routing change took"},
		{"nothing measured", report{Load: loadResult{Requests: 10000, SuccessRate: 1}}, "no routing change"},
		{"no load", report{Propagation: []float64{0.1}}, "no load"},
		{"an earlier failure stands", report{Load: loadResult{Requests: 1, SuccessRate: 1}, Propagation: []float64{0.1}, Failures: []string{"rpm"}}, "rpm"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rep
			r.verdict(o)
			if tt.want == "" {
				if !r.Pass || len(r.Failures) > 0 {
					t.Fatalf("failed: %v", r.Failures)
				}
				return
			}
			if r.Pass || !strings.Contains(strings.Join(r.Failures, "|"), tt.want) {
				t.Fatalf("failures %v, want one saying %q", r.Failures, tt.want)
			}
		})
	}
}

func TestCPUSecondsReadsThisProcess(t *testing.T) {
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU to read back
	}
	if s := cpuSeconds(os.Getpid()); s <= 0 || s > 3600 {
		t.Fatalf("cpuSeconds of this process = %v", s)
	}
	if s := cpuSeconds(-1); s != 0 {
		t.Fatalf("cpuSeconds of no process = %v", s)
	}
}

// A shortened fleet run end to end: the real binary ×3, Redis, Postgres
// and HAProxy. Opt-in (SWITCHYARD_FLEET_SMOKE=1): it builds the gateway
// and takes about 40 s.
func TestFleetSmoke(t *testing.T) {
	if os.Getenv("SWITCHYARD_FLEET_SMOKE") == "" {
		t.Skip("SWITCHYARD_FLEET_SMOKE is not set (make fleet runs the full version)")
	}
	pg := os.Getenv("SWITCHYARD_TEST_POSTGRES")
	if pg == "" {
		t.Skip("SWITCHYARD_TEST_POSTGRES is not set")
	}
	haproxy, err := exec.LookPath("haproxy")
	if err != nil {
		haproxy = "/usr/sbin/haproxy"
	}
	for _, b := range []string{haproxy, "redis-server"} {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed", b)
		}
	}
	bin := filepath.Join(t.TempDir(), "switchyard")
	build := exec.Command("go", "build", "-o", bin, "github.com/switchyard/switchyard/server/cmd/switchyard")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	o := options{bin: bin, postgres: pg, haproxy: haproxy, duration: 16 * time.Second, calibrate: 2 * time.Second, workers: 6,
		timeout: 3 * time.Minute, minSuccess: 0.99, maxPropagat: 2 * time.Second}
	rep, err := run(context.Background(), o)
	if rep != nil {
		t.Log(rep.markdown())
	}
	if err != nil {
		t.Fatal(err)
	}
	if rep.Drain.Answered == 0 || rep.Redis.WindowAnswered == 0 || rep.RPM.FirstSixtyOK != 60 {
		t.Fatalf("a phase did not run: drain %d, redis window %d, rpm %d", rep.Drain.Answered, rep.Redis.WindowAnswered, rep.RPM.FirstSixtyOK)
	}
}
