package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// timeline records when each scheduled failure happened.
type timeline struct {
	start  time.Time
	events []event
}

func (t *timeline) note(format string, a ...any) {
	t.events = append(t.events, event{At: time.Since(t.start).Round(time.Millisecond).String(), What: fmt.Sprintf(format, a...)})
}

// chaos is the mixed load through HAProxy with the failures on a
// schedule: a routing change, SIGKILL of one replica, SIGTERM of another,
// a Redis restart. Both replicas restart.
func (f *fleet) chaos(ctx context.Context, rep *report) error {
	d := f.opts.duration
	lctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tl := &timeline{start: time.Now()}
	var wg sync.WaitGroup
	var main *tally
	wg.Add(1)
	go func() {
		defer wg.Done()
		main = f.runLoad(lctx, f.opts.workers, f.lbURL, f.keys["main"].secret, "fleet")
	}()

	// The drained replica's own traffic: straight to gw1 until it stops
	// answering, so its ledger rows can be counted.
	drainCtx, stopDrain := context.WithCancel(lctx)
	defer stopDrain()
	var drain drainResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; drainCtx.Err() == nil; i++ {
			r := f.chat(context.WithoutCancel(drainCtx), f.gws[0].url(), f.keys["drain"].secret, "fleet", fmt.Sprintf("drain %d", i), i%2 == 0)
			if r.ok {
				drain.Answered++
			} else if r.status == 0 {
				return // the replica is gone
			} else {
				drain.Refused++
			}
		}
	}()

	failErr := f.schedule(ctx, lctx, rep, tl, stopDrain)
	<-lctx.Done()
	wg.Wait()
	rep.Events = tl.events
	rep.Drain = drain
	rep.Load = loadResult{Requests: main.total, Answered: main.ok, Streams: main.streams, ByStatus: main.byStatus, Errors: main.errs}
	if main.total > 0 {
		rep.Load.SuccessRate = float64(main.ok) / float64(main.total)
	}
	return failErr
}

// schedule makes the failures at fixed fractions of the load's length;
// lctx ends with the load. An error is a replica or Redis that would not
// come back.
func (f *fleet) schedule(ctx, lctx context.Context, rep *report, tl *timeline, stopDrain func()) error {
	sleepUntil := func(frac float64) bool {
		select {
		case <-lctx.Done():
			return false
		case <-time.After(time.Until(tl.start.Add(time.Duration(float64(f.opts.duration) * frac)))):
			return true
		}
	}
	term, kill := f.gws[0], f.gws[2]
	if !sleepUntil(0.15) {
		return nil
	}
	if p, err := f.routingChange(ctx); err != nil {
		rep.fail("routing change: %v", err)
	} else {
		tl.note("routing change through %s in force on every replica after %v", f.gws[1].name, p.Round(time.Millisecond))
		rep.Propagation = append(rep.Propagation, p.Seconds())
	}

	if !sleepUntil(0.25) {
		return nil
	}
	tl.note("SIGKILL %s", kill.name)
	f.killGateway(kill, syscall.SIGKILL)
	time.Sleep(2 * time.Second)
	if err := f.startGateway(ctx, kill); err != nil {
		return err
	}
	tl.note("%s restarted", kill.name)

	if !sleepUntil(0.45) {
		return nil
	}
	tl.note("SIGTERM %s", term.name)
	f.killGateway(term, syscall.SIGTERM)
	stopDrain()
	tl.note("%s drained and exited (%v)", term.name, term.p.err)
	time.Sleep(time.Second)
	if err := f.startGateway(ctx, term); err != nil {
		return err
	}
	tl.note("%s restarted", term.name)

	if !sleepUntil(0.6) {
		return nil
	}
	return f.restartRedis(ctx, lctx, rep, tl)
}

// restartRedis stops Redis for 3 s under load: requests with a budget
// must be refused (fail closed), the rest served with the cache degraded
// to L1, and every answered request must reach the ledger.
func (f *fleet) restartRedis(ctx, lctx context.Context, rep *report, tl *timeline) error {
	wctx, stopWindow := context.WithCancel(lctx)
	var window *tally
	var wwg sync.WaitGroup
	wwg.Add(1)
	go func() {
		defer wwg.Done()
		window = f.runLoad(wctx, 4, f.lbURL, f.keys["window"].secret, "fleet")
	}()
	defer func() { stopWindow(); wwg.Wait() }()
	time.Sleep(500 * time.Millisecond)
	tl.note("Redis stopped (SIGTERM)")
	f.redis.p.stop(syscall.SIGTERM, 5*time.Second)
	outage, cacheDuring := newTally(), newTally()
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
		return err
	}
	tl.note("Redis restarted (from its append-only file)")
	// Budget keys answer again once the gate's client reconnects.
	back := time.Now()
	if err := f.until(ctx, 10*time.Second, func() bool {
		return f.chat(ctx, f.gws[1].url(), f.keys["closed"].secret, "fleet", "closed after", false).ok
	}); err != nil {
		rep.fail("budget key not served after Redis came back: %v", err)
	} else {
		tl.note("budget keys served again %v after Redis came back", time.Since(back).Round(time.Millisecond))
	}
	time.Sleep(time.Second)
	stopWindow()
	wwg.Wait()
	rep.Redis = redisResult{BudgetKeyDuring: outage.byStatus, BudgetKeyErrors: outage.errs, BudgetKeyServedDuring: outage.ok,
		CachedRouteDuring: cacheDuring.byStatus, CachedRouteServedDuring: cacheDuring.ok, WindowRequests: window.total, WindowAnswered: window.ok,
		BudgetKeySlowestMS: closedSlowest.Milliseconds(), CachedRouteSlowestMS: cacheSlowest.Milliseconds()}
	if outage.ok > 0 {
		rep.fail("redis outage: %d budget-key requests were served without Redis (want fail closed)", outage.ok)
	}
	if n := outage.byStatus["503"]; n != outage.total {
		rep.fail("redis outage: %d of %d budget-key requests answered 503 (%v), want all", n, outage.total, outage.byStatus)
	}
	if cacheDuring.ok != cacheDuring.total {
		rep.fail("redis outage: %d of %d cacheable requests failed (want served, cache degraded)", cacheDuring.total-cacheDuring.ok, cacheDuring.total)
	}
	return nil
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
