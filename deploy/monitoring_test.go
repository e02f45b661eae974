// Package deploy_test checks the monitoring files shipped in deploy/: the
// Grafana dashboard is a dashboard Grafana imports, the Prometheus rules are
// well-formed, and every metric either names is one a live gateway exports.
package deploy_test

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// dashboard is the part of Grafana's dashboard model the checks read.
type dashboard struct {
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Time          struct{ From, To string }
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []panel `json:"panels"`
}

type panel struct {
	ID         int    `json:"id"`
	Type       string `json:"type"`
	Title      string `json:"title"`
	Datasource *struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

type rules struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/switchyard.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	var d dashboard
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("grafana/switchyard.json is not JSON: %v", err)
	}
	return d
}

func loadRules(t *testing.T) rules {
	t.Helper()
	b, err := os.ReadFile("prometheus/alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var r rules
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("prometheus/alerts.yaml: %v", err)
	}
	return r
}

var varRef = regexp.MustCompile(`\$\{?(\w+)\}?`)

func TestDashboardHasGrafanasShape(t *testing.T) {
	d := loadDashboard(t)
	if d.UID == "" || d.Title == "" || d.SchemaVersion < 36 || d.Time.From == "" {
		t.Fatalf("uid %q title %q schemaVersion %d time %+v", d.UID, d.Title, d.SchemaVersion, d.Time)
	}
	vars := map[string]bool{}
	for _, v := range d.Templating.List {
		vars[v.Name] = true
	}
	if !vars["datasource"] {
		t.Fatal("no datasource variable: the dashboard would be tied to one Prometheus")
	}
	ids := map[int]bool{}
	queries := 0
	for _, p := range d.Panels {
		if p.ID == 0 || ids[p.ID] || p.Type == "" || p.Title == "" {
			t.Fatalf("panel %+v: needs a unique id, a type and a title", p)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Fatalf("panel %q gridPos %+v is outside Grafana's 24 columns", p.Title, g)
		}
		if p.Type == "row" {
			continue
		}
		if p.Datasource == nil || p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
			t.Fatalf("panel %q datasource %+v, want the ${datasource} variable", p.Title, p.Datasource)
		}
		refs := map[string]bool{}
		if len(p.Targets) == 0 {
			t.Fatalf("panel %q has no query", p.Title)
		}
		for _, q := range p.Targets {
			if q.Expr == "" || q.RefID == "" || refs[q.RefID] {
				t.Fatalf("panel %q: query %+v needs an expr and a unique refId", p.Title, q)
			}
			refs[q.RefID] = true
			queries++
			for _, m := range varRef.FindAllStringSubmatch(q.Expr, -1) {
				if !vars[m[1]] && !strings.HasPrefix(m[1], "__") {
					t.Fatalf("panel %q uses $%s, which is not a dashboard variable", p.Title, m[1])
				}
			}
		}
	}
	// The panels the deployment notes promise.
	for _, want := range []string{"Requests/s", "Error rate", "p95", "first token", "In flight", "Cost per hour", "Cache hit rate", "Breaker", "Ledger", "quota"} {
		if !slices.ContainsFunc(d.Panels, func(p panel) bool { return strings.Contains(p.Title, want) }) {
			t.Errorf("no panel titled with %q", want)
		}
	}
	t.Logf("%d panels, %d queries", len(d.Panels), queries)
}

func TestAlertRulesAreWellFormed(t *testing.T) {
	r := loadRules(t)
	seen := map[string]bool{}
	for _, g := range r.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Fatalf("group %+v", g)
		}
		for _, rule := range g.Rules {
			if rule.Alert == "" || seen[rule.Alert] || strings.TrimSpace(rule.Expr) == "" {
				t.Fatalf("rule %+v: needs a unique alert name and an expr", rule)
			}
			seen[rule.Alert] = true
			if rule.For != "" {
				if _, err := time.ParseDuration(rule.For); err != nil {
					t.Fatalf("%s: for %q: %v", rule.Alert, rule.For, err)
				}
			}
			if s := rule.Labels["severity"]; s != "warning" && s != "critical" {
				t.Fatalf("%s: severity %q", rule.Alert, s)
			}
			if rule.Annotations["summary"] == "" || rule.Annotations["description"] == "" {
				t.Fatalf("%s lacks a summary or description", rule.Alert)
			}
			if strings.Count(rule.Expr, "(") != strings.Count(rule.Expr, ")") {
				t.Fatalf("%s: unbalanced parentheses in %s", rule.Alert, rule.Expr)
			}
		}
	}
	// Seed 001's alerts: error rate, p95 latency, provider down, budget.
	for _, want := range []string{"SwitchyardHighErrorRate", "SwitchyardHighLatencyP95", "SwitchyardProviderDown", "SwitchyardSpendOverDailyBudget"} {
		if !seen[want] {
			t.Errorf("no alert %s", want)
		}
	}
}

var (
	strLit   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	braces   = regexp.MustCompile(`\{[^}]*\}`)
	brackets = regexp.MustCompile(`\[[^\]]*\]`)
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	ident    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
	keywords = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true}
)

// metricNames lists the metric names a PromQL expression selects: the
// identifiers left once strings, label matchers, ranges, grouping lists,
// Grafana variables and function calls are taken out.
func metricNames(expr string) []string {
	s := varRef.ReplaceAllString(expr, " ")
	s = strLit.ReplaceAllString(s, " ")
	s = braces.ReplaceAllString(s, " ")
	s = brackets.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	var out []string
	for _, loc := range ident.FindAllStringIndex(s, -1) {
		name := s[loc[0]:loc[1]]
		if loc[0] > 0 && (s[loc[0]-1] >= '0' && s[loc[0]-1] <= '9' || s[loc[0]-1] == '.') {
			continue // an exponent or unit of a number
		}
		if strings.HasPrefix(strings.TrimLeft(s[loc[1]:], " \t\n"), "(") || keywords[name] {
			continue
		}
		out = append(out, name)
	}
	return out
}

func TestMetricNamesOfExpressions(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`sum by (le, provider) (rate(a_bucket{x="y", z=~"$v"}[5m])) / sum(rate(b_total[$__rate_interval]))`, []string{"a_bucket", "b_total"}},
		{`histogram_quantile(0.95, sum by (le) (rate(c_bucket[5m]))) > 5`, []string{"c_bucket"}},
		{`min by (provider) (d) >= 2 and on(provider) e unless f`, []string{"d", "e", "f"}},
		{`absent_over_time(g{job="by"}[3m]) * 1e3`, []string{"g"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%s) = %v, want %v", tc.expr, got, tc.want)
		}
	}
}

// exported scrapes /metrics of a real gateway (built from this tree) after
// unary, cached and streamed requests, and returns every series name it
// exports: histograms and summaries with their suffixes.
func exported(t *testing.T) map[string]bool {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the gateway")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "switchyard")
	if out, err := exec.Command("go", "build", "-o", bin, "../server/cmd/switchyard").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(cfg, []byte(`log: {level: error}
providers:
  - name: sim
    type: simulator
    models: [sim-small]
    prices:
      sim-small: {input: 1, output: 2}
    simulator: {token_delay: 1ms, ttft: 5ms, response_tokens: 4}
routes:
  - model: auto
    targets: [{provider: sim, model: sim-small}]
    cache: {mode: deterministic, ttl: 5m}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--config", cfg, "--listen", addr)
	cmd.Env = append(os.Environ(), "SWITCHYARD_DATA_DIR="+filepath.Join(dir, "data"))
	logs, err := os.Create(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logs.Close()
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		if r, err := http.Get(base + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(filepath.Join(dir, "log"))
			t.Fatalf("gateway not serving:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, body := range []string{
		`{"model":"auto","temperature":0,"messages":[{"role":"user","content":"hi"}]}`,
		`{"model":"auto","temperature":0,"messages":[{"role":"user","content":"hi"}]}`, // a cache hit
		`{"model":"auto","stream":true,"messages":[{"role":"user","content":"stream"}]}`,
	} {
		r, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("chat: %d", r.StatusCode)
		}
	}
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "#" || f[1] != "TYPE" {
			continue
		}
		names[f[2]] = true
		switch f[3] {
		case "histogram":
			names[f[2]+"_bucket"], names[f[2]+"_sum"], names[f[2]+"_count"] = true, true, true
		case "summary":
			names[f[2]+"_sum"], names[f[2]+"_count"] = true, true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

func TestDashboardAndAlertsUseOnlyMetricsTheGatewayExports(t *testing.T) {
	names := exported(t)
	if !names["switchyard_requests_total"] || !names["switchyard_time_to_first_token_seconds_bucket"] {
		t.Fatalf("the scrape lacks the request series: %v", names)
	}
	used := map[string][]string{} // metric -> where
	d := loadDashboard(t)
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			for _, m := range metricNames(q.Expr) {
				used[m] = append(used[m], "panel "+p.Title)
			}
		}
	}
	labelValues := regexp.MustCompile(`^label_values\(([a-zA-Z_:][a-zA-Z0-9_:]*)`)
	for _, v := range d.Templating.List {
		var q struct{ Query string }
		if json.Unmarshal(v.Query, &q) != nil {
			continue
		}
		if m := labelValues.FindStringSubmatch(q.Query); m != nil {
			used[m[1]] = append(used[m[1]], "variable "+v.Name)
		}
	}
	for _, g := range loadRules(t).Groups {
		for _, rule := range g.Rules {
			for _, m := range metricNames(rule.Expr) {
				used[m] = append(used[m], "alert "+rule.Alert)
			}
		}
	}
	var missing, all []string
	for m, where := range used {
		all = append(all, m)
		if !names[m] {
			missing = append(missing, m+" ("+strings.Join(where, ", ")+")")
		}
	}
	sort.Strings(missing)
	sort.Strings(all)
	if len(missing) > 0 {
		t.Fatalf("metrics the gateway does not export:\n  %s", strings.Join(missing, "\n  "))
	}
	for _, want := range []string{"switchyard_breaker_state", "switchyard_ledger_dropped_total", "switchyard_provider_quota_total", "switchyard_cost_usd_total", "switchyard_in_flight_requests"} {
		if _, ok := used[want]; !ok {
			t.Errorf("nothing watches %s", want)
		}
	}
	t.Logf("%d metrics used, all exported: %s", len(all), strings.Join(all, " "))
}
