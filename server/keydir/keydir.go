// Package keydir resolves client keys created through KeyService: secrets
// are hashed and looked up in the state store behind a short-lived cache,
// so the request path costs a map lookup and the store is read once per
// key per TTL. Changes made on this instance apply at once (Invalidate);
// changes made on another instance sharing the store apply when its change
// message arrives (server/control's StartSync calls Invalidate), and
// within the TTL should that message be lost.
package keydir

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/store"
)

// Store is what the directory reads.
type Store interface {
	ClientKeyByHash(ctx context.Context, hash string) (store.ClientKey, error)
	HasClientKeys(ctx context.Context) (bool, error)
}

// Directory implements middleware.KeyDirectory.
type Directory struct {
	st  Store
	log hclog.Logger
	ttl time.Duration
	now func() time.Time
	max int

	mu      sync.Mutex
	entries map[string]entry // by secret hash; nil key = unknown secret

	any     atomic.Bool
	stop    chan struct{}
	stopped chan struct{}
}

type entry struct {
	key     *access.Key
	expires time.Time
}

// Option configures a Directory.
type Option func(*Directory)

// WithTTL sets how long a resolved (or unknown) secret is cached; default 5s.
func WithTTL(d time.Duration) Option { return func(x *Directory) { x.ttl = d } }

// WithClock injects the clock (tests).
func WithClock(now func() time.Time) Option { return func(x *Directory) { x.now = now } }

// WithMaxEntries caps the cache (default 100,000); when full it is
// emptied, so a flood of made-up secrets cannot grow memory.
func WithMaxEntries(n int) Option { return func(x *Directory) { x.max = n } }

// New returns a directory over st and starts its refresher (Close stops
// it). It reads the store once to learn whether any key exists.
func New(ctx context.Context, st Store, log hclog.Logger, opts ...Option) (*Directory, error) {
	if st == nil {
		return nil, errors.New("keydir: nil store")
	}
	if log == nil {
		log = hclog.NewNullLogger()
	}
	d := &Directory{st: st, log: log, ttl: 5 * time.Second, now: time.Now, max: 100_000,
		entries: map[string]entry{}, stop: make(chan struct{}), stopped: make(chan struct{})}
	for _, o := range opts {
		o(d)
	}
	if d.ttl <= 0 {
		d.ttl = 5 * time.Second
	}
	if err := d.refresh(ctx); err != nil {
		return nil, err
	}
	go d.loop()
	return d, nil
}

func (d *Directory) loop() {
	defer close(d.stopped)
	t := time.NewTicker(d.ttl)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), d.ttl)
			if err := d.refresh(ctx); err != nil {
				d.log.Warn("reading client keys failed; keeping the last known state", "error", err)
			}
			cancel()
		}
	}
}

// refresh learns whether any key exists (another instance may have created
// the first one). Revoked and expired keys count: once a gateway has used
// keys, revoking the last one must not reopen it to keyless callers.
func (d *Directory) refresh(ctx context.Context) error {
	exists, err := d.st.HasClientKeys(ctx)
	if err != nil {
		return fmt.Errorf("keydir: %w", err)
	}
	if old := d.any.Swap(exists); old != exists {
		if exists {
			d.log.Info("a client key exists: open mode ended; every caller now needs a key, and admin APIs need SWITCHYARD_ADMIN_KEY")
		} else {
			d.log.Warn("no client key exists: open mode began; unauthenticated loopback callers are served")
		}
	}
	return nil
}

// Close stops the refresher.
func (d *Directory) Close() error {
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	<-d.stopped
	return nil
}

// Any implements middleware.KeyDirectory: whether any key was ever created
// (and not deleted).
func (d *Directory) Any() bool { return d.any.Load() }

// Invalidate drops every cached resolution and re-reads whether any key
// exists; KeyService calls it after each change.
func (d *Directory) Invalidate(ctx context.Context) {
	d.mu.Lock()
	clear(d.entries)
	d.mu.Unlock()
	if err := d.refresh(ctx); err != nil {
		d.log.Warn("reading client keys failed", "error", err)
	}
}

// Lookup implements middleware.KeyDirectory.
func (d *Directory) Lookup(ctx context.Context, sum [32]byte) (*access.Key, error) {
	hash := hex.EncodeToString(sum[:]) // store.HashClientKey's form
	now := d.now()
	d.mu.Lock()
	e, ok := d.entries[hash]
	d.mu.Unlock()
	if ok && now.Before(e.expires) {
		return e.key, nil
	}
	ck, err := d.st.ClientKeyByHash(ctx, hash)
	var k *access.Key
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	case ck.Active(now):
		if k, err = FromStore(ck); err != nil {
			// A row that no longer parses must not lock its owner out
			// silently: say which key and why.
			d.log.Error("client key unusable", "id", ck.ID, "error", err)
			k = nil
		}
	}
	exp := now.Add(d.ttl)
	if k != nil && !ck.ExpiresAt.IsZero() && ck.ExpiresAt.Before(exp) {
		exp = ck.ExpiresAt
	}
	d.mu.Lock()
	if len(d.entries) >= d.max {
		clear(d.entries)
	}
	d.entries[hash] = entry{key: k, expires: exp}
	d.mu.Unlock()
	return k, nil
}

// FromStore converts a stored key to the policy the gate enforces.
func FromStore(ck store.ClientKey) (*access.Key, error) {
	nets, err := access.ParseIPAllowlist(ck.IPAllowlist)
	if err != nil {
		return nil, err
	}
	k := &access.Key{
		ID: ck.ID, Name: ck.Name, AllowedModels: ck.AllowedModels, AllowedRoutes: ck.AllowedRoutes,
		IPAllowlist: nets, Limits: limits.Limits{RPM: int(ck.RPM), TPM: int(ck.TPM)},
		ExpiresAt: ck.ExpiresAt, Labels: ck.Labels,
	}
	if ck.BudgetUSD > 0 || ck.BudgetPeriod != "" {
		b := &budget.Budget{Name: "key " + ck.ID + " budget", Limit: llm.USD(ck.BudgetUSD), Period: budget.Daily}
		if ck.BudgetPeriod != "" {
			var err error
			if b.Period, err = budget.ParsePeriod(ck.BudgetPeriod); err != nil {
				return nil, err
			}
		}
		if ck.Name != "" {
			b.Name = "key " + ck.Name + " budget"
		}
		k.Budget = b
	}
	return k, nil
}
