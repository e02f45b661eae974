// Package limits enforces per-client request (RPM) and token (TPM) rate
// limits with token buckets, in process or shared through Redis.
//
// A request reserves one request and its estimated tokens up front; once
// the real usage is known, Reservation.Settle returns or charges the
// difference. Both buckets refill continuously (capacity per minute), so a
// client at its limit gets capacity back a little at a time rather than in
// a burst at the top of each minute.
package limits

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Limits are one client's allowances. Zero means unlimited.
type Limits struct {
	RPM int // requests per minute
	TPM int // tokens per minute
}

// Limiter reserves capacity for one request.
type Limiter interface {
	// Reserve takes one request and estTokens tokens from key's buckets.
	// A denial is an *llm.Error of KindRateLimited whose RetryAfter says
	// when the request would fit; StatusOf(err) gives the header values.
	Reserve(ctx context.Context, key string, lim Limits, estTokens int) (Reservation, error)
}

// Reservation is capacity taken by an allowed request.
type Reservation interface {
	// Status is the state of the buckets right after the reservation,
	// for the x-ratelimit-* response headers.
	Status() Status
	// Settle charges actualTokens instead of the estimate: the difference
	// goes back to (or comes out of) the token bucket. Settle once; later
	// calls do nothing.
	Settle(ctx context.Context, actualTokens int) error
}

// Status is what the OpenAI-style x-ratelimit-* headers report. A limit of
// zero means that dimension is unlimited and has no headers.
type Status struct {
	LimitRequests     int
	RemainingRequests int
	// ResetRequests is how long until the request bucket is full again.
	ResetRequests   time.Duration
	LimitTokens     int
	RemainingTokens int
	ResetTokens     time.Duration
}

// Header names, as OpenAI sends them.
const (
	HeaderLimitRequests     = "x-ratelimit-limit-requests"
	HeaderRemainingRequests = "x-ratelimit-remaining-requests"
	HeaderResetRequests     = "x-ratelimit-reset-requests"
	HeaderLimitTokens       = "x-ratelimit-limit-tokens"
	HeaderRemainingTokens   = "x-ratelimit-remaining-tokens"
	HeaderResetTokens       = "x-ratelimit-reset-tokens"
)

// Headers calls set for each x-ratelimit-* header. It takes a func rather
// than a header map so the engine stays free of net/http; pass
// w.Header().Set or a gRPC metadata setter.
func (s Status) Headers(set func(name, value string)) {
	if s.LimitRequests > 0 {
		set(HeaderLimitRequests, strconv.Itoa(s.LimitRequests))
		set(HeaderRemainingRequests, strconv.Itoa(max(s.RemainingRequests, 0)))
		set(HeaderResetRequests, formatReset(s.ResetRequests))
	}
	if s.LimitTokens > 0 {
		set(HeaderLimitTokens, strconv.Itoa(s.LimitTokens))
		set(HeaderRemainingTokens, strconv.Itoa(max(s.RemainingTokens, 0)))
		set(HeaderResetTokens, formatReset(s.ResetTokens))
	}
}

// formatReset writes durations the way OpenAI does ("1s", "6m0s", "20ms"):
// rounded up to the millisecond so a client never retries early.
func formatReset(d time.Duration) string {
	if d <= 0 {
		return "0s"
	}
	return ((d + time.Millisecond - 1) / time.Millisecond * time.Millisecond).String()
}

// Denial rides inside the *llm.Error of a denied Reserve.
type Denial struct {
	Status Status
}

func (d *Denial) Error() string { return "rate limited" }

// StatusOf returns the bucket state carried by a denial from Reserve.
func StatusOf(err error) (Status, bool) {
	var d *Denial
	if errors.As(err, &d) {
		return d.Status, true
	}
	return Status{}, false
}

// bucketState is the outcome of one reserve, shared by both backends.
type bucketState struct {
	allowed bool
	req     float64 // requests left after the reserve
	tok     float64 // tokens left after the reserve
	wait    time.Duration
}

func (b bucketState) status(lim Limits) Status {
	return Status{
		LimitRequests:     lim.RPM,
		RemainingRequests: int(math.Floor(b.req)),
		ResetRequests:     timeToFull(b.req, lim.RPM),
		LimitTokens:       lim.TPM,
		RemainingTokens:   int(math.Floor(b.tok)),
		ResetTokens:       timeToFull(b.tok, lim.TPM),
	}
}

// timeToFull is how long a bucket at level takes to refill to perMinute.
func timeToFull(level float64, perMinute int) time.Duration {
	if perMinute <= 0 || level >= float64(perMinute) {
		return 0
	}
	return time.Duration((float64(perMinute) - level) / float64(perMinute) * float64(time.Minute))
}

func denied(key string, lim Limits, b bucketState) error {
	st := b.status(lim)
	var what string
	switch {
	case lim.RPM > 0 && b.req < 1:
		what = fmt.Sprintf("requests per minute (limit %d)", lim.RPM)
	default:
		what = fmt.Sprintf("tokens per minute (limit %d, remaining %d)", lim.TPM, max(st.RemainingTokens, 0))
	}
	retry := b.wait
	if retry < time.Millisecond {
		retry = time.Millisecond
	}
	return &llm.Error{
		Kind:       llm.KindRateLimited,
		Code:       "rate_limit_exceeded",
		Message:    fmt.Sprintf("rate limit reached for %s; try again in %s", what, formatReset(retry)),
		RetryAfter: retry,
		Err:        &Denial{Status: st},
	}
}

func validate(key string, lim Limits, estTokens int) error {
	if key == "" {
		return llm.Errorf(llm.KindInternal, "limits: empty key")
	}
	if lim.RPM < 0 || lim.TPM < 0 || estTokens < 0 {
		return llm.Errorf(llm.KindInternal, "limits: negative limit or estimate")
	}
	return nil
}

// tokenNeed caps the estimate at the bucket size: a request larger than the
// whole per-minute allowance waits for a full bucket instead of never
// fitting.
func tokenNeed(lim Limits, estTokens int) int {
	if lim.TPM > 0 && estTokens > lim.TPM {
		return lim.TPM
	}
	return estTokens
}
