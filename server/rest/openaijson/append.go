package openaijson

import (
	"strconv"

	"github.com/switchyard/switchyard/internal/jsonw"
)

// appendString appends s as a JSON string. HTML characters are left
// alone, as OpenAI leaves them.
func appendString(dst []byte, s string) []byte { return jsonw.AppendString(dst, s, false) }

// appendStringOrNull appends s, or null when it is empty.
func appendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }

func appendBool(dst []byte, v bool) []byte {
	if v {
		return append(dst, "true"...)
	}
	return append(dst, "false"...)
}
