package limits

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// testDate is time.Date moved by SWITCHYARD_TEST_CLOCK_YEARS years (make
// test-clockshift runs the suite two years ahead and two years back), so
// nothing here can pass only because the machine's clock is near the
// dates the tests were written on.
func testDate(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	return time.Date(year+clockShiftYears(), month, day, hour, min, sec, nsec, loc)
}

func clockShiftYears() int {
	n, err := strconv.Atoi(os.Getenv("SWITCHYARD_TEST_CLOCK_YEARS"))
	if err != nil {
		return 0
	}
	return n
}

func TestClockShiftMovesTestDates(t *testing.T) {
	t.Setenv("SWITCHYARD_TEST_CLOCK_YEARS", "-2")
	if got := testDate(2026, 11, 24, 0, 0, 0, 0, time.UTC).Year(); got != 2024 {
		t.Fatalf("shifted year = %d, want 2024", got)
	}
}
