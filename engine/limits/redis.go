package limits

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Limiter whose buckets live in Redis, so every gateway instance
// shares them. Each Reserve and each non-zero Settle is one script call (one
// round trip, EVALSHA) that refills and updates the bucket atomically. A
// bucket key expires once it would have refilled, so idle clients cost no
// memory. Time comes from the gateway's clock, so instances need roughly
// synchronised clocks (NTP); skew only shifts refill by the skew.
type Redis struct {
	rdb    redis.Scripter
	now    func() time.Time
	prefix string
}

// NewRedis returns a Limiter over rdb (a *redis.Client, ClusterClient or
// Ring; each bucket is one key, so cluster slots are no concern).
func NewRedis(rdb redis.Scripter, opts ...Option) (*Redis, error) {
	if rdb == nil {
		return nil, fmt.Errorf("limits: nil redis client")
	}
	o := buildOptions(opts)
	return &Redis{rdb: rdb, now: o.now, prefix: o.prefix}, nil
}

// Bucket hash fields: r requests left, t tokens left, ts last update (ms),
// rc/tc the capacities the levels were computed under.
// ARGV: rpm, tpm, need, now_ms. Returns {allowed, r, t, wait_ms}; levels are
// strings because Redis truncates Lua numbers to integers.
var reserveScript = redis.NewScript(`
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local need = tonumber(ARGV[3])
local now = tonumber(ARGV[4])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'ts', 'rc', 'tc')
local r, t, ts, rc, tc = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4]), tonumber(h[5])
local el = 0
if ts then el = math.max(0, now - ts) / 1000 end
local function refill(level, oldcap, cap)
  if cap <= 0 then return 0 end
  if level == nil or oldcap == nil or oldcap <= 0 then return cap end
  return math.min(cap, level + el * cap / 60)
end
r = refill(r, rc, rpm)
t = refill(t, tc, tpm)
local ok, wait = 1, 0
if rpm > 0 and r < 1 then ok = 0; wait = math.max(wait, (1 - r) * 60000 / rpm) end
if tpm > 0 and t < need then ok = 0; wait = math.max(wait, (need - t) * 60000 / tpm) end
if ok == 1 then
  if rpm > 0 then r = r - 1 end
  if tpm > 0 then t = t - need end
end
local ttl = 1000
if rpm > 0 then ttl = math.max(ttl, (rpm - r) * 60000 / rpm) end
if tpm > 0 then ttl = math.max(ttl, (tpm - t) * 60000 / tpm) end
redis.call('HSET', KEYS[1], 'r', string.format('%.6f', r), 't', string.format('%.6f', t), 'ts', now, 'rc', rpm, 'tc', tpm)
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl) + 1000)
return {ok, string.format('%.6f', r), string.format('%.6f', t), math.ceil(wait)}
`)

// ARGV: diff (tokens to give back; negative charges), now_ms. Refills under
// the stored capacities before adjusting, and refreshes the TTL since a
// charge can put the bucket further from full.
var settleScript = redis.NewScript(`
local diff = tonumber(ARGV[1])
local now = tonumber(ARGV[2])
local h = redis.call('HMGET', KEYS[1], 'r', 't', 'ts', 'rc', 'tc')
local r, t, ts, rc, tc = tonumber(h[1]), tonumber(h[2]), tonumber(h[3]), tonumber(h[4]), tonumber(h[5])
if not ts or not tc or tc <= 0 then return 0 end
local el = math.max(0, now - ts) / 1000
t = math.min(tc, math.min(tc, t + el * tc / 60) + diff)
if rc and rc > 0 then r = math.min(rc, r + el * rc / 60) end
local ttl = math.max(1000, (tc - t) * 60000 / tc)
if rc and rc > 0 then ttl = math.max(ttl, (rc - r) * 60000 / rc) end
redis.call('HSET', KEYS[1], 'r', string.format('%.6f', r or 0), 't', string.format('%.6f', t), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl) + 1000)
return 1
`)

// Reserve implements Limiter.
func (l *Redis) Reserve(ctx context.Context, key string, lim Limits, estTokens int) (Reservation, error) {
	if err := validate(key, lim, estTokens); err != nil {
		return nil, err
	}
	if lim.RPM == 0 && lim.TPM == 0 {
		return noReservation{}, nil
	}
	need := tokenNeed(lim, estTokens)
	rk := l.prefix + key
	res, err := reserveScript.Run(ctx, l.rdb, []string{rk},
		lim.RPM, lim.TPM, need, l.now().UnixMilli()).Slice()
	if err != nil {
		return nil, fmt.Errorf("limits: redis reserve: %w", err)
	}
	st, err := parseReserve(res)
	if err != nil {
		return nil, err
	}
	if !st.allowed {
		return nil, denied(key, lim, st)
	}
	return &redisReservation{l: l, rk: rk, est: need, lim: lim, st: st.status(lim)}, nil
}

func parseReserve(res []any) (bucketState, error) {
	if len(res) != 4 {
		return bucketState{}, fmt.Errorf("limits: redis reserve: unexpected reply %v", res)
	}
	ok, _ := res[0].(int64)
	rs, _ := res[1].(string)
	ts, _ := res[2].(string)
	wait, _ := res[3].(int64)
	r, err1 := strconv.ParseFloat(rs, 64)
	t, err2 := strconv.ParseFloat(ts, 64)
	if err1 != nil || err2 != nil {
		return bucketState{}, fmt.Errorf("limits: redis reserve: unexpected reply %v", res)
	}
	return bucketState{allowed: ok == 1, req: r, tok: t, wait: time.Duration(wait) * time.Millisecond}, nil
}

type redisReservation struct {
	l       *Redis
	rk      string
	est     int
	lim     Limits
	st      Status
	settled bool
}

func (r *redisReservation) Status() Status { return r.st }

func (r *redisReservation) Settle(ctx context.Context, actualTokens int) error {
	if r.settled {
		return nil
	}
	r.settled = true
	diff := r.est - max(actualTokens, 0)
	if diff == 0 || r.lim.TPM == 0 {
		return nil // the common exact-estimate case costs no round trip
	}
	if err := settleScript.Run(ctx, r.l.rdb, []string{r.rk}, diff, r.l.now().UnixMilli()).Err(); err != nil {
		return fmt.Errorf("limits: redis settle: %w", err)
	}
	return nil
}
