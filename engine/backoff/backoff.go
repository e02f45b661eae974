// Package backoff computes retry delays: an exponential cap, jitter drawn
// from an injected source, and an optional floor such as a Retry-After. It
// only computes; callers own the waiting, so their sleeps stay cancellable
// by their own ctx and testable with their own clocks.
package backoff

import "time"

// Policy is base * 2^n, capped at Max. A Base or Max that is not positive
// means no delay.
type Policy struct {
	Base time.Duration
	Max  time.Duration
}

// Cap is min(Base * 2^n, Max) for the n-th retry (n = 0 is the first),
// saturating at Max instead of overflowing.
func (p Policy) Cap(n int) time.Duration {
	if p.Base <= 0 || p.Max <= 0 {
		return 0
	}
	if n < 0 {
		n = 0
	}
	if p.Base >= p.Max || n >= 63 || p.Base > p.Max>>uint(n) {
		return p.Max
	}
	return p.Base << uint(n)
}

// Full is "full jitter": uniform in [0, Cap(n)) from rnd, which returns
// [0, 1), and never less than floor. Spreading retries over the whole
// window is what keeps many callers that failed together from retrying
// together.
func (p Policy) Full(n int, rnd func() float64, floor time.Duration) time.Duration {
	return max(scale(p.Cap(n), rnd()), floor)
}

// Spread is Cap(n) plus up to frac of it more, from rnd ([0, 1)), and never
// less than floor: the delay never shrinks below the exponential step, for
// receivers that asked for room, while still staggering senders.
func (p Policy) Spread(n int, frac float64, rnd func() float64, floor time.Duration) time.Duration {
	d := p.Cap(n)
	return max(d+scale(time.Duration(float64(d)*frac), rnd()), floor)
}

// scale is d * f for f in [0, 1); a source outside that range is clamped
// so a broken one cannot produce negative or runaway delays.
func scale(d time.Duration, f float64) time.Duration {
	switch {
	case !(f > 0): // also NaN
		return 0
	case f >= 1:
		return d
	}
	return time.Duration(f * float64(d))
}
