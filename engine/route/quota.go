package route

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
)

// Quota is what a provider key's subscription allows: requests and tokens
// per minute (0 = not declared). Headroom is the share of it ordinary
// routing uses (default 0.8); the rest is a reserve drawn on only when
// every key a request could use is at its headroom, so a pool running hot
// spreads over every key before any of them meets the provider's 429.
type Quota struct {
	RPM, TPM int
	Headroom float64
}

// DefaultHeadroom is the seed's "ceiling at 80% of the subscribed rate".
const DefaultHeadroom = 0.8

// On reports whether q declares anything.
func (q Quota) On() bool { return q.RPM > 0 || q.TPM > 0 }

// split is the key's two buckets: what routing uses first, and the reserve.
// A dimension whose share rounds to zero is given one unit, so a small
// quota still has both tiers; the sum never exceeds the declared limit.
func (q Quota) split() (main, reserve limits.Limits) {
	h := q.Headroom
	if !(h > 0 && h <= 1) {
		h = DefaultHeadroom
	}
	part := func(n int) (int, int) {
		if n <= 0 {
			return 0, 0
		}
		m := max(int(float64(n)*h), 1)
		return m, n - m
	}
	main.RPM, reserve.RPM = part(q.RPM)
	main.TPM, reserve.TPM = part(q.TPM)
	return main, reserve
}

// QuotaMeter meters provider keys against their quotas: limits.Memory in
// process, limits.Redis when replicas share the keys (a provider counts a
// key's use from every replica).
type QuotaMeter interface {
	Reserve(ctx context.Context, key string, lim limits.Limits, estTokens int) (limits.Reservation, error)
}

// quotaMeter holds the meter in force and counts what it did; SetQuotaMeter
// swaps it while requests run.
type quotaMeter struct {
	m        atomic.Pointer[QuotaMeter]
	reserve  atomic.Uint64 // picks that drew on a key's reserve
	refused  atomic.Uint64 // requests refused because every key was at its quota
	failOpen atomic.Uint64 // meter errors (Redis down): the call went ahead
}

// SetQuotaMeter replaces the meter of provider-key quotas (main moves it
// to Redis once storage is open).
func (r *Router) SetQuotaMeter(m QuotaMeter) { r.quota.m.Store(&m) }

// QuotaStats are the counters of quota-aware routing, for metrics.
type QuotaStats struct {
	ReservePicks, Refused, MeterErrors uint64
}

// QuotaStats reports quota-aware routing since the router started.
func (r *Router) QuotaStats() QuotaStats {
	return QuotaStats{ReservePicks: r.quota.reserve.Load(), Refused: r.quota.refused.Load(), MeterErrors: r.quota.failOpen.Load()}
}

// Quota tiers a pick walks through.
const (
	tierMain = iota
	tierReserve
	tiers
)

// quotaTiers is a key's quota as the meter sees it: per tier, the bucket's
// meter key and limits, derived once when the table is built.
type quotaTiers [tiers]struct {
	key string
	lim limits.Limits
}

// newQuotaTiers names key's buckets (provider/key id, and that plus
// "#reserve"); nil when q declares nothing.
func newQuotaTiers(key string, q Quota) *quotaTiers {
	if !q.On() {
		return nil
	}
	t := &quotaTiers{}
	t[tierMain].key, t[tierReserve].key = key, key+"#reserve"
	t[tierMain].lim, t[tierReserve].lim = q.split()
	return t
}

// takeQuota charges one request and its estimated tokens to tg's key in
// tier, reporting whether the key had room there. When it had not, wait is
// how long until it would. A meter that fails lets the call through: the
// provider still enforces its own limit, and a 429 from it is handled as
// ever.
func (r *Router) takeQuota(ctx context.Context, a *attempt, tg *Target, tier int) (ok bool, wait time.Duration) {
	mp := r.quota.m.Load()
	if mp == nil {
		return true, 0
	}
	b := &tg.quota[tier]
	if b.lim == (limits.Limits{}) {
		return false, 0 // a quota too small to leave a reserve
	}
	_, err := (*mp).Reserve(ctx, b.key, b.lim, a.breq.Tokens+a.breq.OutTokens)
	if err == nil {
		if tier == tierReserve {
			r.quota.reserve.Add(1)
		}
		return true, 0
	}
	if e := (*llm.Error)(nil); errors.As(err, &e) && e.Kind == llm.KindRateLimited {
		return false, e.RetryAfter
	}
	r.quota.failOpen.Add(1)
	return true, 0
}

// quotaRefusal is the answer when every key a request could use is at its
// declared quota: the gateway answers the 429 the provider would have, at
// once and without spending the keys' standing with it.
func quotaRefusal(a *attempt, wait time.Duration) error {
	return &llm.Error{Kind: llm.KindRateLimited, RetryAfter: wait, Code: "provider_quota_exhausted", Err: errQuotaExhausted,
		Message: fmt.Sprintf("every provider key of '%s' is at its declared quota; retry after %v", a.rt.Name, max(wait, time.Second).Round(time.Second))}
}

// errQuotaExhausted marks quotaRefusal's error, which run returns at once.
var errQuotaExhausted = errors.New("route: every provider key at its declared quota")
