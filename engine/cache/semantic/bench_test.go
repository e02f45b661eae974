package semantic

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"
)

// benchIndexes builds each size once per process: 100k sketches of 1536
// dimensions take seconds.
var benchIndexes sync.Map // "dim/n" -> *benchSet

type benchSet struct {
	x       *Index
	queries [][]float32
}

// benchIndex fills one partition with n random unit vectors (the worst
// case: a single route, system prompt and scope for every entry) and makes
// queries, half near an entry (cos 0.97, a hit) and half unrelated.
func benchIndex(b *testing.B, dim, n int) *benchSet {
	key := fmt.Sprintf("%d/%d", dim, n)
	if s, ok := benchIndexes.Load(key); ok {
		return s.(*benchSet)
	}
	r := rand.New(rand.NewPCG(uint64(dim), uint64(n)))
	x := NewIndex(WithMaxEntries(n), WithMaxBytes(int64(n)*EntryBytes(dim)))
	part := keyOf("part", 0)
	far := time.Now().Add(time.Hour)
	vecs := make([][]float32, n)
	for i := range vecs {
		vecs[i] = randVec(r, dim)
		if err := x.Add(part, keyOf("e", i), vecs[i], far); err != nil {
			b.Fatal(err)
		}
	}
	s := &benchSet{x: x}
	for i := 0; i < 512; i++ {
		if i%2 == 0 {
			s.queries = append(s.queries, near(r, vecs[r.IntN(n)], 0.97))
		} else {
			s.queries = append(s.queries, randVec(r, dim))
		}
	}
	benchIndexes.Store(key, s)
	return s
}

// BenchmarkSearch is one lookup in a partition of 10k or 100k entries, at
// 1536 dimensions (text-embedding-3-small) and 256; it reports p50 and p99
// of single lookups besides the mean.
//
//	go test -run '^$' -bench Search -benchmem ./engine/cache/semantic
func BenchmarkSearch(b *testing.B) {
	for _, dim := range []int{256, 1536} {
		for _, n := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("dim=%d/n=%d/sketch", dim, n), func(b *testing.B) {
				s := benchIndex(b, dim, n)
				part := keyOf("part", 0)
				lat := make([]time.Duration, 0, b.N)
				hits := 0
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					if _, ok := s.x.Search(part, s.queries[i%len(s.queries)], DefaultThreshold); ok {
						hits++
					}
					lat = append(lat, time.Since(t0))
				}
				b.StopTimer()
				reportPercentiles(b, lat)
				if b.N >= len(s.queries) && hits < b.N/2-1 {
					b.Fatalf("only %d hits of %d", hits, b.N)
				}
			})
			// The same scan without the sketch prefilter: every entry's dot
			// product, for comparison.
			b.Run(fmt.Sprintf("dim=%d/n=%d/full", dim, n), func(b *testing.B) {
				s := benchIndex(b, dim, n)
				p := s.x.parts[keyOf("part", 0)]
				lat := make([]time.Duration, 0, b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					t0 := time.Now()
					q := s.queries[i%len(s.queries)]
					var best float32
					for j := range p.ids {
						if d := Dot(p.vecs[j*dim:(j+1)*dim], q); d > best {
							best = d
						}
					}
					lat = append(lat, time.Since(t0))
				}
				b.StopTimer()
				reportPercentiles(b, lat)
			})
		}
	}
}

func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
}

// BenchmarkIndexMemory measures the heap one entry costs (1536 dimensions)
// against EntryBytes, the figure the byte bound counts.
func BenchmarkIndexMemory(b *testing.B) {
	const dim, n = 1536, 20_000
	r := rand.New(rand.NewPCG(1, 1))
	vecs := make([][]float32, 256)
	for i := range vecs {
		vecs[i] = randVec(r, dim)
	}
	far := time.Now().Add(time.Hour)
	for i := 0; i < b.N; i++ {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		x := NewIndex(WithMaxEntries(n), WithMaxBytes(1<<40))
		_ = x.Add(keyOf("p", 0), keyOf("e", 0), vecs[0], far) // the sketcher, not per entry
		runtime.GC()
		runtime.ReadMemStats(&before)
		for j := 1; j <= n; j++ {
			_ = x.Add(keyOf("p", j%16), keyOf("e", j), vecs[j%len(vecs)], far)
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "heap-B/entry")
		b.ReportMetric(float64(EntryBytes(dim)), "counted-B/entry")
		runtime.KeepAlive(x)
	}
}

// BenchmarkAdd is one insert (sketch included) into a 10k-entry index.
func BenchmarkAdd(b *testing.B) {
	const dim = 1536
	r := rand.New(rand.NewPCG(2, 2))
	x := NewIndex(WithMaxEntries(10_000))
	vecs := make([][]float32, 64)
	for i := range vecs {
		vecs[i] = randVec(r, dim)
	}
	far := time.Now().Add(time.Hour)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_ = x.Add(keyOf("p", i%8), keyOf("e", i), vecs[i%len(vecs)], far)
	}
}

func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(3, 3))
	u, v := randVec(r, 1536), randVec(r, 1536)
	var s float32
	for i := 0; i < b.N; i++ {
		s += Dot(u, v)
	}
	_ = s
}
