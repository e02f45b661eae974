package jsonscan

import (
	"unicode/utf16"
	"unicode/utf8"
)

// StringBytes reads a string at pos. The result aliases data when the string
// has no escapes and is valid UTF-8 (escaped reports false); otherwise it is
// decoded into buf. Invalid UTF-8 and unpaired surrogates become U+FFFD, as
// encoding/json does, because protobuf strings must be valid UTF-8.
func (s *Scanner) StringBytes() (b []byte, escaped bool, err error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false, s.TypeErr("a string")
	}
	start := s.pos + 1
	i := start
	ascii := true
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			raw := s.data[start:i]
			if ascii || utf8.Valid(raw) {
				return raw, false, nil
			}
			s.buf = appendValidUTF8(s.buf[:0], raw)
			return s.buf, true, nil
		case c == '\\':
			s.pos = i
			return s.unescape(start)
		case c < 0x20:
			s.pos = i
			return nil, false, s.syntax("invalid control character in string")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		i++
	}
	s.pos = i
	return nil, false, s.syntax("unexpected end of JSON input in string")
}

// unescape decodes the rest of a string whose first escape is at pos.
func (s *Scanner) unescape(start int) ([]byte, bool, error) {
	b := appendValidUTF8(s.buf[:0], s.data[start:s.pos])
	i := s.pos
	for i < len(s.data) {
		c := s.data[i]
		switch {
		case c == '"':
			s.pos = i + 1
			s.buf = b
			return b, true, nil
		case c < 0x20:
			s.pos = i
			return nil, false, s.syntax("invalid control character in string")
		case c == '\\':
			if i+1 >= len(s.data) {
				s.pos = len(s.data)
				return nil, false, s.syntax("unexpected end of JSON input in string")
			}
			switch e := s.data[i+1]; e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s.data[i+2:])
				if !ok {
					s.pos = i + 2
					return nil, false, s.syntax("invalid \\u escape in string")
				}
				i += 6
				if utf16.IsSurrogate(r) {
					r2 := rune(-1)
					if i+1 < len(s.data) && s.data[i] == '\\' && s.data[i+1] == 'u' {
						if x, ok := hex4(s.data[i+2:]); ok {
							r2 = x
						}
					}
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
					// Unpaired: replace it and read what follows on its own.
					r = utf8.RuneError
				}
				b = utf8.AppendRune(b, r)
				continue
			default:
				s.pos = i + 1
				return nil, false, s.syntax("invalid escape in string")
			}
			i += 2
		case c < utf8.RuneSelf:
			b = append(b, c)
			i++
		default:
			r, size := utf8.DecodeRune(s.data[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, "\uFFFD"...)
			} else {
				b = append(b, s.data[i:i+size]...)
			}
			i += size
		}
	}
	s.pos = i
	s.buf = b
	return nil, false, s.syntax("unexpected end of JSON input in string")
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendValidUTF8 copies src, replacing each invalid byte with U+FFFD.
func appendValidUTF8(dst, src []byte) []byte {
	for len(src) > 0 {
		c := src[0]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			src = src[1:]
			continue
		}
		r, size := utf8.DecodeRune(src)
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, "\uFFFD"...)
		} else {
			dst = append(dst, src[:size]...)
		}
		src = src[size:]
	}
	return dst
}
