// Package jsonscan is the hand-written JSON scanner the OpenAI wire codec
// decodes with (server/ingress/openai): it reads one document straight into
// the caller's types, names the offending parameter on a type error
// ("messages[0].content") and never aliases the input. Its benchmark against
// encoding/json and goccy/go-json is in server/ingress/openai.
package jsonscan

import (
	"strconv"
)

// Scanner decodes one JSON document straight into the types the caller
// wants. It never retains slices of data beyond the call that returned
// them: callers reuse the body buffer as soon as decoding returns, so every
// string kept must be copied out (Str, Word and Raw copy).
//
// Errors are either *SyntaxError (the document is not JSON) or *ParamError
// (well-formed JSON of the wrong shape). A ParamError is returned as soon as
// it is seen, without consuming the rest of the document; callers then
// validate the whole body (Validate) so a later syntax error still wins,
// exactly as a parse-then-bind decoder would report it.
type Scanner struct {
	data []byte
	pos  int
	// buf holds unescaped string contents; valid until the next string read.
	buf []byte
}

// New returns a scanner over data.
func New(data []byte) Scanner { return Scanner{data: data} }

// Begin checks that the document holds an object.
func (s *Scanner) Begin() error {
	c := s.Peek()
	if s.pos == len(s.data) {
		return s.syntax("empty body")
	}
	if c != '{' {
		return &ParamError{Msg: "The request body must be a JSON object, but got " + s.KindOfNext() + "."}
	}
	return nil
}

// End checks that only whitespace follows the top-level value.
func (s *Scanner) End() error {
	s.Peek()
	if s.pos < len(s.data) {
		return s.syntax("invalid character " + quoteByte(s.data[s.pos]) + " after top-level value")
	}
	return nil
}

// Validate reports the first syntax error in data, or nil when it is one
// JSON value.
func Validate(data []byte) error {
	v := New(data)
	if err := v.Skip(); err != nil {
		return err
	}
	return v.End()
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		const hex = "0123456789abcdef"
		return "'\\x" + string(hex[c>>4]) + string(hex[c&15]) + "'"
	}
	return "'" + string(rune(c)) + "'"
}

// SyntaxError means the body is not valid JSON.
type SyntaxError struct {
	off int
	msg string
}

func (e *SyntaxError) Error() string {
	return e.msg + " at offset " + strconv.Itoa(e.off)
}

// ParamError is JSON of the wrong shape for a parameter. Param is filled in
// from the inside out as the error travels up through objects and arrays, so
// building the path costs nothing unless there is an error.
type ParamError struct {
	Param  string
	Detail string // "expected a string, but got an integer instead."
	Value  bool   // "Invalid value" rather than "Invalid type"
	Msg    string // replaces the generated message when set
}

func (e *ParamError) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	what := "type"
	if e.Value {
		what = "value"
	}
	if e.Param == "" {
		return "Invalid " + what + " for the request body: " + e.Detail
	}
	return "Invalid " + what + " for '" + e.Param + "': " + e.Detail
}

// within prefixes a ParamError's path with the enclosing key or "[i]".
func within(err error, seg string) error {
	pe, ok := err.(*ParamError)
	if !ok {
		return err
	}
	switch {
	case pe.Param == "":
		pe.Param = seg
	case pe.Param[0] == '[':
		pe.Param = seg + pe.Param
	default:
		pe.Param = seg + "." + pe.Param
	}
	return err
}

func (s *Scanner) syntax(msg string) error {
	return &SyntaxError{off: s.pos, msg: msg}
}

func (s *Scanner) unexpected() error {
	if s.pos >= len(s.data) {
		return s.syntax("unexpected end of JSON input")
	}
	return s.syntax("invalid character " + quoteByte(s.data[s.pos]))
}

// Peek skips JSON whitespace and returns the next byte, or 0 at the end (a
// NUL byte in the body also reads as 0; neither starts a value).
func (s *Scanner) Peek() byte {
	for s.pos < len(s.data) {
		switch c := s.data[s.pos]; c {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return c
		}
	}
	return 0
}

// TypeErr reports that the next value is not what the field takes.
func (s *Scanner) TypeErr(want string) error {
	return &ParamError{Detail: "expected " + want + ", but got " + s.KindOfNext() + " instead."}
}

func (s *Scanner) ValueErr(detail string) error {
	return &ParamError{Detail: detail, Value: true}
}

func (s *Scanner) KindOfNext() string {
	switch s.Peek() {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// Null consumes a null literal if one is next.
func (s *Scanner) Null() (bool, error) {
	if s.Peek() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *Scanner) literal(lit string) error {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		// Point at the first byte that differs.
		for i := 0; i < len(lit) && s.pos < len(s.data) && s.data[s.pos] == lit[i]; i++ {
			s.pos++
		}
		return s.unexpected()
	}
	s.pos += len(lit)
	return nil
}

// Object iterates the members of an object; fn must consume exactly one
// value. key is only valid during fn. Errors from fn gain the key as a path
// segment.
func (s *Scanner) Object(fn func(key []byte) error) error {
	if s.Peek() != '{' {
		return s.TypeErr("an object")
	}
	s.pos++
	if s.Peek() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.Peek() != '"' {
			return s.unexpected()
		}
		key, escaped, err := s.StringBytes()
		if err != nil {
			return err
		}
		if escaped {
			// The value may unescape into buf again; keep the key intact.
			key = append([]byte(nil), key...)
		}
		if s.Peek() != ':' {
			return s.unexpected()
		}
		s.pos++
		s.Peek()
		if err := fn(key); err != nil {
			return within(err, string(key))
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.unexpected()
		}
	}
}

// Array iterates the elements of an array; fn must consume exactly one
// value. Errors from fn gain "[i]" as a path segment.
func (s *Scanner) Array(fn func(i int) error) error {
	if s.Peek() != '[' {
		return s.TypeErr("an array")
	}
	s.pos++
	if s.Peek() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.Peek()
		if err := fn(i); err != nil {
			return within(err, "["+strconv.Itoa(i)+"]")
		}
		switch s.Peek() {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.unexpected()
		}
	}
}

// Skip consumes one value of any type, validating it. It is iterative so a
// hostile body of a million '[' cannot grow the stack.
func (s *Scanner) Skip() error {
	var stackArr [32]byte
	stack := stackArr[:0] // '{' or '[' per open container
	for {
		// A value starts here.
		switch c := s.Peek(); {
		case c == '{':
			s.pos++
			if s.Peek() == '}' {
				s.pos++
				break
			}
			stack = append(stack, '{')
			if err := s.skipKey(); err != nil {
				return err
			}
			continue
		case c == '[':
			s.pos++
			if s.Peek() == ']' {
				s.pos++
				break
			}
			stack = append(stack, '[')
			continue
		case c == '"':
			if _, _, err := s.StringBytes(); err != nil {
				return err
			}
		case c == 't':
			if err := s.literal("true"); err != nil {
				return err
			}
		case c == 'f':
			if err := s.literal("false"); err != nil {
				return err
			}
		case c == 'n':
			if err := s.literal("null"); err != nil {
				return err
			}
		case IsNumberStart(c):
			if _, err := s.number(); err != nil {
				return err
			}
		default:
			return s.unexpected()
		}
		// A value ended: close containers until one continues.
	closing:
		for {
			if len(stack) == 0 {
				return nil
			}
			top := stack[len(stack)-1]
			switch c := s.Peek(); {
			case c == ',':
				s.pos++
				if top == '{' {
					if err := s.skipKey(); err != nil {
						return err
					}
				}
				break closing
			case (top == '{' && c == '}') || (top == '[' && c == ']'):
				s.pos++
				stack = stack[:len(stack)-1]
			default:
				return s.unexpected()
			}
		}
	}
}

// skipKey consumes `"key" :`.
func (s *Scanner) skipKey() error {
	if s.Peek() != '"' {
		return s.unexpected()
	}
	if _, _, err := s.StringBytes(); err != nil {
		return err
	}
	if s.Peek() != ':' {
		return s.unexpected()
	}
	s.pos++
	return nil
}

// NullableArray iterates an array; null is an empty array.
func (s *Scanner) NullableArray(fn func(i int) error) error {
	if isNull, err := s.Null(); isNull || err != nil {
		return err
	}
	return s.Array(fn)
}

// NonNullObject iterates an object where null is not allowed (an array
// element); want names what the element should be.
func (s *Scanner) NonNullObject(want string, fn func(key []byte) error) error {
	if s.Peek() != '{' {
		return s.TypeErr(want)
	}
	return s.Object(fn)
}
