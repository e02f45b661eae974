package alerts

import (
	"testing"
	"time"
)

func TestNotifierBackoffDoublesWithJitterAboveTheStep(t *testing.T) {
	cases := []struct {
		name    string
		attempt int
		rnd     float64
		floor   time.Duration
		want    time.Duration
	}{
		{"first retry waits the base", 1, 0, 0, time.Second},
		{"doubles per attempt", 3, 0, 0, 4 * time.Second},
		{"jitter adds up to a fifth", 2, 0.5, 0, 2200 * time.Millisecond},
		{"capped at the max", 9, 0, 0, 30 * time.Second},
		{"jitter on top of the cap", 9, 0.5, 0, 33 * time.Second},
		{"Retry-After is a floor", 1, 0.5, 10 * time.Second, 10 * time.Second},
		{"a shorter Retry-After does not shorten the step", 3, 0, time.Second, 4 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := NewNotifier()
			t.Cleanup(func() { _ = n.Close() })
			n.rnd = func() float64 { return tc.rnd }
			if got := n.backoffFor(tc.attempt, tc.floor); got != tc.want {
				t.Fatalf("backoffFor(%d) = %v, want %v", tc.attempt, got, tc.want)
			}
		})
	}
}
