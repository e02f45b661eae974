package openaijson

import (
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"google.golang.org/protobuf/types/known/structpb"
)

// maxStructDepth bounds the nesting of free-form JSON (tool parameters,
// schemas, extra) copied into google.protobuf.Struct: the copy recurses, and
// every JSON level costs three protobuf message levels, so protobuf's own
// recursion limit of 10000 is reached long before this would matter to a
// real schema.
const maxStructDepth = 512

// scanner decodes one JSON document straight into the types the caller
// wants. It never retains slices of data: the facade reuses the body buffer
// as soon as decoding returns, so every string is copied out.
//
// Errors are either *syntaxError (the document is not JSON) or *paramError
// (well-formed JSON of the wrong shape). A paramError is returned as soon as
// it is seen, without consuming the rest of the document; the entry points
// then validate the whole body so a later syntax error still wins, exactly as
// a parse-then-bind decoder would report it.
type scanner struct {
	data []byte
	pos  int
	// buf holds unescaped string contents; valid until the next string read.
	buf []byte
}

// syntaxError means the body is not valid JSON.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return e.msg + " at offset " + strconv.Itoa(e.off)
}

// paramError is JSON of the wrong shape for a parameter. param is filled in
// from the inside out as the error travels up through objects and arrays, so
// building the path costs nothing unless there is an error.
type paramError struct {
	param  string
	detail string // "expected a string, but got an integer instead."
	value  bool   // "Invalid value" rather than "Invalid type"
	msg    string // replaces the generated message when set
}

func (e *paramError) Error() string {
	if e.msg != "" {
		return e.msg
	}
	what := "type"
	if e.value {
		what = "value"
	}
	if e.param == "" {
		return "Invalid " + what + " for the request body: " + e.detail
	}
	return "Invalid " + what + " for '" + e.param + "': " + e.detail
}

// within prefixes a paramError's path with the enclosing key or "[i]".
func within(err error, seg string) error {
	pe, ok := err.(*paramError)
	if !ok {
		return err
	}
	switch {
	case pe.param == "":
		pe.param = seg
	case pe.param[0] == '[':
		pe.param = seg + pe.param
	default:
		pe.param = seg + "." + pe.param
	}
	return err
}

func (s *scanner) syntax(msg string) error {
	return &syntaxError{off: s.pos, msg: msg}
}

func (s *scanner) unexpected() error {
	if s.pos >= len(s.data) {
		return s.syntax("unexpected end of JSON input")
	}
	return s.syntax("invalid character " + quoteByte(s.data[s.pos]))
}

// ws skips JSON whitespace and returns the next byte, or 0 at the end (a
// NUL byte in the body also reads as 0; neither starts a value).
func (s *scanner) ws() byte {
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

// typeErr reports that the next value is not what the field takes.
func (s *scanner) typeErr(want string) error {
	return &paramError{detail: "expected " + want + ", but got " + s.kindOfNext() + " instead."}
}

func (s *scanner) valueErr(detail string) error {
	return &paramError{detail: detail, value: true}
}

func (s *scanner) kindOfNext() string {
	switch s.ws() {
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

// null consumes a null literal if one is next.
func (s *scanner) null() (bool, error) {
	if s.ws() != 'n' {
		return false, nil
	}
	return true, s.literal("null")
}

func (s *scanner) literal(lit string) error {
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

// object iterates the members of an object; fn must consume exactly one
// value. key is only valid during fn. Errors from fn gain the key as a path
// segment.
func (s *scanner) object(fn func(key []byte) error) error {
	if s.ws() != '{' {
		return s.typeErr("an object")
	}
	s.pos++
	if s.ws() == '}' {
		s.pos++
		return nil
	}
	for {
		if s.ws() != '"' {
			return s.unexpected()
		}
		key, escaped, err := s.stringBytes()
		if err != nil {
			return err
		}
		if escaped {
			// The value may unescape into buf again; keep the key intact.
			key = append([]byte(nil), key...)
		}
		if s.ws() != ':' {
			return s.unexpected()
		}
		s.pos++
		s.ws()
		if err := fn(key); err != nil {
			return within(err, string(key))
		}
		switch s.ws() {
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

// array iterates the elements of an array; fn must consume exactly one
// value. Errors from fn gain "[i]" as a path segment.
func (s *scanner) array(fn func(i int) error) error {
	if s.ws() != '[' {
		return s.typeErr("an array")
	}
	s.pos++
	if s.ws() == ']' {
		s.pos++
		return nil
	}
	for i := 0; ; i++ {
		s.ws()
		if err := fn(i); err != nil {
			return within(err, "["+strconv.Itoa(i)+"]")
		}
		switch s.ws() {
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

// stringBytes reads a string at pos. The result aliases data when the string
// has no escapes and is valid UTF-8 (escaped reports false); otherwise it is
// decoded into buf. Invalid UTF-8 and unpaired surrogates become U+FFFD, as
// encoding/json does, because protobuf strings must be valid UTF-8.
func (s *scanner) stringBytes() (b []byte, escaped bool, err error) {
	if s.pos >= len(s.data) || s.data[s.pos] != '"' {
		return nil, false, s.typeErr("a string")
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
func (s *scanner) unescape(start int) ([]byte, bool, error) {
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

// number reads a number literal at pos, checking JSON's number grammar.
func (s *scanner) number() ([]byte, error) {
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

func isNumberStart(c byte) bool { return c == '-' || ('0' <= c && c <= '9') }

// skip consumes one value of any type, validating it. It is iterative so a
// hostile body of a million '[' cannot grow the stack.
func (s *scanner) skip() error {
	var stackArr [32]byte
	stack := stackArr[:0] // '{' or '[' per open container
	for {
		// A value starts here.
		switch c := s.ws(); {
		case c == '{':
			s.pos++
			if s.ws() == '}' {
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
			if s.ws() == ']' {
				s.pos++
				break
			}
			stack = append(stack, '[')
			continue
		case c == '"':
			if _, _, err := s.stringBytes(); err != nil {
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
		case isNumberStart(c):
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
			switch c := s.ws(); {
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
func (s *scanner) skipKey() error {
	if s.ws() != '"' {
		return s.unexpected()
	}
	if _, _, err := s.stringBytes(); err != nil {
		return err
	}
	if s.ws() != ':' {
		return s.unexpected()
	}
	s.pos++
	return nil
}

// str reads a string; null reads as "" (unset).
func (s *scanner) str() (string, error) {
	if s.ws() != '"' {
		if isNull, err := s.null(); isNull || err != nil {
			return "", err
		}
		return "", s.typeErr("a string")
	}
	b, _, err := s.stringBytes()
	return string(b), err
}

// optStr reads a string whose presence matters; null reads as nil.
func (s *scanner) optStr() (*string, error) {
	if s.ws() != '"' {
		if isNull, err := s.null(); isNull || err != nil {
			return nil, err
		}
		return nil, s.typeErr("a string")
	}
	b, _, err := s.stringBytes()
	if err != nil {
		return nil, err
	}
	v := string(b)
	return &v, nil
}

// word reads a string from a small vocabulary (roles, types, modes),
// returning a constant for the common values so they cost no allocation.
func (s *scanner) word() (string, error) {
	if s.ws() != '"' {
		if isNull, err := s.null(); isNull || err != nil {
			return "", err
		}
		return "", s.typeErr("a string")
	}
	b, _, err := s.stringBytes()
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

// float reads a number; null reads as nil.
func (s *scanner) float() (*float64, error) {
	c := s.ws()
	if !isNumberStart(c) {
		if isNull, err := s.null(); isNull || err != nil {
			return nil, err
		}
		return nil, s.typeErr("a number")
	}
	v, err := s.floatValue()
	if err != nil {
		return nil, err
	}
	return &v, nil
}

func (s *scanner) floatValue() (float64, error) {
	lit, err := s.number()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseFloat(string(lit), 64)
	if err != nil {
		// The grammar is checked, so this is only ever a range error.
		return 0, s.valueErr("number " + string(lit) + " is out of range.")
	}
	return v, nil
}

// integer reads an integral number within [lo, hi]. Integral decimals such
// as 1.0 or 1e3 are accepted, as OpenAI's own validation accepts them.
func (s *scanner) integer(lo, hi int64) (v int64, isNull bool, err error) {
	c := s.ws()
	if !isNumberStart(c) {
		if isNull, err := s.null(); isNull || err != nil {
			return 0, isNull, err
		}
		return 0, false, s.typeErr("an integer")
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
			return 0, false, &paramError{detail: "expected an integer, but got a decimal instead."}
		}
		if ferr != nil || f < -(1<<63) || f >= 1<<63 {
			return 0, false, s.valueErr("integer " + string(lit) + " is out of range.")
		}
		v = int64(f)
	}
	if v < lo || v > hi {
		return 0, false, s.valueErr("integer " + string(lit) + " is out of range [" +
			strconv.FormatInt(lo, 10) + ", " + strconv.FormatInt(hi, 10) + "].")
	}
	return v, false, nil
}

func (s *scanner) int32() (*int32, error) {
	v, isNull, err := s.integer(-1<<31, 1<<31-1)
	if isNull || err != nil {
		return nil, err
	}
	x := int32(v)
	return &x, nil
}

func (s *scanner) int64() (*int64, error) {
	v, isNull, err := s.integer(-1<<63, 1<<63-1)
	if isNull || err != nil {
		return nil, err
	}
	return &v, nil
}

// boolean reads true or false; null reads as nil.
func (s *scanner) boolean() (*bool, error) {
	switch s.ws() {
	case 't':
		v := true
		return &v, s.literal("true")
	case 'f':
		v := false
		return &v, s.literal("false")
	}
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	return nil, s.typeErr("a boolean")
}

// structObj copies a free-form JSON object into a Struct; null reads as nil.
func (s *scanner) structObj() (*structpb.Struct, error) {
	if isNull, err := s.null(); isNull || err != nil {
		return nil, err
	}
	if s.ws() != '{' {
		return nil, s.typeErr("an object")
	}
	return s.structFields(1)
}

func (s *scanner) structFields(depth int) (*structpb.Struct, error) {
	if depth > maxStructDepth {
		return nil, s.valueErr("JSON nested more than " + strconv.Itoa(maxStructDepth) + " levels deep.")
	}
	st := &structpb.Struct{Fields: map[string]*structpb.Value{}}
	err := s.object(func(key []byte) error {
		k := string(key)
		v, err := s.structValue(depth)
		st.Fields[k] = v
		return err
	})
	return st, err
}

func (s *scanner) structValue(depth int) (*structpb.Value, error) {
	switch c := s.ws(); {
	case c == '{':
		st, err := s.structFields(depth + 1)
		return structpb.NewStructValue(st), err
	case c == '[':
		if depth+1 > maxStructDepth {
			return nil, s.valueErr("JSON nested more than " + strconv.Itoa(maxStructDepth) + " levels deep.")
		}
		l := &structpb.ListValue{}
		err := s.array(func(int) error {
			v, err := s.structValue(depth + 1)
			l.Values = append(l.Values, v)
			return err
		})
		return structpb.NewListValue(l), err
	case c == '"':
		b, _, err := s.stringBytes()
		return structpb.NewStringValue(string(b)), err
	case c == 't':
		return structpb.NewBoolValue(true), s.literal("true")
	case c == 'f':
		return structpb.NewBoolValue(false), s.literal("false")
	case c == 'n':
		return structpb.NewNullValue(), s.literal("null")
	case isNumberStart(c):
		v, err := s.floatValue()
		return structpb.NewNumberValue(v), err
	}
	return nil, s.unexpected()
}
