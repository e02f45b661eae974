package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/retryafter"
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

// statusError turns a non-2xx response into an *llm.UpstreamError. It
// consumes the body but leaves closing it to the caller.
func (c *Client) statusError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	ue := &llm.UpstreamError{
		Provider:   c.name,
		Status:     resp.StatusCode,
		RetryAfter: retryAfter(resp.Header, c.now()),
	}
	var we wireError
	if json.Unmarshal(body, &we) == nil && (we.Error.Type != "" || we.Error.Message != "") {
		ue.Type = we.Error.Type
		ue.Message = we.Error.Message
	} else {
		ue.Message = strings.TrimSpace(string(body))
		if len(ue.Message) > 512 {
			ue.Message = ue.Message[:512]
		}
		if ue.Message == "" {
			ue.Message = http.StatusText(resp.StatusCode)
		}
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
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	return retryafter.Parse(h.Get("Retry-After"), now)
}

// transportError classifies a failed round trip or body read: the caller's
// own cancellation stays a context error (wrapped with %w) so it is not
// mistaken for an upstream failure; anything else is a connection error.
func (c *Client) transportError(op string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %s: %w", c.name, op, err)
	}
	return &llm.UpstreamError{Provider: c.name, Status: 0, Err: err}
}
