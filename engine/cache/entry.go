package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

// Entry is one whole answer: a unary response or a finished stream's
// chunks (exactly one is set). Either kind is served both ways: Response
// assembles a stream into one answer, Stream replays a unary answer as
// chunks, so the key does not depend on the stream flag.
//
// An Entry is shared by every reader once stored: treat it, and what its
// methods return, as read-only.
type Entry struct {
	Response *llm.ChatResponse `json:"response,omitempty"`
	Chunks   []llm.Chunk       `json:"chunks,omitempty"`
	// Who produced the answer, for the hit's routing report.
	Provider      string    `json:"provider,omitempty"`
	Target        string    `json:"target,omitempty"`
	UpstreamModel string    `json:"upstream_model,omitempty"`
	StoredAt      time.Time `json:"stored_at"`
}

// FromResponse makes an entry of a unary answer.
func FromResponse(resp *llm.ChatResponse) *Entry { return &Entry{Response: resp} }

// FromChunks makes an entry of a finished stream's chunks.
func FromChunks(chunks []llm.Chunk) *Entry { return &Entry{Chunks: chunks} }

// ChatResponse returns the answer as one response. The top level and the
// choices are copied, so the caller may set fields such as ID; messages
// below them are shared.
func (e *Entry) ChatResponse() *llm.ChatResponse {
	if e.Response != nil {
		r := *e.Response
		r.Choices = slices.Clone(r.Choices)
		return &r
	}
	return assemble(e.Chunks)
}

// Stream replays the answer as a stream. It starts no goroutine.
func (e *Entry) Stream() llm.Stream {
	if e.Response != nil {
		return &replay{chunks: split(e.Response)}
	}
	return &replay{chunks: e.Chunks}
}

// errReplayClosed is returned by Recv after Close.
var errReplayClosed = errors.New("cache: replayed stream closed")

type replay struct {
	chunks []llm.Chunk
	i      int
	closed bool
}

func (r *replay) Recv() (llm.Chunk, error) {
	if r.closed {
		return llm.Chunk{}, errReplayClosed
	}
	if r.i == len(r.chunks) {
		return llm.Chunk{}, io.EOF
	}
	r.i++
	return r.chunks[r.i-1], nil
}

func (r *replay) Close() error {
	r.closed = true
	return nil
}

// split turns a unary answer into the chunks an upstream would have sent:
// role and content per choice, then the finish reasons, then usage.
func split(r *llm.ChatResponse) []llm.Chunk {
	head := llm.Chunk{ID: r.ID, Created: r.Created, Model: r.Model, Choices: make([]llm.ChunkChoice, len(r.Choices))}
	tail := llm.Chunk{ID: r.ID, Created: r.Created, Model: r.Model, Choices: make([]llm.ChunkChoice, len(r.Choices))}
	for i, c := range r.Choices {
		d := c.Message
		if d.Role == "" {
			d.Role = llm.RoleAssistant
		}
		if len(d.ToolCalls) > 0 {
			d.ToolCalls = slices.Clone(d.ToolCalls)
			for j := range d.ToolCalls {
				d.ToolCalls[j].Index = j // stream deltas say which call by index
			}
		}
		head.Choices[i] = llm.ChunkChoice{Index: c.Index, Delta: d}
		tail.Choices[i] = llm.ChunkChoice{Index: c.Index, FinishReason: c.FinishReason}
	}
	out := []llm.Chunk{head, tail}
	if r.Usage != (llm.Usage{}) {
		u := r.Usage
		out = append(out, llm.Chunk{ID: r.ID, Created: r.Created, Model: r.Model, Usage: &u})
	}
	return out
}

// assemble folds stream chunks into one response: deltas concatenated per
// choice, tool-call fragments merged by index, the last finish reason and
// usage kept.
func assemble(chunks []llm.Chunk) *llm.ChatResponse {
	type toolAcc struct {
		call llm.ToolCall
		args strings.Builder
	}
	type choiceAcc struct {
		index                       int
		role                        llm.Role
		content, reasoning, refusal strings.Builder
		signature                   strings.Builder
		redacted                    []string
		tools                       []*toolAcc
		finish                      string
	}
	resp := &llm.ChatResponse{}
	var acc []*choiceAcc
	for ci := range chunks {
		c := &chunks[ci]
		if resp.ID == "" {
			resp.ID = c.ID
		}
		if resp.Created == 0 {
			resp.Created = c.Created
		}
		if resp.Model == "" {
			resp.Model = c.Model
		}
		if c.Usage != nil {
			resp.Usage = *c.Usage
		}
		for _, ch := range c.Choices {
			var a *choiceAcc
			for _, have := range acc {
				if have.index == ch.Index {
					a = have
					break
				}
			}
			if a == nil {
				a = &choiceAcc{index: ch.Index}
				acc = append(acc, a)
			}
			d := &ch.Delta
			if d.Role != "" {
				a.role = d.Role
			}
			a.content.WriteString(d.Content)
			a.reasoning.WriteString(d.ReasoningContent)
			a.signature.WriteString(d.ReasoningSignature)
			a.redacted = append(a.redacted, d.RedactedReasoning...)
			a.refusal.WriteString(d.Refusal)
			for _, tc := range d.ToolCalls {
				var t *toolAcc
				for _, have := range a.tools {
					if have.call.Index == tc.Index {
						t = have
						break
					}
				}
				if t == nil {
					t = &toolAcc{call: llm.ToolCall{Index: tc.Index}}
					a.tools = append(a.tools, t)
				}
				if tc.ID != "" {
					t.call.ID = tc.ID
				}
				if tc.Type != "" {
					t.call.Type = tc.Type
				}
				if tc.Name != "" {
					t.call.Name = tc.Name
				}
				t.args.WriteString(tc.Arguments)
			}
			if ch.FinishReason != "" {
				a.finish = ch.FinishReason
			}
		}
	}
	slices.SortFunc(acc, func(x, y *choiceAcc) int { return x.index - y.index })
	resp.Choices = make([]llm.Choice, len(acc))
	for i, a := range acc {
		m := llm.Message{Role: a.role, Content: a.content.String(), ReasoningContent: a.reasoning.String(), Refusal: a.refusal.String(),
			ReasoningSignature: a.signature.String(), RedactedReasoning: a.redacted}
		if m.Role == "" {
			m.Role = llm.RoleAssistant
		}
		if len(a.tools) > 0 {
			slices.SortFunc(a.tools, func(x, y *toolAcc) int { return x.call.Index - y.call.Index })
			m.ToolCalls = make([]llm.ToolCall, len(a.tools))
			for j, t := range a.tools {
				m.ToolCalls[j] = t.call
				m.ToolCalls[j].Arguments = t.args.String()
			}
		}
		resp.Choices[i] = llm.Choice{Index: a.index, Message: m, FinishReason: a.finish}
	}
	return resp
}

// Size estimates the entry's memory in bytes for L1's byte bound: the
// text it holds plus a fixed cost per struct. It walks the entry; call it
// once per store.
func (e *Entry) Size() int {
	const (
		entryCost  = 160
		choiceCost = 200 // Choice / ChunkChoice with its Message
		chunkCost  = 80
		toolCost   = 90
	)
	n := entryCost + len(e.Provider) + len(e.Target) + len(e.UpstreamModel)
	msg := func(m *llm.Message) int {
		s := len(m.Role) + len(m.Content) + len(m.Name) + len(m.ToolCallID) + len(m.Refusal) + len(m.ReasoningContent) + len(m.ReasoningSignature)
		for _, d := range m.RedactedReasoning {
			s += 16 + len(d)
		}
		for _, tc := range m.ToolCalls {
			s += toolCost + len(tc.ID) + len(tc.Type) + len(tc.Name) + len(tc.Arguments)
		}
		for _, p := range m.Parts {
			s += 64 + len(p.Text) + len(p.ImageURL) + len(p.ImageDetail)
			if f := p.File; f != nil {
				s += 48 + len(f.Data) + len(f.MIMEType) + len(f.URL) + len(f.FileID) + len(f.Filename)
			}
			if a := p.Audio; a != nil {
				s += 32 + len(a.Data) + len(a.Format)
			}
		}
		return s
	}
	logprobs := func(l *llm.Logprobs) int {
		if l == nil {
			return 0
		}
		s := 32
		for _, list := range [][]llm.TokenLogprob{l.Content, l.Refusal} {
			for _, t := range list {
				s += 40 + len(t.Token) + 8*len(t.Bytes)
				for _, a := range t.TopLogprobs {
					s += 40 + len(a.Token) + 8*len(a.Bytes)
				}
			}
		}
		return s
	}
	if r := e.Response; r != nil {
		n += 120 + len(r.ID) + len(r.Model) + len(r.SystemFingerprint)
		for i := range r.Choices {
			n += choiceCost + len(r.Choices[i].FinishReason) + msg(&r.Choices[i].Message) + logprobs(r.Choices[i].Logprobs)
		}
	}
	for i := range e.Chunks {
		c := &e.Chunks[i]
		n += chunkCost + len(c.ID) + len(c.Model)
		if c.Usage != nil {
			n += 48
		}
		for j := range c.Choices {
			n += choiceCost + len(c.Choices[j].FinishReason) + msg(&c.Choices[j].Delta) + logprobs(c.Choices[j].Logprobs)
		}
	}
	return n
}

// entryVersion marks the serialised form; a different version in a shared
// store reads as a miss rather than a wrong answer.
const entryVersion = 1

type wireEntry struct {
	V int `json:"v"`
	*Entry
}

// MarshalBinary encodes the entry for a shared Store (JSON, versioned).
func (e *Entry) MarshalBinary() ([]byte, error) {
	return json.Marshal(wireEntry{V: entryVersion, Entry: e})
}

// UnmarshalBinary decodes what MarshalBinary wrote.
func (e *Entry) UnmarshalBinary(b []byte) error {
	w := wireEntry{Entry: e}
	if err := json.Unmarshal(b, &w); err != nil {
		return fmt.Errorf("cache: decode entry: %w", err)
	}
	if w.V != entryVersion {
		return fmt.Errorf("cache: entry version %d, want %d", w.V, entryVersion)
	}
	if (e.Response == nil) == (len(e.Chunks) == 0) {
		return errors.New("cache: entry holds neither or both of a response and chunks")
	}
	return nil
}
