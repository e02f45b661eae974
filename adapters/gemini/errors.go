package gemini

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/switchyard/switchyard/adapters/internal/retryafter"
	"github.com/switchyard/switchyard/adapters/internal/upstream"
	"github.com/switchyard/switchyard/engine/llm"
)

const maxErrorBody = 1 << 20

// gError is Google's error shape:
// {"error":{"code":429,"message":"...","status":"RESOURCE_EXHAUSTED","details":[...]}}.
type gError struct {
	Code    int      `json:"code"`
	Message string   `json:"message"`
	Status  string   `json:"status"`
	Details []detail `json:"details"`
}

// detail covers the google.rpc detail types the gateway uses: RetryInfo
// (retryDelay, a duration such as "2s") and ErrorInfo (reason).
type detail struct {
	Type       string `json:"@type"`
	RetryDelay string `json:"retryDelay"`
	Reason     string `json:"reason"`
}

// upstream converts a Google error; status is the HTTP status when there
// was one (0 inside a stream, where code or status stand in).
func (e *gError) upstream(provider string, status int) *llm.UpstreamError {
	if status == 0 {
		status = e.Code
	}
	if status == 0 {
		status = rpcStatusHTTP(e.Status)
	}
	ue := &llm.UpstreamError{Provider: provider, Status: status, Type: e.Status, Message: e.Message}
	for _, d := range e.Details {
		switch {
		case strings.HasSuffix(d.Type, "google.rpc.RetryInfo"):
			if dur, err := time.ParseDuration(d.RetryDelay); err == nil && dur > 0 {
				ue.RetryAfter = dur
			}
		case strings.HasSuffix(d.Type, "google.rpc.ErrorInfo"):
			ue.Code = d.Reason
		}
	}
	return ue
}

// rpcStatusHTTP maps a google.rpc.Code name to its HTTP status.
func rpcStatusHTTP(s string) int {
	switch s {
	case "INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE":
		return http.StatusBadRequest
	case "UNAUTHENTICATED":
		return http.StatusUnauthorized
	case "PERMISSION_DENIED":
		return http.StatusForbidden
	case "NOT_FOUND":
		return http.StatusNotFound
	case "ALREADY_EXISTS", "ABORTED":
		return http.StatusConflict
	case "RESOURCE_EXHAUSTED":
		return http.StatusTooManyRequests
	case "CANCELLED":
		return 499
	case "UNIMPLEMENTED":
		return http.StatusNotImplemented
	case "UNAVAILABLE":
		return http.StatusServiceUnavailable
	case "DEADLINE_EXCEEDED":
		return http.StatusGatewayTimeout
	default: // INTERNAL, UNKNOWN, DATA_LOSS
		return http.StatusInternalServerError
	}
}

// statusError turns a non-2xx answer into an *llm.UpstreamError.
func (c *Client) statusError(status int, h http.Header, body []byte) error {
	var ue *llm.UpstreamError
	if ge := parseError(body); ge != nil {
		ue = ge.upstream(c.name, status)
	} else {
		ue = &llm.UpstreamError{Provider: c.name, Status: status, Message: upstream.PlainMessage(status, body)}
	}
	if ue.RetryAfter == 0 {
		ue.RetryAfter = retryAfter(h, c.now())
	}
	return ue
}

// parseError reads {"error":{...}} or, as the non-SSE streaming endpoint
// sends it, [{"error":{...}}].
func parseError(body []byte) *gError {
	var one struct {
		Error *gError `json:"error"`
	}
	if json.Unmarshal(body, &one) == nil && one.Error != nil {
		return one.Error
	}
	var many []struct {
		Error *gError `json:"error"`
	}
	if json.Unmarshal(body, &many) == nil && len(many) > 0 && many[0].Error != nil {
		return many[0].Error
	}
	return nil
}

// retryAfter reads Retry-After as seconds or an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	return retryafter.Parse(h.Get("Retry-After"), now)
}
