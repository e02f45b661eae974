package budget

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/engine/llm"
)

// Redis is a Budgeter shared by every gateway instance. Each account is a
// hash {spent, held} in nano-dollars under prefix+key+":dn:YYYYMMDD" (or
// ":mn:YYYYMM"; the "n" keeps them apart from the micro-dollar accounts of
// earlier versions, which are ignored); reserve and settle are one Lua script call each, so the
// check-and-hold is atomic across instances. Keys expire one full period
// after their own ends, long enough for late settles and reporting.
type Redis struct {
	rdb Client
	o   options
}

// Client is what Redis needs of a go-redis client; *redis.Client,
// *redis.ClusterClient and *redis.Ring satisfy it.
type Client interface {
	redis.Scripter
	HGet(ctx context.Context, key, field string) *redis.StringCmd
}

// NewRedis returns a Budgeter over rdb (a *redis.Client, ClusterClient or
// Ring; each script touches one key).
func NewRedis(rdb Client, opts ...Option) (*Redis, error) {
	if rdb == nil {
		return nil, errors.New("budget: nil redis client")
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Redis{rdb: rdb, o: o}, nil
}

// ARGV: estimate, limit, time to live (ms). Returns {ok, spent, held}.
// The TTL is relative: the period's end comes from the gateway's clock,
// which need not agree with Redis's (an injected test clock, or skew), and
// an absolute PEXPIREAT would let Redis drop a live account at once.
var reserveScript = redis.NewScript(`
local est = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'spent', 'held')
local spent = tonumber(h[1]) or 0
local held = tonumber(h[2]) or 0
if spent + held >= limit then return {0, spent, held} end
held = redis.call('HINCRBY', KEYS[1], 'held', est)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {1, spent, held}
`)

// ARGV: estimate held, actual, time to live (ms). Returns {before, after}
// spend so the caller can detect threshold crossings exactly once.
var settleScript = redis.NewScript(`
local est = tonumber(ARGV[1])
local actual = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'spent', 'held')
local spent = tonumber(h[1]) or 0
local held = tonumber(h[2]) or 0
redis.call('HSET', KEYS[1], 'held', math.max(held - est, 0))
local after = redis.call('HINCRBY', KEYS[1], 'spent', actual)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {spent, after}
`)

func (r *Redis) accountKey(key string, p Period, w window) string {
	tag := "dn"
	if p == Monthly {
		tag = "mn"
	}
	return r.o.prefix + key + ":" + tag + ":" + strconv.Itoa(w.id)
}

// ttlMillis keeps an account one period past its end, measured from now
// on the gateway's clock; at least one second so a late settle still finds
// its account.
func ttlMillis(p Period, w window, now time.Time) int64 {
	end := w.end.Add(24 * time.Hour)
	if p == Monthly {
		end = w.end.AddDate(0, 1, 0)
	}
	return max(end.Sub(now).Milliseconds(), 1000)
}

// Reserve implements Budgeter.
func (r *Redis) Reserve(ctx context.Context, key string, b Budget, estimate llm.Money) (Hold, error) {
	if err := validate(key, b, estimate); err != nil {
		return nil, err
	}
	now := r.o.now()
	w := windowOf(b.Period, now)
	est, limit := estimate, b.Limit
	rk := r.accountKey(key, b.Period, w)
	res, err := reserveScript.Run(ctx, r.rdb, []string{rk}, int64(est), int64(limit), ttlMillis(b.Period, w, now)).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("budget: redis reserve: %w", err)
	}
	if len(res) != 3 {
		return nil, fmt.Errorf("budget: redis reserve: unexpected reply %v", res)
	}
	if res[0] != 1 {
		return nil, exceeded(b, w, now, llm.Money(res[1]), llm.Money(res[2]), est)
	}
	return &redisHold{r: r, rk: rk, key: key, b: b, w: w, est: est, limit: limit}, nil
}

// Spent implements Budgeter.
func (r *Redis) Spent(ctx context.Context, key string, p Period) (llm.Money, error) {
	v, err := r.rdb.HGet(ctx, r.accountKey(key, p, windowOf(p, r.o.now())), "spent").Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("budget: redis spent: %w", err)
	}
	return llm.Money(v), nil
}

type redisHold struct {
	r       *Redis
	rk, key string
	b       Budget
	w       window
	est     llm.Money
	limit   llm.Money
	settled bool
}

func (h *redisHold) Settle(ctx context.Context, actual llm.Money) error {
	if h.settled {
		return nil
	}
	h.settled = true
	actual = max(actual, 0)
	res, err := settleScript.Run(ctx, h.r.rdb, []string{h.rk}, int64(h.est), int64(actual), ttlMillis(h.b.Period, h.w, h.r.o.now())).Int64Slice()
	if err != nil {
		return fmt.Errorf("budget: redis settle: %w", err)
	}
	if len(res) != 2 {
		return fmt.Errorf("budget: redis settle: unexpected reply %v", res)
	}
	if h.r.o.onCross != nil {
		for _, f := range crossed(h.r.o.thresholds, h.limit, llm.Money(res[0]), llm.Money(res[1])) {
			h.r.o.onCross(h.key, h.b, f, llm.Money(res[1]))
		}
	}
	return nil
}
