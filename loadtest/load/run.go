package load

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// Modes of Config.Mode.
const (
	ModeHTTP       = "http"        // unary JSON POST
	ModeSSE        = "sse"         // POST with "stream": true, read to data: [DONE]
	ModeGRPC       = "grpc"        // unary ChatService/CreateChatCompletion
	ModeGRPCStream = "grpc-stream" // ChatService/StreamChatCompletion to the end
)

// Config is one measurement.
type Config struct {
	Label string
	Mode  string
	// Target is the URL for the HTTP modes, host:port for the gRPC ones.
	Target string
	// Body is the HTTP request body; GRPC the gRPC request.
	Body   []byte
	GRPC   *pb.CreateChatCompletionRequest
	Header http.Header
	// Concurrency is the number of workers (closed loop: each sends its next
	// request when the previous answered).
	Concurrency int
	// Requests bounds the measured requests (0: no bound but Duration).
	Requests int
	// Duration bounds the measuring time (0: no bound but Requests).
	Duration time.Duration
	// Warmup requests run before measuring, not counted.
	Warmup int
	// Rate > 0 paces requests at this many per second (open loop); latency
	// is then counted from each request's scheduled start, so a stalled
	// server is not hidden by the client waiting for it.
	Rate float64
	// Conns is the number of gRPC connections (default 1).
	Conns int
	// Proc, when set, is sampled before and after (CPU) and every
	// SampleEvery during the run (RSS).
	Proc        *Proc
	SampleEvery time.Duration
}

// Result is what one measurement found.
type Result struct {
	Label       string         `json:"label"`
	Mode        string         `json:"mode"`
	Target      string         `json:"target"`
	Concurrency int            `json:"concurrency"`
	Rate        float64        `json:"rate,omitempty"`
	Requests    int            `json:"requests"` // answered without error
	Errors      int            `json:"errors"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	FirstError  string         `json:"first_error,omitempty"`
	ElapsedS    float64        `json:"elapsed_s"`
	RPS         float64        `json:"rps"`
	Latency     Percentiles    `json:"latency"`
	TTFT        *Percentiles   `json:"ttft,omitempty"`
	// Cache counts answers by the cache status the target reported
	// (X-Switchyard-Cache or RoutingInfo.cache); absent when none did.
	Cache map[string]int `json:"cache,omitempty"`
	Proc  *ProcResult    `json:"proc,omitempty"`
}

// ProcResult is the watched process tree over the run.
type ProcResult struct {
	Before ProcSample `json:"before"`
	After  ProcSample `json:"after"`
	// CPUPer1k is CPU seconds of the tree per 1,000 answered requests.
	CPUPer1k float64 `json:"cpu_s_per_1k"`
	// RSS samples (KB), one per SampleEvery.
	RSSKB    []int64 `json:"rss_kb_samples,omitempty"`
	RSSMinKB int64   `json:"rss_min_kb"`
	RSSMaxKB int64   `json:"rss_max_kb"`
}

// observation is what one request reports beside its latency.
type observation struct {
	ttft  time.Duration // 0 when not a stream or no content arrived
	cache string
}

// doer sends one request. Each worker has its own; a doer is not shared.
type doer interface {
	do(ctx context.Context) (observation, error)
}

type worker struct {
	lat   []time.Duration
	ttft  []time.Duration
	errs  map[string]int
	first string
	cache map[string]int
}

// Run performs the measurement described by cfg.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Requests <= 0 && cfg.Duration <= 0 {
		return nil, errors.New("load: set Requests or Duration (an unbounded run never stops)")
	}
	newDoer, closeAll, err := doers(cfg)
	if err != nil {
		return nil, err
	}
	defer closeAll()

	ds := make([]doer, cfg.Concurrency)
	for i := range ds {
		ds[i] = newDoer()
	}
	if cfg.Warmup > 0 {
		warm := cfg
		warm.Requests, warm.Duration, warm.Rate, warm.Proc = cfg.Warmup, 0, 0, nil
		drive(ctx, warm, ds)
	}

	res := &Result{Label: cfg.Label, Mode: cfg.Mode, Target: cfg.Target, Concurrency: cfg.Concurrency, Rate: cfg.Rate}
	var stopSampling func() []int64
	if cfg.Proc != nil {
		before, err := cfg.Proc.Sample()
		if err != nil {
			return nil, err
		}
		res.Proc = &ProcResult{Before: before}
		stopSampling = sampleRSS(cfg.Proc, cfg.SampleEvery)
	}
	start := time.Now()
	ws := drive(ctx, cfg, ds)
	elapsed := time.Since(start)
	if cfg.Proc != nil {
		res.Proc.RSSKB = stopSampling()
		after, err := cfg.Proc.Sample()
		if err != nil {
			return nil, err
		}
		res.Proc.After = after
	}

	var lat, ttft []time.Duration
	for _, w := range ws {
		lat = append(lat, w.lat...)
		ttft = append(ttft, w.ttft...)
		for k, v := range w.errs {
			if res.ErrorKinds == nil {
				res.ErrorKinds = map[string]int{}
			}
			res.ErrorKinds[k] += v
			res.Errors += v
		}
		if res.FirstError == "" {
			res.FirstError = w.first
		}
		for k, v := range w.cache {
			if res.Cache == nil {
				res.Cache = map[string]int{}
			}
			res.Cache[k] += v
		}
	}
	res.Requests = len(lat)
	res.ElapsedS = elapsed.Seconds()
	res.RPS = float64(res.Requests) / elapsed.Seconds()
	res.Latency = Summarize(lat)
	if cfg.Mode == ModeSSE || cfg.Mode == ModeGRPCStream {
		p := Summarize(ttft)
		res.TTFT = &p
	}
	if p := res.Proc; p != nil {
		if res.Requests > 0 {
			p.CPUPer1k = (p.After.CPUSeconds - p.Before.CPUSeconds) / float64(res.Requests) * 1000
		}
		p.RSSMinKB, p.RSSMaxKB = p.Before.RSSKB, p.Before.RSSKB
		for _, v := range append(p.RSSKB, p.After.RSSKB) {
			p.RSSMinKB, p.RSSMaxKB = min(p.RSSMinKB, v), max(p.RSSMaxKB, v)
		}
	}
	return res, nil
}

// drive runs the workers until the count or the duration is reached.
func drive(ctx context.Context, cfg Config, ds []doer) []*worker {
	// In-flight requests may finish after the duration; a hard stop a
	// little later bounds a run against a server that hangs.
	hard := cfg.Duration + time.Minute
	if cfg.Duration <= 0 {
		hard = 10 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, hard)
	defer cancel()
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = time.Now().Add(cfg.Duration)
	}
	capHint := 1024
	if cfg.Requests > 0 {
		capHint = cfg.Requests/len(ds) + 1
	}

	// next hands out the scheduled start of each request, or false when
	// the run is over.
	var next func() (time.Time, bool)
	var issued atomic.Int64
	if cfg.Rate > 0 {
		ticks := make(chan time.Time, len(ds))
		interval := time.Duration(float64(time.Second) / cfg.Rate)
		go func() {
			defer close(ticks)
			t0 := time.Now()
			for i := 0; cfg.Requests <= 0 || i < cfg.Requests; i++ {
				at := t0.Add(time.Duration(i) * interval)
				if !deadline.IsZero() && at.After(deadline) {
					return
				}
				if d := time.Until(at); d > 0 {
					select {
					case <-time.After(d):
					case <-ctx.Done():
						return
					}
				}
				select {
				case ticks <- at:
				case <-ctx.Done():
					return
				}
			}
		}()
		next = func() (time.Time, bool) { t, ok := <-ticks; return t, ok }
	} else {
		next = func() (time.Time, bool) {
			if cfg.Requests > 0 && issued.Add(1) > int64(cfg.Requests) {
				return time.Time{}, false
			}
			now := time.Now()
			if !deadline.IsZero() && now.After(deadline) {
				return time.Time{}, false
			}
			return now, ctx.Err() == nil
		}
	}

	ws := make([]*worker, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		w := &worker{lat: make([]time.Duration, 0, capHint)}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				at, ok := next()
				if !ok {
					return
				}
				o, err := d.do(ctx)
				lat := time.Since(at)
				if err != nil {
					if ctx.Err() != nil {
						return // the hard stop, not the server
					}
					if w.errs == nil {
						w.errs = map[string]int{}
					}
					k := errKind(err)
					w.errs[k]++
					if w.first == "" {
						w.first = err.Error()
					}
					continue
				}
				w.lat = append(w.lat, lat)
				if o.ttft > 0 {
					w.ttft = append(w.ttft, o.ttft)
				}
				if o.cache != "" {
					if w.cache == nil {
						w.cache = map[string]int{}
					}
					w.cache[strings.ToLower(o.cache)]++
				}
			}
		}()
	}
	wg.Wait()
	return ws
}

// sampleRSS samples p every interval until the returned stop is called.
func sampleRSS(p *Proc, every time.Duration) (stop func() []int64) {
	if every <= 0 {
		every = time.Second
	}
	done := make(chan struct{})
	var out []int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if s, err := p.Sample(); err == nil {
					mu.Lock()
					out = append(out, s.RSSKB)
					mu.Unlock()
				}
			}
		}
	}()
	return func() []int64 {
		close(done)
		wg.Wait()
		return out
	}
}

// statusError is a non-2xx answer.
type statusError struct {
	code int
	body string
}

func (e *statusError) Error() string { return fmt.Sprintf("status %d: %s", e.code, e.body) }

// errKind groups errors for the summary: "status 502", "grpc Unavailable",
// "stream incomplete", or the error text's first words.
func errKind(err error) string {
	var se *statusError
	if errors.As(err, &se) {
		return fmt.Sprintf("status %d", se.code)
	}
	if k, ok := grpcKind(err); ok {
		return k
	}
	s := err.Error()
	if i := strings.IndexAny(s, ":"); i > 0 && i < 40 {
		s = s[:i]
	}
	if len(s) > 60 {
		s = s[:60]
	}
	return s
}

// SortedKinds lists error kinds, most frequent first (for printing).
func SortedKinds(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return m[out[i]] > m[out[j]] || (m[out[i]] == m[out[j]] && out[i] < out[j]) })
	return out
}
