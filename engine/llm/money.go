package llm

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Money is an amount in nano-USD (1e-9 dollars). Costs are summed as
// integers end to end so a ledger of millions of rows does not drift; it is
// shown as decimal USD (String, ParseMoney) only at the edges. int64 holds
// ±9.2 billion dollars at this resolution.
type Money int64

// NanosPerUSD is the number of Money units in one dollar.
const NanosPerUSD = 1_000_000_000

// USD converts a dollar amount (a price from configuration) to Money,
// rounding half away from zero. NaN and infinities are 0: a cost is never
// allowed to poison a sum.
func USD(dollars float64) Money {
	if math.IsNaN(dollars) || math.IsInf(dollars, 0) {
		return 0
	}
	return Money(math.Round(dollars * NanosPerUSD))
}

// Dollars is m as a float, for Prometheus gauges and ratios only; never sum
// the result.
func (m Money) Dollars() float64 { return float64(m) / NanosPerUSD }

// String renders m as decimal USD with nine fractional digits and no
// exponent, e.g. "0.000006150".
func (m Money) String() string { return string(m.AppendDecimal(nil)) }

// AppendDecimal appends m's decimal USD form to b.
func (m Money) AppendDecimal(b []byte) []byte {
	u := uint64(m)
	if m < 0 {
		b = append(b, '-')
		u = uint64(-m)
	}
	b = strconv.AppendUint(b, u/NanosPerUSD, 10)
	frac := u % NanosPerUSD
	b = append(b, '.')
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	return append(b, digits[:]...)
}

// ParseMoney reads a decimal USD amount ("1.5", "-0.000000001", "3")
// exactly, with at most nine fractional digits.
func ParseMoney(s string) (Money, error) {
	orig := s
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" && frac == "" || len(frac) > 9 {
		return 0, fmt.Errorf("invalid USD amount %q (want a decimal with at most 9 fractional digits)", orig)
	}
	var w, f uint64
	var err error
	if whole != "" {
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil || w > math.MaxInt64/NanosPerUSD {
			return 0, fmt.Errorf("invalid USD amount %q", orig)
		}
	}
	if frac != "" {
		if f, err = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64); err != nil {
			return 0, fmt.Errorf("invalid USD amount %q", orig)
		}
	}
	v := Money(w*NanosPerUSD + f)
	if neg {
		v = -v
	}
	return v, nil
}
