package route

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/switchyard/switchyard/engine/llm"
)

// MaxFanOutN caps n on a route that fans it out: every choice is a whole
// upstream call, billed with its own prompt, so a typo of n=500 must not
// become 500 calls.
const MaxFanOutN = 16

// nativeN is implemented by a provider that says whether one call of it
// answers n > 1 choices. One that does not implement it is taken to (the
// OpenAI family's n, Gemini's candidateCount); Anthropic's adapter says
// false.
type nativeN interface{ NativeN() bool }

func servesN(p Provider) bool {
	c, ok := p.(nativeN)
	return !ok || c.NativeN()
}

// serve returns what answers req on tg and how many upstream calls that
// is: the target itself, or, when the route fans n out and the target has
// no n of its own, a fanOut making one call per choice. spent and prompt
// bill the lanes of a unary fan-out that failed (see fanOut).
//
// Requests without n > 1 return at the first test: the common path pays
// nothing for the feature.
func (rt *Route) serve(tg *Target, req *llm.ChatRequest, spent *legs, prompt int) (Provider, int, error) {
	if req.N == nil || *req.N <= 1 || servesN(tg.impl) {
		return tg.impl, 1, nil
	}
	n := *req.N
	if !rt.FanOutN {
		// Unchanged: the adapter refuses n itself; its 400 learns the
		// route option that would serve it.
		return refusesN{tg.impl}, 1, nil
	}
	if n > MaxFanOutN {
		return nil, 0, llm.InvalidParam("n", "n is %d, but route '%s' serves n on %s with one upstream call per choice, at most %d",
			n, rt.Name, tg.Provider, MaxFanOutN)
	}
	return &fanOut{p: tg.impl, n: n, provider: tg.Provider, price: tg.Price, prompt: prompt, spent: spent}, n, nil
}

// refusesN passes calls through to a provider without native n on a route
// that does not fan out, adding the route option to the provider's own
// "n must be 1" error.
type refusesN struct{ Provider }

func (p refusesN) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	resp, err := p.Provider.Chat(ctx, req)
	return resp, nHint(err)
}

func (p refusesN) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	st, err := p.Provider.ChatStream(ctx, req)
	return st, nHint(err)
}

func nHint(err error) error {
	var le *llm.Error
	if err == nil || !errors.As(err, &le) || le.Param != "n" {
		return err
	}
	e := *le
	e.Message += " (or set fan_out_n: true on the route, which serves n > 1 with one upstream call per choice, each billed)"
	return &e
}

// fanOut serves n > 1 on a provider without it: n concurrent calls with n
// unset, merged into one answer.
type fanOut struct {
	p        Provider
	n        int
	provider string
	// A unary fan-out that fails had lanes that reached the provider all
	// the same: what they cost goes to spent, priced at price, a lane
	// cancelled in flight at its prompt estimate (as cancelledLeg does).
	price  Price
	prompt int
	spent  *legs
}

// Chat makes the n calls, cancels the rest when one fails, and merges the
// answers: choices re-indexed 0.. in lane order, usage summed (every
// lane's prompt is billed), ID and model from the first lane.
func (f *fanOut) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type lane struct {
		req  llm.ChatRequest
		resp *llm.ChatResponse
		err  error
	}
	lanes := make([]lane, f.n)
	var (
		wg     sync.WaitGroup
		once   sync.Once
		failed = -1 // the lane whose error fails the call: the first to fail
	)
	for i := range lanes {
		lanes[i].req = *req
		lanes[i].req.N = nil
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := &lanes[i]
			l.resp, l.err = f.p.Chat(ctx, &l.req)
			if l.err == nil && l.resp == nil {
				l.err = &llm.UpstreamError{Provider: f.provider, Status: 502, Message: "upstream returned no answer"}
			}
			if l.err != nil {
				once.Do(func() { failed = i; cancel() })
			}
		}()
	}
	wg.Wait()
	if failed >= 0 {
		if f.spent != nil {
			for i := range lanes {
				if i == failed {
					continue // the router bills the call's own error
				}
				switch l := &lanes[i]; {
				case l.err == nil:
					f.spent.add(legCost{usage: l.resp.Usage, cost: f.price.Cost(l.resp.Usage)})
				case errors.Is(l.err, context.Canceled):
					u := llm.Usage{PromptTokens: f.prompt, TotalTokens: f.prompt}
					f.spent.add(legCost{usage: u, cost: f.price.Cost(u), estimated: true})
				}
			}
		}
		return nil, lanes[failed].err
	}
	resps := make([]*llm.ChatResponse, len(lanes))
	for i := range lanes {
		resps[i] = lanes[i].resp
	}
	return mergeChat(resps), nil
}

// mergeChat makes one answer of a fan-out's: choices re-indexed 0.. in
// lane order, usage summed, the rest from the first.
func mergeChat(resps []*llm.ChatResponse) *llm.ChatResponse {
	total := 0
	for _, r := range resps {
		total += len(r.Choices)
	}
	out := *resps[0]
	out.Choices = make([]llm.Choice, 0, total)
	out.Usage = llm.Usage{}
	for _, r := range resps {
		for _, c := range r.Choices {
			c.Index = len(out.Choices)
			out.Choices = append(out.Choices, c)
		}
		out.Usage = out.Usage.Add(r.Usage)
	}
	return &out
}

// ChatStream opens n streams with n unset, merged by a fanStream.
func (f *fanOut) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	ctx, cancel := context.WithCancel(ctx)
	s := newFanStream(f.n, f.provider, cancel)
	one := *req
	one.N = nil
	for i := range f.n {
		go s.pump(ctx, f.p, one, i)
	}
	return s, nil
}

// laneEvent is a lane's chunk, or its end (err, io.EOF for a clean one).
type laneEvent struct {
	lane  int
	chunk llm.Chunk
	err   error
}

// fanStream merges n upstream streams (lanes) into one. Each lane runs in
// its own goroutine (pump) and its choices come out with Index set to the
// lane number, as they arrive. Its first Recv waits for every lane's first
// chunk: the router takes a first chunk as the target having answered and
// stops retrying, which would be wrong while a lane could still be refused
// (a 429 on the fourth call of four). After that a lane's failure fails the
// stream and cancels the others. Usage chunks are held back, the latest of
// each lane kept (some upstreams send it in parts), and their sum is sent
// once after every lane ended. Recv is for one goroutine; Close may come
// from another, and stops every lane before it returns.
type fanStream struct {
	provider string
	// events holds a chunk in flight per lane; a deeper buffer measured no
	// faster (BenchmarkFanOutStream).
	events chan laneEvent
	quit   chan struct{}
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	// Recv's own state.
	n        int
	seen     []bool // lane sent its first chunk
	waiting  int    // lanes not yet seen
	ended    int
	usage    []llm.Usage
	hasUsage bool
	queue    []llm.Chunk // first chunks in lane order, then what came meanwhile
	firsts   []llm.Chunk
	hasFirst []bool
	id       string
	model    string
	created  int64
	err      error
}

func newFanStream(n int, provider string, cancel context.CancelFunc) *fanStream {
	s := &fanStream{provider: provider, events: make(chan laneEvent, n), quit: make(chan struct{}), cancel: cancel,
		n: n, seen: make([]bool, n), waiting: n, usage: make([]llm.Usage, n), firsts: make([]llm.Chunk, n), hasFirst: make([]bool, n)}
	s.wg.Add(n)
	return s
}

// pump relays one lane. It closes its own stream (never concurrently with
// its Recv) and stops when Close quits the merge; cancelling ctx ends an
// upstream read it is blocked in.
func (s *fanStream) pump(ctx context.Context, p Provider, req llm.ChatRequest, lane int) {
	defer s.wg.Done()
	st, err := p.ChatStream(ctx, &req)
	if err != nil {
		s.send(laneEvent{lane: lane, err: err})
		return
	}
	defer st.Close()
	for {
		c, err := st.Recv()
		if err != nil {
			s.send(laneEvent{lane: lane, err: err})
			return
		}
		for j := range c.Choices {
			c.Choices[j].Index = lane
		}
		if !s.send(laneEvent{lane: lane, chunk: c}) {
			return
		}
	}
}

func (s *fanStream) send(ev laneEvent) bool {
	select {
	case s.events <- ev:
		return true
	case <-s.quit:
		return false
	}
}

var errFanClosed = errors.New("route: fanned-out stream closed")

// Recv returns the next chunk of any lane, the summed usage after the
// last, then io.EOF; or the first lane error.
func (s *fanStream) Recv() (llm.Chunk, error) {
	select {
	case <-s.quit: // chunks still buffered are not served after Close
		s.fail(errFanClosed)
	default:
	}
	for s.err == nil {
		if s.waiting == 0 && len(s.queue) > 0 {
			c := s.queue[0]
			s.queue = s.queue[1:]
			return s.stamp(c), nil
		}
		if s.ended == s.n {
			s.err = io.EOF
			if s.hasUsage {
				var u llm.Usage
				for _, lu := range s.usage {
					u = u.Add(lu)
				}
				return llm.Chunk{ID: s.id, Created: s.created, Model: s.model, Usage: &u}, nil
			}
			break
		}
		var ev laneEvent
		select {
		case ev = <-s.events:
		case <-s.quit:
			s.fail(errFanClosed)
			continue
		}
		if c, ok := s.take(ev); ok {
			return s.stamp(c), nil
		}
	}
	return llm.Chunk{}, s.err
}

// take applies one event and returns a chunk to hand out now, if any.
func (s *fanStream) take(ev laneEvent) (llm.Chunk, bool) {
	if ev.err != nil {
		if !errors.Is(ev.err, io.EOF) {
			s.fail(ev.err)
			return llm.Chunk{}, false
		}
		if !s.seen[ev.lane] {
			s.fail(&llm.UpstreamError{Provider: s.provider, Status: 502,
				Message: fmt.Sprintf("upstream stream %d of %d ended before any data", ev.lane+1, s.n), Err: io.ErrUnexpectedEOF})
			return llm.Chunk{}, false
		}
		s.ended++
		return llm.Chunk{}, false
	}
	c := ev.chunk
	if c.Usage != nil {
		s.usage[ev.lane], s.hasUsage = *c.Usage, true
		c.Usage = nil
	}
	starting, first := s.waiting > 0, !s.seen[ev.lane]
	if first {
		s.seen[ev.lane] = true
		s.waiting--
		if ev.lane == 0 {
			s.id, s.model, s.created = c.ID, c.Model, c.Created
		}
	}
	if len(c.Choices) > 0 { // else usage alone, held back for the sum
		switch {
		case !starting:
			return c, true
		case first:
			s.firsts[ev.lane], s.hasFirst[ev.lane] = c, true
		default:
			s.queue = append(s.queue, c)
		}
	}
	if starting && s.waiting == 0 {
		// Every lane has answered: first chunks in lane order, then what
		// came in the meantime.
		q := make([]llm.Chunk, 0, s.n+len(s.queue))
		for i, ok := range s.hasFirst {
			if ok {
				q = append(q, s.firsts[i])
			}
		}
		s.queue, s.firsts, s.hasFirst = append(q, s.queue...), nil, nil
	}
	return llm.Chunk{}, false
}

// stamp gives every chunk the first lane's id, model and time, so the
// client sees one answer.
func (s *fanStream) stamp(c llm.Chunk) llm.Chunk {
	c.ID, c.Model, c.Created = s.id, s.model, s.created
	return c
}

// fail records the stream's error and cancels every lane.
func (s *fanStream) fail(err error) {
	if s.err == nil {
		s.err = err
	}
	s.cancel()
}

// Close cancels and stops every lane, each closing its upstream stream,
// and returns once they have.
func (s *fanStream) Close() error {
	s.once.Do(func() {
		close(s.quit)
		s.cancel()
		s.wg.Wait()
	})
	return nil
}
