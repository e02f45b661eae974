package semantic

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
	"time"
)

func testRedis(t *testing.T) string {
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		t.Skip("SWITCHYARD_TEST_REDIS is not set: start one with `scripts/redis.sh` and export the address it prints (make test does)")
	}
	return addr
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok() {
			return
		}
	}
	t.Fatalf("%s: not within 5s", what)
}

func TestSharedReplicaIndexesWhatAnotherWroteAndForgetsFalseHits(t *testing.T) {
	addr := testRedis(t)
	prefix := fmt.Sprintf("switchyard:test:semantic:%d:", time.Now().UnixNano())
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	replica := func() (*Cache, *Shared) {
		sh, err := NewShared(addr, WithSharedPrefix(prefix), WithSharedClock(clk.now))
		if err != nil {
			t.Fatal(err)
		}
		x := NewIndex(WithClock(clk.now))
		sh.Follow(x, nil)
		t.Cleanup(func() { _ = sh.Close() })
		return New(x, WithPublisher(sh), WithCacheClock(clk.now)), sh
	}
	a, _ := replica()
	r := rand.New(rand.NewPCG(1, 1))
	v := randVec(r, 384)
	part, id := keyOf("part", 1), keyOf("entry", 1)
	a.Store(context.Background(), part, id, v, time.Minute)
	// Written before b started: b reads the stream from its start.
	b, _ := replica()
	eventually(t, "replica b indexes a's entry", func() bool { return b.Index().Has(id) })
	if m, ok := b.Index().Search(part, near(r, v, 0.98), DefaultThreshold); !ok || m.ID != id {
		t.Fatalf("b: %v %v", m, ok)
	}
	// An expired write is not indexed.
	old := keyOf("entry", 2)
	a.Store(context.Background(), part, old, randVec(r, 384), time.Millisecond)
	a.Store(context.Background(), part, keyOf("entry", 3), randVec(r, 384), time.Minute)
	eventually(t, "b indexes the later entry", func() bool { return b.Index().Has(keyOf("entry", 3)) })
	if b.Index().Has(old) {
		// Applied before the clock moved is fine; it must not match once
		// expired.
		clk.t = clk.t.Add(time.Second)
		if _, ok := b.Index().Search(part, v, 0.999); !ok {
			t.Fatal("fresh entry lost")
		}
	}
	a.ReportFalseHit(context.Background(), id)
	eventually(t, "b forgets the false hit", func() bool { return !b.Index().Has(id) })
	if a.Index().Has(id) || a.Stats().FalseHits != 1 {
		t.Fatalf("a still has it: %+v", a.Stats())
	}
}
