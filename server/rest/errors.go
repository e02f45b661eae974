package rest

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"connectrpc.com/connect"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/rest/openaijson"
)

// apiError is an error as the OpenAI facade reports it.
type apiError struct {
	status     int
	typ        string
	code       string
	param      string
	message    string
	retryAfter int // seconds
}

// classify is the one mapping from errors to OpenAI error JSON and status.
func classify(err error) apiError {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) || strings.Contains(err.Error(), "http: request body too large") {
		limit := ""
		if mbe != nil {
			limit = " (limit " + strconv.FormatInt(mbe.Limit, 10) + " bytes)"
		}
		return apiError{status: http.StatusRequestEntityTooLarge, typ: "invalid_request_error", code: "request_too_large",
			message: "Request body too large" + limit + "."}
	}
	out := apiError{message: err.Error()}
	var de *llm.Error
	if errors.As(err, &de) {
		out.param, out.code = de.Param, de.Code
	}
	var ue *llm.UpstreamError
	isUpstream := errors.As(err, &ue)
	if d := llm.RetryAfterSeconds(err); d > 0 {
		out.retryAfter = d
	}

	kind := llm.KindOf(err)
	if s, ok := status.FromError(err); ok && s.Code() != codes.OK && !isUpstream && de == nil {
		kind, out.message = kindOfCode(codes.Code(s.Code())), s.Message()
	} else if ce := new(connect.Error); errors.As(err, &ce) {
		kind, out.message = kindOfCode(codes.Code(ce.Code())), ce.Message()
	}

	switch kind {
	case llm.KindInvalidRequest:
		out.status, out.typ = http.StatusBadRequest, "invalid_request_error"
	case llm.KindUnauthenticated:
		out.status, out.typ = http.StatusUnauthorized, "authentication_error"
		if out.code == "" {
			out.code = "invalid_api_key"
		}
	case llm.KindPermissionDenied:
		out.status, out.typ = http.StatusForbidden, "permission_error"
	case llm.KindNotFound:
		out.status, out.typ = http.StatusNotFound, "invalid_request_error"
		if out.code == "" && errors.Is(err, llm.ErrUnknownModel) {
			out.code = "model_not_found"
		}
	case llm.KindRateLimited:
		out.status, out.typ = http.StatusTooManyRequests, "rate_limit_error"
		if out.code == "" {
			out.code = "rate_limit_exceeded"
		}
	case llm.KindTimeout:
		out.status, out.typ, out.code = http.StatusGatewayTimeout, "timeout_error", "upstream_timeout"
	case llm.KindUnimplemented:
		out.status, out.typ, out.code = http.StatusNotImplemented, "not_implemented_error", "unimplemented"
	case llm.KindCanceled:
		// The client went away; nobody reads this. 499 is the de-facto code.
		out.status, out.typ, out.code = 499, "canceled", "client_closed_request"
	case llm.KindUnavailable:
		out.status, out.typ = http.StatusServiceUnavailable, "server_error"
		if isUpstream && ue.Status != 503 && ue.Status != 529 {
			out.status = http.StatusBadGateway
		}
		if out.code == "" {
			out.code = "upstream_unavailable"
		}
	default:
		out.status, out.typ, out.code = http.StatusInternalServerError, "server_error", "internal_error"
		out.message = "internal error"
	}
	if isUpstream && out.code == "" {
		out.code = "upstream_error"
	}
	return out
}

func kindOfCode(c codes.Code) llm.Kind {
	switch c {
	case codes.InvalidArgument, codes.FailedPrecondition, codes.OutOfRange:
		return llm.KindInvalidRequest
	case codes.Unauthenticated:
		return llm.KindUnauthenticated
	case codes.PermissionDenied:
		return llm.KindPermissionDenied
	case codes.NotFound:
		return llm.KindNotFound
	case codes.ResourceExhausted:
		return llm.KindRateLimited
	case codes.Unavailable:
		return llm.KindUnavailable
	case codes.DeadlineExceeded:
		return llm.KindTimeout
	case codes.Unimplemented:
		return llm.KindUnimplemented
	case codes.Canceled:
		return llm.KindCanceled
	}
	return llm.KindInternal
}

// writeError answers with OpenAI error JSON.
func writeError(w http.ResponseWriter, err error) {
	e := classify(err)
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if e.retryAfter > 0 {
		h.Set("Retry-After", strconv.Itoa(e.retryAfter))
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(openaijson.AppendError(nil, e.message, e.typ, e.param, e.code))
}

// WriteError answers with OpenAI error JSON and status: the shape every
// OpenAI dialect (Chat Completions here, Responses in its own package)
// reports errors in.
func WriteError(w http.ResponseWriter, err error) { writeError(w, err) }

// AppendError appends err as OpenAI's error JSON, the body WriteError
// sends, for a stream's in-band error event.
func AppendError(dst []byte, err error) []byte {
	e := classify(err)
	return openaijson.AppendError(dst, e.message, e.typ, e.param, e.code)
}

// ErrorCode is err's OpenAI error code and message, for errors reported
// inside a stream after it started.
func ErrorCode(err error) (code, message string) {
	e := classify(err)
	return e.code, e.message
}
