package llm

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Kind classifies a domain error. server/rpc maps kinds to connect codes and
// server/rest to OpenAI error JSON, each in exactly one function.
type Kind int

// Error kinds.
const (
	KindInternal Kind = iota
	KindInvalidRequest
	KindUnauthenticated
	KindPermissionDenied
	KindNotFound
	KindRateLimited
	KindUnavailable
	KindTimeout
	KindUnimplemented
	KindCanceled
)

// Error is a domain error with a kind and, for invalid requests, the
// offending parameter.
type Error struct {
	Kind    Kind
	Message string
	Param   string
	Code    string
	// RetryAfter is set on KindRateLimited.
	RetryAfter time.Duration
	Err        error
}

func (e *Error) Error() string {
	if e.Err != nil && e.Message == "" {
		return e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error of kind k.
func Errorf(k Kind, format string, args ...any) *Error {
	return &Error{Kind: k, Message: fmt.Sprintf(format, args...)}
}

// InvalidParam builds a KindInvalidRequest error naming the parameter.
func InvalidParam(param, format string, args ...any) *Error {
	return &Error{Kind: KindInvalidRequest, Param: param, Message: fmt.Sprintf(format, args...)}
}

// ErrNoHealthyTarget means every target of a route is open, cooling or gone.
var ErrNoHealthyTarget = errors.New("no healthy target for this route")

// ErrUnknownModel means no route alias or provider serves the model.
var ErrUnknownModel = errors.New("model not found")

// UpstreamError is a provider's failure, carrying what the engine needs to
// decide on retries and what the client needs to understand it.
type UpstreamError struct {
	Provider string
	// Status is the upstream HTTP status; 0 for connection errors.
	Status     int
	RetryAfter time.Duration
	// Message, Type and Code are the provider's own, when it sent them.
	Message string
	Type    string
	Code    string
	Err     error
}

func (e *UpstreamError) Error() string {
	switch {
	case e.Status == 0 && e.Err != nil:
		return fmt.Sprintf("%s: connection error: %s", e.Provider, Redact(e.Err.Error()))
	case e.AuthFailed():
		return fmt.Sprintf("%s: upstream provider authentication failed (status %d)", e.Provider, e.Status)
	case e.Message != "":
		return fmt.Sprintf("%s: upstream status %d: %s", e.Provider, e.Status, Redact(e.Message))
	default:
		return fmt.Sprintf("%s: upstream status %d", e.Provider, e.Status)
	}
}

func (e *UpstreamError) Unwrap() error { return e.Err }

// Retryable reports whether another attempt may succeed: rate limits,
// server errors and connection failures, never client errors.
func (e *UpstreamError) Retryable() bool {
	if e.AuthFailed() {
		return true // our key is bad: another key or target may serve
	}
	switch e.Status {
	case 0, 408, 429, 500, 502, 503, 504, 529:
		return true
	}
	return false
}

// AuthFailed reports an upstream refusing our credentials: 401 or 403 from
// any provider, or Gemini's 400 with reason API_KEY_INVALID. It is the
// provider's failure, not the client's.
func (e *UpstreamError) AuthFailed() bool {
	return e.Status == 401 || e.Status == 403 || (e.Status == 400 && e.Code == "API_KEY_INVALID")
}

// KindOf classifies any error for the transports.
func KindOf(err error) Kind {
	var de *Error
	if errors.As(err, &de) {
		return de.Kind
	}
	var ue *UpstreamError
	if errors.As(err, &ue) {
		switch {
		case ue.AuthFailed():
			return KindUnavailable
		case ue.Status == 429:
			return KindRateLimited
		case ue.Status == 504 || ue.Status == 408:
			return KindTimeout
		case ue.Status == 400 || ue.Status == 422:
			return KindInvalidRequest
		case ue.Status == 404:
			return KindNotFound
		default:
			return KindUnavailable
		}
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	case errors.Is(err, ErrUnknownModel):
		return KindNotFound
	case errors.Is(err, ErrNoHealthyTarget):
		return KindUnavailable
	}
	return KindInternal
}

// RetryAfter returns how long a client should wait before retrying err, or 0.
func RetryAfter(err error) time.Duration {
	var de *Error
	if errors.As(err, &de) && de.RetryAfter > 0 {
		return de.RetryAfter
	}
	var ue *UpstreamError
	if errors.As(err, &ue) && ue.RetryAfter > 0 {
		return ue.RetryAfter
	}
	return 0
}

// RetryAfterSeconds rounds RetryAfter up to whole seconds, as the
// Retry-After header carries it.
func RetryAfterSeconds(err error) int {
	return int((RetryAfter(err) + time.Second - 1) / time.Second)
}
