package route

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"

	"github.com/switchyard/switchyard/engine/llm"
)

// Info tells how a request was served.
type Info struct {
	Route         string
	Strategy      string
	Provider      string
	Target        string
	UpstreamModel string
	Attempts      int
	Cache         llm.CacheStatus
	CostUSD       float64
	Scores        map[string]float64
}

// Router routes requests over the current Table. The table is swapped
// atomically; requests in flight finish on the table they started with.
type Router struct {
	table atomic.Pointer[Table]
}

// New returns a Router serving t.
func New(t *Table) *Router {
	r := &Router{}
	r.table.Store(t)
	return r
}

// Table returns the table in force.
func (r *Router) Table() *Table { return r.table.Load() }

// Swap installs a new table for the requests that start from now on.
func (r *Router) Swap(t *Table) { r.table.Store(t) }

// candidates lists the targets to try: the route's own targets (all of them
// with failover, else the first), then those of its fallback routes.
func (t *Table) candidates(rt *Route) []*Target {
	if !rt.Failover {
		return rt.Targets[:1]
	}
	out := append([]*Target(nil), rt.Targets...)
	seen := map[string]bool{rt.Name: true}
	for _, fb := range rt.Fallbacks {
		if seen[fb] {
			continue
		}
		seen[fb] = true
		if fr, ok := t.routes[fb]; ok {
			out = append(out, fr.Targets...)
		}
	}
	return out
}

// retryable reports whether the next target may be tried after err.
func retryable(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var ue *llm.UpstreamError
	return errors.As(err, &ue) && ue.Retryable()
}

func (info *Info) use(rt *Route, tg *Target) {
	info.Route = rt.Name
	info.Strategy = rt.Strategy
	info.Provider = tg.Provider
	info.Target = tg.ID
	info.UpstreamModel = tg.Model
}

// Chat serves a unary request, failing over to the next target on a
// retryable upstream error.
func (r *Router) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, Info, error) {
	t := r.table.Load()
	var info Info
	rt, err := t.Resolve(req.Model, req.Hints.Route)
	if err != nil {
		return nil, info, err
	}
	info.Cache = llm.CacheBypass
	up := *req
	var lastErr error
	for _, tg := range t.candidates(rt) {
		info.Attempts++
		info.use(rt, tg)
		up.Model = tg.Model
		resp, err := tg.impl.Chat(ctx, &up)
		if err == nil {
			info.CostUSD = tg.Price.Cost(resp.Usage)
			return resp, info, nil
		}
		lastErr = err
		if !retryable(ctx, err) {
			break
		}
	}
	return nil, info, lastErr
}

// ChatStream opens a stream. A target that fails before its first chunk is
// replaced by the next one; after the first chunk nothing is retried.
func (r *Router) ChatStream(ctx context.Context, req *llm.ChatRequest) (*Stream, error) {
	t := r.table.Load()
	s := &Stream{}
	rt, err := t.Resolve(req.Model, req.Hints.Route)
	if err != nil {
		return nil, err
	}
	s.info.Cache = llm.CacheBypass
	up := *req
	var lastErr error
	for _, tg := range t.candidates(rt) {
		s.info.Attempts++
		s.info.use(rt, tg)
		up.Model = tg.Model
		st, err := tg.impl.ChatStream(ctx, &up)
		if err == nil {
			// Peek: a stream that dies before its first chunk is still retryable.
			first, ferr := st.Recv()
			if ferr == nil {
				s.up, s.price, s.first, s.hasFirst = st, tg.Price, first, true
				return s, nil
			}
			_ = st.Close()
			if errors.Is(ferr, io.EOF) {
				ferr = &llm.UpstreamError{Provider: tg.Provider, Status: 502, Message: "upstream stream ended before any data", Err: io.ErrUnexpectedEOF}
			}
			err = ferr
		}
		lastErr = err
		if !retryable(ctx, err) {
			break
		}
	}
	return nil, lastErr
}

// Stream is a routed stream. It accounts usage as chunks pass through.
type Stream struct {
	up       llm.Stream
	price    Price
	first    llm.Chunk
	hasFirst bool

	mu    sync.Mutex
	info  Info
	usage llm.Usage
}

// Recv returns the next chunk or io.EOF.
func (s *Stream) Recv() (llm.Chunk, error) {
	var c llm.Chunk
	if s.hasFirst {
		c, s.hasFirst = s.first, false
	} else {
		var err error
		if c, err = s.up.Recv(); err != nil {
			return c, err
		}
	}
	if c.Usage != nil {
		s.mu.Lock()
		s.usage = *c.Usage
		s.info.CostUSD = s.price.Cost(s.usage)
		s.mu.Unlock()
	}
	return c, nil
}

// Close releases the upstream stream.
func (s *Stream) Close() error { return s.up.Close() }

// Info reports the routing decision and, once the usage chunk passed, cost.
func (s *Stream) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Usage reports usage seen so far.
func (s *Stream) Usage() llm.Usage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage
}

// Embed serves an embeddings request on the first target that can embed.
func (r *Router) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, Info, error) {
	t := r.table.Load()
	var info Info
	rt, err := t.Resolve(req.Model, req.Hints.Route)
	if err != nil {
		return nil, info, err
	}
	info.Cache = llm.CacheBypass
	up := *req
	var lastErr error = llm.Errorf(llm.KindInvalidRequest, "model '%s' does not serve embeddings", req.Model)
	for _, tg := range t.candidates(rt) {
		e, ok := tg.impl.(Embedder)
		if !ok {
			continue
		}
		info.Attempts++
		info.use(rt, tg)
		up.Model = tg.Model
		resp, err := e.Embed(ctx, &up)
		if err == nil {
			info.CostUSD = tg.Price.Cost(resp.Usage)
			return resp, info, nil
		}
		lastErr = err
		if !retryable(ctx, err) {
			break
		}
	}
	return nil, info, lastErr
}
