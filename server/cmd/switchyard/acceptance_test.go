package main

// Acceptance tests for client keys, limits, budgets and the state store.
// They run the real binary (built once) as separate processes, so restarts,
// SIGTERM, two instances and the on-disk database are the real thing.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// gatewayBinary builds the gateway once per test run.
func gatewayBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchyard-accept-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "switchyard")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// syncBuffer collects a process's log lines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type proc struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan error
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startProc runs the gateway on cfg with env added, and waits for /healthz.
func startProc(t *testing.T, cfg string, env ...string) *proc {
	t.Helper()
	bin := gatewayBinary(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	p := &proc{base: "http://" + addr, logs: &syncBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "--config", path, "--listen", addr)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("gateway %s log:\n%s", addr, p.logs.String())
		}
	})
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get(p.base + "/healthz"); err == nil {
			r.Body.Close()
			return p
		}
		select {
		case err := <-p.done:
			t.Fatalf("gateway exited: %v\n%s", err, p.logs.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("gateway not healthy after 15s:\n%s", p.logs.String())
	return nil
}

// stop sends SIGTERM and waits for a clean exit.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err // for Cleanup
		if err != nil {
			t.Fatalf("gateway exit: %v\n%s", err, p.logs.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("gateway did not stop within 20s of SIGTERM")
	}
}

// call sends a JSON request with an optional bearer key; it returns the
// status, headers and body.
func call(t *testing.T, method, url, key, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, b
}

// createKey creates a client key through KeyService (REST) and returns its
// id and secret.
func createKey(t *testing.T, base, admin, keyJSON string) (id, secret string) {
	t.Helper()
	st, _, b := call(t, "POST", base+"/v1/keys", admin, `{"key":`+keyJSON+`}`)
	if st != 200 {
		t.Fatalf("create key: %d %s", st, b)
	}
	var out struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &out); err != nil || out.Key.ID == "" || out.Secret == "" {
		t.Fatalf("create key answer %s: %v", b, err)
	}
	return out.Key.ID, out.Secret
}

func fakeUpstream(t *testing.T, knobs fakeupstream.Knobs, keys ...string) string {
	t.Helper()
	fs := fakeupstream.New(fakeupstream.Options{Knobs: knobs, APIKeys: keys})
	srv := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); srv.Close() })
	return srv.URL
}

const adminKey = "admin-test-key-0123456789"

// acceptConfig is one OpenAI-compatible provider at the fake upstream with
// a price high enough that a few requests spend cents.
func acceptConfig(upstream, dataDir, extra string) string {
	return fmt.Sprintf(`
log: {level: info}
server: {shutdown_timeout: 10s}
storage: {data_dir: %q%s}
providers:
  - name: fake
    type: openai-compatible
    base_url: %s/v1
    api_keys: ["sk-config-provider-key-0001"]
    models: [fake-gpt]
    prices:
      fake-gpt: {input: 1, output: 10}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: fake, model: fake-gpt}
`, dataDir, extra, upstream)
}

func chatBody(maxTokens int) string {
	return fmt.Sprintf(`{"model":"fake-gpt","max_tokens":%d,"messages":[{"role":"user","content":"Say hello"}]}`, maxTokens)
}

// 50 concurrent requests on a key with a $0.01 budget: what is recorded
// stays within the budget plus one request's maximum cost; the rest get a
// clear 429.
func TestAcceptanceConcurrentRequestsCannotOverspendABudget(t *testing.T) {
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 400, Latency: 30 * time.Millisecond})
	p := startProc(t, acceptConfig(up, t.TempDir(), ""), "SWITCHYARD_ADMIN_KEY="+adminKey)
	id, secret := createKey(t, p.base, adminKey, `{"name":"tiny","budget":{"amount_usd":0.01,"period":"BUDGET_PERIOD_DAY"}}`)

	// max_tokens 500 at $10/M output: at most ~$0.005 a request; the
	// answer is 400 tokens ($0.004).
	const maxCost = 0.0051
	var ok, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	var bad atomic.Value
	for range 50 {
		wg.Go(func() {
			<-start
			st, _, b := call(t, "POST", p.base+"/v1/chat/completions", secret, chatBody(500))
			switch {
			case st == 200:
				ok.Add(1)
			case st == 429 && bytes.Contains(b, []byte("budget_exceeded")):
				refused.Add(1)
			default:
				bad.Store(fmt.Sprintf("%d %s", st, b))
			}
		})
	}
	close(start)
	wg.Wait()
	if v := bad.Load(); v != nil {
		t.Fatalf("unexpected answer: %v", v)
	}
	spent := usageCost(t, p.base, id)
	t.Logf("50 concurrent: %d served, %d refused (budget_exceeded); recorded spend $%.4f of $0.01", ok.Load(), refused.Load(), spent)
	if spent > 0.01+maxCost {
		t.Fatalf("recorded spend $%.4f > budget $0.01 + one request $%.4f", spent, maxCost)
	}
	if ok.Load() == 0 || refused.Load() == 0 {
		t.Fatalf("want some served and some refused, got %d / %d", ok.Load(), refused.Load())
	}
	// Requests go on being admitted while any budget is left, one at a
	// time, then the key is shut until the period ends.
	shut := false
	for i := 0; i < 5 && !shut; i++ {
		st, h, b := call(t, "POST", p.base+"/v1/chat/completions", secret, chatBody(500))
		switch {
		case st == 429 && h.Get("Retry-After") != "" && bytes.Contains(b, []byte("budget_exceeded")):
			shut = true
		case st != 200:
			t.Fatalf("sequential request %d: %d %s", i, st, b)
		}
	}
	if !shut {
		t.Fatal("the key was never shut")
	}
	if spent := usageCost(t, p.base, id); spent > 0.01+maxCost {
		t.Fatalf("after the sequential requests: spend $%.4f > budget + one request", spent)
	}
}

// usageSums is GetUsage's total.
type usageSums struct {
	requests, estimated int64
	costUSD             float64
	cost                string // exact decimal USD
}

// usageTotal reads GetUsage's total for keyID ("" for all) with key.
func usageTotal(t *testing.T, base, key, keyID string) usageSums {
	t.Helper()
	st, _, b := call(t, "GET", base+"/v1/usage?key_id="+keyID, key, "")
	if st != 200 {
		t.Fatalf("usage: %d %s", st, b)
	}
	var u struct {
		Total struct {
			Requests  string  `json:"requests"`
			Estimated string  `json:"estimated"`
			CostUSD   float64 `json:"cost_usd"`
			Cost      string  `json:"cost"`
		} `json:"total"`
	}
	if err := json.Unmarshal(b, &u); err != nil {
		t.Fatal(err)
	}
	out := usageSums{costUSD: u.Total.CostUSD, cost: u.Total.Cost}
	fmt.Sscan(u.Total.Requests, &out.requests)
	fmt.Sscan(u.Total.Estimated, &out.estimated)
	return out
}

// usageCost reads a key's recorded spend, waiting for the ledger's batches
// to land (two equal readings in a row).
func usageCost(t *testing.T, base, id string) float64 {
	t.Helper()
	var cost float64
	for range 40 {
		c := usageTotal(t, base, adminKey, id).costUSD
		if c == cost && cost > 0 {
			return cost
		}
		cost = c
		time.Sleep(150 * time.Millisecond)
	}
	return cost
}

// usageRequests polls GetUsage until it reports want requests for keyID,
// or a few seconds pass.
func usageRequests(t *testing.T, base, key, keyID string, want int64) int64 {
	t.Helper()
	var n int64
	for range 30 {
		if n = usageTotal(t, base, key, keyID).requests; n >= want {
			return n
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

// SIGTERM under load: every successful response the client counted has
// its ledger row.
func TestAcceptanceSIGTERMUnderLoadLosesNoLedgerRows(t *testing.T) {
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 20, Latency: 5 * time.Millisecond})
	data := t.TempDir()
	cfg := acceptConfig(up, data, "")
	p := startProc(t, cfg)

	var ok atomic.Int64
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "POST", p.base+"/v1/chat/completions", strings.NewReader(chatBody(50)))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					if ctx.Err() != nil {
						return
					}
					time.Sleep(5 * time.Millisecond) // refused while stopping
					continue
				}
				_, rerr := io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 && rerr == nil {
					ok.Add(1)
				}
			}
		})
	}
	time.Sleep(1500 * time.Millisecond)
	p.stop(t)
	cancel()
	wg.Wait()

	// Count the rows with a fresh process over the same data directory.
	q := startProc(t, cfg)
	st, _, b := call(t, "GET", q.base+"/v1/usage", "", "")
	if st != 200 {
		t.Fatalf("usage: %d %s", st, b)
	}
	var u struct {
		Total struct {
			Requests string `json:"requests"`
			Errors   string `json:"errors"`
		} `json:"total"`
	}
	_ = json.Unmarshal(b, &u)
	var rows, errs int64
	fmt.Sscan(u.Total.Requests, &rows)
	fmt.Sscan(u.Total.Errors, &errs)
	t.Logf("SIGTERM under load: client counted %d successes; ledger holds %d rows (%d errors)", ok.Load(), rows, errs)
	if ok.Load() < 100 {
		t.Fatalf("only %d successes: load too light to mean anything", ok.Load())
	}
	if rows-errs != ok.Load() {
		t.Fatalf("ledger ok rows %d != successful responses %d", rows-errs, ok.Load())
	}
}

// RPM 60 across two instances sharing Redis: the 61st request is refused
// with Retry-After, whichever instance it hits.
func TestAcceptanceRPMLimitIsSharedThroughRedis(t *testing.T) {
	rds := testRedisAddr(t)
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 5})
	// One database (Postgres in production; here both instances open the
	// same SQLite file) so the key exists for both.
	data := t.TempDir()
	cfg := acceptConfig(up, data, ", redis_url: "+rds)
	a := startProc(t, cfg, "SWITCHYARD_ADMIN_KEY="+adminKey)
	b := startProc(t, cfg, "SWITCHYARD_ADMIN_KEY="+adminKey)
	_, secret := createKey(t, a.base, adminKey, fmt.Sprintf(`{"name":"rpm-%d","rpm_limit":60}`, time.Now().UnixNano()))

	served := 0
	var lastHdr http.Header
	for i := range 60 {
		base := a.base
		if i%2 == 1 {
			base = b.base
		}
		st, h, body := call(t, "POST", base+"/v1/chat/completions", secret, chatBody(5))
		if st != 200 {
			t.Fatalf("request %d on instance %d: %d %s", i+1, i%2, st, body)
		}
		served++
		lastHdr = h
	}
	if lastHdr.Get("x-ratelimit-limit-requests") != "60" || lastHdr.Get("x-ratelimit-remaining-requests") == "" {
		t.Fatalf("x-ratelimit headers missing: %v", lastHdr)
	}
	for i, inst := range []*proc{a, b} {
		st, h, body := call(t, "POST", inst.base+"/v1/chat/completions", secret, chatBody(5))
		if st != 429 || h.Get("Retry-After") == "" || h.Get("x-ratelimit-remaining-requests") != "0" {
			t.Fatalf("61st request on instance %d: %d %s headers %v", i, st, body, h)
		}
		if !bytes.Contains(body, []byte("rate_limit_exceeded")) {
			t.Fatalf("61st request body: %s", body)
		}
	}
	t.Logf("60 served across two instances, the 61st refused on both with Retry-After")
}

// A restart keeps client keys, API-added provider keys, routing changes
// and usage; no provider key plaintext reaches the logs or the database.
func TestAcceptanceRestartKeepsStateAndSecretsStaySealed(t *testing.T) {
	const apiProviderKey = "sk-added-through-api-7f3c9e2a41d8"
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 5}, "sk-config-provider-key-0001", apiProviderKey)
	data := t.TempDir()
	cfg := acceptConfig(up, data, "")
	env := []string{"SWITCHYARD_ADMIN_KEY=" + adminKey, "SWITCHYARD_MASTER_KEY=" + strings.Repeat("ab", 32)}
	p := startProc(t, cfg, env...)

	id, secret := createKey(t, p.base, adminKey, `{"name":"team-a","rpm_limit":1000}`)
	if st, _, b := call(t, "POST", p.base+"/v1/providers/fake/keys", adminKey, `{"api_key":"`+apiProviderKey+`","label":"added"}`); st != 200 {
		t.Fatalf("add provider key: %d %s", st, b)
	}
	if st, _, b := call(t, "POST", p.base+"/v1/routing/config", adminKey,
		`{"strategy":"priority","fallback_strategy":"failover","routes":[{"model":"renamed","targets":[{"provider":"fake","model":"fake-gpt"}]}]}`); st != 200 {
		t.Fatalf("routing update: %d %s", st, b)
	}
	for range 3 {
		if st, _, b := call(t, "POST", p.base+"/v1/chat/completions", secret, `{"model":"renamed","messages":[{"role":"user","content":"hi"}]}`); st != 200 {
			t.Fatalf("chat: %d %s", st, b)
		}
	}
	_, _, before := call(t, "GET", p.base+"/v1/providers", adminKey, "")
	p.stop(t)

	q := startProc(t, cfg, env...)
	// The client key still works, on the route set through the API.
	if st, _, b := call(t, "POST", q.base+"/v1/chat/completions", secret, `{"model":"renamed","messages":[{"role":"user","content":"hi"}]}`); st != 200 {
		t.Fatalf("after restart, chat on the API route with the old key: %d %s", st, b)
	}
	st, _, after := call(t, "GET", q.base+"/v1/providers", adminKey, "")
	if st != 200 || !bytes.Contains(after, []byte(`"added"`)) || strings.Count(string(after), `"source":"api"`) != strings.Count(string(before), `"source":"api"`) {
		t.Fatalf("provider keys after restart: %s\nbefore: %s", after, before)
	}
	if bytes.Contains(after, []byte(apiProviderKey)) {
		t.Fatal("provider key in plaintext in an API answer")
	}
	if n := usageRequests(t, q.base, adminKey, id, 4); n != 4 {
		t.Fatalf("usage after restart: %d requests, want 3 before + 1 after", n)
	}
	// The client key reads its own usage, and only its own.
	if n := usageRequests(t, q.base, secret, "someone-else", 4); n != 4 {
		t.Fatalf("client key reading usage: %d requests, want its own 4", n)
	}
	if st, _, b := call(t, "GET", q.base+"/v1/keys", secret, ""); st != 403 {
		t.Fatalf("client key on an admin API: %d %s", st, b)
	}
	q.stop(t)

	// Neither logs nor any file of the data directory hold the plaintext.
	logs := p.logs.String() + q.logs.String()
	if strings.Contains(logs, apiProviderKey) || strings.Contains(logs, "sk-config-provider-key-0001") {
		t.Fatal("a provider key appears in the logs")
	}
	if strings.Contains(logs, secret) {
		t.Fatal("a client key secret appears in the logs")
	}
	files := 0
	_ = filepath.Walk(data, func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		files++
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(raw, []byte(apiProviderKey)) || bytes.Contains(raw, []byte(secret)) {
			t.Errorf("%s holds a secret in plaintext", path)
		}
		return nil
	})
	if files == 0 {
		t.Fatal("no database files found to check")
	}
	// A wrong master key refuses to start rather than serving without keys.
	bad := exec.Command(gatewayBinary(t), "--config", writeTemp(t, cfg), "--listen", freeAddr(t))
	bad.Env = append(os.Environ(), "SWITCHYARD_MASTER_KEY="+strings.Repeat("cd", 32))
	out, err := bad.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("SWITCHYARD_MASTER_KEY")) {
		t.Fatalf("wrong master key: err %v, output:\n%s", err, lastLines(out, 5))
	}
}

func writeTemp(t *testing.T, s string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func lastLines(b []byte, n int) string {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Without client keys the gateway answers loopback only, and says so.
func TestAcceptanceNoKeysMeansLoopbackOnly(t *testing.T) {
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 5})
	p := startProc(t, acceptConfig(up, t.TempDir(), ""))
	if st, _, b := call(t, "POST", p.base+"/v1/chat/completions", "", chatBody(5)); st != 200 {
		t.Fatalf("loopback without keys: %d %s", st, b)
	}
	if !strings.Contains(p.logs.String(), "loopback only") {
		t.Fatalf("the log does not say it serves loopback only:\n%s", p.logs.String())
	}
}

// A budget alert created through BillingService fires a webhook once spend
// crosses 80% of its threshold, and once only.
func TestAcceptanceBudgetAlertDeliversAWebhook(t *testing.T) {
	var (
		mu    sync.Mutex
		hooks [][]byte
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		hooks = append(hooks, b)
		mu.Unlock()
	}))
	defer hook.Close()
	up := fakeUpstream(t, fakeupstream.Knobs{Tokens: 400})
	cfg := acceptConfig(up, t.TempDir(), "") + "alerts: {interval: 1s}\n"
	p := startProc(t, cfg, "SWITCHYARD_ADMIN_KEY="+adminKey)
	st, _, b := call(t, "POST", p.base+"/v1/billing/alerts", adminKey,
		`{"type":"budget_threshold","threshold":0.01,"period":"daily","fire_at_fraction":0.8,"webhook_url":"`+hook.URL+`/hook"}`)
	if st != 200 {
		t.Fatalf("create alert: %d %s", st, b)
	}
	// $0.004 a request: the third crosses $0.008.
	for range 3 {
		if st, _, b := call(t, "POST", p.base+"/v1/chat/completions", "", chatBody(500)); st != 200 {
			t.Fatalf("chat: %d %s", st, b)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		mu.Lock()
		n := len(hooks)
		mu.Unlock()
		if n > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(2500 * time.Millisecond) // two more evaluations: no refire
	mu.Lock()
	defer mu.Unlock()
	if len(hooks) != 1 {
		t.Fatalf("%d webhooks, want exactly 1: %q", len(hooks), hooks)
	}
	var ev struct {
		Type  string  `json:"type"`
		Value float64 `json:"value"`
	}
	if err := json.Unmarshal(hooks[0], &ev); err != nil || ev.Type != "budget_threshold" || ev.Value < 0.008 {
		t.Fatalf("webhook body %s: %v", hooks[0], err)
	}
	if !strings.Contains(p.logs.String(), "budget_threshold") {
		t.Fatalf("the firing is not logged:\n%s", p.logs.String())
	}
	t.Logf("webhook: %s", hooks[0])
}
