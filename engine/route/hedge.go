package route

import (
	"context"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// hedge runs a second lane on another target when the first has not
// answered within the hedge delay. The first success wins and the other
// lane is cancelled; a losing lane reached a provider too, so loser prices
// it (whether it failed, was cancelled or answered late) in the background
// and side collects the sum for the winner's bill. done releases the
// winning lane's context: call it once finished with the result (a stream
// reads on it until it ends).
func hedge[T any](ctx context.Context, r *Router, a *attempt, req *llm.ChatRequest, call func(context.Context, *Target) (T, error),
	loser func(v T, info Info, err error) legCost) (v T, info Info, done context.CancelFunc, side *legs, err error) {
	type result struct {
		v    T
		info Info
		err  error
		lane int
	}
	delay := a.rt.Hedge.Delay
	if delay <= 0 {
		if delay = a.rt.lat.P95(); delay <= 0 {
			delay = 500 * time.Millisecond
		}
	}
	results := make(chan result, 2)
	firstTarget := make(chan *Target, 1)
	var cancels [2]context.CancelFunc
	var finished [2]bool
	ctx1, cancel1 := context.WithCancel(ctx)
	cancels[0] = cancel1
	go func() {
		v, err := run(ctx1, r, a, call, func(tg *Target) { firstTarget <- tg })
		results <- result{v, a.info, err, 0}
	}()
	timer := time.NewTimer(delay)
	defer timer.Stop()
	launched, running := 1, 1
	for {
		select {
		case res := <-results:
			running--
			finished[res.lane] = true
			if res.err == nil {
				side = &legs{}
				for i := 0; i < launched; i++ {
					if i != res.lane && !finished[i] {
						cancels[i]()
					}
				}
				if running > 0 {
					side.wg.Add(running)
					go func(n int) {
						for range n {
							late := <-results
							side.add(loser(late.v, late.info, late.err))
							cancels[late.lane]()
							side.wg.Done()
						}
					}(running)
				}
				res.info.Hedged = launched > 1 || res.info.Hedged
				return res.v, res.info, cancels[res.lane], side, nil
			}
			cancels[res.lane]()
			if running == 0 {
				return res.v, res.info, func() {}, nil, res.err
			}
		case <-timer.C:
			if launched == len(cancels) {
				continue
			}
			b, err := r.newAttempt(a.rt, req, req.Hints)
			if err != nil {
				continue
			}
			select {
			case tg := <-firstTarget:
				b.exclude(tg)
				firstTarget <- tg
			default:
			}
			ctx2, cancel2 := context.WithCancel(ctx)
			cancels[1] = cancel2
			launched++
			running++
			go func() {
				v, err := run(ctx2, r, b, call, nil)
				b.info.Hedged = true
				results <- result{v, b.info, err, 1}
			}()
		}
	}
}
