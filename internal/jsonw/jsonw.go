// Package jsonw appends JSON scalars to byte slices without reflection, for
// the hand-written encoders on the hot path (the OpenAI facade, the OpenAI
// adapter, the fake upstream). Its output matches encoding/json's.
package jsonw

import (
	"math"
	"strconv"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// safeASCII and htmlSafeASCII say which ASCII bytes go out unescaped. They
// are read-only lookup tables: one load per byte keeps the copy loop as
// fast as a hand-specialised one for each mode.
var safeASCII, htmlSafeASCII = asciiSets()

func asciiSets() (plain, html [utf8.RuneSelf]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		ok := c != '"' && c != '\\'
		plain[c] = ok
		html[c] = ok && c != '<' && c != '>' && c != '&'
	}
	return plain, html
}

// AppendString appends s as a JSON string. Control characters, quotes and
// backslashes are escaped; so are U+2028 and U+2029, which JavaScript
// treats as line breaks; invalid UTF-8 becomes U+FFFD. With escapeHTML, <, >
// and & become \u003c \u003e \u0026, as encoding/json does by default.
func AppendString(dst []byte, s string, escapeHTML bool) []byte {
	safe := &safeASCII
	if escapeHTML {
		safe = &htmlSafeASCII
	}
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if safe[c] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendFloat appends the shortest decimal that reads back as f at the
// given bit size (32 or 64), in plain notation for ordinary magnitudes and
// exponent notation below 1e-6 or from 1e21 (the choice encoding/json
// makes, so clients see 0.00012, not 1.2e-04). JSON has no NaN or
// Infinity; they are written as 0.
func AppendFloat(dst []byte, f float64, bits int) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, '0')
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	dst = strconv.AppendFloat(dst, f, format, -1, bits)
	if format == 'e' {
		// e-09 -> e-9, as JavaScript and encoding/json write it.
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}
