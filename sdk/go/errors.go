package switchyard

import (
	"errors"
	"strconv"
	"time"

	"connectrpc.com/connect"
)

// IsNotFound reports whether err says the model (or other resource) does
// not exist.
func IsNotFound(err error) bool { return hasCode(err, connect.CodeNotFound) }

// IsUnauthenticated reports whether the gateway refused the API key, or no
// key was sent.
func IsUnauthenticated(err error) bool { return hasCode(err, connect.CodeUnauthenticated) }

// IsInvalidArgument reports whether the gateway rejected the request as
// malformed; InvalidParam names the offending field when the gateway knows it.
func IsInvalidArgument(err error) bool { return hasCode(err, connect.CodeInvalidArgument) }

// IsRateLimited reports whether the request was rate limited (upstream or
// by the gateway); RetryAfter tells how long to wait when known.
func IsRateLimited(err error) bool { return hasCode(err, connect.CodeResourceExhausted) }

// IsUnavailable reports whether no provider could answer right now; such
// calls are safe to retry later.
func IsUnavailable(err error) bool { return hasCode(err, connect.CodeUnavailable) }

func hasCode(err error, code connect.Code) bool {
	return err != nil && connect.CodeOf(err) == code
}

// RetryAfter returns the wait the gateway advised with a rate-limit or
// unavailability error (its retry-after metadata), if any.
func RetryAfter(err error) (time.Duration, bool) {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return 0, false
	}
	secs, convErr := strconv.Atoi(ce.Meta().Get("Retry-After"))
	if convErr != nil || secs < 0 {
		return 0, false
	}
	return time.Duration(secs) * time.Second, true
}

// InvalidParam returns the request field an invalid-argument error is
// about (e.g. "messages[0].role"), or "" when the gateway did not say.
func InvalidParam(err error) string {
	var ce *connect.Error
	if !errors.As(err, &ce) {
		return ""
	}
	return ce.Meta().Get("X-Switchyard-Param")
}
