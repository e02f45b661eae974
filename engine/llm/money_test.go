package llm

import (
	"fmt"
	"testing"
)

func TestMoneyDecimalRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		in   float64
		want string
	}{
		{0, "0.000000000"},
		{6.15e-06, "0.000006150"},
		{1.5, "1.500000000"},
		{-0.000000001, "-0.000000001"},
		{12345.678901234, "12345.678901234"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			m := USD(tc.in)
			if got := m.String(); got != tc.want {
				t.Fatalf("USD(%v).String() = %q, want %q", tc.in, got, tc.want)
			}
			back, err := ParseMoney(tc.want)
			if err != nil || back != m {
				t.Fatalf("ParseMoney(%q) = %d, %v; want %d", tc.want, back, err, m)
			}
		})
	}
}

func TestParseMoneyRefusesWhatItCannotHoldExactly(t *testing.T) {
	for _, s := range []string{"", ".", "1e-6", "0.0000000001", "abc", "1.2.3"} {
		if _, err := ParseMoney(s); err == nil {
			t.Errorf("ParseMoney(%q) succeeded", s)
		}
	}
}

func TestMoneySumsExactly(t *testing.T) {
	var m Money
	for range 1_000_000 {
		m += USD(6.15e-06)
	}
	if m.String() != "6.150000000" {
		t.Fatalf("integer sum = %s, want 6.150000000", m)
	}
}

func ExampleMoney() {
	fmt.Println(USD(0.00000615), USD(2))
	// Output: 0.000006150 2.000000000
}

func BenchmarkMoneyAppendDecimal(b *testing.B) {
	buf := make([]byte, 0, 32)
	m := USD(12.3456789)
	b.ReportAllocs()
	for b.Loop() {
		buf = m.AppendDecimal(buf[:0])
	}
}
