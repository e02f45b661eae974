package switchyard

import (
	"context"
	"time"

	"connectrpc.com/connect"
)

// apiKeyInterceptor adds the Authorization header. It runs as an
// interceptor rather than in the wrapper methods so that the raw service
// clients carry the key too.
type apiKeyInterceptor struct{ header string }

func (i apiKeyInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		req.Header().Set("Authorization", i.header)
		return next(ctx, req)
	}
}

func (i apiKeyInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		conn := next(ctx, spec)
		conn.RequestHeader().Set("Authorization", i.header)
		return conn
	}
}

func (apiKeyInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// timeoutInterceptor gives every call a deadline; connect-go sends it to the
// gateway as the protocol's timeout header, so both ends give up together.
type timeoutInterceptor struct{ d time.Duration }

func (i timeoutInterceptor) WrapUnary(next connect.UnaryFunc) connect.UnaryFunc {
	return func(ctx context.Context, req connect.AnyRequest) (connect.AnyResponse, error) {
		ctx, cancel := context.WithTimeout(ctx, i.d)
		defer cancel()
		return next(ctx, req)
	}
}

func (i timeoutInterceptor) WrapStreamingClient(next connect.StreamingClientFunc) connect.StreamingClientFunc {
	return func(ctx context.Context, spec connect.Spec) connect.StreamingClientConn {
		ctx, cancel := context.WithTimeout(ctx, i.d)
		return &cancelOnClose{StreamingClientConn: next(ctx, spec), cancel: cancel}
	}
}

func (timeoutInterceptor) WrapStreamingHandler(next connect.StreamingHandlerFunc) connect.StreamingHandlerFunc {
	return next
}

// cancelOnClose releases the stream's deadline timer when the caller closes
// the response side, instead of when the deadline fires.
type cancelOnClose struct {
	connect.StreamingClientConn
	cancel context.CancelFunc
}

func (c *cancelOnClose) CloseResponse() error {
	err := c.StreamingClientConn.CloseResponse()
	c.cancel()
	return err
}
