package openaijson

import (
	"bytes"
	"math"
	"testing"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"plain", "Hello, world"},
		{"quotes and backslash", `say "hi" \ bye`},
		{"short escapes", "\b\f\n\r\t"},
		{"other controls", "\x00\x01\x1f\x7f"},
		{"html left raw", "<script>a && b</script>"},
		{"line separators", "a\u2028b\u2029c"},
		{"invalid UTF-8", "a\xffb\xc3"},
		{"truncated rune at end", "é\xe2\x82"},
		{"multibyte", "naïve 中文 😀"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := appendString([]byte("prefix"), tt.in)
			want := append([]byte("prefix"), stdJSON(t, tt.in)...)
			if !bytes.Equal(got, want) {
				t.Errorf("got %s, want %s", got, want)
			}
		})
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.1, 0.2, 1.0 / 3, 1e-6, 9.99e-7, 1e-7, 123456789, 1e20, 1e21, 1.5e300, -2.5e-300,
		math.MaxFloat64, math.SmallestNonzeroFloat64, 0.0004875} {
		if got, want := appendFloat(nil, f, 64), stdJSON(t, f); !bytes.Equal(got, want) {
			t.Errorf("appendFloat(%v, 64) = %s, encoding/json gives %s", f, got, want)
		}
		f32 := float32(f)
		if math.IsInf(float64(f32), 0) {
			continue
		}
		if got, want := appendFloat(nil, float64(f32), 32), stdJSON(t, f32); !bytes.Equal(got, want) {
			t.Errorf("appendFloat(%v, 32) = %s, encoding/json gives %s", f32, got, want)
		}
	}
}

func TestAppendFloatNonFiniteIsZero(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(appendFloat(nil, f, 64)); got != "0" {
			t.Errorf("appendFloat(%v) = %s, want 0", f, got)
		}
	}
}
