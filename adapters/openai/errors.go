package openai

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/switchyard/switchyard/adapters/internal/retryafter"
	"github.com/switchyard/switchyard/engine/llm"
)

// maxRetryAfter caps what an upstream may ask for, so one odd header cannot
// take a target out of rotation for days.
const maxRetryAfter = 24 * time.Hour

// excerptBytes is how much of a non-JSON error body is kept as the message.
const excerptBytes = 512

// wireError is OpenAI's error object {"message","type","param","code"}.
// Compatible servers also send {"error":"text"} and numeric codes; both are
// accepted.
type wireError struct {
	Message string
	Type    string
	Param   string
	Code    string
	// status is a numeric code that looks like an HTTP status (OpenRouter
	// and others put the status there), used for mid-stream errors.
	status int
}

func (e *wireError) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	if b[0] == '"' {
		return json.Unmarshal(b, &e.Message)
	}
	var w struct {
		Message json.RawMessage `json:"message"`
		Type    json.RawMessage `json:"type"`
		Param   json.RawMessage `json:"param"`
		Code    json.RawMessage `json:"code"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	e.Message = scalarString(w.Message)
	e.Type = scalarString(w.Type)
	e.Param = scalarString(w.Param)
	e.Code = scalarString(w.Code)
	if n, err := strconv.Atoi(e.Code); err == nil && n >= 400 && n <= 599 {
		e.status = n
	}
	return nil
}

// scalarString renders a JSON string, number or bool as text; anything else
// (null, objects) as "".
func scalarString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	switch raw[0] {
	case '"':
		var s string
		if json.Unmarshal(raw, &s) == nil {
			return s
		}
	case '{', '[', 'n':
	default:
		return string(raw)
	}
	return ""
}

// wireErrorEnvelope covers the error bodies seen in the wild: OpenAI's
// {"error":{...}}, {"error":"text"}, FastAPI's {"detail":...} and a bare
// {"message":...}.
type wireErrorEnvelope struct {
	Error   *wireError      `json:"error"`
	Message json.RawMessage `json:"message"`
	Detail  json.RawMessage `json:"detail"`
	Type    string          `json:"type"`
	Code    json.RawMessage `json:"code"`
}

// parseErrorBody extracts the provider's error from a body; ok is false when
// the body is not a recognizable error document.
func parseErrorBody(data []byte) (wireError, bool) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return wireError{}, false
	}
	if data[0] == '[' {
		// Some Google-fronted compat endpoints wrap the error in an array.
		var arr []json.RawMessage
		if json.Unmarshal(data, &arr) != nil || len(arr) == 0 {
			return wireError{}, false
		}
		data = arr[0]
	}
	var env wireErrorEnvelope
	if json.Unmarshal(data, &env) != nil {
		return wireError{}, false
	}
	switch {
	case env.Error != nil && (env.Error.Message != "" || env.Error.Type != "" || env.Error.Code != ""):
		return *env.Error, true
	case len(env.Message) > 0:
		return wireError{Message: scalarOrJSON(env.Message), Type: env.Type, Code: scalarString(env.Code)}, true
	case len(env.Detail) > 0:
		return wireError{Message: scalarOrJSON(env.Detail), Type: env.Type, Code: scalarString(env.Code)}, true
	}
	return wireError{}, false
}

// scalarOrJSON is scalarString, keeping structured values (FastAPI's
// validation detail is a list) as compact JSON rather than dropping them.
func scalarOrJSON(raw json.RawMessage) string {
	if s := scalarString(raw); s != "" {
		return s
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) == nil && buf.String() != "null" {
		return excerpt(buf.Bytes())
	}
	return ""
}

// statusErrorFromBody builds the error for a non-2xx answer (or a 2xx one
// that carried an error document).
func (c *Client) statusErrorFromBody(status int, h http.Header, data []byte) *llm.UpstreamError {
	ue := &llm.UpstreamError{
		Provider:   c.name,
		Status:     status,
		RetryAfter: retryAfter(h, c.now()),
	}
	if e, ok := parseErrorBody(data); ok {
		ue.Message, ue.Type, ue.Code = e.Message, e.Type, e.Code
	} else {
		ue.Message = excerpt(data)
	}
	if ue.Message == "" {
		ue.Message = http.StatusText(status)
	}
	return ue
}

// excerpt turns a body into a one-line, valid UTF-8 message of bounded size.
func excerpt(data []byte) string {
	data = bytes.TrimSpace(data)
	cut := len(data) > excerptBytes
	if cut {
		data = data[:excerptBytes]
		// Do not split a rune: back off to the start of the last one if it
		// is incomplete.
		if i := lastRuneStart(data); !utf8.FullRune(data[i:]) {
			data = data[:i]
		}
	}
	s := strings.ToValidUTF8(string(data), "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	if cut {
		s += "…"
	}
	return s
}

func lastRuneStart(b []byte) int {
	i := len(b) - 1
	for i > 0 && i > len(b)-utf8.UTFMax && !utf8.RuneStart(b[i]) {
		i--
	}
	if i < 0 {
		return 0
	}
	return i
}

// retryAfter reads how long the upstream asked us to wait: OpenAI's
// retry-after-ms (more precise, so preferred), then Retry-After as seconds or
// an HTTP date. 0 when absent or unparseable; capped at maxRetryAfter.
func retryAfter(h http.Header, now time.Time) time.Duration {
	if d, ok := retryafter.Millis(strings.TrimSpace(h.Get("Retry-After-Ms"))); ok {
		return min(d, maxRetryAfter)
	}
	return retryafter.Capped(strings.TrimSpace(h.Get("Retry-After")), now, maxRetryAfter)
}

// streamErrorStatus picks the status for an error event inside a 200 stream,
// where the HTTP status says nothing: a numeric code if the provider sent
// one, else the status OpenAI uses for the error type, else 500 (the
// upstream failed while answering).
func streamErrorStatus(e wireError) int {
	if e.status != 0 {
		return e.status
	}
	t := e.Type
	if t == "" {
		t = e.Code
	}
	switch t {
	case "invalid_request_error", "invalid_request", "context_length_exceeded":
		return http.StatusBadRequest
	case "authentication_error", "invalid_api_key":
		return http.StatusUnauthorized
	case "permission_error", "permission_denied":
		return http.StatusForbidden
	case "not_found_error", "model_not_found":
		return http.StatusNotFound
	case "rate_limit_error", "rate_limit_exceeded", "tokens", "requests", "insufficient_quota":
		return http.StatusTooManyRequests
	case "overloaded_error", "overloaded":
		return 529
	case "timeout", "timeout_error":
		return http.StatusGatewayTimeout
	}
	return http.StatusInternalServerError
}
