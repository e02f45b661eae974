package route

import (
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
)

// targetState is a target's live health: balancer stats and its breaker.
// It outlives tables (kept in the registry by target ID), so a config
// reload or a key added through the API does not reset what was learned.
type targetState struct {
	stats   balancer.Stats
	breaker *breaker.Breaker
	streak  streak // calls failed in a row, for rules (rules.go)
	// used is when the last call (real or probe) started, unix ns; probing
	// is set while a probe runs (probe.go).
	used    atomic.Int64
	probing atomic.Bool
}

// registry holds per-target and per-route state across table rebuilds. It
// is touched only while building a table, never on the request path.
type registry struct {
	mu      sync.Mutex
	cfg     breaker.Config
	now     func() time.Time
	targets map[string]*targetState
	routes  map[string]*latencyWindow
}

func newRegistry(cfg breaker.Config, now func() time.Time) *registry {
	return &registry{cfg: cfg, now: now, targets: map[string]*targetState{}, routes: map[string]*latencyWindow{}}
}

func (r *registry) state(id string) *targetState {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.targets[id]
	if !ok {
		s = &targetState{breaker: breaker.New(r.cfg, breaker.WithClock(r.now))}
		r.targets[id] = s
	}
	return s
}

func (r *registry) latency(route string) *latencyWindow {
	r.mu.Lock()
	defer r.mu.Unlock()
	w, ok := r.routes[route]
	if !ok {
		w = &latencyWindow{}
		r.routes[route] = w
	}
	return w
}

// latencyWindow keeps a route's last 256 latencies and, every 32
// observations, their p95, for hedging's default delay.
type latencyWindow struct {
	ms  [256]atomic.Uint32
	n   atomic.Uint64
	p95 atomic.Int64 // ns; 0 = unknown
}

func (w *latencyWindow) observe(d time.Duration) {
	n := w.n.Add(1)
	w.ms[n%uint64(len(w.ms))].Store(uint32(min(d.Milliseconds(), 1<<31)))
	if n%32 != 0 || n < 64 {
		return
	}
	var buf [256]uint32
	k := min(int(n), len(buf))
	for i := 0; i < k; i++ {
		buf[i] = w.ms[i].Load()
	}
	s := buf[:k]
	slices.Sort(s)
	w.p95.Store(int64(s[k*95/100]) * int64(time.Millisecond))
}

// P95 is the observed p95 latency, or 0 before enough calls.
func (w *latencyWindow) P95() time.Duration { return time.Duration(w.p95.Load()) }
