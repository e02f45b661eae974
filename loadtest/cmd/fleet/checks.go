package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
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

// chaos is the mixed load through HAProxy with the failures on a
// schedule: a routing change, SIGKILL of one replica, SIGTERM of another,
// a Redis restart. Both replicas restart.
func (f *fleet) chaos(ctx context.Context, rep *report) error {
	d := f.opts.duration
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	start := time.Now()
	at := func(frac float64) time.Duration { return time.Duration(float64(d) * frac) }
	sleepUntil := func(frac float64) bool {
		select {
		case <-lctx.Done():
			return false
		case <-time.After(time.Until(start.Add(at(frac)))):
			return true
		}
	}
	var wg sync.WaitGroup
	var main *tally
	wg.Add(1)
	go func() {
		defer wg.Done()
		main = f.runLoad(lctx, f.opts.workers, f.lbURL, f.keys["main"].secret, "fleet")
	}()

	// The drained replica's own traffic: straight to gw1 until it stops
	// answering, so its ledger rows can be counted.
	term, kill := f.gws[0], f.gws[2]
	drainCtx, stopDrain := context.WithCancel(lctx)
	defer stopDrain()
	var drain drainResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; drainCtx.Err() == nil; i++ {
			r := f.chat(context.WithoutCancel(drainCtx), term.url(), f.keys["drain"].secret, "fleet", fmt.Sprintf("drain %d", i), i%2 == 0)
			if r.ok {
				drain.Answered++
			} else if r.status == 0 {
				return // the replica is gone
			} else {
				drain.Refused++
			}
		}
	}()

	var events []event
	note := func(format string, a ...any) {
		events = append(events, event{At: time.Since(start).Round(time.Millisecond).String(), What: fmt.Sprintf(format, a...)})
	}
	var failErr error
	func() {
		if !sleepUntil(0.15) {
			return
		}
		p, err := f.routingChange(ctx)
		if err != nil {
			rep.fail("routing change: %v", err)
		} else {
			note("routing change through %s in force on every replica after %v", f.gws[1].name, p.Round(time.Millisecond))
			rep.Propagation = append(rep.Propagation, p.Seconds())
		}

		if !sleepUntil(0.25) {
			return
		}
		note("SIGKILL %s", kill.name)
		f.killGateway(kill, syscall.SIGKILL)
		time.Sleep(2 * time.Second)
		if err := f.startGateway(ctx, kill); err != nil {
			failErr = err
			return
		}
		note("%s restarted", kill.name)

		if !sleepUntil(0.45) {
			return
		}
		note("SIGTERM %s", term.name)
		f.killGateway(term, syscall.SIGTERM)
		stopDrain()
		note("%s drained and exited (%v)", term.name, term.p.err)
		time.Sleep(time.Second)
		if err := f.startGateway(ctx, term); err != nil {
			failErr = err
			return
		}
		note("%s restarted", term.name)

		if !sleepUntil(0.6) {
			return
		}
		// Redis goes away for 3 s: requests with a budget must be refused
		// (fail closed), the rest served with the cache degraded to L1.
		wctx, stopWindow := context.WithCancel(lctx)
		var window *tally
		var wwg sync.WaitGroup
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			window = f.runLoad(wctx, 4, f.lbURL, f.keys["window"].secret, "fleet")
		}()
		time.Sleep(500 * time.Millisecond)
		note("Redis stopped (SIGTERM)")
		f.redis.p.stop(syscall.SIGTERM, 5*time.Second)
		outage := newTally()
		cacheDuring := newTally()
		octx, stopProbe := context.WithTimeout(lctx, 3*time.Second)
		var closedSlowest, cacheSlowest time.Duration
		for i := 0; octx.Err() == nil; i++ {
			t0 := time.Now()
			outage.add(f.chat(ctx, f.gws[1].url(), f.keys["closed"].secret, "fleet", fmt.Sprintf("closed %d", i), false), false)
			t1 := time.Now()
			cacheDuring.add(f.chat(ctx, f.gws[1].url(), f.keys["main"].secret, "cached", fmt.Sprintf("cache during outage %d", i), false), false)
			closedSlowest, cacheSlowest = max(closedSlowest, t1.Sub(t0)), max(cacheSlowest, time.Since(t1))
			time.Sleep(100 * time.Millisecond)
		}
		stopProbe()
		if err := f.redis.start(f.work); err != nil {
			failErr = err
			stopWindow()
			wwg.Wait()
			return
		}
		note("Redis restarted (from its append-only file)")
		// Budget keys answer again once the gate's client reconnects.
		back := time.Now()
		if err := f.until(ctx, 10*time.Second, func() bool {
			return f.chat(ctx, f.gws[1].url(), f.keys["closed"].secret, "fleet", "closed after", false).ok
		}); err != nil {
			rep.fail("budget key not served after Redis came back: %v", err)
		} else {
			note("budget keys served again %v after Redis came back", time.Since(back).Round(time.Millisecond))
		}
		time.Sleep(time.Second)
		stopWindow()
		wwg.Wait()
		rep.Redis = redisResult{BudgetKeyDuring: outage.byStatus, BudgetKeyErrors: outage.errs, BudgetKeyServedDuring: outage.ok, CachedRouteDuring: cacheDuring.byStatus,
			CachedRouteServedDuring: cacheDuring.ok, WindowRequests: window.total, WindowAnswered: window.ok,
			BudgetKeySlowestMS: closedSlowest.Milliseconds(), CachedRouteSlowestMS: cacheSlowest.Milliseconds()}
		if outage.ok > 0 {
			rep.fail("redis outage: %d budget-key requests were served without Redis (want fail closed)", outage.ok)
		}
		if cacheDuring.ok != cacheDuring.total {
			rep.fail("redis outage: %d of %d cacheable requests failed (want served, cache degraded)", cacheDuring.total-cacheDuring.ok, cacheDuring.total)
		}
	}()
	<-lctx.Done()
	wg.Wait()
	rep.Events = events
	rep.Drain = drain
	rep.Load = loadResult{Requests: main.total, Answered: main.ok, Streams: main.streams, ByStatus: main.byStatus, Errors: main.errs}
	if main.total > 0 {
		rep.Load.SuccessRate = float64(main.ok) / float64(main.total)
	}
	return failErr
}

// routingChange adds a route through gw2 and times until every replica
// serves it.
func (f *fleet) routingChange(ctx context.Context) (time.Duration, error) {
	model := "moved-" + randomHex(3)
	for _, g := range f.gws {
		if r := f.chat(ctx, g.url(), f.keys["main"].secret, model, "before", false); r.ok {
			return 0, fmt.Errorf("%s serves %s before the change: the check would prove nothing", g.name, model)
		}
	}
	var cur struct {
		Config map[string]any `json:"config"`
	}
	via := f.gws[1]
	if err := f.admin(ctx, http.MethodGet, via.url(), "/v1/routing/config", nil, &cur); err != nil {
		return 0, err
	}
	if cur.Config == nil {
		return 0, errors.New("GET /v1/routing/config has no config")
	}
	routes, _ := cur.Config["routes"].([]any)
	cur.Config["routes"] = append(routes, map[string]any{"model": model, "targets": []any{map[string]any{"provider": "fake", "model": "fake-gpt"}}})
	if err := f.admin(ctx, http.MethodPost, via.url(), "/v1/routing/config", cur.Config, nil); err != nil {
		return 0, err
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(f.gws))
	for i, g := range f.gws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.until(ctx, 5*time.Second, func() bool { return f.chat(ctx, g.url(), f.keys["main"].secret, model, "after", false).ok })
		}()
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
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
