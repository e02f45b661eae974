package testclock

import (
	"testing"
	"time"
)

func TestDateMovesByTheConfiguredYears(t *testing.T) {
	for _, tc := range []struct {
		env  string
		want int
	}{{"", 2026}, {"-2", 2024}, {"2", 2028}, {"junk", 2026}} {
		t.Run(tc.env, func(t *testing.T) {
			t.Setenv("SWITCHYARD_TEST_CLOCK_YEARS", tc.env)
			if got := Date(2026, 11, 24, 0, 0, 0, 0, time.UTC).Year(); got != tc.want {
				t.Fatalf("year = %d, want %d", got, tc.want)
			}
		})
	}
}
