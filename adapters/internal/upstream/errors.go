package upstream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// plainMessageBytes is how much of an unrecognized error body becomes the
// message.
const plainMessageBytes = 512

// TransportError classifies a failure to get or read an answer: the
// caller's own cancellation is returned as the ctx error (so it is not
// mistaken for an upstream failure), anything else is a connection failure
// (Status 0, retryable).
func (c *Client) TransportError(ctx context.Context, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("%s: %w", c.name, ctxErr)
	}
	return &llm.UpstreamError{Provider: c.name, Err: err}
}

// BadBody reports a 2xx answer the adapter could not decode. A decoder may
// return its own *llm.UpstreamError (an error document inside a 200, a
// message of its choosing); it gets the provider name, and the HTTP status
// when it has none.
func (c *Client) BadBody(status int, err error) error {
	var ue *llm.UpstreamError
	if errors.As(err, &ue) {
		ue.Provider = c.name
		if ue.Status == 0 {
			ue.Status = status
		}
		return ue
	}
	return &llm.UpstreamError{Provider: c.name, Status: status,
		Message: "invalid response body: " + err.Error(), Err: err}
}

func (c *Client) tooLarge(status int, err error) error {
	return &llm.UpstreamError{Provider: c.name, Status: status,
		Message: "response body too large", Err: err}
}

func (c *Client) plainStatusError(status int, _ http.Header, body []byte) error {
	return &llm.UpstreamError{Provider: c.name, Status: status, Message: PlainMessage(status, body)}
}

// PlainMessage is the message of an error body in no format the provider
// documents (a proxy's HTML page, a bare string): its first 512 bytes,
// trimmed, or the status text when empty.
func PlainMessage(status int, body []byte) string {
	msg := strings.TrimSpace(string(body))
	if len(msg) > plainMessageBytes {
		msg = msg[:plainMessageBytes]
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return msg
}
