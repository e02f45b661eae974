// Package testclock moves the dates tests build by SWITCHYARD_TEST_CLOCK_YEARS
// years (make test-go runs the budget and limit suites two years ahead and
// two years back), so nothing can pass only because the machine's clock is
// near the dates the tests were written on.
package testclock

import (
	"os"
	"strconv"
	"time"
)

// Date is time.Date with the year moved by ShiftYears.
func Date(year int, month time.Month, day, hour, min, sec, nsec int, loc *time.Location) time.Time {
	return time.Date(year+ShiftYears(), month, day, hour, min, sec, nsec, loc)
}

// ShiftYears reads SWITCHYARD_TEST_CLOCK_YEARS; unset or invalid is 0.
func ShiftYears() int {
	n, err := strconv.Atoi(os.Getenv("SWITCHYARD_TEST_CLOCK_YEARS"))
	if err != nil {
		return 0
	}
	return n
}
