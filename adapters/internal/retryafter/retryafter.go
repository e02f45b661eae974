// Package retryafter reads the standard Retry-After header for the provider
// adapters.
package retryafter

import (
	"net/http"
	"strconv"
	"time"
)

// Parse reads a Retry-After value: delay-seconds (fractions accepted) or an
// HTTP date. 0 when empty, unreadable, not positive, a date already past,
// or over 1e6 seconds (a value that large is a bug upstream, not a wait).
func Parse(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 || s > 1e6 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
