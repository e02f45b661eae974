package jsonscan

import (
	"strconv"
	"unicode/utf8"
)

// MaxDepth bounds the nesting of free-form JSON read by Raw (tool
// parameters, schemas, extra fields): validation recurses, and no real
// schema comes near it.
const MaxDepth = 512

// RawObject reads a free-form JSON object and returns a copy of its bytes
// as written; null reads as nil, anything but an object is a type error.
// See Raw for what is checked.
func (s *Scanner) RawObject() ([]byte, error) {
	if isNull, err := s.Null(); isNull || err != nil {
		return nil, err
	}
	if s.Peek() != '{' {
		return nil, s.TypeErr("an object")
	}
	return s.Raw()
}

// Raw reads one value of any type and returns a copy of its bytes as
// written (whitespace and key order kept). The value is validated as it is
// read: numbers must fit a float64, nesting is at most MaxDepth levels, and
// an error names the path inside the value ("properties.max"). Invalid
// UTF-8 becomes U+FFFD, so the copy is always valid UTF-8.
func (s *Scanner) Raw() ([]byte, error) {
	s.Peek()
	start := s.pos
	if err := s.rawValue(1); err != nil {
		return nil, err
	}
	raw := s.data[start:s.pos]
	if utf8.Valid(raw) {
		return append(make([]byte, 0, len(raw)), raw...), nil
	}
	return appendValidUTF8(make([]byte, 0, len(raw)+8), raw), nil
}

var errTooDeep = "JSON nested more than " + strconv.Itoa(MaxDepth) + " levels deep."

// rawValue validates one value whose containers are at nesting level.
func (s *Scanner) rawValue(level int) error {
	switch c := s.Peek(); {
	case c == '{':
		if level > MaxDepth {
			return s.ValueErr(errTooDeep)
		}
		return s.Object(func([]byte) error { return s.rawValue(level + 1) })
	case c == '[':
		if level > MaxDepth {
			return s.ValueErr(errTooDeep)
		}
		return s.Array(func(int) error { return s.rawValue(level + 1) })
	case c == '"':
		_, _, err := s.StringBytes()
		return err
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case IsNumberStart(c):
		_, err := s.FloatValue()
		return err
	}
	return s.unexpected()
}
