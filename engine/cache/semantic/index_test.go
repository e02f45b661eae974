package semantic

import (
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/cache"
)

func keyOf(s string, i int) cache.Key {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(i))
	return cache.Key(sha256.Sum256(append([]byte(s), b[:]...)))
}

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	Normalize(v)
	return v
}

// near returns a unit vector at cosine cos from v (unit).
func near(r *rand.Rand, v []float32, cos float64) []float32 {
	u := randVec(r, len(v))
	d := Dot(u, v)
	for i := range u {
		u[i] -= d * v[i] // orthogonal to v
	}
	Normalize(u)
	s := math.Sqrt(1 - cos*cos)
	out := make([]float32, len(v))
	for i := range v {
		out[i] = float32(cos*float64(v[i]) + s*float64(u[i]))
	}
	Normalize(out)
	return out
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestIndexFindsTheBestMatchAtOrAboveTheThresholdInItsPartitionOnly(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	x := NewIndex(WithClock(clk.now))
	partA, partB := keyOf("A", 0), keyOf("B", 0)
	base := randVec(r, 64)
	far := time.Unix(1_800_000_000, 0)
	for i, cos := range []float64{0.90, 0.97, 0.99} {
		if err := x.Add(partA, keyOf("a", i), near(r, base, cos), far); err != nil {
			t.Fatal(err)
		}
	}
	_ = x.Add(partB, keyOf("b", 0), base, far) // identical, other partition
	for i := 0; i < 200; i++ {
		_ = x.Add(partA, keyOf("noise", i), randVec(r, 64), far)
	}
	tests := []struct {
		name      string
		part      cache.Key
		threshold float32
		want      cache.Key
		hit       bool
	}{
		{"best of those above", partA, 0.95, keyOf("a", 2), true},
		{"none above", partA, 0.995, cache.Key{}, false},
		{"low threshold still the best", partA, 0.5, keyOf("a", 2), true},
		{"other partition", partB, 0.95, keyOf("b", 0), true},
		{"unknown partition", keyOf("C", 0), 0.1, cache.Key{}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := x.Search(tc.part, base, tc.threshold)
			if ok != tc.hit || m.ID != tc.want {
				t.Fatalf("got %v %v (sim %.4f), want %v %v", m.ID.String()[:8], ok, m.Similarity, tc.want.String()[:8], tc.hit)
			}
			if ok && m.Similarity < tc.threshold {
				t.Fatalf("similarity %.4f below threshold", m.Similarity)
			}
		})
	}
}

func TestIndexDimensionMismatchIsRefusedAndMisses(t *testing.T) {
	x := NewIndex()
	p := keyOf("p", 0)
	r := rand.New(rand.NewPCG(3, 4))
	far := time.Now().Add(time.Hour)
	if err := x.Add(p, keyOf("a", 0), randVec(r, 32), far); err != nil {
		t.Fatal(err)
	}
	if err := x.Add(p, keyOf("a", 1), randVec(r, 16), far); err != ErrDimension {
		t.Fatalf("got %v", err)
	}
	if _, ok := x.Search(p, randVec(r, 16), 0); ok {
		t.Fatal("a query of another dimension matched")
	}
}

func TestIndexExpiresOnTheInjectedClock(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	x := NewIndex(WithClock(clk.now))
	r := rand.New(rand.NewPCG(5, 6))
	v := randVec(r, 32)
	p := keyOf("p", 0)
	_ = x.Add(p, keyOf("a", 0), v, clk.t.Add(time.Minute))
	if _, ok := x.Search(p, v, 0.99); !ok {
		t.Fatal("fresh entry missed")
	}
	clk.t = clk.t.Add(time.Minute)
	if _, ok := x.Search(p, v, 0.99); ok {
		t.Fatal("expired entry hit")
	}
	_ = x.Add(p, keyOf("b", 0), randVec(r, 32), clk.t.Add(time.Minute)) // sweeps the partition
	if x.Has(keyOf("a", 0)) || x.Len() != 1 {
		t.Fatalf("expired entry not swept: len %d", x.Len())
	}
}

func TestIndexEvictsOldestBeyondEntriesAndBytes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	far := time.Now().Add(time.Hour)
	tests := []struct {
		name string
		opts []IndexOption
		want int
	}{
		{"entries", []IndexOption{WithMaxEntries(10)}, 10},
		{"bytes", []IndexOption{WithMaxBytes(5 * EntryBytes(32))}, 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := NewIndex(tc.opts...)
			for i := 0; i < 50; i++ {
				_ = x.Add(keyOf("p", i%3), keyOf("e", i), randVec(r, 32), far)
			}
			if x.Len() != tc.want {
				t.Fatalf("len %d, want %d", x.Len(), tc.want)
			}
			for i := 0; i < 50; i++ {
				if x.Has(keyOf("e", i)) != (i >= 50-tc.want) {
					t.Fatalf("entry %d: has %v", i, x.Has(keyOf("e", i)))
				}
			}
			if x.Bytes() != int64(tc.want)*EntryBytes(32) {
				t.Fatalf("bytes %d", x.Bytes())
			}
			if len(x.order)-x.head > 2*x.Len()+64 {
				t.Fatalf("eviction queue grew to %d", len(x.order)-x.head)
			}
		})
	}
}

func TestIndexReplaceAndRemoveKeepRowsConsistent(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	x := NewIndex()
	far := time.Now().Add(time.Hour)
	p := keyOf("p", 0)
	vs := make([][]float32, 20)
	for i := range vs {
		vs[i] = randVec(r, 48)
		_ = x.Add(p, keyOf("e", i), vs[i], far)
	}
	for i := 0; i < 20; i += 3 {
		if !x.Remove(keyOf("e", i)) {
			t.Fatalf("remove %d", i)
		}
	}
	vs[1] = randVec(r, 48)
	_ = x.Add(p, keyOf("e", 1), vs[1], far) // replaced
	for i := range vs {
		m, ok := x.Search(p, vs[i], 0.999)
		if want := i%3 != 0; ok != want || (ok && m.ID != keyOf("e", i)) {
			t.Fatalf("entry %d: ok %v id match %v", i, ok, m.ID == keyOf("e", i))
		}
	}
}

func TestHammingBoundKeepsTrueMatches(t *testing.T) {
	// Over many random pairs at exactly the threshold, the prefilter never
	// drops one: it may only cost recall, and at 8 sd it costs none here.
	r := rand.New(rand.NewPCG(11, 12))
	for _, dim := range []int{64, 384, 1536} {
		sk := newSketcher(dim)
		for _, th := range []float32{0.8, 0.9, 0.95, 0.99} {
			bound := hammingBound(th)
			for i := 0; i < 300; i++ {
				v := randVec(r, dim)
				u := near(r, v, float64(th))
				a, b := sk.sketch(v), sk.sketch(u)
				if hamming(&a, &b) > bound {
					t.Fatalf("dim %d threshold %.2f: pair at the threshold had distance %d > bound %d", dim, th, hamming(&a, &b), bound)
				}
			}
		}
	}
}

func TestNormalizeAndDot(t *testing.T) {
	v := []float32{3, 4, 0, 0, 0}
	if !Normalize(v) || math.Abs(float64(Dot(v, v))-1) > 1e-6 || v[0] != 0.6 {
		t.Fatalf("%v", v)
	}
	if Normalize([]float32{0, 0}) {
		t.Fatal("zero vector normalised")
	}
}
