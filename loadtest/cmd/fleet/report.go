package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

type report struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	Workers  int       `json:"workers"`
	Duration string    `json:"duration"`
	HAProxy  string    `json:"haproxy"`

	Calibration      calibration    `json:"calibration"`       // a key with an RPM, a TPM and a budget
	CalibrationPlain calibration    `json:"calibration_plain"` // a key without limits
	Load             loadResult     `json:"load"`
	Events           []event        `json:"events"`
	Propagation      []float64      `json:"routing_propagation_seconds"`
	RPM              rpmResult      `json:"rpm"`
	Budget           []budgetResult `json:"budget"`
	Cache            []cacheResult  `json:"cache"`
	Alerts           []alertResult  `json:"alerts"`
	Drain            drainResult    `json:"drain"`
	Redis            redisResult    `json:"redis_restart"`

	LedgerRows              int64 `json:"ledger_rows"`
	LedgerPeakRowsPerSecond int64 `json:"ledger_peak_rows_per_second"`
	LedgerBytesPerRow       int64 `json:"ledger_bytes_per_row"`
	LedgerDropped           int64 `json:"ledger_dropped"`

	Failures []string `json:"failures"`
	Pass     bool     `json:"pass"`
}

type calibration struct {
	Key                  string           `json:"key"`
	Requests             int              `json:"requests"`
	OK                   int              `json:"ok"`
	Streams              int              `json:"streams"`
	Seconds              float64          `json:"seconds"`
	RPS                  float64          `json:"rps"`
	GatewayCPUSeconds    float64          `json:"gateway_cpu_seconds"`
	RPSPerCore           float64          `json:"rps_per_core"`
	RedisCPUSeconds      float64          `json:"redis_cpu_seconds"`
	PostgresCPUSeconds   float64          `json:"postgres_cpu_seconds"`
	RedisCalls           map[string]int64 `json:"redis_calls"`
	RedisPerRequest      float64          `json:"redis_calls_per_request"`
	PGCommitsPerRequest  float64          `json:"pg_commits_per_request"`
	PGInsertedPerRequest float64          `json:"pg_rows_inserted_per_request"`
	PGFetchedPerRequest  float64          `json:"pg_rows_fetched_per_request"`
	PGUpdatedPerRequest  float64          `json:"pg_rows_updated_per_request"`
}

type loadResult struct {
	Requests    int            `json:"requests"`
	Answered    int            `json:"answered"`
	Streams     int            `json:"streams"`
	SuccessRate float64        `json:"success_rate"`
	ByStatus    map[string]int `json:"by_status"`
	Errors      map[string]int `json:"errors,omitempty"`
	LedgerRows  int64          `json:"ledger_rows"`
}

type event struct {
	At   string `json:"at"`
	What string `json:"what"`
}

type rpmResult struct {
	FirstSixtyOK      int      `json:"first_sixty_ok"`
	FirstSixtyRefused int      `json:"first_sixty_refused"`
	SixtyFirst        []string `json:"sixty_first_per_replica"`
	Seconds           float64  `json:"seconds"`
}

type budgetResult struct {
	When       string  `json:"when"`
	Budget     float64 `json:"budget_usd"`
	Answered   int     `json:"answered"`
	Refused    int     `json:"refused"`
	Spent      float64 `json:"spent_usd"`
	OneRequest float64 `json:"one_request_usd"`
}

type cacheResult struct {
	When     string   `json:"when"`
	First    string   `json:"first"`
	Others   []string `json:"others"`
	Attempts int      `json:"attempts"`
	Seconds  float64  `json:"seconds"`
}

type alertResult struct {
	Name  string `json:"name"`
	ID    string `json:"id"`
	Fired int    `json:"fired"`
}

type drainResult struct {
	Answered   int   `json:"answered"`
	Refused    int   `json:"refused"`
	LedgerRows int64 `json:"ledger_rows"`
}

type redisResult struct {
	BudgetKeyDuring         map[string]int `json:"budget_key_during"`
	BudgetKeyServedDuring   int            `json:"budget_key_served_during"`
	BudgetKeyErrors         map[string]int `json:"budget_key_errors"`
	CachedRouteDuring       map[string]int `json:"cached_route_during"`
	CachedRouteServedDuring int            `json:"cached_route_served_during"`
	WindowRequests          int            `json:"window_requests"`
	WindowAnswered          int            `json:"window_answered"`
	WindowLedgerRows        int64          `json:"window_ledger_rows"`
	BudgetKeySlowestMS      int64          `json:"budget_key_slowest_ms"`
	CachedRouteSlowestMS    int64          `json:"cached_route_slowest_ms"`
}

func (r *report) fail(format string, a ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, a...))
}

// verdict adds the run-wide thresholds to the failures.
func (r *report) verdict(o options) {
	if r.Load.Requests > 0 && r.Load.SuccessRate < o.minSuccess {
		r.fail("client success rate %.4f%% through HAProxy, want ≥ %.2f%%", 100*r.Load.SuccessRate, 100*o.minSuccess)
	}
	if r.Load.Requests == 0 {
		r.fail("no load ran")
	}
	for _, p := range r.Propagation {
		if p > o.maxPropagat.Seconds() {
			r.fail("routing change took %.3fs to reach every replica, want ≤ %v", p, o.maxPropagat)
		}
	}
	if len(r.Propagation) == 0 {
		r.fail("no routing change was measured")
	}
	r.Pass = len(r.Failures) == 0
}

func (r *report) write(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "fleet.md"), []byte(r.markdown()), 0o644)
}

func sortedCounts(m map[string]int) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func (r *report) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	verdict := "PASS"
	if !r.Pass {
		verdict = "FAIL"
	}
	w("# make fleet: 3 replicas on shared Redis and Postgres behind HAProxy — %s\n\n", verdict)
	w("Run %s, %s of mixed load (half unary, half SSE streams) from %d clients through HAProxy; the fake upstream in process. "+
		"Loopback, one machine: gateways, Redis, Postgres, HAProxy and the clients share its cores. Reproduce: `make fleet`.\n\n",
		r.Started.Format(time.RFC3339), r.Duration, r.Workers)
	w("HAProxy: %s.\n\n", r.HAProxy)
	w("| check | result |\n|---|---|\n")
	w("| client success through HAProxy | %.3f%% (%d of %d; %d streams) — %s |\n", 100*r.Load.SuccessRate, r.Load.Answered, r.Load.Requests, r.Load.Streams, sortedCounts(r.Load.ByStatus))
	var props []string
	for _, p := range r.Propagation {
		props = append(props, fmt.Sprintf("%.0f ms", 1000*p))
	}
	w("| routing change on one replica served by all | %s |\n", strings.Join(props, ", "))
	w("| RPM 60 across the fleet | first 60 through HAProxy: %d answered, %d refused; the 61st on each replica: %s (%.2fs in all) |\n",
		r.RPM.FirstSixtyOK, r.RPM.FirstSixtyRefused, strings.Join(r.RPM.SixtyFirst, ", "), r.RPM.Seconds)
	for _, bu := range r.Budget {
		w("| budget $%.2f, 40 concurrent requests (%s) | %d answered, %d refused; ledger spend $%.4f (one request $%.4f; limit budget + one = $%.4f) |\n",
			bu.Budget, bu.When, bu.Answered, bu.Refused, bu.Spent, bu.OneRequest, bu.Budget+bu.OneRequest)
	}
	for _, c := range r.Cache {
		w("| cache across replicas (%s) | gw1: %s; %s (attempt %d, %.1fs) |\n", c.When, c.First, strings.Join(c.Others, ", "), c.Attempts, c.Seconds)
	}
	for _, a := range r.Alerts {
		w("| alert %q fired | %d time(s) |\n", a.Name, a.Fired)
	}
	w("| ledger of the SIGTERM'd replica | %d answered, %d ledger rows |\n", r.Drain.Answered, r.Drain.LedgerRows)
	w("| Redis down 3 s: budget key | %s (served: %d; slowest answer %d ms) |\n", sortedCounts(r.Redis.BudgetKeyDuring), r.Redis.BudgetKeyServedDuring, r.Redis.BudgetKeySlowestMS)
	for e := range r.Redis.BudgetKeyErrors {
		w("| Redis down 3 s: the budget key's answer | `%s` |\n", strings.ReplaceAll(e, "|", "\\|"))
	}
	w("| Redis down 3 s: cacheable route | %s (served: %d; slowest answer %d ms) |\n", sortedCounts(r.Redis.CachedRouteDuring), r.Redis.CachedRouteServedDuring, r.Redis.CachedRouteSlowestMS)
	w("| ledger around the Redis restart | %d answered, %d ledger rows |\n", r.Redis.WindowAnswered, r.Redis.WindowLedgerRows)
	w("| ledger | %d rows in all; peak %d rows/s; %d bytes per row on disk with indexes; %d dropped (switchyard_ledger_dropped_total) |\n\n",
		r.LedgerRows, r.LedgerPeakRowsPerSecond, r.LedgerBytesPerRow, r.LedgerDropped)

	w("## Timeline\n\n")
	for _, e := range r.Events {
		w("- %s: %s\n", e.At, e.What)
	}
	if len(r.Load.Errors) > 0 {
		w("\nFailed requests by error: ")
		var parts []string
		for k, v := range r.Load.Errors {
			parts = append(parts, fmt.Sprintf("%q × %d", k, v))
		}
		slices.Sort(parts)
		w("%s\n", strings.Join(parts, "; "))
	}
	w("\n## Steady phases (cost per request)\n\n")
	w("The same mix through HAProxy for a fixed time, once with a key that has an RPM, a TPM and a budget (every Redis " +
		"operation a request can cost), once with a key without limits. CPU is the three gateways' own (/proc/PID/stat), " +
		"Redis commands from INFO commandstats (commands run inside a script count too), Postgres from pg_stat_database.\n\n")
	cs := []calibration{r.Calibration, r.CalibrationPlain}
	w("| | RPM+TPM+budget key | key without limits |\n|---|---|---|\n")
	row := func(name string, v func(c calibration) string) {
		w("| %s | %s | %s |\n", name, v(cs[0]), v(cs[1]))
	}
	row("requests (streams)", func(c calibration) string { return fmt.Sprintf("%d (%d) in %.1fs", c.Requests, c.Streams, c.Seconds) })
	row("answered/s through HAProxy", func(c calibration) string { return fmt.Sprintf("%.0f", c.RPS) })
	row("gateway CPU seconds", func(c calibration) string { return fmt.Sprintf("%.2f", c.GatewayCPUSeconds) })
	row("**requests per gateway core-second**", func(c calibration) string { return fmt.Sprintf("**%.0f**", c.RPSPerCore) })
	row("Redis CPU seconds (INFO cpu)", func(c calibration) string { return fmt.Sprintf("%.2f", c.RedisCPUSeconds) })
	row("Postgres CPU seconds (its processes)", func(c calibration) string { return fmt.Sprintf("%.2f", c.PostgresCPUSeconds) })
	row("Redis commands per request", func(c calibration) string { return fmt.Sprintf("%.2f", c.RedisPerRequest) })
	names := map[string]bool{}
	for _, c := range cs {
		for k := range c.RedisCalls {
			names[k] = true
		}
	}
	keys := make([]string, 0, len(names))
	for k := range names {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		row("— "+k, func(c calibration) string { return fmt.Sprintf("%.2f", float64(c.RedisCalls[k])/float64(max(c.OK, 1))) })
	}
	row("Postgres commits per request", func(c calibration) string { return fmt.Sprintf("%.3f", c.PGCommitsPerRequest) })
	row("Postgres rows inserted per request", func(c calibration) string { return fmt.Sprintf("%.3f", c.PGInsertedPerRequest) })
	row("Postgres rows fetched per request", func(c calibration) string { return fmt.Sprintf("%.3f", c.PGFetchedPerRequest) })
	row("Postgres rows updated per request", func(c calibration) string { return fmt.Sprintf("%.3f", c.PGUpdatedPerRequest) })
	if len(r.Failures) > 0 {
		w("\n## Failures\n\n")
		for _, f := range r.Failures {
			w("- %s\n", f)
		}
	}
	return b.String()
}
