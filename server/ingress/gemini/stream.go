package gemini

import (
	"encoding/json"
	"sort"

	"github.com/switchyard/switchyard/engine/llm"
)

// encoder turns domain chunks into stream events. Text and thoughts go out
// as they come; a tool call is gathered and sent whole, as Gemini sends
// functionCall parts, in the last event with the finish reason and usage.
type encoder struct {
	model, id string
	calls     map[int]*llm.ToolCall
	reason    string
	usage     *llm.Usage
}

func newEncoder(model, id string) *encoder {
	return &encoder{model: model, id: id, calls: map[int]*llm.ToolCall{}}
}

func (e *encoder) event(parts []part, finish string, u *llm.Usage, lp *logprobsResult) []byte {
	a := answer{ModelVersion: e.model, ResponseID: e.id,
		Candidates: []candidate{{Content: content{Role: "model", Parts: parts}, FinishReason: finish, LogprobsResult: lp}}}
	if u != nil {
		a.UsageMetadata = usageOf(*u)
	}
	b, _ := json.Marshal(a)
	return b
}

// chunk is the event one domain chunk makes, or nil.
func (e *encoder) chunk(c llm.Chunk) []byte {
	if c.Usage != nil {
		u := *c.Usage
		e.usage = &u
	}
	var parts []part
	var lp *logprobsResult
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		if r := ch.Delta.ReasoningContent; r != "" {
			parts = append(parts, part{Text: r, Thought: true})
		}
		if t := ch.Delta.Content; t != "" {
			parts = append(parts, part{Text: t})
			lp = logprobsOf(ch.Logprobs)
		}
		for _, tc := range ch.Delta.ToolCalls {
			cur, ok := e.calls[tc.Index]
			if !ok {
				cur = &llm.ToolCall{Index: tc.Index}
				e.calls[tc.Index] = cur
			}
			if tc.ID != "" {
				cur.ID = tc.ID
			}
			if tc.Name != "" {
				cur.Name = tc.Name
			}
			if tc.Signature != "" {
				cur.Signature = tc.Signature
			}
			cur.Arguments += tc.Arguments
		}
		if ch.FinishReason != "" {
			e.reason = ch.FinishReason
		}
	}
	if len(parts) == 0 {
		return nil
	}
	return e.event(parts, "", nil, lp)
}

// finish is the last event: the gathered calls, the finish reason, usage.
func (e *encoder) finish() []byte {
	idx := make([]int, 0, len(e.calls))
	for i := range e.calls {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	parts := []part{}
	for _, i := range idx {
		tc := *e.calls[i]
		if tc.Arguments == "" {
			tc.Arguments = "{}"
		}
		parts = append(parts, callPart(tc))
	}
	reason := finishReason(e.reason)
	if reason == "" {
		reason = "STOP"
	}
	u := e.usage
	if u == nil {
		u = &llm.Usage{}
	}
	return e.event(parts, reason, u, nil)
}
