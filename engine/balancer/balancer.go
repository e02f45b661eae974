// Package balancer holds the Picker seam and the per-target live statistics
// every policy reads. One sub-package per policy implements Picker over an
// immutable snapshot of targets: chash, leastconn, hybrid, weighted, priority.
//
// A Picker never blocks and takes no shared lock: it reads its snapshot and
// the targets' atomic Stats. The router reports each outcome back through
// Stats.Begin and Stats.Done, which is how in-flight counts, latency and
// error rates reach the pickers.
package balancer

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// MaxTargets bounds a snapshot so the exclusion set fits one machine word.
const MaxTargets = 64

// ErrNoTarget is returned when every target is excluded.
var ErrNoTarget = errors.New("balancer: no available target")

// ErrInvalidSnapshot wraps every reason a policy's New rejects its targets.
var ErrInvalidSnapshot = errors.New("balancer: invalid snapshot")

// MaxWeight caps a target's weight so weight arithmetic in the policies
// (ring sizes, cycle lengths, in-flight × weight products) cannot overflow.
const MaxWeight = 1 << 20

// Snapshot checks the arguments every policy's New takes and returns a copy
// of targets with weights defaulted (0 → 1) and capped at MaxWeight, so a
// caller reusing its slice cannot change a built picker. Duplicate IDs are
// allowed: a route may list the same target twice, sharing its Stats.
func Snapshot(targets []Target, stats []*Stats) ([]Target, error) {
	switch {
	case len(targets) == 0:
		return nil, fmt.Errorf("%w: no targets", ErrInvalidSnapshot)
	case len(targets) > MaxTargets:
		return nil, fmt.Errorf("%w: %d targets, at most %d", ErrInvalidSnapshot, len(targets), MaxTargets)
	case len(stats) != len(targets):
		return nil, fmt.Errorf("%w: %d targets but %d stats", ErrInvalidSnapshot, len(targets), len(stats))
	}
	out := make([]Target, len(targets))
	for i, t := range targets {
		switch {
		case stats[i] == nil:
			return nil, fmt.Errorf("%w: target %q has nil stats", ErrInvalidSnapshot, t.ID)
		case t.Weight < 0:
			return nil, fmt.Errorf("%w: target %q has negative weight %d", ErrInvalidSnapshot, t.ID, t.Weight)
		case !(t.Quality >= 0 && t.Quality <= 1):
			return nil, fmt.Errorf("%w: target %q has quality %v outside [0,1]", ErrInvalidSnapshot, t.ID, t.Quality)
		case !(t.InputPrice >= 0) || !(t.OutputPrice >= 0) || math.IsInf(t.InputPrice, 0) || math.IsInf(t.OutputPrice, 0):
			return nil, fmt.Errorf("%w: target %q has an invalid price", ErrInvalidSnapshot, t.ID)
		}
		t.Weight = min(max(t.Weight, 1), MaxWeight)
		out[i] = t
	}
	return out, nil
}

// Mask is a set of target indexes.
type Mask uint64

// Has reports whether i is in the set.
func (m Mask) Has(i int) bool { return m&(1<<uint(i)) != 0 }

// With returns the set plus i.
func (m Mask) With(i int) Mask { return m | 1<<uint(i) }

// Target is one candidate as pickers see it. Immutable in a snapshot.
type Target struct {
	ID       string
	Weight   int     // > 0; 1 when unset
	Priority int     // lower is preferred
	Quality  float64 // configured quality score in [0,1]
	// Prices in USD per 1M tokens, for the hybrid cost term.
	InputPrice  float64
	OutputPrice float64
}

// Request is what a pick may depend on. Pickers never see the message.
type Request struct {
	// Key is the affinity hash (session key, user, or prompt hash); used by
	// consistent hashing.
	Key uint64
	// Tokens is the estimated prompt size; OutTokens the expected answer
	// size (max_tokens or a default). Used by the hybrid cost term.
	Tokens    int
	OutTokens int
	// Exclude lists targets that must not be picked: tried already, breaker
	// open, or cooling after a 429.
	Exclude Mask
	// Now is the request's start time; stats decay against it.
	Now time.Time
}

// Picker picks a target index from its snapshot. It must not block, must
// be safe for concurrent use and should not allocate.
type Picker interface {
	Pick(r *Request) (int, error)
}

// Scorer is implemented by pickers whose decision has scores worth showing
// (hybrid): it writes each target's score, by target ID, into dst.
type Scorer interface {
	Scores(r *Request, dst map[string]float64)
}

// DoneInfo is the outcome of one call to a target.
type DoneInfo struct {
	Latency time.Duration // whole call, or until the stream ended
	TTFT    time.Duration // time to first token; 0 when unknown
	Failed  bool          // counts toward the error rate
}

// Stats is one target's live state, shared by every picker and snapshot
// that includes the target (it survives table rebuilds, keyed by target ID).
type Stats struct {
	inflight atomic.Int64
	latency  ewma // ms, peak-sensitive
	ttft     ewma // ms
	errs     ewma // 0 or 1 per call
	calls    atomic.Int64
}

// Tau is the EWMA time constant: an observation's weight halves about every
// Tau·ln2. Stale values decay toward zero over the same scale, so a target
// that was slow or failing long ago is tried again.
const Tau = 10 * time.Second

// Begin records a call starting.
func (s *Stats) Begin() { s.inflight.Add(1) }

// Done records a call's outcome (pair with Begin).
func (s *Stats) Done(now time.Time, d DoneInfo) {
	s.inflight.Add(-1)
	s.calls.Add(1)
	ns := now.UnixNano()
	if d.Latency > 0 {
		s.latency.observe(ns, float64(d.Latency)/1e6, true)
	}
	if d.TTFT > 0 {
		s.ttft.observe(ns, float64(d.TTFT)/1e6, true)
	}
	f := 0.0
	if d.Failed {
		f = 1
	}
	s.errs.observe(ns, f, false)
}

// InFlight is the number of calls running now.
func (s *Stats) InFlight() int64 { return s.inflight.Load() }

// Calls is the number of finished calls.
func (s *Stats) Calls() int64 { return s.calls.Load() }

// LatencyMs is the decayed peak-EWMA latency in milliseconds (0 before any call).
func (s *Stats) LatencyMs(now time.Time) float64 { return s.latency.value(now.UnixNano()) }

// TTFTMs is the decayed EWMA time to first token in milliseconds.
func (s *Stats) TTFTMs(now time.Time) float64 { return s.ttft.value(now.UnixNano()) }

// ErrorRate is the decayed EWMA failure ratio in [0,1].
func (s *Stats) ErrorRate(now time.Time) float64 { return s.errs.value(now.UnixNano()) }

// ewma is a lock-free exponentially weighted moving average over time.
// State is packed in two atomics; a racing update may lose one observation,
// which a moving average tolerates.
type ewma struct {
	bits atomic.Uint64 // float64 value
	at   atomic.Int64  // unix ns of the last observation; 0 = none
}

func (e *ewma) observe(now int64, v float64, peak bool) {
	last := e.at.Load()
	if last == 0 {
		e.bits.Store(math.Float64bits(v))
		e.at.Store(now)
		return
	}
	old := math.Float64frombits(e.bits.Load())
	// Peak-EWMA (Finagle): a slower observation is taken at once, so a
	// target that turns slow is avoided immediately; recovery is gradual.
	if peak && v > old {
		e.bits.Store(math.Float64bits(v))
		e.at.Store(now)
		return
	}
	dt := float64(now - last)
	if dt < 0 {
		dt = 0
	}
	w := math.Exp(-dt / float64(Tau))
	e.bits.Store(math.Float64bits(old*w + v*(1-w)))
	e.at.Store(now)
}

// value decays the stored value toward zero as it goes stale, so a target
// that was slow or failing long ago gets traffic again and can prove itself.
func (e *ewma) value(now int64) float64 {
	last := e.at.Load()
	if last == 0 {
		return 0
	}
	v := math.Float64frombits(e.bits.Load())
	dt := float64(now - last)
	if dt <= float64(Tau) {
		return v
	}
	return v * math.Exp(-(dt-float64(Tau))/float64(Tau))
}
