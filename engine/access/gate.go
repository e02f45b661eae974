package access

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

// Estimate is the most a request can take, known before it runs.
type Estimate struct {
	Route        string
	PromptTokens int
	// MaxOutputTokens is max_tokens, or a default cap when the request
	// sets none.
	MaxOutputTokens int
	// MaxCost prices PromptTokens and MaxOutputTokens at the priciest
	// target the route may use (fallbacks included).
	MaxCost llm.Money
}

// Estimator sizes a request (the routing table implements it).
type Estimator interface {
	Estimate(req *llm.ChatRequest) (Estimate, error)
}

// Gate admits requests: policy checks, then a rate-limit reservation, then
// a budget hold. Either store may be in process or shared through Redis.
type Gate struct {
	est Estimator
	lim limits.Limiter
	bud budget.Budgeter
}

// NewGate returns a gate. All three are required.
func NewGate(est Estimator, lim limits.Limiter, bud budget.Budgeter) (*Gate, error) {
	if est == nil || lim == nil || bud == nil {
		return nil, errors.New("access: NewGate needs an estimator, a limiter and a budgeter")
	}
	return &Gate{est: est, lim: lim, bud: bud}, nil
}

// Ticket is an admitted request's reservations. A nil *Ticket (a key with
// nothing to enforce) is valid and does nothing.
type Ticket struct {
	res  limits.Reservation
	hold budget.Hold
	est  Estimate
	// settled makes Settle once-only whoever calls it: a hold charged twice
	// would bill a request twice.
	settled atomic.Bool
}

// Admit checks k's policy for req and reserves its allowances. Denials are
// *llm.Error: KindPermissionDenied for policy, KindRateLimited (codes
// rate_limit_exceeded, budget_exceeded) with RetryAfter for allowances;
// limits.StatusOf(err) gives the x-ratelimit-* values of a rate denial.
// k == nil (no authentication) admits everything.
func (g *Gate) Admit(ctx context.Context, k *Key, req *llm.ChatRequest) (*Ticket, error) {
	if k == nil || !k.restricted() {
		return nil, nil
	}
	e, err := g.est.Estimate(req)
	if err != nil {
		return nil, err
	}
	if err := k.allows(req.Model, e.Route); err != nil {
		return nil, err
	}
	t := &Ticket{est: e}
	if k.Limits.RPM > 0 || k.Limits.TPM > 0 {
		if t.res, err = g.lim.Reserve(ctx, k.ID, k.Limits, e.PromptTokens+e.MaxOutputTokens); err != nil {
			return nil, err
		}
	}
	if k.Budget != nil {
		if t.hold, err = g.bud.Reserve(ctx, k.ID, *k.Budget, e.MaxCost); err != nil {
			// The request was refused: it still counts as one request, but
			// its tokens go back.
			if t.res != nil {
				_ = t.res.Settle(context.WithoutCancel(ctx), 0)
			}
			return nil, err
		}
	}
	return t, nil
}

// Status is the rate-limit state after the reservation (zero without
// limits), for the x-ratelimit-* headers.
func (t *Ticket) Status() limits.Status {
	if t == nil || t.res == nil {
		return limits.Status{}
	}
	return t.res.Status()
}

// settleTimeout bounds a settle against Redis after the request's own
// context has ended (settles must not be lost to a client hanging up).
const settleTimeout = 2 * time.Second

// Settle charges what the request really used: tokens to the token bucket
// and cost to the budget. A failed request settles with zero usage and
// cost. Call once; later calls do nothing.
func (t *Ticket) Settle(ctx context.Context, u llm.Usage, cost llm.Money) error {
	if t == nil || !t.settled.CompareAndSwap(false, true) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	var errs []error
	if t.res != nil {
		errs = append(errs, t.res.Settle(ctx, u.PromptTokens+u.CompletionTokens))
	}
	if t.hold != nil {
		errs = append(errs, t.hold.Settle(ctx, max(cost, 0)))
	}
	return errors.Join(errs...)
}
