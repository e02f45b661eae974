package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// createKey makes a client key through replica 1's admin API.
func (f *fleet) createKey(ctx context.Context, name string, spec map[string]any) (clientKey, error) {
	spec["name"] = name
	var out struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	if err := f.admin(ctx, http.MethodPost, f.gws[0].url(), "/v1/keys", map[string]any{"key": spec}, &out); err != nil {
		return clientKey{}, fmt.Errorf("key %s: %w", name, err)
	}
	k := clientKey{id: out.Key.ID, secret: out.Secret}
	f.keys[name] = k
	return k, nil
}

func (f *fleet) createAlert(ctx context.Context, spec map[string]any) (string, error) {
	spec["webhook_url"] = f.hooks.url
	var out map[string]any
	if err := f.admin(ctx, http.MethodPost, f.gws[1].url(), "/v1/billing/alerts", spec, &out); err != nil {
		return "", err
	}
	if a, ok := out["alert"].(map[string]any); ok {
		out = a
	}
	id, _ := out["id"].(string)
	if id == "" {
		return "", fmt.Errorf("alert created without an id: %v", out)
	}
	return id, nil
}

// checks runs every phase in order; a phase that cannot run at all ends
// the run, a check that fails is recorded and the run goes on.
func (f *fleet) checks(ctx context.Context, rep *report) error {
	day := map[string]any{"amount_usd": 0.05, "period": "BUDGET_PERIOD_DAY"}
	specs := []struct {
		name string
		spec map[string]any
	}{
		{"main", map[string]any{}},
		{"calibrate", map[string]any{"rpm_limit": 1000000, "tpm_limit": 1000000000, "budget": map[string]any{"amount_usd": 1000000, "period": "BUDGET_PERIOD_DAY"}}},
		{"rpm60", map[string]any{"rpm_limit": 60}},
		{"budget", map[string]any{"budget": day}},
		{"drain", map[string]any{}},
		{"window", map[string]any{}},
		{"closed", map[string]any{"budget": map[string]any{"amount_usd": 1000, "period": "BUDGET_PERIOD_DAY"}}},
	}
	for _, s := range specs {
		if _, err := f.createKey(ctx, s.name, s.spec); err != nil {
			return err
		}
	}
	keyAlert, err := f.createAlert(ctx, map[string]any{"type": "budget_threshold", "threshold": 0.05, "period": "daily", "fire_at_fraction": 0.8, "key_id": f.keys["budget"].id})
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	fleetAlert, err := f.createAlert(ctx, map[string]any{"type": "budget_threshold", "threshold": 0.5, "period": "daily", "fire_at_fraction": 1})
	if err != nil {
		return fmt.Errorf("alert: %w", err)
	}
	// Every replica must know the keys before traffic: a key created on
	// gw1 reaches the others by its change message.
	for _, g := range f.gws {
		if err := f.until(ctx, 2*time.Second, func() bool {
			return f.chat(ctx, g.url(), f.keys["main"].secret, "fleet", "warm-up", false).ok
		}); err != nil {
			return fmt.Errorf("%s does not serve the new key: %w", g.name, err)
		}
	}

	for _, k := range []string{"calibrate", "main"} {
		c, err := f.calibrate(ctx, rep, k)
		if err != nil {
			return fmt.Errorf("calibration: %w", err)
		}
		if k == "main" {
			rep.CalibrationPlain = c
		} else {
			rep.Calibration = c
		}
	}
	f.checkCache(ctx, rep, "before the chaos", 0)
	f.checkRPM(ctx, rep)
	f.checkBudget(ctx, rep, "first burst")
	if err := f.chaos(ctx, rep); err != nil {
		return err
	}
	f.checkCache(ctx, rep, "after the Redis restart", 10*time.Second)
	f.checkBudget(ctx, rep, "after the Redis restart")

	// Alerts: each must have fired exactly once between the three replicas.
	_ = f.until(ctx, 8*time.Second, func() bool { return f.hooks.count(keyAlert) > 0 && f.hooks.count(fleetAlert) > 0 })
	time.Sleep(3 * time.Second) // a duplicate would arrive within an evaluation interval or two
	for _, a := range []struct{ name, id string }{{"key budget 80%", keyAlert}, {"fleet budget 100%", fleetAlert}} {
		n := f.hooks.count(a.id)
		rep.Alerts = append(rep.Alerts, alertResult{Name: a.name, ID: a.id, Fired: n})
		if n != 1 {
			rep.fail("alert %q fired %d times, want once", a.name, n)
		}
	}
	return f.ledgerChecks(ctx, rep)
}

func (f *fleet) until(ctx context.Context, d time.Duration, cond func() bool) error {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %v", d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// calibrate runs the steady mix with a key that has an RPM, a TPM and a
// budget (every Redis operation a request can cost) and counts the CPU,
// Redis and Postgres work per request.
func (f *fleet) calibrate(ctx context.Context, rep *report, key string) (calibration, error) {
	r0, err := redisCalls(ctx, f.redis.addr())
	if err != nil {
		return calibration{}, err
	}
	p0, err := f.db.counters(ctx)
	if err != nil {
		return calibration{}, err
	}
	rc0, err := redisCPU(ctx, f.redis.addr())
	if err != nil {
		return calibration{}, err
	}
	pc0, err := f.db.postgresCPU(ctx)
	if err != nil {
		return calibration{}, err
	}
	cpu0 := f.fleetCPU()
	start := time.Now()
	lctx, cancel := context.WithTimeout(ctx, f.opts.calibrate)
	t := f.runLoad(lctx, f.opts.workers, f.lbURL, f.keys[key].secret, "fleet")
	cancel()
	elapsed := time.Since(start)
	cpu := f.fleetCPU() - cpu0
	rc1, err := redisCPU(ctx, f.redis.addr())
	if err != nil {
		return calibration{}, err
	}
	pc1, err := f.db.postgresCPU(ctx)
	if err != nil {
		return calibration{}, err
	}
	r1, err := redisCalls(ctx, f.redis.addr())
	if err != nil {
		return calibration{}, err
	}
	p1, err := f.db.counters(ctx)
	if err != nil {
		return calibration{}, err
	}
	c := calibration{Key: key, RedisCPUSeconds: rc1 - rc0, PostgresCPUSeconds: pc1 - pc0, Requests: t.total, OK: t.ok, Streams: t.streams, Seconds: elapsed.Seconds(), GatewayCPUSeconds: cpu,
		RedisCalls: map[string]int64{}}
	var calls int64
	for k, v := range r1 {
		if d := v - r0[k]; d > 0 && k != "info" {
			c.RedisCalls[k] = d
			calls += d
		}
	}
	c.RPS = float64(t.ok) / elapsed.Seconds()
	if cpu > 0 {
		c.RPSPerCore = float64(t.ok) / cpu
	}
	if t.ok > 0 {
		n := float64(t.ok)
		c.RedisPerRequest = float64(calls) / n
		c.PGCommitsPerRequest = float64(p1.Commits-p0.Commits) / n
		c.PGInsertedPerRequest = float64(p1.Inserted-p0.Inserted) / n
		c.PGFetchedPerRequest = float64(p1.Fetched-p0.Fetched) / n
		c.PGUpdatedPerRequest = float64(p1.Updated-p0.Updated) / n
	}
	if t.ok != t.total {
		rep.fail("calibration (%s key): %d of %d requests failed: %v", key, t.total-t.ok, t.total, t.errs)
	}
	return c, nil
}

// fleetCPU is the replicas' CPU seconds so far.
func (f *fleet) fleetCPU() float64 {
	var s float64
	for _, g := range f.gws {
		s += g.cpuTotal()
	}
	return s
}

// checkCache asks one replica, then each other one, the same cacheable
// question: the others must answer from the shared cache. A replica that
// saw Redis fail skips it for the cache's retry interval (5 s), so after
// a Redis restart the check asks again, with a new question, for up to
// wait.
func (f *fleet) checkCache(ctx context.Context, rep *report, when string, wait time.Duration) {
	start := time.Now()
	for attempt := 1; ; attempt++ {
		q := "cache probe " + randomHex(6)
		first := f.chat(ctx, f.gws[0].url(), f.keys["main"].secret, "cached", q, false)
		cr := cacheResult{When: when, First: first.cache, Attempts: attempt}
		var failures []string
		if !first.ok {
			failures = append(failures, fmt.Sprintf("cache %s: the first request failed: %s", when, first.err))
		}
		for _, g := range f.gws[1:] {
			r := f.chat(ctx, g.url(), f.keys["main"].secret, "cached", q, false)
			cr.Others = append(cr.Others, g.name+": "+r.cache)
			if !r.ok || r.cache != "hit" {
				failures = append(failures, fmt.Sprintf("cache %s: %s answered %q (status %d), want a hit of the entry %s stored", when, g.name, r.cache, r.status, f.gws[0].name))
			}
		}
		if len(failures) == 0 || time.Since(start) > wait || ctx.Err() != nil {
			cr.Seconds = time.Since(start).Seconds()
			rep.Cache = append(rep.Cache, cr)
			for _, m := range failures {
				rep.fail("%s", m)
			}
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// checkRPM spends an RPM-60 key's minute through HAProxy (spread over the
// three replicas), then asks every replica once more.
func (f *fleet) checkRPM(ctx context.Context, rep *report) {
	key := f.keys["rpm60"].secret
	start := time.Now()
	var mu sync.Mutex
	ok, refused := 0, 0
	var wg sync.WaitGroup
	sem := make(chan struct{}, 20)
	for i := range 60 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r := f.chat(ctx, f.lbURL, key, "fleet", fmt.Sprintf("rpm %d", i), false)
			mu.Lock()
			defer mu.Unlock()
			if r.ok {
				ok++
			} else if r.status == http.StatusTooManyRequests {
				refused++
			}
		}()
	}
	wg.Wait()
	res := rpmResult{FirstSixtyOK: ok, FirstSixtyRefused: refused}
	for _, g := range f.gws {
		r := f.chat(ctx, g.url(), key, "fleet", "rpm 61 on "+g.name, false)
		res.SixtyFirst = append(res.SixtyFirst, fmt.Sprintf("%s: %d", g.name, r.status))
		if r.status != http.StatusTooManyRequests {
			rep.fail("rpm: the 61st request on %s answered %d, want 429", g.name, r.status)
		}
	}
	res.Seconds = time.Since(start).Seconds()
	if ok != 60 {
		rep.fail("rpm: %d of the first 60 requests answered, want 60", ok)
	}
	rep.RPM = res
}

// checkBudget fires 40 concurrent requests at a $0.05 key through HAProxy
// and compares the ledger's spend with the budget.
func (f *fleet) checkBudget(ctx context.Context, rep *report, when string) {
	key := f.keys["budget"]
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := f.chat(ctx, f.lbURL, key.secret, "fleet", fmt.Sprintf("budget %s %d", when, i), i%2 == 0)
			mu.Lock()
			defer mu.Unlock()
			if r.ok {
				ok++
			} else if r.status == http.StatusTooManyRequests {
				refused++
			}
		}()
	}
	wg.Wait()
	time.Sleep(time.Second) // the ledger flushes every 200ms
	_, spent, one, err := f.db.ledger(ctx, key.id)
	if err != nil {
		rep.fail("budget: %v", err)
		return
	}
	b := budgetResult{When: when, Budget: 0.05, Answered: ok, Refused: refused, Spent: spent, OneRequest: one}
	rep.Budget = append(rep.Budget, b)
	if spent > 0.05+one+1e-9 {
		rep.fail("budget %s: spent $%.4f of a $0.05 budget (one request is $%.4f)", when, spent, one)
	}
}

// scrape reads one unlabelled metric from g's /metrics.
func (f *fleet) scrape(ctx context.Context, g *gateway, name string) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.url()+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+f.adminKey)
	resp, err := f.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("/metrics: %d", resp.StatusCode)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			var n float64
			_, err := fmt.Sscan(v, &n)
			return n, err
		}
	}
	return 0, fmt.Errorf("/metrics has no %s", name)
}

// ledgerChecks compares the ledger with what clients saw answered.
func (f *fleet) ledgerChecks(ctx context.Context, rep *report) error {
	time.Sleep(time.Second)
	rows, _, _, err := f.db.ledger(ctx, f.keys["drain"].id)
	if err != nil {
		return err
	}
	rep.Drain.LedgerRows = rows
	if rows != int64(rep.Drain.Answered) {
		rep.fail("ledger: %d rows for the SIGTERM'd replica's %d answered requests", rows, rep.Drain.Answered)
	}
	rows, _, _, err = f.db.ledger(ctx, f.keys["window"].id)
	if err != nil {
		return err
	}
	rep.Redis.WindowLedgerRows = rows
	if rows != int64(rep.Redis.WindowAnswered) {
		rep.fail("ledger: %d rows for the %d requests answered around the Redis restart", rows, rep.Redis.WindowAnswered)
	}
	rows, _, _, err = f.db.ledger(ctx, f.keys["main"].id)
	if err != nil {
		return err
	}
	rep.Load.LedgerRows = rows
	peak, total, size, err := f.db.ledgerPeak(ctx)
	if err != nil {
		return err
	}
	rep.LedgerPeakRowsPerSecond, rep.LedgerRows = peak, total
	if total > 0 {
		rep.LedgerBytesPerRow = size / total
	}
	// Rows a replica's ledger dropped (queue full): the batches must keep
	// up at fleet rates. Counters restart with each process.
	for _, g := range f.gws {
		n, err := f.scrape(ctx, g, "switchyard_ledger_dropped_total")
		if err != nil {
			rep.fail("metrics of %s: %v", g.name, err)
			continue
		}
		rep.LedgerDropped += int64(n)
	}
	if rep.LedgerDropped > 0 {
		rep.fail("the ledgers dropped %d usage rows", rep.LedgerDropped)
	}
	return nil
}
