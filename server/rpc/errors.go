package rpc

import (
	"context"
	"errors"
	"strconv"

	"connectrpc.com/connect"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/middleware"
)

// Code is the one mapping from domain errors to connect (= gRPC) codes.
func Code(err error) connect.Code {
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce.Code()
	}
	// The generated Unimplemented* servers answer with grpc status errors.
	if s, ok := status.FromError(err); ok && s.Code() != 0 {
		return connect.Code(s.Code())
	}
	switch llm.KindOf(err) {
	case llm.KindInvalidRequest:
		return connect.CodeInvalidArgument
	case llm.KindUnauthenticated:
		return connect.CodeUnauthenticated
	case llm.KindPermissionDenied:
		return connect.CodePermissionDenied
	case llm.KindNotFound:
		return connect.CodeNotFound
	case llm.KindRateLimited:
		return connect.CodeResourceExhausted
	case llm.KindUnavailable:
		return connect.CodeUnavailable
	case llm.KindTimeout:
		return connect.CodeDeadlineExceeded
	case llm.KindUnimplemented:
		return connect.CodeUnimplemented
	case llm.KindCanceled:
		return connect.CodeCanceled
	}
	return connect.CodeInternal
}

// ToConnect turns any error into a *connect.Error with the mapped code, the
// message clients should see, and metadata for retries (retry-after) and
// the offending parameter.
func ToConnect(err error) error {
	if err == nil {
		return nil
	}
	var ce *connect.Error
	if errors.As(err, &ce) {
		return ce
	}
	code := Code(err)
	msg := err.Error()
	if s, ok := status.FromError(err); ok && s.Code() != 0 {
		msg = s.Message()
	}
	out := connect.NewError(code, errors.New(msg))
	var de *llm.Error
	if errors.As(err, &de) && de.Param != "" {
		out.Meta().Set("x-switchyard-param", de.Param)
	}
	if ra := llm.RetryAfterSeconds(err); ra > 0 {
		out.Meta().Set("retry-after", strconv.Itoa(ra))
	}
	return out
}

// errorInterceptor maps domain errors at the connect boundary.
type errorInterceptor struct{}

func (errorInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		resp, err := next(ctx, req)
		return resp, ToConnect(drainCause(ctx, err))
	}
}

func (errorInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return next
}

func (errorInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return func(ctx context.Context, conn connect.StreamingHandlerConn) error {
		return ToConnect(drainCause(ctx, next(ctx, conn)))
	}
}

// drainCause reports a request cut by the drain deadline as such
// (Unavailable: retry elsewhere), not as the cancellation it looks like.
func drainCause(ctx context.Context, err error) error {
	if err != nil {
		if sd := middleware.ShuttingDown(ctx); sd != nil {
			return sd
		}
	}
	return err
}
