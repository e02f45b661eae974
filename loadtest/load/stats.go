// Package load is the load generator behind the benchmark and the load
// tests: one client that measures every target (the fake upstream directly,
// Switchyard over REST and gRPC, and peer gateways) the same way, with
// keep-alive connections, a fixed request count or duration, and latencies
// kept per request so percentiles are exact.
package load

import (
	"math"
	"slices"
	"time"
)

// Percentiles summarises a latency sample in milliseconds.
type Percentiles struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean_ms"`
	P50  float64 `json:"p50_ms"`
	P90  float64 `json:"p90_ms"`
	P95  float64 `json:"p95_ms"`
	P99  float64 `json:"p99_ms"`
	Max  float64 `json:"max_ms"`
}

// Summarize sorts d in place and returns its percentiles (nearest rank).
func Summarize(d []time.Duration) Percentiles {
	if len(d) == 0 {
		return Percentiles{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	return Percentiles{
		N:    len(d),
		Mean: ms(sum / time.Duration(len(d))),
		P50:  ms(rank(d, 0.50)),
		P90:  ms(rank(d, 0.90)),
		P95:  ms(rank(d, 0.95)),
		P99:  ms(rank(d, 0.99)),
		Max:  ms(d[len(d)-1]),
	}
}

// rank is the nearest-rank percentile of a sorted sample: the smallest value
// with at least q of the sample at or below it.
func rank(sorted []time.Duration, q float64) time.Duration {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	if i < 0 {
		i = 0
	}
	if i >= len(sorted) {
		i = len(sorted) - 1
	}
	return sorted[i]
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }
