package fakeupstream

import (
	"net/http"
	"sync"
	"time"
)

// keyQuotas enforces Options.KeyRPM the way providers document their rate
// limits: a bucket of rpm requests per key, refilled continuously (rpm per
// minute), on the server's clock so a test can run minutes in a moment.
type keyQuotas struct {
	mu      sync.Mutex
	rpm     map[string]int
	buckets map[string]*rpmBucket
	limited map[string]int
}

type rpmBucket struct {
	level float64
	last  time.Time
}

func newKeyQuotas(rpm map[string]int) *keyQuotas {
	if len(rpm) == 0 {
		return nil
	}
	q := &keyQuotas{rpm: map[string]int{}, buckets: map[string]*rpmBucket{}, limited: map[string]int{}}
	for k, n := range rpm {
		if n > 0 {
			q.rpm[k] = n
		}
	}
	return q
}

// take charges one request to key, or reports how long until one fits.
func (q *keyQuotas) take(key string, now time.Time) (ok bool, wait time.Duration) {
	if q == nil {
		return true, 0
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	rpm, limited := q.rpm[key]
	if !limited {
		return true, 0
	}
	b := q.buckets[key]
	if b == nil {
		b = &rpmBucket{level: float64(rpm), last: now}
		q.buckets[key] = b
	}
	if d := now.Sub(b.last); d > 0 {
		b.level = min(float64(rpm), b.level+d.Minutes()*float64(rpm))
		b.last = now
	}
	if b.level < 1 {
		q.limited[key]++
		return false, time.Duration((1 - b.level) / float64(rpm) * float64(time.Minute))
	}
	b.level--
	return true, 0
}

func (q *keyQuotas) reset() {
	if q == nil {
		return
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.buckets)
	clear(q.limited)
}

// RateLimited reports how many requests each key had refused with a 429
// for going over its Options.KeyRPM, since the start or the last reset.
func (s *Server) RateLimited() map[string]int {
	out := map[string]int{}
	if s.quotas == nil {
		return out
	}
	s.quotas.mu.Lock()
	defer s.quotas.mu.Unlock()
	for k, n := range s.quotas.limited {
		out[k] = n
	}
	return out
}

// overQuota answers a key over its RPM with the provider's 429 and
// Retry-After, reporting whether it did.
func (s *Server) overQuota(w http.ResponseWriter, format, key string) bool {
	ok, wait := s.quotas.take(key, s.now())
	if ok {
		return false
	}
	typ := "" // each API's own type for a 429, except OpenAI's, which names the limit
	if format == fmtOpenAI {
		typ = "requests"
	}
	s.writeError(w, format, apiError{status: http.StatusTooManyRequests, code: "rate_limit_exceeded", typ: typ,
		message: "Rate limit reached for requests per minute on this key.", retryAfter: max(wait, time.Second)})
	return true
}
