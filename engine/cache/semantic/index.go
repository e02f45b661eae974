package semantic

import (
	"errors"
	"fmt"
	"math/bits"
	"sync"
	"time"

	"github.com/switchyard/switchyard/engine/cache"
)

// Index defaults and caps.
const (
	DefaultMaxEntries = 10_000
	DefaultMaxBytes   = 64 << 20
	maxEntriesCap     = 10_000_000
	maxDim            = 1 << 14
)

// Match is the entry a lookup found: its id (the exact-cache key of the
// request it answered) and its cosine similarity to the query.
type Match struct {
	ID         cache.Key
	Similarity float32
}

// Index holds normalised vectors by partition and finds, within one
// partition, the most similar vector at or above a threshold. It is an
// exact scan: every entry of the partition is considered, a sketch
// prefilter (sketch.go) skips those that cannot reach the threshold, and
// the rest are scored by their true dot product, so the answer is the true
// best match. Bounded by entries and bytes (oldest insertion evicted
// first); entries expire on the injected clock. Safe for concurrent use:
// lookups share a read lock and allocate nothing.
type Index struct {
	now        func() time.Time
	maxEntries int
	maxBytes   int64

	mu        sync.RWMutex
	parts     map[cache.Key]*partition
	where     map[cache.Key]loc
	sketchers map[int]*sketcher
	order     []queued // insertion order, for eviction; may hold stale ids
	head      int      // order[:head] are already consumed
	seq       uint64
	bytes     int64
}

type partition struct {
	dim      int
	vecs     []float32 // len(ids) rows of dim
	sketches []sketch
	ids      []cache.Key
	expires  []int64 // unix ns
	seqs     []uint64
}

type loc struct {
	p   *partition
	key cache.Key
	i   int
}

type queued struct {
	id  cache.Key
	seq uint64
}

// IndexOption configures an Index.
type IndexOption func(*Index)

// WithMaxEntries bounds the number of entries (default 10,000).
func WithMaxEntries(n int) IndexOption { return func(x *Index) { x.maxEntries = n } }

// WithMaxBytes bounds the entries' memory (EntryBytes each; default 64 MiB).
func WithMaxBytes(n int64) IndexOption { return func(x *Index) { x.maxBytes = n } }

// WithClock injects the clock expiry is judged on.
func WithClock(now func() time.Time) IndexOption { return func(x *Index) { x.now = now } }

// NewIndex returns an empty index.
func NewIndex(opts ...IndexOption) *Index {
	x := &Index{now: time.Now, parts: map[cache.Key]*partition{}, where: map[cache.Key]loc{}, sketchers: map[int]*sketcher{}}
	for _, o := range opts {
		o(x)
	}
	if x.maxEntries <= 0 {
		x.maxEntries = DefaultMaxEntries
	}
	x.maxEntries = min(x.maxEntries, maxEntriesCap)
	if x.maxBytes <= 0 {
		x.maxBytes = DefaultMaxBytes
	}
	return x
}

// EntryBytes is what one entry of dimension dim is counted for against the
// byte bound: its vector and sketch, its id, expiry and sequence, its
// location in the id map and its place in the eviction queue
// (BenchmarkIndexMemory checks the figure against the heap).
func EntryBytes(dim int) int64 {
	const fixed = 32 + 8 + 8 + 16*sketchWords + 96 /* map entry */ + 40 /* queue */
	return int64(4*dim + fixed)
}

// ErrDimension is returned by Add for a vector whose dimension differs
// from its partition's (the embedding model changed under a route).
var ErrDimension = errors.New("semantic: vector dimension differs from its partition's")

// Add stores v (normalised, copied) under id in part until expires,
// replacing an entry with the same id. It evicts the oldest entries beyond
// the bounds.
func (x *Index) Add(part, id cache.Key, v []float32, expires time.Time) error {
	dim := len(v)
	if dim == 0 || dim > maxDim {
		return fmt.Errorf("semantic: vector dimension %d out of range", dim)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	sk := x.sketcherLocked(dim)
	p := x.parts[part]
	if p == nil {
		p = &partition{dim: dim}
		x.parts[part] = p
	}
	if p.dim != dim {
		if len(p.ids) > 0 {
			return ErrDimension
		}
		p.dim = dim
	}
	if old, ok := x.where[id]; ok {
		x.removeLocked(old)
	}
	x.sweepLocked(part, p)
	x.parts[part] = p // removals above may have dropped it once empty
	x.seq++
	p.vecs = append(p.vecs, v...)
	p.sketches = append(p.sketches, sk.sketch(v))
	p.ids = append(p.ids, id)
	p.expires = append(p.expires, expires.UnixNano())
	p.seqs = append(p.seqs, x.seq)
	x.where[id] = loc{p: p, key: part, i: len(p.ids) - 1}
	x.order = append(x.order, queued{id: id, seq: x.seq})
	x.bytes += EntryBytes(dim)
	for len(x.where) > x.maxEntries || x.bytes > x.maxBytes {
		if !x.evictOldestLocked() {
			break
		}
	}
	x.compactLocked()
	return nil
}

func (x *Index) sketcherLocked(dim int) *sketcher {
	s := x.sketchers[dim]
	if s == nil {
		s = newSketcher(dim)
		x.sketchers[dim] = s
	}
	return s
}

// Search returns the entry of part most similar to v (normalised) at or
// above threshold, skipping expired entries.
func (x *Index) Search(part cache.Key, v []float32, threshold float32) (Match, bool) {
	x.mu.RLock()
	p := x.parts[part]
	if p == nil || p.dim != len(v) || len(p.ids) == 0 {
		x.mu.RUnlock()
		return Match{}, false
	}
	sk := x.sketchers[p.dim]
	x.mu.RUnlock()
	// The sketch is computed outside the lock: sketchers never change once
	// made, and this is the costliest step of a lookup in a small partition.
	q := sk.sketch(v)
	bound := hammingBound(threshold)
	now := x.now().UnixNano()
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.parts[part] != p || p.dim != len(v) {
		return Match{}, false
	}
	best, at := threshold, -1
	dim := p.dim
	// The sketches are scanned as one contiguous array (16 bytes an entry,
	// 1.6 MB at 100k): the loop's cost. Only entries within the bound touch
	// their vector.
	q0, q1 := q[0], q[1]
	for i, sk := range p.sketches {
		if bits.OnesCount64(sk[0]^q0)+bits.OnesCount64(sk[1]^q1) > bound {
			continue
		}
		if p.expires[i] <= now {
			continue
		}
		if s := Dot(p.vecs[i*dim:(i+1)*dim], v); s >= best {
			best, at = s, i
		}
	}
	if at < 0 {
		return Match{}, false
	}
	return Match{ID: p.ids[at], Similarity: min(best, 1)}, true
}

// Remove drops the entry id; it reports whether there was one.
func (x *Index) Remove(id cache.Key) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	l, ok := x.where[id]
	if ok {
		x.removeLocked(l)
		x.compactLocked()
	}
	return ok
}

// Has reports whether id is indexed.
func (x *Index) Has(id cache.Key) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.where[id]
	return ok
}

// Len is the number of entries (expired ones not yet swept included).
func (x *Index) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.where)
}

// Bytes is the entries' memory as counted against the byte bound.
func (x *Index) Bytes() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.bytes
}

// removeLocked swap-removes the entry at l, keeping rows contiguous.
func (x *Index) removeLocked(l loc) {
	p, i := l.p, l.i
	last := len(p.ids) - 1
	delete(x.where, p.ids[i])
	if i != last {
		copy(p.vecs[i*p.dim:(i+1)*p.dim], p.vecs[last*p.dim:])
		p.sketches[i], p.ids[i], p.expires[i], p.seqs[i] = p.sketches[last], p.ids[last], p.expires[last], p.seqs[last]
		x.where[p.ids[i]] = loc{p: p, key: l.key, i: i}
	}
	p.vecs = p.vecs[:last*p.dim]
	p.sketches, p.ids, p.expires, p.seqs = p.sketches[:last], p.ids[:last], p.expires[:last], p.seqs[:last]
	x.bytes -= EntryBytes(p.dim)
	if last == 0 {
		delete(x.parts, l.key)
	}
}

// sweepLocked removes p's expired entries; Add calls it on the partition
// it writes to, so a partition's dead entries go when it is next written.
func (x *Index) sweepLocked(key cache.Key, p *partition) {
	now := x.now().UnixNano()
	for i := 0; i < len(p.ids); {
		if p.expires[i] <= now {
			x.removeLocked(loc{p: p, key: key, i: i})
			continue
		}
		i++
	}
}

func (x *Index) evictOldestLocked() bool {
	for x.head < len(x.order) {
		q := x.order[x.head]
		x.order[x.head] = queued{}
		x.head++
		if l, ok := x.where[q.id]; ok && l.p.seqs[l.i] == q.seq {
			x.removeLocked(l)
			return true
		}
	}
	return false
}

// compactLocked drops consumed and stale queue slots once they outnumber
// the live entries, so the queue stays within twice the entries.
func (x *Index) compactLocked() {
	if len(x.order) < 2*len(x.where)+64 {
		return
	}
	live := x.order[:0]
	for _, q := range x.order[x.head:] {
		if l, ok := x.where[q.id]; ok && l.p.seqs[l.i] == q.seq {
			live = append(live, q)
		}
	}
	clear(x.order[len(live):])
	x.order, x.head = live, 0
}
