package jsonw

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
		"\x00\x01\x1f\x7f", "ünïcødé 日本語 🎉", "line\u2028para\u2029end", "bad \xff\xfe utf8", "\xe2\x80",
		strings.Repeat("long ", 300),
	} {
		for _, html := range []bool{true, false} {
			var want bytes.Buffer
			enc := json.NewEncoder(&want)
			enc.SetEscapeHTML(html)
			if err := enc.Encode(s); err != nil {
				t.Fatal(err)
			}
			if got := AppendString(nil, s, html); string(got) != strings.TrimSuffix(want.String(), "\n") {
				t.Errorf("AppendString(%q, html=%v) = %s, want %s", s, html, got, want.String())
			}
		}
	}
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, f := range []float64{0, 1, -1, 0.7, 1e-7, 1.5e-9, 123456789, 1e21, 1e20, -2.5e-7, math.SmallestNonzeroFloat64, math.MaxFloat64, 0.1 + 0.2} {
		want, _ := json.Marshal(f)
		if got := AppendFloat(nil, f, 64); string(got) != string(want) {
			t.Errorf("AppendFloat(%v, 64) = %s, want %s", f, got, want)
		}
		want32, _ := json.Marshal(float32(f))
		if got := AppendFloat(nil, float64(float32(f)), 32); !math.IsInf(float64(float32(f)), 0) && string(got) != string(want32) {
			t.Errorf("AppendFloat(%v, 32) = %s, want %s", float32(f), got, want32)
		}
	}
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := AppendFloat(nil, f, 64); string(got) != "0" {
			t.Errorf("AppendFloat(%v) = %s, want 0", f, got)
		}
	}
}

func BenchmarkAppendString(b *testing.B) {
	s := strings.Repeat("Switchyard routes every request to the provider that answers best. ", 8)
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendString(buf[:0], s, true)
	}
}
