package breaker

import (
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newTest(cfg Config) (*Breaker, *clock) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	return New(cfg, WithClock(c.now)), c
}

func call(t *testing.T, b *Breaker, o Outcome) bool {
	t.Helper()
	ok, probe := b.Allow()
	if ok {
		b.Record(probe, o, 0)
	}
	return ok
}

func TestStateMachine(t *testing.T) {
	b, c := newTest(Config{ConsecutiveFailures: 3, OpenTime: time.Second, MaxOpenTime: 4 * time.Second, HalfOpenProbes: 2})
	steps := []struct {
		name      string
		advance   time.Duration
		outcome   Outcome
		wantAllow bool
		wantState State
	}{
		{"closed allows", 0, Failure, true, Closed},
		{"second failure", 0, Failure, true, Closed},
		{"third consecutive failure trips", 0, Failure, true, Open},
		{"open refuses", 500 * time.Millisecond, Success, false, Open},
		{"after open time: first probe fails", 600 * time.Millisecond, Failure, true, Open},
		{"re-open doubles: still open after 1s", time.Second, Success, false, Open},
		{"after 2s: probe succeeds", time.Second + time.Millisecond, Success, true, HalfOpen},
		{"second probe success closes", 0, Success, true, Closed},
		{"closed again", 0, Success, true, Closed},
	}
	for _, s := range steps {
		c.advance(s.advance)
		if got := call(t, b, s.outcome); got != s.wantAllow {
			t.Fatalf("%s: allowed=%v, want %v", s.name, got, s.wantAllow)
		}
		if got := b.Snapshot().State; got != s.wantState {
			t.Fatalf("%s: state %v, want %v", s.name, got, s.wantState)
		}
	}
}

func TestFailureRatioOverWindowTrips(t *testing.T) {
	b, c := newTest(Config{ConsecutiveFailures: 100, FailureRatio: 0.5, MinRequests: 10, Window: 10 * time.Second})
	for i := 0; i < 9; i++ { // alternate: never 100 in a row, ratio 0.5 but below MinRequests
		o := Success
		if i%2 == 0 {
			o = Failure
		}
		call(t, b, o)
		c.advance(100 * time.Millisecond)
	}
	if b.Snapshot().State != Closed {
		t.Fatal("tripped below MinRequests")
	}
	call(t, b, Failure) // 10th call: 5 failed / 10
	if b.Snapshot().State != Open {
		t.Fatal("ratio did not trip")
	}
}

func TestOldFailuresLeaveTheWindow(t *testing.T) {
	b, c := newTest(Config{ConsecutiveFailures: 100, FailureRatio: 0.5, MinRequests: 4, Window: time.Second})
	call(t, b, Failure)
	call(t, b, Failure)
	c.advance(2 * time.Second)
	call(t, b, Success)
	call(t, b, Success)
	call(t, b, Success)
	if b.Snapshot().State != Closed {
		t.Fatal("stale failures counted")
	}
}

func TestHalfOpenLimitsConcurrentProbes(t *testing.T) {
	b, c := newTest(Config{ConsecutiveFailures: 1, OpenTime: time.Second, HalfOpenProbes: 2})
	call(t, b, Failure)
	c.advance(2 * time.Second)
	ok1, p1 := b.Allow()
	ok2, p2 := b.Allow()
	ok3, _ := b.Allow()
	if !ok1 || !ok2 || ok3 || !p1 || !p2 {
		t.Fatalf("probes: %v %v %v", ok1, ok2, ok3)
	}
	if b.Available(c.now()) {
		t.Fatal("available with every probe slot taken")
	}
	b.Record(true, Success, 0)
	if !b.Available(c.now()) {
		t.Fatal("a finished probe frees its slot")
	}
}

func TestRateLimitCoolsWithoutTripping(t *testing.T) {
	b, c := newTest(Config{ConsecutiveFailures: 1})
	ok, probe := b.Allow()
	if !ok {
		t.Fatal("closed breaker refused")
	}
	b.Record(probe, RateLimited, 2*time.Second)
	if b.Snapshot().State != Closed {
		t.Fatal("429 tripped the breaker")
	}
	c.advance(1999 * time.Millisecond)
	if b.Available(c.now()) || call(t, b, Success) {
		t.Fatal("served while cooling")
	}
	c.advance(2 * time.Millisecond)
	if !call(t, b, Success) {
		t.Fatal("still cooling after Retry-After")
	}
	ok, probe = b.Allow()
	b.Record(probe, RateLimited, 0)
	if !b.Snapshot().Cooling(c.now()) {
		t.Fatal("429 without Retry-After should cool for the default")
	}
}

func TestNeutralOutcomesDoNotCount(t *testing.T) {
	b, _ := newTest(Config{ConsecutiveFailures: 2})
	for i := 0; i < 10; i++ {
		call(t, b, Neutral)
	}
	call(t, b, Failure)
	if b.Snapshot().State != Closed {
		t.Fatal("neutral outcomes counted as failures")
	}
}

func BenchmarkAvailable(b *testing.B) {
	br := New(Config{})
	now := time.Now()
	for b.Loop() {
		if !br.Available(now) {
			b.Fatal("unavailable")
		}
	}
}

func BenchmarkAllowRecord(b *testing.B) {
	br := New(Config{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			ok, probe := br.Allow()
			if ok {
				br.Record(probe, Success, 0)
			}
		}
	})
}

// The default rule is the failure ratio over the window: bursts of failures
// at a tolerable overall rate leave the breaker closed, a mostly failing
// target still trips once the window holds MinRequests calls.
func TestDefaultsJudgeTheFailureRateNotStreaks(t *testing.T) {
	cases := []struct {
		name string
		// failAt reports whether call i (0-based) fails.
		failAt    func(i int) bool
		calls     int
		wantState State
		wantAfter int // calls made when it tripped; 0 = never
	}{
		{"bursts of 5 failures at 29% overall", func(i int) bool { return i%17 < 5 }, 1000, Closed, 0},
		{"bursts of 10 failures at 25% overall", func(i int) bool { return i%40 < 10 }, 1000, Closed, 0},
		{"every call failing trips at MinRequests", func(int) bool { return true }, 1000, Open, 20},
		// The 20th call succeeds and only failures are judged: the 21st trips.
		{"60% failing trips once the window holds MinRequests", func(i int) bool { return i%5 < 3 }, 1000, Open, 21},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b, c := newTest(Config{})
			tripped := 0
			for i := 0; i < tc.calls && tripped == 0; i++ {
				o := Success
				if tc.failAt(i) {
					o = Failure
				}
				if !call(t, b, o) {
					t.Fatalf("call %d refused while %v", i, b.Snapshot().State)
				}
				if b.Snapshot().State == Open {
					tripped = i + 1
				}
				c.advance(10 * time.Millisecond) // 100 calls/s: the 10 s window holds 1000
			}
			if got := b.Snapshot().State; got != tc.wantState || tripped != tc.wantAfter {
				t.Fatalf("state %v after %d calls (tripped at %d), want %v at %d", got, tc.calls, tripped, tc.wantState, tc.wantAfter)
			}
		})
	}
}

func TestConsecutiveFailureRuleIsOptIn(t *testing.T) {
	for _, n := range []int{0, -1} {
		b, _ := newTest(Config{ConsecutiveFailures: n, MinRequests: 1000})
		for i := 0; i < 100; i++ {
			call(t, b, Failure)
		}
		if b.Snapshot().State != Closed {
			t.Fatalf("ConsecutiveFailures %d: 100 failures below MinRequests tripped the breaker", n)
		}
	}
	b, _ := newTest(Config{ConsecutiveFailures: 4, MinRequests: 1000})
	for i := 0; i < 3; i++ {
		call(t, b, Failure)
	}
	call(t, b, Success)
	for i := 0; i < 3; i++ {
		call(t, b, Failure)
	}
	if b.Snapshot().State != Closed {
		t.Fatal("a success should reset the streak")
	}
	call(t, b, Failure)
	if b.Snapshot().State != Open {
		t.Fatal("4 consecutive failures did not trip with ConsecutiveFailures 4")
	}
}

func TestRejectedCredentialsOpenAtOnce(t *testing.T) {
	clk := time.Unix(1_000_000, 0)
	b := New(Config{}, WithClock(func() time.Time { return clk }))
	if ok, _ := b.Allow(); !ok {
		t.Fatal("closed breaker refused")
	}
	b.Record(false, Rejected, 0)
	if b.Available(clk) {
		t.Fatal("a refused key still available")
	}
	clk = clk.Add(6 * time.Second) // past the first open period: half-open
	ok, probe := b.Allow()
	if !ok || !probe {
		t.Fatalf("after the open period: ok %v probe %v", ok, probe)
	}
	b.Record(true, Rejected, 0)
	if b.Available(clk) {
		t.Fatal("a probe refused again must re-open")
	}
}
