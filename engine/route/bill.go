package route

import (
	"context"
	"errors"
	"sync"

	"github.com/switchyard/switchyard/engine/llm"
)

// legCost is what a call that did not answer cost: a losing hedge lane, or
// a call the client gave up on. It reached a provider, so it is billed with
// the request.
type legCost struct {
	usage     llm.Usage
	cost      llm.Money
	estimated bool
}

// legs collects the cost of a hedge's losing lanes, which settle in the
// background after the winner has returned.
type legs struct {
	wg        sync.WaitGroup
	mu        sync.Mutex
	usage     llm.Usage
	cost      llm.Money
	estimated bool
}

func (l *legs) add(c legCost) {
	l.mu.Lock()
	l.usage = l.usage.Add(c.usage)
	l.cost += c.cost
	l.estimated = l.estimated || c.estimated
	l.mu.Unlock()
}

// wait blocks until every losing lane has settled (they were cancelled, so
// this is as quick as the adapters honour cancellation) and reports their
// sum. A nil *legs costs nothing.
func (l *legs) wait() legCost {
	if l == nil {
		return legCost{}
	}
	l.wg.Wait()
	l.mu.Lock()
	defer l.mu.Unlock()
	return legCost{usage: l.usage, cost: l.cost, estimated: l.estimated}
}

// fold adds a leg's cost into a request's routing report.
func (c legCost) fold(info *Info) {
	info.Extra = info.Extra.Add(c.usage)
	info.Cost += c.cost
	info.Estimated = info.Estimated || c.estimated
}

// cancelledLeg prices a lane the hedge cancelled before it answered: the
// provider had the prompt, so the prompt is billed, as an estimate. A lane
// that failed on its own (an upstream error) or never picked a target
// costs nothing.
func cancelledLeg(a *attempt, info Info, err error) legCost {
	if info.Target == "" || !errors.Is(err, context.Canceled) {
		return legCost{}
	}
	u := llm.Usage{PromptTokens: a.breq.Tokens, TotalTokens: a.breq.Tokens}
	return legCost{usage: u, cost: priceOf(info, a.rt).Cost(u), estimated: true}
}

// tab is the bill of one upstream stream shared by identical requests
// (coalescing). Each request that reads it is charged, when it ends, for
// what it received beyond what the requests before it already paid: the
// first to finish pays for the prompt and what it saw, one that stayed
// longer pays the difference. The total is what the upstream produced, and
// a leader that leaves early cannot pass its tail on to a follower for free.
type tab struct {
	mu   sync.Mutex
	paid llm.Usage
	cost llm.Money
}

// charge returns the part of (u, cost) not yet paid and records it paid.
func (t *tab) charge(u llm.Usage, cost llm.Money) (llm.Usage, llm.Money) {
	t.mu.Lock()
	defer t.mu.Unlock()
	d := llm.Usage{
		PromptTokens:        max(u.PromptTokens-t.paid.PromptTokens, 0),
		CompletionTokens:    max(u.CompletionTokens-t.paid.CompletionTokens, 0),
		CachedTokens:        max(u.CachedTokens-t.paid.CachedTokens, 0),
		CacheCreationTokens: max(u.CacheCreationTokens-t.paid.CacheCreationTokens, 0),
		ReasoningTokens:     max(u.ReasoningTokens-t.paid.ReasoningTokens, 0),
	}
	d.TotalTokens = d.PromptTokens + d.CompletionTokens
	t.paid = llm.Usage{
		PromptTokens:        max(u.PromptTokens, t.paid.PromptTokens),
		CompletionTokens:    max(u.CompletionTokens, t.paid.CompletionTokens),
		CachedTokens:        max(u.CachedTokens, t.paid.CachedTokens),
		CacheCreationTokens: max(u.CacheCreationTokens, t.paid.CacheCreationTokens),
		ReasoningTokens:     max(u.ReasoningTokens, t.paid.ReasoningTokens),
	}
	due := max(cost-t.cost, 0)
	t.cost = max(cost, t.cost)
	return d, due
}
