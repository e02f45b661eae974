package llm

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestKindOfClassifiesWrappedErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want Kind
	}{
		{"domain error", InvalidParam("model", "missing"), KindInvalidRequest},
		{"wrapped domain error", fmt.Errorf("ctx: %w", Errorf(KindRateLimited, "slow down")), KindRateLimited},
		{"upstream 429", &UpstreamError{Status: 429}, KindRateLimited},
		{"upstream 400", &UpstreamError{Status: 400}, KindInvalidRequest},
		{"upstream 404", &UpstreamError{Status: 404}, KindNotFound},
		{"upstream 504", &UpstreamError{Status: 504}, KindTimeout},
		{"upstream 500", &UpstreamError{Status: 500}, KindUnavailable},
		{"upstream 401 is our key, not the client's", &UpstreamError{Status: 401}, KindUnavailable},
		{"connection error", &UpstreamError{Err: errors.New("reset")}, KindUnavailable},
		{"unknown model", fmt.Errorf("x: %w", ErrUnknownModel), KindNotFound},
		{"no healthy target", ErrNoHealthyTarget, KindUnavailable},
		{"deadline", context.DeadlineExceeded, KindTimeout},
		{"canceled", context.Canceled, KindCanceled},
		{"anything else", errors.New("boom"), KindInternal},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := KindOf(tc.err); got != tc.want {
				t.Fatalf("KindOf = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestUpstreamRetryable(t *testing.T) {
	for status, want := range map[int]bool{0: true, 429: true, 500: true, 502: true, 503: true, 504: true, 400: false, 401: true, 403: true, 404: false, 422: false} {
		if got := (&UpstreamError{Status: status}).Retryable(); got != want {
			t.Errorf("status %d: retryable %v, want %v", status, got, want)
		}
	}
}

func TestRetryAfterSecondsRoundsUp(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{&UpstreamError{Status: 429, RetryAfter: 1500 * time.Millisecond}, 2},
		{fmt.Errorf("w: %w", &Error{Kind: KindRateLimited, RetryAfter: 2 * time.Second}), 2},
		{errors.New("x"), 0},
	}
	for _, tc := range cases {
		if got := RetryAfterSeconds(tc.err); got != tc.want {
			t.Errorf("%v: %d, want %d", tc.err, got, tc.want)
		}
	}
}
