package responses

import (
	"encoding/json"
	"strings"

	"github.com/switchyard/switchyard/engine/llm"
)

// event is one Responses stream event. Which fields are set depends on
// its type; indexes are pointers because 0 is a real index.
type event struct {
	Type           string          `json:"type"`
	SequenceNumber int             `json:"sequence_number"`
	Response       *object         `json:"response,omitempty"`
	OutputIndex    *int            `json:"output_index,omitempty"`
	ItemID         string          `json:"item_id,omitempty"`
	ContentIndex   *int            `json:"content_index,omitempty"`
	SummaryIndex   *int            `json:"summary_index,omitempty"`
	Item           json.RawMessage `json:"item,omitempty"`
	Part           any             `json:"part,omitempty"`
	Delta          *string         `json:"delta,omitempty"`
	Text           *string         `json:"text,omitempty"`
	Arguments      *string         `json:"arguments,omitempty"`
	Input          *string         `json:"input,omitempty"`
	Logprobs       *[]any          `json:"logprobs,omitempty"`
}

// frame is the event as SSE: its type as the event name, then the JSON.
func (e *event) frame() []byte {
	data, _ := json.Marshal(e)
	b := make([]byte, 0, len(e.Type)+len(data)+18)
	b = append(b, "event: "...)
	b = append(b, e.Type...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	return append(b, "\n\n"...)
}

func intp(i int) *int { return &i }

// openItem is an output item being streamed.
type openItem struct {
	kind  string // "message", "reasoning" or "function_call"
	index int    // output index
	id    string
	text  strings.Builder // text, summary or arguments so far
	call  llm.ToolCall
	// sig and redacted are a reasoning item's signature (streamed in
	// fragments) and redacted blocks, carried in encrypted_content.
	sig      strings.Builder
	redacted []string
}

// encoder turns domain chunks into the Responses event sequence. Text and
// reasoning are one item at a time, closed when another kind starts;
// function calls stay open until the end, as a provider may interleave
// their argument deltas.
type encoder struct {
	obj    *object
	seq    int
	out    []json.RawMessage // finished items, by output index
	cur    *openItem         // the open message or reasoning item
	calls  map[int]*openItem // open function calls by domain index
	order  []int             // domain call indexes in the order opened
	reason string
	usage  llm.Usage
	kinds  map[string]toolKind
}

func newEncoder(obj *object, kinds map[string]toolKind) *encoder {
	return &encoder{obj: obj, calls: map[int]*openItem{}, kinds: kinds}
}

func (e *encoder) emit(evs []*event, ev *event) []*event {
	ev.SequenceNumber = e.seq
	e.seq++
	return append(evs, ev)
}

// start is response.created and response.in_progress.
func (e *encoder) start() []*event {
	var evs []*event
	snap := *e.obj
	evs = e.emit(evs, &event{Type: "response.created", Response: &snap})
	snap2 := *e.obj
	return e.emit(evs, &event{Type: "response.in_progress", Response: &snap2})
}

// reserve takes the next output index for a new item.
func (e *encoder) reserve() int {
	e.out = append(e.out, nil)
	return len(e.out) - 1
}

func (e *encoder) open(evs []*event, kind string) []*event {
	it := &openItem{kind: kind, index: e.reserve()}
	switch kind {
	case "message":
		it.id = ownedID("msg_", e.obj.ID)
		evs = e.emit(evs, &event{Type: "response.output_item.added", OutputIndex: intp(it.index),
			Item: raw(messageItem{Type: "message", ID: it.id, Status: "in_progress", Role: "assistant", Content: []outputPart{}})})
		empty := textPart("")
		evs = e.emit(evs, &event{Type: "response.content_part.added", ItemID: it.id, OutputIndex: intp(it.index), ContentIndex: intp(0), Part: empty})
	case "reasoning":
		it.id = ownedID("rs_", e.obj.ID)
		evs = e.emit(evs, &event{Type: "response.output_item.added", OutputIndex: intp(it.index),
			Item: raw(reasoningItem{Type: "reasoning", ID: it.id, Summary: []summaryPart{}})})
		evs = e.emit(evs, &event{Type: "response.reasoning_summary_part.added", ItemID: it.id, OutputIndex: intp(it.index), SummaryIndex: intp(0),
			Part: summaryPart{Type: "summary_text", Text: ""}})
	}
	e.cur = it
	return evs
}

// closeCur finishes the open message or reasoning item.
func (e *encoder) closeCur(evs []*event) []*event {
	it := e.cur
	if it == nil {
		return evs
	}
	e.cur = nil
	text := it.text.String()
	switch it.kind {
	case "message":
		evs = e.emit(evs, &event{Type: "response.output_text.done", ItemID: it.id, OutputIndex: intp(it.index), ContentIndex: intp(0), Text: &text, Logprobs: &[]any{}})
		part := textPart(text)
		evs = e.emit(evs, &event{Type: "response.content_part.done", ItemID: it.id, OutputIndex: intp(it.index), ContentIndex: intp(0), Part: part})
		e.out[it.index] = raw(messageItem{Type: "message", ID: it.id, Status: "completed", Role: "assistant", Content: []outputPart{part}})
	case "reasoning":
		evs = e.emit(evs, &event{Type: "response.reasoning_summary_text.done", ItemID: it.id, OutputIndex: intp(it.index), SummaryIndex: intp(0), Text: &text})
		part := summaryPart{Type: "summary_text", Text: text}
		evs = e.emit(evs, &event{Type: "response.reasoning_summary_part.done", ItemID: it.id, OutputIndex: intp(it.index), SummaryIndex: intp(0), Part: part})
		e.out[it.index] = raw(reasoningItem{Type: "reasoning", ID: it.id, Summary: []summaryPart{part},
			EncryptedContent: carryReasoning(it.sig.String(), it.redacted)})
	}
	return e.emit(evs, &event{Type: "response.output_item.done", OutputIndex: intp(it.index), Item: e.out[it.index]})
}

// chunk is the events one domain chunk adds.
func (e *encoder) chunk(c llm.Chunk) []*event {
	var evs []*event
	if c.Usage != nil {
		e.usage = *c.Usage
	}
	for _, ch := range c.Choices {
		if ch.Index != 0 {
			continue
		}
		if r := ch.Delta.ReasoningContent; r != "" {
			if e.cur == nil || e.cur.kind != "reasoning" {
				evs = e.open(e.closeCur(evs), "reasoning")
			}
			e.cur.text.WriteString(r)
			evs = e.emit(evs, &event{Type: "response.reasoning_summary_text.delta", ItemID: e.cur.id, OutputIndex: intp(e.cur.index), SummaryIndex: intp(0), Delta: &r})
		}
		if s, red := ch.Delta.ReasoningSignature, ch.Delta.RedactedReasoning; s != "" || len(red) > 0 {
			// A signature ends the reasoning it signs; a redacted block may
			// come alone.
			if e.cur == nil || e.cur.kind != "reasoning" {
				evs = e.open(e.closeCur(evs), "reasoning")
			}
			e.cur.sig.WriteString(s)
			e.cur.redacted = append(e.cur.redacted, red...)
		}
		if t := ch.Delta.Content; t != "" {
			if e.cur == nil || e.cur.kind != "message" {
				evs = e.open(e.closeCur(evs), "message")
			}
			e.cur.text.WriteString(t)
			evs = e.emit(evs, &event{Type: "response.output_text.delta", ItemID: e.cur.id, OutputIndex: intp(e.cur.index), ContentIndex: intp(0), Delta: &t, Logprobs: &[]any{}})
		}
		for _, tc := range ch.Delta.ToolCalls {
			it, ok := e.calls[tc.Index]
			if !ok {
				evs = e.closeCur(evs)
				it = &openItem{kind: "function_call", index: e.reserve(), call: llm.ToolCall{ID: llm.WireToolCallID(tc.ID, tc.Signature), Name: tc.Name}}
				if it.call.ID == "" {
					it.call.ID = newID("call_")
				}
				it.id = ownedID(callPrefix(e.kinds, tc.Name), e.obj.ID)
				if e.kinds[tc.Name].custom {
					it.kind = "custom_tool_call"
				}
				e.calls[tc.Index] = it
				e.order = append(e.order, tc.Index)
				evs = e.emit(evs, &event{Type: "response.output_item.added", OutputIndex: intp(it.index),
					Item: callOutput(e.kinds, it.id, it.call.ID, it.call.Name, "", "in_progress")})
			}
			if tc.Name != "" && it.call.Name == "" {
				it.call.Name = tc.Name
			}
			if a := tc.Arguments; a != "" {
				it.text.WriteString(a)
				// A custom tool's input is the "input" field of these
				// arguments: it is sent whole once they are complete.
				if it.kind == "function_call" {
					evs = e.emit(evs, &event{Type: "response.function_call_arguments.delta", ItemID: it.id, OutputIndex: intp(it.index), Delta: &a})
				}
			}
		}
		if ch.FinishReason != "" {
			e.reason = ch.FinishReason
		}
	}
	return evs
}

// finish closes every open item and ends with response.completed, or
// response.incomplete when the answer was cut short.
func (e *encoder) finish() []*event {
	evs := e.closeCur(nil)
	for _, i := range e.order {
		it := e.calls[i]
		args := it.text.String()
		if args == "" {
			args = "{}"
		}
		if it.kind == "custom_tool_call" {
			input := customInput(args)
			evs = e.emit(evs, &event{Type: "response.custom_tool_call_input.delta", ItemID: it.id, OutputIndex: intp(it.index), Delta: &input})
			evs = e.emit(evs, &event{Type: "response.custom_tool_call_input.done", ItemID: it.id, OutputIndex: intp(it.index), Input: &input})
		} else {
			evs = e.emit(evs, &event{Type: "response.function_call_arguments.done", ItemID: it.id, OutputIndex: intp(it.index), Arguments: &args})
		}
		e.out[it.index] = callOutput(e.kinds, it.id, it.call.ID, it.call.Name, args, "completed")
		evs = e.emit(evs, &event{Type: "response.output_item.done", OutputIndex: intp(it.index), Item: e.out[it.index]})
	}
	e.calls, e.order = map[int]*openItem{}, nil
	e.obj.finish(e.out, e.usage, e.reason)
	typ := "response.completed"
	if e.obj.Status == "incomplete" {
		typ = "response.incomplete"
	}
	return e.emit(evs, &event{Type: typ, Response: e.obj})
}

// fail ends the stream with response.failed carrying the error.
func (e *encoder) fail(code, message string) []*event {
	e.obj.Status = "failed"
	e.obj.Error = &apiError{Code: code, Message: message}
	e.obj.Output = compact(e.out)
	return e.emit(nil, &event{Type: "response.failed", Response: e.obj})
}

// compact drops the slots of items that never finished.
func compact(out []json.RawMessage) []json.RawMessage {
	kept := []json.RawMessage{}
	for _, it := range out {
		if it != nil {
			kept = append(kept, it)
		}
	}
	return kept
}
