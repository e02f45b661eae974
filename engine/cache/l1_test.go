package cache

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// fakeClock is a settable clock safe for concurrent reads.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
	return c
}
func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()) }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func keyN(i int) Key {
	return NewKey(&llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleUser, Content: fmt.Sprint(i)}}}, "r", "t", "")
}

func textEntry(s string) *Entry {
	return FromResponse(&llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: s}}}})
}

func TestL1ExpiresEachEntryOnItsOwnTTL(t *testing.T) {
	clk := newFakeClock()
	c := NewL1(WithL1Clock(clk.Now), WithDefaultTTL(time.Minute))
	short, long, def := keyN(1), keyN(2), keyN(3)
	c.Set(short, textEntry("short"), time.Second)
	c.Set(long, textEntry("long"), time.Hour)
	c.Set(def, textEntry("default"), 0)

	steps := []struct {
		advance             time.Duration
		short, long, defTTL bool
	}{
		{0, true, true, true},
		{999 * time.Millisecond, true, true, true},
		{time.Millisecond, false, true, true},
		{time.Minute, false, true, false},
		{time.Hour, false, false, false},
	}
	for i, s := range steps {
		clk.Advance(s.advance)
		for _, chk := range []struct {
			k    Key
			want bool
		}{{short, s.short}, {long, s.long}, {def, s.defTTL}} {
			if _, ok := c.Get(chk.k); ok != chk.want {
				t.Fatalf("step %d: key %s live=%v, want %v", i, chk.k.String()[:8], ok, chk.want)
			}
		}
	}
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Fatalf("expired entries still held: len %d, bytes %d", c.Len(), c.Bytes())
	}
}

func TestL1EvictsLeastRecentlyUsedByCount(t *testing.T) {
	c := NewL1(WithMaxEntries(3))
	for i := range 3 {
		c.Set(keyN(i), textEntry(fmt.Sprint(i)), 0)
	}
	c.Get(keyN(0)) // 1 is now the least recently used
	c.Set(keyN(3), textEntry("3"), 0)
	for i, want := range []bool{true, false, true, true} {
		if _, ok := c.Get(keyN(i)); ok != want {
			t.Fatalf("entry %d present=%v, want %v", i, ok, want)
		}
	}
	if c.Len() != 3 {
		t.Fatalf("len %d", c.Len())
	}
}

func TestL1EvictsOldestUntilUnderByteBound(t *testing.T) {
	e := textEntry(strings.Repeat("x", 1000))
	size := int64(e.Size())
	c := NewL1(WithMaxBytes(3*size + size/2))
	for i := range 3 {
		c.Set(keyN(i), textEntry(strings.Repeat("x", 1000)), 0)
	}
	if c.Bytes() != 3*size {
		t.Fatalf("bytes %d, want %d", c.Bytes(), 3*size)
	}
	// A double-size entry must push out the two oldest.
	c.Set(keyN(9), textEntry(strings.Repeat("y", 1000+int(size))), 0)
	for i, want := range map[int]bool{0: false, 1: false, 2: true, 9: true} {
		if _, ok := c.Get(keyN(i)); ok != want {
			t.Fatalf("entry %d present=%v, want %v", i, ok, want)
		}
	}
	if c.Bytes() > 3*size+size/2 {
		t.Fatalf("bytes %d over the bound", c.Bytes())
	}

	t.Run("replacing a key does not double count", func(t *testing.T) {
		before := c.Bytes()
		c.Set(keyN(2), textEntry(strings.Repeat("x", 1000)), 0)
		if c.Bytes() != before {
			t.Fatalf("bytes %d after replace, want %d", c.Bytes(), before)
		}
	})
	t.Run("an entry over the bound is not stored and drops the old one", func(t *testing.T) {
		c.Set(keyN(2), textEntry(strings.Repeat("z", int(4*size))), 0)
		if _, ok := c.Get(keyN(2)); ok {
			t.Fatal("stale or oversize entry served")
		}
		if _, ok := c.Get(keyN(9)); !ok {
			t.Fatal("unrelated entry evicted")
		}
	})
}

func TestL1ByteAccountingStaysExactUnderConcurrency(t *testing.T) {
	c := NewL1(WithMaxEntries(50), WithMaxBytes(20_000))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				k := keyN((g*7 + i) % 80)
				if i%3 == 0 {
					c.Get(k)
					continue
				}
				c.Set(k, textEntry(strings.Repeat("x", i%500)), time.Duration(1+i%3)*time.Millisecond)
				if i%10 == 0 {
					c.Remove(k)
				}
			}
		})
	}
	wg.Wait()
	var sum int64
	for _, it := range c.lru.Values() {
		sum += it.size
	}
	if sum != c.Bytes() {
		t.Fatalf("accounted %d bytes, entries hold %d", c.Bytes(), sum)
	}
	if c.Bytes() > 20_000 || c.Len() > 50 {
		t.Fatalf("bounds broken: %d bytes, %d entries", c.Bytes(), c.Len())
	}
}

func BenchmarkL1Get(b *testing.B) {
	c := NewL1()
	const n = 1024
	keys := make([]Key, n)
	for i := range keys {
		keys[i] = keyN(i)
		c.Set(keys[i], textEntry("cached answer"), time.Hour)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok := c.Get(keys[i%n]); !ok {
				b.Fatal("miss")
			}
			i++
		}
	})
}
