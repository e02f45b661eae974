package openai

import (
	"encoding/json"

	"github.com/switchyard/switchyard/engine/llm"
)

// wireLogprobs is choices[].logprobs, unary and streamed. It is a pointer in
// the choice structs so the usual "logprobs":null costs no allocation.
type wireLogprobs struct {
	Content []wireTokenLogprob `json:"content"`
	Refusal []wireTokenLogprob `json:"refusal"`
}

// UnmarshalJSON takes the object and ignores any other shape (a compatible
// server's [] or false), as the field was ignored before it was decoded:
// logprobs must never fail an answer.
func (w *wireLogprobs) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] != '{' {
		*w = wireLogprobs{}
		return nil
	}
	type plain wireLogprobs
	if err := json.Unmarshal(b, (*plain)(w)); err != nil {
		*w = wireLogprobs{} // a malformed token list is dropped, not fatal
	}
	return nil
}

type wireTokenLogprob struct {
	Token       string           `json:"token"`
	Logprob     float64          `json:"logprob"`
	Bytes       []int            `json:"bytes"`
	TopLogprobs []wireTopLogprob `json:"top_logprobs"`
}

type wireTopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// toLLM converts; nil stays nil, and an object with both lists empty
// (OpenAI's first stream chunk, {"content":[],"refusal":null}) is nil too,
// so no chunk claims logprobs it does not have.
func (w *wireLogprobs) toLLM() *llm.Logprobs {
	if w == nil || (len(w.Content) == 0 && len(w.Refusal) == 0) {
		return nil
	}
	return &llm.Logprobs{Content: tokenLogprobs(w.Content), Refusal: tokenLogprobs(w.Refusal)}
}

func tokenLogprobs(in []wireTokenLogprob) []llm.TokenLogprob {
	if in == nil {
		return nil
	}
	out := make([]llm.TokenLogprob, len(in))
	for i := range in {
		t := &in[i]
		out[i] = llm.TokenLogprob{Token: t.Token, Logprob: t.Logprob, Bytes: t.Bytes}
		if t.TopLogprobs != nil {
			top := make([]llm.TopLogprob, len(t.TopLogprobs))
			for j, a := range t.TopLogprobs {
				top[j] = llm.TopLogprob{Token: a.Token, Logprob: a.Logprob, Bytes: a.Bytes}
			}
			out[i].TopLogprobs = top
		}
	}
	return out
}

// decodeLogprobs is the fast path's hook: null is the common case and costs
// nothing; real logprobs are rare enough for encoding/json.
func decodeLogprobs(dst **wireLogprobs, raw []byte) bool {
	if isNull(raw) {
		*dst = nil
		return true
	}
	if raw[0] != '{' {
		*dst = nil
		return json.Valid(raw)
	}
	var w wireLogprobs
	if w.UnmarshalJSON(raw) != nil || !json.Valid(raw) {
		return false
	}
	*dst = &w
	return true
}
