package sim

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// day plays the schedule and the script against one gateway: each arrival
// is sent at its moment whatever the others are doing (an open loop, as
// real users are), and each event is applied at its moment. It returns
// every result and when the day began.
func day(ctx context.Context, o Options, sc *Scenario, p Policy, sched []Arrival, fakes *Fakes, cl *Client) ([]Result, time.Time, error) {
	clock := Clock{DayLength: o.DayLength}
	results := make([]Result, len(sched))
	start := o.Now()
	wait := func(at time.Duration) bool { return sleepUntil(ctx, o.Now, start, at) }
	m := &meter{w: o.Progress, policy: p.Name, clock: clock, start: start, now: o.Now}

	var wg sync.WaitGroup
	errc := make(chan error, 1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, e := range sc.Events {
			if !wait(clock.Real(e.At)) {
				return
			}
			if err := fakes.Apply(ctx, e); err != nil {
				errc <- err
				return
			}
		}
	}()
	stop := m.tick(o.ProgressEvery)
	for _, a := range sched {
		if !wait(a.At) {
			break
		}
		m.sent.Add(1)
		wg.Add(1)
		go func(a Arrival) {
			defer wg.Done()
			r := cl.Do(ctx, a.ID, a.Kind, sc.Shape(a.Kind))
			r.Sim = clock.Sim(a.At)
			results[a.ID] = r
			if r.OK {
				m.ok.Add(1)
			}
			m.done.Add(1)
		}(a)
	}
	m.print(true)
	wg.Wait()
	stop()
	m.print(false)
	if err := ctx.Err(); err != nil {
		return nil, start, err
	}
	select {
	case err := <-errc:
		return nil, start, err
	default:
	}
	return results, start, nil
}

// sleepUntil waits until at has passed since start; false when ctx ends
// first.
func sleepUntil(ctx context.Context, now func() time.Time, start time.Time, at time.Duration) bool {
	d := at - now().Sub(start)
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// meter counts a day's requests and prints progress lines.
type meter struct {
	w              io.Writer // nil: silent
	policy         string
	clock          Clock
	start          time.Time
	now            func() time.Time
	sent, done, ok atomic.Int64
	mu             sync.Mutex // the ticker and the day's end both print
}

func (m *meter) print(final bool) {
	if m.w == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	state := ""
	if final {
		state = " (day over, draining)"
	}
	sent, done := m.sent.Load(), m.done.Load()
	fmt.Fprintf(m.w, "[simulate] %-12s sim %s  sent %5d  answered %5d  ok %5d  in flight %3d%s\n",
		m.policy, HHMM(m.clock.Sim(m.now().Sub(m.start))), sent, done, m.ok.Load(), sent-done, state)
}

// tick prints a line every interval until the returned stop is called;
// stop returns once the ticker is gone, so no line follows it.
func (m *meter) tick(every time.Duration) (stop func()) {
	quit, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				m.print(false)
			case <-quit:
				return
			}
		}
	}()
	return func() { close(quit); <-stopped }
}
