// Package retryafter reads the Retry-After header, and the retry-after-ms
// extension OpenAI and Anthropic send, for the provider adapters. The
// syntax is read in one place; what to do with absurd values is the
// caller's choice (ignore them, Parse; or cap them, Capped).
package retryafter

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// maxIgnoredSeconds is where Parse stops believing a delay: a value that
// large is a bug upstream, not a wait.
const maxIgnoredSeconds = 1e6

// Parse reads a Retry-After value: delay-seconds (fractions accepted) or an
// HTTP date. 0 when empty, unreadable, not positive, a date already past,
// or delay-seconds over 1e6.
func Parse(v string, now time.Time) time.Duration {
	ns, numeric, ok := wait(v, now)
	if !ok || (numeric && ns > maxIgnoredSeconds*float64(time.Second)) {
		return 0
	}
	return clamp(ns, math.MaxInt64)
}

// Capped reads the same syntax as Parse, but a wait over limit is limit
// rather than ignored: for callers that would rather rest a target for
// limit than retry one that asked for days.
func Capped(v string, now time.Time, limit time.Duration) time.Duration {
	ns, _, ok := wait(v, now)
	if !ok {
		return 0
	}
	return clamp(ns, limit)
}

// Millis reads a retry-after-ms value (fractional milliseconds). ok is false
// when v is empty or not a number; a number that is not positive is 0.
func Millis(v string) (d time.Duration, ok bool) {
	if v == "" {
		return 0, false
	}
	ms, err := strconv.ParseFloat(v, 64)
	if err != nil {
		return 0, false
	}
	return clamp(ms*float64(time.Millisecond), math.MaxInt64), true
}

// wait is v in nanoseconds, unbounded; numeric tells delay-seconds from a
// date, ok is false when v is unreadable.
func wait(v string, now time.Time) (ns float64, numeric, ok bool) {
	if v == "" {
		return 0, false, false
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		return s * float64(time.Second), true, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return float64(t.Sub(now)), false, true
	}
	return 0, false, false
}

// clamp converts ns to a Duration in [0, limit]; NaN is 0, since
// converting it is undefined.
func clamp(ns float64, limit time.Duration) time.Duration {
	switch {
	case math.IsNaN(ns) || ns <= 0:
		return 0
	case ns >= float64(limit):
		return limit
	}
	return time.Duration(ns)
}
