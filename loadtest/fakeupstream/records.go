package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Record is one request as the server received it. Records are never
// modified after they are stored; callers must not modify them either.
type Record struct {
	Seq    uint64    `json:"seq"`
	Time   time.Time `json:"time"`
	Method string    `json:"method"`
	Path   string    `json:"path"`
	// Query is the raw query with any key= value masked.
	Query string `json:"query,omitempty"`
	// Format is "openai", "anthropic", "gemini", or "" for other paths.
	Format string `json:"format,omitempty"`
	// Header holds the request headers, credentials masked.
	Header http.Header `json:"headers"`
	// Body is the raw body, cut at Options.MaxRecordBody.
	Body      string `json:"body"`
	Truncated bool   `json:"truncated,omitempty"`
	// JSON is the body again when it is valid JSON, so the records endpoint
	// shows it as an object clients can inspect without a second parse.
	JSON json.RawMessage `json:"json,omitempty"`
}

// maxCountedPaths bounds the per-path counters: Gemini paths carry the
// model name, so a scan over many names must not grow the map forever.
const maxCountedPaths = 1024

// otherPaths is the counter bucket once maxCountedPaths is reached.
const otherPaths = "(other)"

// recorder is a bounded ring of Records plus per-path counters.
type recorder struct {
	mu     sync.Mutex
	ring   []Record
	next   int // slot of the next record
	n      int // records held, up to len(ring)
	seq    uint64
	counts map[string]uint64
}

func newRecorder(limit int) *recorder {
	return &recorder{ring: make([]Record, limit), counts: make(map[string]uint64)}
}

// add stores r, assigning its Seq, and counts its path. With a zero-size
// ring it only counts.
func (rc *recorder) add(r Record) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.seq++
	key := r.Path
	if _, ok := rc.counts[key]; !ok && len(rc.counts) >= maxCountedPaths {
		key = otherPaths
	}
	rc.counts[key]++
	if len(rc.ring) == 0 {
		return
	}
	r.Seq = rc.seq
	rc.ring[rc.next] = r
	rc.next = (rc.next + 1) % len(rc.ring)
	if rc.n < len(rc.ring) {
		rc.n++
	}
}

// recordFilter selects records for the records endpoint.
type recordFilter struct {
	path, format, contains string
	since                  uint64
	limit                  int // the newest limit records; 0 means all
}

func (f *recordFilter) match(r *Record) bool {
	return r.Seq > f.since &&
		(f.path == "" || r.Path == f.path) &&
		(f.format == "" || r.Format == f.format) &&
		(f.contains == "" || strings.Contains(r.Body, f.contains))
}

// list returns the matching records, oldest first.
func (rc *recorder) list(f recordFilter) []Record {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	out := make([]Record, 0, min(rc.n, 64))
	start := (rc.next - rc.n + len(rc.ring)) % max(len(rc.ring), 1)
	for i := 0; i < rc.n; i++ {
		r := &rc.ring[(start+i)%len(rc.ring)]
		if f.match(r) {
			out = append(out, *r)
		}
	}
	if f.limit > 0 && len(out) > f.limit {
		out = out[len(out)-f.limit:]
	}
	return out
}

// stats returns the number of requests seen since the last reset and a copy
// of the per-path counters.
func (rc *recorder) stats() (uint64, map[string]uint64) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	c := make(map[string]uint64, len(rc.counts))
	for k, v := range rc.counts {
		c[k] = v
	}
	return rc.seq, c
}

func (rc *recorder) reset() {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	clear(rc.ring)
	rc.next, rc.n, rc.seq = 0, 0, 0
	clear(rc.counts)
}

// secretHeaders are masked in records: every way the three APIs (and
// Azure) take a key.
var secretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"X-Api-Key":           true,
	"X-Goog-Api-Key":      true,
	"Api-Key":             true,
	"Cookie":              true,
}

// maskHeader copies h with credential values masked.
func maskHeader(h http.Header) http.Header {
	out := make(http.Header, len(h))
	for k, vs := range h {
		if secretHeaders[k] {
			m := make([]string, len(vs))
			for i, v := range vs {
				m[i] = mask(v)
			}
			out[k] = m
			continue
		}
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// mask keeps an auth scheme and the last four characters of a long secret,
// enough to tell keys apart in a test, never enough to use one.
func mask(v string) string {
	scheme := ""
	if s, rest, ok := strings.Cut(v, " "); ok {
		scheme, v = s+" ", rest
	}
	if len(v) >= 16 {
		return scheme + "****" + v[len(v)-4:]
	}
	if v == "" {
		return scheme
	}
	return scheme + "****"
}

// maskQuery masks the value of key= in a raw query (Gemini's ?key=).
func maskQuery(q string) string {
	if !strings.Contains(q, "key=") {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		if k, v, ok := strings.Cut(p, "="); ok && k == "key" {
			parts[i] = "key=" + mask(v)
		}
	}
	return strings.Join(parts, "&")
}
