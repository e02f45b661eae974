// Package cache is the response cache and request coalescing of the Router.
//
//   - Key: a canonical SHA-256 of everything in a request that changes the
//     answer, plus the resolved route, its target set and a scope.
//   - Entry: one whole answer (unary or streamed), replayable either way.
//   - L1 (in-process LRU bounded by entries and bytes) and Tiered, which
//     puts an optional shared Store (Redis) behind L1 and degrades to L1
//     alone while the Store fails.
//   - Group and StreamGroup: identical requests in flight share one upstream
//     call, run on a detached context so one caller leaving does not fail
//     the others.
//
// The package logs nothing: errors come back as values, counters and a
// state callback.
package cache

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"math"
	"slices"
	"sync"

	"github.com/switchyard/switchyard/engine/llm"
)

// Key identifies one answer: a SHA-256 over a canonical, length-prefixed
// encoding of the request.
type Key [32]byte

// String is the key in hex, as stored in Redis.
func (k Key) String() string { return hex.EncodeToString(k[:]) }

// keyVersion is hashed first; bump it when the encoding changes so old
// shared entries are never read with a new meaning.
const keyVersion = "switchyard.cache.key/v1"

// NewKey hashes what changes the answer to req: messages (roles, content,
// parts, names, tool calls and ids), tools, tool choice, response format,
// sampling parameters (top_k included), limits, stop, seed, penalties,
// logit bias, logprobs, reasoning effort and thinking, Anthropic's version
// and betas, and Extra, plus route (the resolved route name), targets
// (a signature of the route's target set, so a config change that alters
// who answers does not serve old answers) and scope (the client key id, or
// "" for answers shared by every client).
//
// req.Model is not hashed: route is what it resolved to. User, Metadata,
// IncludeUsage and Hints are not hashed: they do not change the answer, and
// the stream flag is not part of the request because an Entry replays
// either way. JSON (tool parameters, schemas, tool-call arguments, Extra) is
// hashed in a canonical form, so key order and whitespace never matter.
func NewKey(req *llm.ChatRequest, route, targets, scope string) Key {
	w := keyWriters.Get().(*keyWriter)
	w.reset()
	w.str(keyVersion)
	w.str(route)
	w.str(targets)
	w.str(scope)
	w.request(req)
	k := w.sum()
	keyWriters.Put(w)
	return k
}

// partitionVersion starts a partition key, so it never equals a Key.
const partitionVersion = "switchyard.cache.partition/v1"

// NewPartitionKey hashes req exactly as NewKey does except for its last
// message, which must be the user's: what a semantic match must share
// exactly with the entry it is answered from (model, system prompt, earlier
// turns, tools, sampling, response format, scope), leaving the one turn
// that is compared by meaning. Where the last turn's text also travels in
// the original body (same-dialect passthrough), every JSON string equal to
// one of its texts is hashed as a placeholder, so the rest of that body
// still has to match. ok is false when the last message is not the user's.
func NewPartitionKey(req *llm.ChatRequest, route, targets, scope string) (k Key, ok bool) {
	last := len(req.Messages) - 1
	if last < 0 || req.Messages[last].Role != llm.RoleUser {
		return k, false
	}
	w := keyWriters.Get().(*keyWriter)
	w.reset()
	w.skip = last
	m := &req.Messages[last]
	if m.Content != "" {
		w.mask = append(w.mask, m.Content)
	}
	for i := range m.Parts {
		if m.Parts[i].Text != "" {
			w.mask = append(w.mask, m.Parts[i].Text)
		}
	}
	w.str(partitionVersion)
	w.str(route)
	w.str(targets)
	w.str(scope)
	w.request(req)
	k = w.sum()
	clear(w.mask)
	w.mask, w.skip = w.mask[:0], -1
	keyWriters.Put(w)
	return k, true
}

// keyWriters recycles hashers and their scratch space: NewKey runs on every
// cacheable request and would otherwise allocate the digest each time.
var keyWriters = sync.Pool{New: func() any { return &keyWriter{h: sha256.New(), skip: -1} }}

// keyWriter feeds a hash through a small buffer, so the many short fields
// of a request cost few hash calls and no allocations.
type keyWriter struct {
	h     hash.Hash
	n     int
	buf   [512]byte
	spans []member // object members being sorted, as a stack across nesting levels
	keys  []string // map keys being sorted
	sum32 [sha256.Size]byte
	// skip is the index of a message left out (a partition key), or -1;
	// mask holds the strings hashed as a placeholder inside JSON.
	skip int
	mask []string
}

func (w *keyWriter) reset() {
	w.h.Reset()
	w.n = 0
	w.spans = w.spans[:0]
	w.keys = w.keys[:0]
}

func (w *keyWriter) sum() Key {
	w.flush()
	// Sum into the writer's own array: a local would escape through the
	// interface call and cost an allocation per key.
	return Key(w.h.Sum(w.sum32[:0]))
}

func (w *keyWriter) flush() {
	if w.n > 0 {
		w.h.Write(w.buf[:w.n])
		w.n = 0
	}
}

func (w *keyWriter) byte(b byte) {
	if w.n == len(w.buf) {
		w.flush()
	}
	w.buf[w.n] = b
	w.n++
}

func (w *keyWriter) u64(v uint64) {
	if len(w.buf)-w.n < 8 {
		w.flush()
	}
	binary.LittleEndian.PutUint64(w.buf[w.n:], v)
	w.n += 8
}

// raw writes bytes without a length; callers prefix one.
func (w *keyWriter) raw(s string) {
	for len(s) > 0 {
		if w.n == len(w.buf) {
			w.flush()
		}
		c := copy(w.buf[w.n:], s)
		w.n += c
		s = s[c:]
	}
}

func (w *keyWriter) rawBytes(b []byte) {
	for len(b) > 0 {
		if w.n == len(w.buf) {
			w.flush()
		}
		c := copy(w.buf[w.n:], b)
		w.n += c
		b = b[c:]
	}
}

// str writes a length-prefixed string, so "ab"+"c" and "a"+"bc" differ.
func (w *keyWriter) str(s string) {
	w.u64(uint64(len(s)))
	w.raw(s)
}

func (w *keyWriter) int(v int) { w.u64(uint64(int64(v))) }

func (w *keyWriter) float(f float64) {
	if f == 0 {
		f = 0 // -0 and 0 ask for the same thing
	}
	w.u64(math.Float64bits(f))
}

func (w *keyWriter) bool(b bool) {
	if b {
		w.byte(1)
	} else {
		w.byte(0)
	}
}

// Optional values carry a presence byte: unset and zero differ, because
// an unset temperature is the provider's default, not 0.
func (w *keyWriter) optFloat(p *float64) {
	w.bool(p != nil)
	if p != nil {
		w.float(*p)
	}
}

func (w *keyWriter) optInt(p *int) {
	w.bool(p != nil)
	if p != nil {
		w.int(*p)
	}
}

func (w *keyWriter) optBool(p *bool) {
	w.bool(p != nil)
	if p != nil {
		w.bool(*p)
	}
}

func (w *keyWriter) request(r *llm.ChatRequest) {
	w.int(len(r.Messages))
	for i := range r.Messages {
		if i == w.skip {
			w.byte(tagMasked)
			continue
		}
		w.message(&r.Messages[i])
	}
	w.optFloat(r.Temperature)
	w.optFloat(r.TopP)
	w.optInt(r.TopK)
	w.optInt(r.MaxTokens)
	w.optInt(r.N)
	w.int(len(r.Stop))
	for _, s := range r.Stop {
		w.str(s)
	}
	w.bool(r.Seed != nil)
	if r.Seed != nil {
		w.u64(uint64(*r.Seed))
	}
	w.optFloat(r.PresencePenalty)
	w.optFloat(r.FrequencyPenalty)
	w.int(len(r.Tools))
	for i := range r.Tools {
		t := &r.Tools[i]
		w.str(t.Type)
		w.str(t.Name)
		w.str(t.Description)
		w.json(t.Parameters)
		w.optBool(t.Strict)
	}
	w.bool(r.ToolChoice != nil)
	if tc := r.ToolChoice; tc != nil {
		w.str(tc.Mode)
		w.str(tc.Function)
	}
	w.bool(r.ResponseFormat != nil)
	if rf := r.ResponseFormat; rf != nil {
		w.str(rf.Type)
		w.str(rf.SchemaName)
		w.str(rf.SchemaDescription)
		w.json(rf.Schema)
		w.optBool(rf.Strict)
	}
	w.optBool(r.ParallelToolCalls)
	w.logitBias(r.LogitBias)
	w.optBool(r.Logprobs)
	w.optInt(r.TopLogprobs)
	w.str(r.ReasoningEffort)
	w.bool(r.Thinking != nil)
	if t := r.Thinking; t != nil {
		w.str(t.Type)
		w.int(t.BudgetTokens)
	}
	// A beta can change the answer (a new tool, a longer output), and so
	// can the API version.
	w.bool(r.Anthropic != nil)
	if a := r.Anthropic; a != nil {
		w.str(a.Version)
		w.int(len(a.Betas))
		for _, b := range a.Betas {
			w.str(b)
		}
	}
	w.extra(r.Extra)
	w.extra(r.OpenAIFields)
	// A same-dialect target is sent the original body, which may carry
	// what the fields above do not.
	w.bool(r.Original != nil)
	if o := r.Original; o != nil {
		w.str(o.Dialect)
		w.json(o.Body)
	}
}

func (w *keyWriter) message(m *llm.Message) {
	w.str(string(m.Role))
	w.str(m.Content)
	w.int(len(m.Parts))
	for i := range m.Parts {
		p := &m.Parts[i]
		w.str(string(p.Type))
		w.str(p.Text)
		w.str(p.ImageURL)
		w.str(p.ImageDetail)
		w.bool(p.File != nil)
		if f := p.File; f != nil {
			w.str(f.Data)
			w.str(f.MIMEType)
			w.str(f.URL)
			w.str(f.FileID)
			w.str(f.Filename)
		}
		w.bool(p.Audio != nil)
		if a := p.Audio; a != nil {
			w.str(a.Data)
			w.str(a.Format)
		}
		// p.Cache is left out, like Message.Cache and Tool.Cache: a
		// prompt-cache breakpoint changes what the provider bills, not
		// what it answers.
	}
	w.str(m.Name)
	w.int(len(m.ToolCalls))
	for i := range m.ToolCalls {
		tc := &m.ToolCalls[i]
		w.int(tc.Index)
		w.str(tc.ID)
		w.str(tc.Type)
		w.str(tc.Name)
		w.jsonString(tc.Arguments)
		w.str(tc.Signature)
	}
	w.str(m.ToolCallID)
	w.str(m.Refusal)
	w.str(m.ReasoningContent)
	w.str(m.ReasoningSignature)
	w.int(len(m.RedactedReasoning))
	for _, d := range m.RedactedReasoning {
		w.str(d)
	}
}

func (w *keyWriter) logitBias(m map[string]float64) {
	w.int(len(m))
	if len(m) == 0 {
		return
	}
	start := len(w.keys)
	for k := range m {
		w.keys = append(w.keys, k)
	}
	keys := w.keys[start:]
	slices.Sort(keys)
	for _, k := range keys {
		w.str(k)
		w.float(m[k])
	}
	clear(keys) // the writer is pooled: do not keep the caller's strings alive
	w.keys = w.keys[:start]
}

func (w *keyWriter) extra(m map[string]json.RawMessage) {
	w.int(len(m))
	if len(m) == 0 {
		return
	}
	start := len(w.keys)
	for k := range m {
		w.keys = append(w.keys, k)
	}
	keys := w.keys[start:]
	slices.Sort(keys)
	for _, k := range keys {
		w.str(k)
		w.json(m[k])
	}
	clear(keys)
	w.keys = w.keys[:start]
}

// Tags of the canonical JSON encoding. Every value starts with one and
// containers end with their own, so the encoding is prefix-free.
const (
	tagAbsent  = 'A' // no JSON at all (nil or only whitespace)
	tagInvalid = 'I' // not valid JSON: hashed as its raw bytes
	tagObject  = '{'
	tagObjEnd  = '}'
	tagArray   = '['
	tagArrEnd  = ']'
	tagString  = 's'
	tagNumber  = 'n'
	tagTrue    = 't'
	tagFalse   = 'f'
	tagNull    = 'z'
	tagMasked  = 'M' // a partition key's left-out turn, or its text in JSON
)

// member is one object member during canonicalisation: its decoded key
// and where its value starts in the input.
type member struct {
	key []byte
	val int
}

// jsonString canonicalises a JSON document held in a string (tool-call
// arguments). The copy is short-lived and only paid by conversations that
// replay tool calls; one scanner over []byte is simpler than two.
func (w *keyWriter) jsonString(s string) {
	if s == "" {
		w.byte(tagAbsent)
		return
	}
	w.json([]byte(s))
}

// json writes a canonical encoding of the JSON text b: whitespace dropped,
// object members sorted by key, strings decoded (so "\u0061" equals "a").
// Numbers keep their literal text.
func (w *keyWriter) json(b []byte) {
	i := skipWS(b, 0)
	if i == len(b) {
		w.byte(tagAbsent)
		return
	}
	if !json.Valid(b) {
		w.byte(tagInvalid)
		w.u64(uint64(len(b)))
		w.rawBytes(b)
		return
	}
	w.value(b, i)
}

// value writes the value starting at b[i] (b is valid JSON) and returns
// the index just past it.
func (w *keyWriter) value(b []byte, i int) int {
	switch c := b[i]; {
	case c == '{':
		return w.object(b, i)
	case c == '[':
		w.byte(tagArray)
		i = skipWS(b, i+1)
		if b[i] == ']' {
			w.byte(tagArrEnd)
			return i + 1
		}
		for {
			i = skipWS(b, w.value(b, i))
			if b[i] == ']' {
				w.byte(tagArrEnd)
				return i + 1
			}
			i = skipWS(b, i+1) // past ','
		}
	case c == '"':
		end := skipString(b, i)
		s := decodeString(b[i:end])
		if len(w.mask) > 0 && w.masked(s) {
			w.byte(tagMasked)
			return end
		}
		w.byte(tagString)
		w.u64(uint64(len(s)))
		w.rawBytes(s)
		return end
	case c == 't':
		w.byte(tagTrue)
		return i + 4
	case c == 'f':
		w.byte(tagFalse)
		return i + 5
	case c == 'n':
		w.byte(tagNull)
		return i + 4
	default:
		end := skipNumber(b, i)
		w.byte(tagNumber)
		w.u64(uint64(end - i))
		w.rawBytes(b[i:end])
		return end
	}
}

func (w *keyWriter) object(b []byte, i int) int {
	start := len(w.spans)
	i = skipWS(b, i+1)
	for b[i] != '}' {
		kend := skipString(b, i)
		key := decodeString(b[i:kend])
		i = skipWS(b, kend)
		i = skipWS(b, i+1) // past ':'
		w.spans = append(w.spans, member{key: key, val: i})
		i = skipWS(b, skipValue(b, i))
		if b[i] == ',' {
			i = skipWS(b, i+1)
		}
	}
	end := i + 1
	// Stable, so duplicate keys keep their order (last one wins upstream).
	slices.SortStableFunc(w.spans[start:], func(x, y member) int { return bytes.Compare(x.key, y.key) })
	w.byte(tagObject)
	n := len(w.spans) - start
	for j := 0; j < n; j++ {
		m := w.spans[start+j] // by index: nested objects may grow w.spans
		w.byte(tagString)
		w.u64(uint64(len(m.key)))
		w.rawBytes(m.key)
		w.value(b, m.val)
	}
	w.byte(tagObjEnd)
	clear(w.spans[start:]) // drop references into b before the writer is pooled
	w.spans = w.spans[:start]
	return end
}

// masked reports whether s is one of the partition key's masked texts.
func (w *keyWriter) masked(s []byte) bool {
	for _, m := range w.mask {
		if string(s) == m {
			return true
		}
	}
	return false
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// skipString returns the index past the string starting at b[i] == '"'.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

func skipNumber(b []byte, i int) int {
	for ; i < len(b); i++ {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
		default:
			return i
		}
	}
	return i
}

// skipValue returns the index past the value starting at b[i].
func skipValue(b []byte, i int) int {
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	case 't', 'n':
		return i + 4
	case 'f':
		return i + 5
	}
	return skipNumber(b, i)
}

// decodeString returns the content of the quoted JSON string q: a subslice
// when it has no escapes (the common case), else the decoded text.
func decodeString(q []byte) []byte {
	body := q[1 : len(q)-1]
	if bytes.IndexByte(body, '\\') < 0 {
		return body
	}
	var s string
	if err := json.Unmarshal(q, &s); err != nil {
		return body // unreachable for valid JSON
	}
	return []byte(s)
}
