package backoff

import (
	"math"
	"testing"
	"time"
)

func TestCapDoublesAndSaturates(t *testing.T) {
	cases := []struct {
		name string
		p    Policy
		n    int
		want time.Duration
	}{
		{"first retry is the base", Policy{100 * time.Millisecond, 2 * time.Second}, 0, 100 * time.Millisecond},
		{"doubles per retry", Policy{100 * time.Millisecond, 2 * time.Second}, 3, 800 * time.Millisecond},
		{"capped at max", Policy{100 * time.Millisecond, 2 * time.Second}, 5, 2 * time.Second},
		{"negative n is the first retry", Policy{time.Second, time.Minute}, -4, time.Second},
		{"huge n saturates instead of wrapping", Policy{time.Second, time.Hour}, 40, time.Hour},
		{"n past the word size saturates", Policy{1, math.MaxInt64}, 200, math.MaxInt64},
		{"base above max is max", Policy{time.Minute, time.Second}, 0, time.Second},
		{"no base means no delay", Policy{0, time.Second}, 2, 0},
		{"no max means no delay", Policy{time.Second, 0}, 2, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.p.Cap(tc.n); got != tc.want {
				t.Fatalf("Cap(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

func TestFullJitter(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	cases := []struct {
		name  string
		n     int
		rnd   float64
		floor time.Duration
		want  time.Duration
	}{
		{"zero draw waits nothing", 2, 0, 0, 0},
		{"draw scales the cap", 2, 0.5, 0, 200 * time.Millisecond},
		{"draw scales the capped window", 9, 0.25, 0, 250 * time.Millisecond},
		{"floor wins over a short draw", 0, 0.1, 3 * time.Second, 3 * time.Second},
		{"draw wins over a lower floor", 3, 0.5, 100 * time.Millisecond, 400 * time.Millisecond},
		{"out-of-range source is clamped high", 1, 7, 0, 200 * time.Millisecond},
		{"out-of-range source is clamped low", 1, -1, 0, 0},
		{"NaN source waits nothing", 1, math.NaN(), 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Full(tc.n, func() float64 { return tc.rnd }, tc.floor); got != tc.want {
				t.Fatalf("Full = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSpreadAddsAFractionOnTop(t *testing.T) {
	p := Policy{Base: time.Second, Max: 30 * time.Second}
	cases := []struct {
		name  string
		n     int
		rnd   float64
		floor time.Duration
		want  time.Duration
	}{
		{"zero draw is the step itself", 1, 0, 0, 2 * time.Second},
		{"full draw adds the whole fraction", 0, 0.999999999, 0, 1199999999 * time.Nanosecond},
		{"half draw adds half the fraction", 2, 0.5, 0, 4400 * time.Millisecond},
		{"capped step", 10, 0, 0, 30 * time.Second},
		{"floor wins", 0, 0.5, 10 * time.Second, 10 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := p.Spread(tc.n, 0.2, func() float64 { return tc.rnd }, tc.floor); got != tc.want {
				t.Fatalf("Spread = %v, want %v", got, tc.want)
			}
		})
	}
}

func BenchmarkFull(b *testing.B) {
	p := Policy{Base: 100 * time.Millisecond, Max: 5 * time.Second}
	rnd := func() float64 { return 0.5 }
	var sink time.Duration
	for i := 0; b.Loop(); i++ {
		sink += p.Full(i&7, rnd, 0)
	}
	_ = sink
}
