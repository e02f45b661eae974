package route

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchyard/switchyard/engine/balancer"
	"github.com/switchyard/switchyard/engine/breaker"
	"github.com/switchyard/switchyard/engine/llm"
)

// Stream is a routed stream. It accounts usage as chunks pass and reports
// the outcome to the target's stats and breaker when it ends.
type Stream struct {
	up       llm.Stream
	r        *Router
	tg       *Target
	price    Price
	first    llm.Chunk
	hasFirst bool
	start    time.Time
	ttft     time.Duration
	cancel   context.CancelFunc
	overall  context.CancelFunc
	ended    atomic.Bool
	// billed is set on a stream that reached a provider itself and on every
	// reader of a shared (coalesced) upstream stream, which has no target of
	// its own (tg is nil) but bills at its upstream's price through the
	// flight's tab. Cache hits cost nothing.
	billed bool
	// side is the hedge lanes that lost, billed with this stream at Close.
	side     *legs
	sideOnce sync.Once
	// shared is the tab of a routed stream read through a coalescing group;
	// tab is set on each reader of it, which is charged through it.
	shared *tab
	tab    *tab

	mu             sync.Mutex
	info           Info
	usage          llm.Usage
	output         int // content bytes seen, for a partial-usage estimate
	promptEstimate int
	charged        *llm.Usage // a tab reader's share, once it ended
}

// Recv returns the next chunk or io.EOF.
func (s *Stream) Recv() (llm.Chunk, error) {
	var c llm.Chunk
	if s.hasFirst {
		c, s.hasFirst = s.first, false
	} else {
		var err error
		if c, err = s.up.Recv(); err != nil {
			s.end(err)
			return c, err
		}
	}
	s.mu.Lock()
	s.output += outputBytes(&c)
	if c.Usage != nil {
		s.usage = *c.Usage
		if s.billed && s.tab == nil {
			s.info.Cost = s.price.Cost(s.usage)
		}
	}
	s.mu.Unlock()
	return c, nil
}

// end reports the outcome once: a clean end or a mid-stream failure.
func (s *Stream) end(err error) {
	if !s.ended.CompareAndSwap(false, true) {
		return
	}
	// A stream that ended before its usage chunk (client gone, upstream
	// broken, or an upstream that never reports usage) is still billed: the
	// prompt counted from the request, the completion from what it relayed.
	if s.billed {
		u, partial := s.Usage()
		cost := s.price.Cost(u)
		s.mu.Lock()
		if s.tab != nil {
			share, due := s.tab.charge(u, cost)
			s.charged, cost = &share, due
		}
		s.info.Cost = cost
		s.info.Estimated = s.info.Estimated || (partial && cost > 0)
		s.mu.Unlock()
	}
	if s.tg == nil {
		return
	}
	now := s.r.now()
	failed := err != nil && !errors.Is(err, io.EOF)
	o := breaker.Success
	if failed {
		var ue *llm.UpstreamError
		if errors.As(err, &ue) && ue.Retryable() {
			o = breaker.Failure
		} else {
			o = breaker.Neutral
			failed = false
		}
	}
	s.tg.state.stats.Done(now, balancer.DoneInfo{Latency: now.Sub(s.start), TTFT: s.ttft, Failed: failed})
	// The first chunk already counted as the target answering; a stream
	// that breaks later is a failure of its own.
	if o == breaker.Failure {
		s.tg.state.breaker.Record(false, o, 0)
		s.tg.state.streak.record(o, s.r.now)
	}
}

// Close releases the upstream stream and settles the bill: after Close,
// Info's Cost is final, the losing lanes of a hedge included.
func (s *Stream) Close() error {
	err := s.up.Close()
	s.end(context.Canceled)
	if s.cancel != nil {
		s.cancel()
	}
	if s.overall != nil {
		s.overall()
	}
	s.sideOnce.Do(func() {
		c := s.side.wait()
		s.mu.Lock()
		c.fold(&s.info)
		s.mu.Unlock()
	})
	return err
}

// Info reports the routing decision and the cost so far (final after Close).
func (s *Stream) Info() Info {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.info
}

// Usage reports the usage the upstream sent. When a stream broke before its
// usage chunk, Partial estimates completion tokens from what was relayed.
// For a reader of a shared stream, once it ended, it is the share it was
// charged (see tab).
func (s *Stream) Usage() (u llm.Usage, partial bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.charged != nil {
		return *s.charged, s.usage == (llm.Usage{})
	}
	if s.usage != (llm.Usage{}) {
		return s.usage, false
	}
	return estimatedUsage(s.promptEstimate, s.output), true
}

// outputBytes is the content a chunk carries (text, reasoning, tool-call
// arguments), for a usage estimate when the upstream reports none.
func outputBytes(c *llm.Chunk) int {
	n := 0
	for i := range c.Choices {
		n += len(c.Choices[i].Delta.Content) + len(c.Choices[i].Delta.ReasoningContent)
		for _, tc := range c.Choices[i].Delta.ToolCalls {
			n += len(tc.Arguments)
		}
	}
	return n
}

// estimatedUsage bills a stream that ended without usage: prompt tokens
// counted from the request, completion at about 4 bytes a token of what
// was relayed.
func estimatedUsage(prompt, outBytes int) llm.Usage {
	out := (outBytes + 3) / 4
	return llm.Usage{PromptTokens: prompt, CompletionTokens: out, TotalTokens: prompt + out}
}
