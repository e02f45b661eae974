package anthropic

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/retryafter"
	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

// maxErrorBody bounds how much of an error response is read.
const maxErrorBody = 1 << 20

// wireError is the body of a failed call and of a stream's error event:
// {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}.
type wireError struct {
	Type  string `json:"type"`
	Error struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	} `json:"error"`
}

// statusError turns a non-2xx answer into an *llm.UpstreamError.
func (c *Client) statusError(status int, h http.Header, body []byte) error {
	ue := &llm.UpstreamError{
		Provider:   c.name,
		Status:     status,
		RetryAfter: retryAfter(h, c.now()),
	}
	var we wireError
	if json.Unmarshal(body, &we) == nil && (we.Error.Type != "" || we.Error.Message != "") {
		ue.Type = we.Error.Type
		ue.Message = we.Error.Message
	} else {
		ue.Message = upstream.PlainMessage(status, body)
	}
	return ue
}

// errorTypeStatus maps an error event's type to the status the same
// failure has before a stream starts (Anthropic's table of error types), so
// retry and breaker decisions treat both alike.
func errorTypeStatus(typ string) int {
	switch typ {
	case "invalid_request_error":
		return http.StatusBadRequest
	case "authentication_error":
		return http.StatusUnauthorized
	case "billing_error":
		return http.StatusPaymentRequired
	case "permission_error":
		return http.StatusForbidden
	case "not_found_error":
		return http.StatusNotFound
	case "request_too_large":
		return http.StatusRequestEntityTooLarge
	case "rate_limit_error":
		return http.StatusTooManyRequests
	case "timeout_error":
		return http.StatusGatewayTimeout
	case "overloaded_error":
		return 529
	default: // api_error and types not known yet
		return http.StatusInternalServerError
	}
}

// retryAfter reads retry-after-ms (fractional milliseconds) or retry-after
// (seconds or an HTTP date).
func retryAfter(h http.Header, now time.Time) time.Duration {
	// An absurd retry-after-ms is ignored in favour of Retry-After.
	if d, ok := retryafter.Millis(h.Get("Retry-After-Ms")); ok && d > 0 && d < 1e9*time.Millisecond {
		return d
	}
	return retryafter.Parse(h.Get("Retry-After"), now)
}
