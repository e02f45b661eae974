package middleware

import (
	"context"
	"errors"

	"github.com/switchyard/switchyard/engine/llm"
)

// ErrShuttingDown is the cause the server cancels requests with when its
// drain deadline passes. The client is still connected then, so unlike a
// client cancellation it is answered: an in-band error event on a stream,
// Unavailable on gRPC and Connect, 503 otherwise.
var ErrShuttingDown = &llm.Error{Kind: llm.KindUnavailable, Code: "server_shutting_down",
	Message: "The gateway is shutting down and its drain deadline passed before this request finished; retry it."}

// ShuttingDown returns ErrShuttingDown when ctx ended because the drain
// deadline passed, else nil.
func ShuttingDown(ctx context.Context) error {
	if errors.Is(context.Cause(ctx), ErrShuttingDown) {
		return ErrShuttingDown
	}
	return nil
}
