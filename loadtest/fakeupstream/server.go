package fakeupstream

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
)

// Defaults applied by New.
const (
	DefaultRecordLimit   = 10_000
	DefaultMaxRecordBody = 1 << 20
	DefaultMaxBodyBytes  = 32 << 20
	DefaultEmbeddingDims = 1536
	// closeWait bounds how long Close waits for handlers to return.
	closeWait = 5 * time.Second
)

// defaultModels are listed by the model endpoints when Options.Models is
// empty. Any model name is accepted for generation.
func defaultModels() []string {
	return []string{"fake-gpt", "fake-claude", "fake-gemini", "fake-embed"}
}

// Options configures a Server.
type Options struct {
	// Knobs are the server-wide defaults; POST /_control changes them and
	// POST /_control/reset restores these.
	Knobs Knobs
	// Models are listed by GET /v1/models and /v1beta/models; default
	// fake-gpt, fake-claude, fake-gemini, fake-embed.
	Models []string
	// APIKeys, when set, are the only keys accepted; others get each
	// API's invalid-key error. When empty any non-empty key is accepted.
	APIKeys []string
	// EmbeddingDims is the vector size when a request does not ask for one.
	EmbeddingDims int
	// WordEmbeddings answers embeddings with WordEmbedding (a bag of
	// normalised words, so paraphrases match) instead of a pseudo-random
	// vector per distinct text.
	WordEmbeddings bool
	// RecordLimit is how many requests the ring keeps; default 10,000.
	// Negative keeps none (counters still count), for benchmarks.
	RecordLimit int
	// MaxRecordBody caps the body bytes kept per record; default 1 MiB.
	MaxRecordBody int
	// MaxBodyBytes caps request bodies; larger ones get 413. Default 32 MiB.
	MaxBodyBytes int64
	// Logger, when set, gets one line per request.
	Logger hclog.Logger
	// Now is the clock for created timestamps; default time.Now.
	Now func() time.Time
	// Prices is the price feed GET /_control/prices serves at the start
	// and after a reset, by feed model id ("openai/gpt-4o").
	Prices map[string]FeedPrice
	// KeyRPM limits keys to that many requests a minute (a bucket refilled
	// continuously, on Now), answering 429 with Retry-After beyond it, as a
	// provider enforces a subscription's rate limit.
	KeyRPM map[string]int
}

// Server fakes the OpenAI, Anthropic and Gemini HTTP APIs. It is an
// http.Handler, safe for concurrent use, and starts no goroutines of its
// own; Close makes the handlers it is running return.
type Server struct {
	opts  Options
	base  Knobs
	knobs atomic.Pointer[Knobs]
	rec   *recorder
	keys  map[string]bool
	log   hclog.Logger
	now   func() time.Time

	ids    atomic.Uint64
	active atomic.Int64
	done   chan struct{}
	once   sync.Once

	bufs    sync.Pool      // *streamBuf
	anCache anthropicCache // prompt prefixes seen with cache_control
	prices  atomic.Pointer[map[string]FeedPrice]
	quotas  *keyQuotas // nil without Options.KeyRPM
}

// New validates opts, fills in defaults and caps the knobs into range.
func New(opts Options) *Server {
	if opts.RecordLimit == 0 {
		opts.RecordLimit = DefaultRecordLimit
	}
	if opts.RecordLimit < 0 {
		opts.RecordLimit = 0
	}
	if opts.MaxRecordBody <= 0 {
		opts.MaxRecordBody = DefaultMaxRecordBody
	}
	if opts.MaxBodyBytes <= 0 {
		opts.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if opts.EmbeddingDims <= 0 {
		opts.EmbeddingDims = DefaultEmbeddingDims
	}
	opts.EmbeddingDims = min(opts.EmbeddingDims, 65536)
	if len(opts.Models) == 0 {
		opts.Models = defaultModels()
	}
	s := &Server{
		opts: opts,
		base: capKnobs(opts.Knobs),
		rec:  newRecorder(opts.RecordLimit),
		log:  opts.Logger,
		now:  opts.Now,
		done: make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if len(opts.APIKeys) > 0 {
		s.keys = make(map[string]bool, len(opts.APIKeys))
		for _, k := range opts.APIKeys {
			s.keys[k] = true
		}
	}
	k := s.base
	s.knobs.Store(&k)
	s.setPrices(opts.Prices)
	s.quotas = newKeyQuotas(opts.KeyRPM)
	s.bufs.New = func() any { return &streamBuf{} }
	return s
}

// capKnobs brings out-of-range values into range, since New returns no
// error; Validate reports them instead.
func capKnobs(k Knobs) Knobs {
	c := func(d time.Duration) time.Duration { return min(max(d, 0), MaxDelay) }
	k.Latency, k.TTFT, k.TokenDelay, k.RetryAfter = c(k.Latency), c(k.TTFT), c(k.TokenDelay), c(k.RetryAfter)
	k.Tokens = min(max(k.Tokens, 0), MaxTokens)
	k.AbortAfter = min(max(k.AbortAfter, 0), MaxTokens)
	if k.Status < 400 || k.Status > 599 {
		k.Status = 0
	}
	if len(k.AutoTool) > MaxToolName {
		k.AutoTool = ""
	}
	return k
}

// Validate reports the first knob out of range.
func (k Knobs) Validate() error { return k.validate() }

// Knobs returns the current server-wide knobs.
func (s *Server) Knobs() Knobs { return *s.knobs.Load() }

// SetKnobs replaces the server-wide knobs.
func (s *Server) SetKnobs(k Knobs) error {
	if err := k.validate(); err != nil {
		return err
	}
	s.knobs.Store(&k)
	return nil
}

// Records returns the requests kept in the ring, oldest first.
func (s *Server) Records() []Record { return s.rec.list(recordFilter{}) }

// Counts returns the requests seen per path since the last Reset.
func (s *Server) Counts() map[string]uint64 {
	_, c := s.rec.stats()
	return c
}

// Reset forgets every record and counter and restores the knobs given to
// New.
func (s *Server) Reset() {
	s.rec.reset()
	k := s.base
	s.knobs.Store(&k)
	s.setPrices(s.opts.Prices)
	s.quotas.reset()
}

// Close makes every handler that is waiting (latency, hang, token delays)
// return, answers new requests with 503, and waits up to 5 s for running
// handlers to finish. It is safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.done) })
	deadline := time.Now().Add(closeWait)
	for s.active.Load() > 0 {
		if time.Now().After(deadline) {
			return fmt.Errorf("fakeupstream: %d handlers still running after %v", s.active.Load(), closeWait)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return nil
}

func (s *Server) closed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// The wire formats.
const (
	fmtOpenAI    = "openai"
	fmtAnthropic = "anthropic"
	fmtGemini    = "gemini"
)

// ServeHTTP dispatches on the path. Generation endpoints read and record
// the body first, so even requests that then fail are in the records.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.closed() {
		http.Error(w, "fakeupstream: closed", http.StatusServiceUnavailable)
		return
	}
	s.active.Add(1)
	defer s.active.Add(-1)
	if s.log != nil {
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		defer func() {
			s.log.Info("request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
		}()
		w = sw
	}
	path := r.URL.Path
	if path == "/_control" || strings.HasPrefix(path, "/_control/") {
		s.control(w, r)
		return
	}
	format, handle := s.route(r)
	body, err := readBody(r, s.opts.MaxBodyBytes)
	// Recorded before anything can fail, unknown paths included: a gateway
	// that builds a wrong URL shows up in the records.
	s.record(r, format, body)
	if handle == nil {
		s.writeError(w, format, apiError{status: http.StatusNotFound, message: "Unknown request URL: " + r.Method + " " + path})
		return
	}
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			s.writeError(w, format, apiError{status: http.StatusRequestEntityTooLarge, message: "request body too large"})
			return
		}
		s.writeError(w, format, apiError{status: http.StatusBadRequest, message: "could not read the request body"})
		return
	}
	handle(w, r, body)
}

type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte)

// route finds the handler for a request; a nil handler is a 404 in the
// returned format.
func (s *Server) route(r *http.Request) (string, handlerFunc) {
	path := r.URL.Path
	post := r.Method == http.MethodPost
	get := r.Method == http.MethodGet
	switch {
	case path == "/v1/chat/completions" && post:
		return fmtOpenAI, s.openaiChat
	case path == "/v1/embeddings" && post:
		return fmtOpenAI, s.openaiEmbeddings
	case path == "/v1/responses" && post:
		return fmtOpenAI, s.openaiResponses
	case path == "/v1/messages" && post:
		return fmtAnthropic, s.anthropicMessages
	case path == "/v1/models" && get:
		// Both OpenAI and Anthropic serve this path; the Anthropic SDKs and
		// adapters always send anthropic-version.
		if r.Header.Get("Anthropic-Version") != "" {
			return fmtAnthropic, s.anthropicModels
		}
		return fmtOpenAI, s.openaiModels
	case path == "/v1beta/models" && get:
		return fmtGemini, s.geminiModels
	case strings.HasPrefix(path, "/v1beta/") && post:
		return fmtGemini, s.geminiCall
	case strings.HasPrefix(path, "/openai/deployments/") && post:
		// Azure OpenAI: /openai/deployments/{deployment}/chat/completions.
		if strings.HasSuffix(path, "/chat/completions") {
			return fmtOpenAI, s.openaiChat
		}
		if strings.HasSuffix(path, "/embeddings") {
			return fmtOpenAI, s.openaiEmbeddings
		}
	case strings.HasPrefix(path, "/v1beta/"):
		return fmtGemini, nil
	case path == "/v1/messages":
		return fmtAnthropic, nil
	}
	return fmtOpenAI, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// readBody reads the whole body up to limit bytes.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	rd := http.MaxBytesReader(nil, r.Body, limit)
	size := 512
	if r.ContentLength > 0 && r.ContentLength <= limit {
		size = int(r.ContentLength) + 1 // +1 lets ReadFrom see EOF without growing
	}
	buf := make([]byte, 0, size)
	for {
		n, err := rd.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
	}
}

func (s *Server) record(r *http.Request, format string, body []byte) {
	if len(s.rec.ring) == 0 {
		s.rec.add(Record{Path: r.URL.Path})
		return
	}
	rec := Record{
		Time:   s.now(),
		Method: r.Method,
		Path:   r.URL.Path,
		Query:  maskQuery(r.URL.RawQuery),
		Format: format,
		Header: maskHeader(r.Header),
	}
	kept := body
	if len(kept) > s.opts.MaxRecordBody {
		kept, rec.Truncated = kept[:s.opts.MaxRecordBody], true
	}
	rec.Body = string(kept)
	if !rec.Truncated && len(body) > 0 && json.Valid(body) {
		rec.JSON = body
	}
	s.rec.add(rec)
}

// nextID returns a fresh, ordered id with prefix, such as
// "chatcmpl-fake00000000002a".
func (s *Server) nextID(prefix string) string {
	n := s.ids.Add(1)
	b := make([]byte, 0, len(prefix)+16)
	b = append(b, prefix...)
	b = append(b, "fake"...)
	h := strconv.FormatUint(n, 16)
	for i := len(h); i < 12; i++ {
		b = append(b, '0')
	}
	return string(append(b, h...))
}

// requestKnobs layers the knobs for one request: server-wide, then the
// directive in the last user message, then X-Fake-* headers.
func (s *Server) requestKnobs(r *http.Request, lastUser string) (Knobs, error) {
	k := *s.knobs.Load()
	if strings.Contains(lastUser, directiveOpen) {
		if err := k.applyDirective(lastUser); err != nil {
			return k, err
		}
	}
	if hasKnobHeaders(r.Header) {
		if err := k.applyHeaders(r.Header); err != nil {
			return k, err
		}
	}
	return k, k.validate()
}

// statusWriter remembers the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
