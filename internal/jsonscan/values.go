package jsonscan

import (
	"math"
	"strconv"
)

// number reads a number literal at pos, checking JSON's number grammar.
func (s *Scanner) number() ([]byte, error) {
	start, i, d := s.pos, s.pos, s.data
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		s.pos = i
		return nil, s.unexpected()
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.unexpected()
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			s.pos = i
			return nil, s.unexpected()
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	s.pos = i
	return d[start:i], nil
}

func IsNumberStart(c byte) bool { return c == '-' || ('0' <= c && c <= '9') }

// Str reads a string; null reads as "" (unset).
func (s *Scanner) Str() (string, error) {
	if s.Peek() != '"' {
		if isNull, err := s.Null(); isNull || err != nil {
			return "", err
		}
		return "", s.TypeErr("a string")
	}
	b, _, err := s.StringBytes()
	return string(b), err
}

// OptStr reads a string whose presence matters; null reads as nil.
func (s *Scanner) OptStr() (*string, error) {
	if s.Peek() != '"' {
		if isNull, err := s.Null(); isNull || err != nil {
			return nil, err
		}
		return nil, s.TypeErr("a string")
	}
	b, _, err := s.StringBytes()
	if err != nil {
		return nil, err
	}
	v := string(b)
	return &v, nil
}

// Word reads a string from a small vocabulary (roles, types, modes),
// returning a constant for the common values so they cost no allocation.
func (s *Scanner) Word() (string, error) {
	if s.Peek() != '"' {
		if isNull, err := s.Null(); isNull || err != nil {
			return "", err
		}
		return "", s.TypeErr("a string")
	}
	b, _, err := s.StringBytes()
	if err != nil {
		return "", err
	}
	switch string(b) {
	case "system":
		return "system", nil
	case "developer":
		return "developer", nil
	case "user":
		return "user", nil
	case "assistant":
		return "assistant", nil
	case "tool":
		return "tool", nil
	case "function":
		return "function", nil
	case "text":
		return "text", nil
	case "image_url":
		return "image_url", nil
	case "auto":
		return "auto", nil
	case "none":
		return "none", nil
	case "required":
		return "required", nil
	case "low":
		return "low", nil
	case "high":
		return "high", nil
	}
	return string(b), nil
}

// Float reads a number; null reads as nil.
func (s *Scanner) Float() (*float64, error) {
	c := s.Peek()
	if !IsNumberStart(c) {
		if isNull, err := s.Null(); isNull || err != nil {
			return nil, err
		}
		return nil, s.TypeErr("a number")
	}
	v, err := s.FloatValue()
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (s *Scanner) FloatValue() (float64, error) {
	lit, err := s.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		// The grammar is checked, so this is only ever a range error.
		return 0, s.ValueErr("number " + string(lit) + " is out of range.")
	}
	return v, nil
}

// Integer reads an integral number within [lo, hi]. Integral decimals such
// as 1.0 or 1e3 are accepted, as OpenAI's own validation accepts them.
func (s *Scanner) Integer(lo, hi int64) (v int64, isNull bool, err error) {
	c := s.Peek()
	if !IsNumberStart(c) {
		if isNull, err := s.Null(); isNull || err != nil {
			return 0, isNull, err
		}
		return 0, false, s.TypeErr("an integer")
	}
	lit, err := s.number()
	if err != nil {
		return 0, false, err
	}
	v, err = strconv.ParseInt(string(lit), 10, 64)
	if err != nil {
		// 1e3, 2.0, or beyond int64.
		f, ferr := strconv.ParseFloat(string(lit), 64)
		if ferr == nil && f != math.Trunc(f) {
			return 0, false, &ParamError{Detail: "expected an integer, but got a decimal instead."}
		}
		if ferr != nil || f < -(1<<63) || f >= 1<<63 {
			return 0, false, s.ValueErr("integer " + string(lit) + " is out of range.")
		}
		v = int64(f)
	}
	if v < lo || v > hi {
		return 0, false, s.ValueErr("integer " + string(lit) + " is out of range [" +
			strconv.FormatInt(lo, 10) + ", " + strconv.FormatInt(hi, 10) + "].")
	}
	return v, false, nil
}

func (s *Scanner) Int32() (*int32, error) {
	v, isNull, err := s.Integer(-1<<31, 1<<31-1)
	if isNull || err != nil {
		return nil, err
	}
	x := int32(v)
	return &x, nil
}

func (s *Scanner) Int64() (*int64, error) {
	v, isNull, err := s.Integer(-1<<63, 1<<63-1)
	if isNull || err != nil {
		return nil, err
	}
	return &v, nil
}

// Boolean reads true or false; null reads as nil.
func (s *Scanner) Boolean() (*bool, error) {
	switch s.Peek() {
	case 't':
		v := true
		return &v, s.literal("true")
	case 'f':
		v := false
		return &v, s.literal("false")
	}
	if isNull, err := s.Null(); isNull || err != nil {
		return nil, err
	}
	return nil, s.TypeErr("a boolean")
}
