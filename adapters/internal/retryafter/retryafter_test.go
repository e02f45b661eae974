package retryafter

import (
	"math"
	"net/http"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"2", 2 * time.Second}, {"0.5", 500 * time.Millisecond}, {"0", 0}, {"-3", 0}, {"1e7", 0},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0}, {"soon", 0},
	} {
		if got := Parse(tc.in, now); got != tc.want {
			t.Errorf("Parse(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseIgnoresNaN(t *testing.T) {
	if got := Parse("NaN", time.Now()); got != 0 {
		t.Fatalf("Parse(NaN) = %v", got)
	}
}

func TestCapped(t *testing.T) {
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"", 0}, {"soon", 0}, {"-5", 0}, {"NaN", 0}, {"20", 20 * time.Second}, {"0.25", 250 * time.Millisecond},
		{"1e300", time.Hour}, {"7200", time.Hour},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(48 * time.Hour).Format(http.TimeFormat), time.Hour},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0},
	} {
		if got := Capped(tc.in, now, time.Hour); got != tc.want {
			t.Errorf("Capped(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false}, {"soon", 0, false}, {"250", 250 * time.Millisecond, true}, {"1.5", 1500 * time.Microsecond, true},
		{"0", 0, true}, {"-3", 0, true}, {"NaN", 0, true}, {"1e300", time.Duration(math.MaxInt64), true},
	} {
		if got, ok := Millis(tc.in); got != tc.want || ok != tc.wantOK {
			t.Errorf("Millis(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.wantOK)
		}
	}
}
