package keydir

import (
	"context"
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/store"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// digest is what Auth hands the directory for a presented secret.
func digest(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

func newKey(t *testing.T, st *store.Store, id string, mod func(*store.ClientKey)) string {
	t.Helper()
	secret, prefix, hash, err := store.NewClientKeySecret()
	if err != nil {
		t.Fatal(err)
	}
	k := store.ClientKey{ID: id, Name: id, Prefix: prefix, Hash: hash}
	if mod != nil {
		mod(&k)
	}
	if err := st.CreateClientKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return secret
}

func TestDirectoryResolvesCachesAndInvalidates(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := &clock{t: time.Now()}
	d, err := New(ctx, st, nil, WithTTL(time.Hour), WithClock(clk.now))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Any() {
		t.Fatal("Any on an empty store")
	}
	secret := newKey(t, st, "key_a", func(k *store.ClientKey) {
		k.RPM, k.TPM, k.BudgetUSD, k.BudgetPeriod = 60, 1000, 5, "month"
		k.IPAllowlist = []string{"10.0.0.0/8"}
		k.AllowedModels = []string{"gpt-4o-mini"}
	})
	// Unknown before the create was announced? The negative cache is
	// emptied by Invalidate, which KeyService calls.
	d.Invalidate(ctx)
	if !d.Any() {
		t.Fatal("Any after a key was created and announced")
	}
	k, err := d.Lookup(ctx, digest(secret))
	if err != nil || k == nil {
		t.Fatalf("Lookup: %v %v", k, err)
	}
	if k.ID != "key_a" || k.Limits.RPM != 60 || k.Limits.TPM != 1000 || k.Budget == nil || k.Budget.Limit != llm.USD(5) ||
		k.Budget.Period != budget.Monthly || len(k.IPAllowlist) != 1 || k.AllowedModels[0] != "gpt-4o-mini" {
		t.Fatalf("converted key %+v budget %+v", k, k.Budget)
	}
	if k2, _ := d.Lookup(ctx, digest("sy-made-up")); k2 != nil {
		t.Fatal("made-up secret resolved")
	}

	// Revoked in the store (e.g. by another instance): the cache keeps it
	// until its TTL, then it is gone.
	if err := st.RevokeClientKey(ctx, "key_a", clk.now()); err != nil {
		t.Fatal(err)
	}
	if k, _ := d.Lookup(ctx, digest(secret)); k == nil {
		t.Fatal("cached key dropped before its TTL")
	}
	clk.add(time.Hour + time.Second)
	if k, _ := d.Lookup(ctx, digest(secret)); k != nil {
		t.Fatal("revoked key still resolves after the TTL")
	}
	d.Invalidate(ctx)
	if !d.Any() {
		t.Fatal("revoking the only key reopened the gateway (Any false)")
	}

	// An unknown secret is cached as unknown; Invalidate applies a create
	// at once.
	s2, prefix, hash, _ := store.NewClientKeySecret()
	if k, _ := d.Lookup(ctx, digest(s2)); k != nil {
		t.Fatal("b resolved before it existed")
	}
	if err := st.CreateClientKey(ctx, store.ClientKey{ID: "key_b", Prefix: prefix, Hash: hash}); err != nil {
		t.Fatal(err)
	}
	if k, _ := d.Lookup(ctx, digest(s2)); k != nil {
		t.Fatal("negative cache not used")
	}
	d.Invalidate(ctx)
	if k, _ := d.Lookup(ctx, digest(s2)); k == nil {
		t.Fatal("key b not resolved after Invalidate")
	}
}

func TestDirectoryCacheIsBounded(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	d, err := New(ctx, st, nil, WithMaxEntries(10))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for i := range 100 {
		_, _ = d.Lookup(ctx, digest("sy-junk-"+string(rune('a'+i%26))+string(rune('a'+i/26))))
	}
	d.mu.Lock()
	n := len(d.entries)
	d.mu.Unlock()
	if n > 10 {
		t.Fatalf("%d cache entries, cap 10", n)
	}
}

func BenchmarkLookupCached(b *testing.B) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	secret, prefix, hash, _ := store.NewClientKeySecret()
	if err := st.CreateClientKey(ctx, store.ClientKey{ID: "key_b", Prefix: prefix, Hash: hash, RPM: 60}); err != nil {
		b.Fatal(err)
	}
	d, err := New(ctx, st, nil, WithTTL(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	b.ReportAllocs()
	for b.Loop() {
		if k, err := d.Lookup(ctx, digest(secret)); err != nil || k == nil {
			b.Fatal(k, err)
		}
	}
}
