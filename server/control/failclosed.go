package control

import (
	"context"
	"errors"
	"time"

	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

// codeSharedStateUnavailable is the error code a request of a key with
// limits or a budget gets while storage.redis_url does not answer.
const codeSharedStateUnavailable = "shared_state_unavailable"

// unavailable makes a shared-state failure a 503 that says what failed:
// limits and budgets fail closed without their store, and the client (and
// its retry logic) should see "try again shortly", not an internal error.
// Domain errors (a limit or budget reached) and cancellations pass as
// they are.
func unavailable(what string, err error) error {
	var le *llm.Error
	if err == nil || errors.As(err, &le) || errors.Is(err, context.Canceled) {
		return err
	}
	return &llm.Error{Kind: llm.KindUnavailable, Code: codeSharedStateUnavailable, RetryAfter: time.Second, Err: err,
		Message: what + " are shared through storage.redis_url, which does not answer: requests of keys with limits or budgets are refused until it does"}
}

// closedLimiter is a Limiter whose store failures are unavailable errors.
type closedLimiter struct{ limits.Limiter }

func (l closedLimiter) Reserve(ctx context.Context, key string, lim limits.Limits, est int) (limits.Reservation, error) {
	r, err := l.Limiter.Reserve(ctx, key, lim, est)
	return r, unavailable("rate limits", err)
}

// closedBudgeter is a Budgeter whose store failures are unavailable errors.
type closedBudgeter struct{ budget.Budgeter }

func (b closedBudgeter) Reserve(ctx context.Context, key string, bu budget.Budget, est llm.Money) (budget.Hold, error) {
	h, err := b.Budgeter.Reserve(ctx, key, bu, est)
	return h, unavailable("budgets", err)
}
