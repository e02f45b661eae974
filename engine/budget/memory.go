package budget

import (
	"context"
	"sync"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Memory is the in-process Budgeter. One mutex guards all accounts: a
// reserve or settle is a map lookup and two additions, far below the cost
// of the request it guards. Accounts of ended periods with nothing held are
// dropped when the period changes, so memory tracks the active keys.
type Memory struct {
	o options

	mu        sync.Mutex
	accounts  map[acctKey]*account
	lastSweep map[Period]int // window id seen last, per period
}

type acctKey struct {
	key    string
	period Period
	window int
}

type account struct {
	spent, held llm.Money
	end         time.Time
}

// NewMemory returns an in-process Budgeter. It starts no goroutines.
func NewMemory(opts ...Option) (*Memory, error) {
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Memory{o: o, accounts: make(map[acctKey]*account), lastSweep: make(map[Period]int)}, nil
}

// Reserve implements Budgeter.
func (m *Memory) Reserve(ctx context.Context, key string, b Budget, estimate llm.Money) (Hold, error) {
	if err := validate(key, b, estimate); err != nil {
		return nil, err
	}
	now := m.o.now()
	w := windowOf(b.Period, now)
	est, limit := estimate, b.Limit
	ak := acctKey{key, b.Period, w.id}

	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lastSweep[b.Period] != w.id {
		m.sweepLocked(now)
		m.lastSweep[b.Period] = w.id
	}
	a := m.accounts[ak]
	if a == nil {
		var seeded llm.Money
		if m.o.seed != nil {
			// The seed is a query (the ledger): run it unlocked. Two first
			// requests may both query; the first to come back creates the
			// account and the other uses it.
			m.mu.Unlock()
			spent, err := m.o.seed(ctx, key, w.start(b.Period))
			m.mu.Lock()
			if err != nil {
				return nil, llm.Errorf(llm.KindUnavailable, "budget: reading what %s spent this %s: %v", key, b.Period, err)
			}
			seeded = max(spent, 0)
		}
		if a = m.accounts[ak]; a == nil {
			a = &account{end: w.end, spent: seeded}
			m.accounts[ak] = a
		}
	}
	if a.spent+a.held >= limit {
		return nil, exceeded(b, w, now, a.spent, a.held, est)
	}
	a.held += est
	return &memHold{m: m, ak: ak, b: b, est: est, limit: limit}, nil
}

func (m *Memory) sweepLocked(now time.Time) {
	for k, a := range m.accounts {
		if !now.Before(a.end) && a.held == 0 {
			delete(m.accounts, k)
		}
	}
}

// Spent implements Budgeter.
func (m *Memory) Spent(_ context.Context, key string, p Period) (llm.Money, error) {
	w := windowOf(p, m.o.now())
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.accounts[acctKey{key, p, w.id}]; a != nil {
		return llm.Money(a.spent), nil
	}
	return 0, nil
}

type memHold struct {
	m       *Memory
	ak      acctKey
	b       Budget
	est     llm.Money
	limit   llm.Money
	settled bool
}

func (h *memHold) Settle(_ context.Context, actual llm.Money) error {
	if h.settled {
		return nil
	}
	h.settled = true
	actual = max(actual, 0)
	h.m.mu.Lock()
	a := h.m.accounts[h.ak]
	if a == nil { // cannot happen while held; kept for safety
		a = &account{end: windowOf(h.b.Period, h.m.o.now()).end}
		h.m.accounts[h.ak] = a
	}
	before := a.spent
	a.held = max(a.held-h.est, 0)
	a.spent += actual
	after := a.spent
	h.m.mu.Unlock()

	if h.m.o.onCross != nil {
		for _, f := range crossed(h.m.o.thresholds, h.limit, before, after) {
			h.m.o.onCross(h.ak.key, h.b, f, llm.Money(after))
		}
	}
	return nil
}
