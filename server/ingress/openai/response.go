package openai

import (
	"strconv"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/internal/jsonw"
)

// appendCompletion appends r as an OpenAI chat.completion object.
//
// message.content is null exactly when the turn only calls tools or
// refuses; refusal and system_fingerprint are null when empty, as OpenAI
// sends them; tool_calls is omitted when there are none and
// reasoning_content when empty. "switchyard" carries the routing info;
// OpenAI SDKs ignore it.
func appendCompletion(dst []byte, r *llm.ChatResponse, info *route.Info, requestID string) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, r.ID)
	dst = append(dst, `,"object":"chat.completion","created":`...)
	dst = appendInt(dst, r.Created)
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, r.Model)
	dst = append(dst, `,"choices":[`...)
	for i := range r.Choices {
		ch := &r.Choices[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"index":`...)
		dst = appendInt(dst, int64(ch.Index))
		dst = append(dst, `,"message":`...)
		dst = appendMessage(dst, &ch.Message)
		dst = append(dst, `,"logprobs":`...)
		dst = appendLogprobs(dst, ch.Logprobs)
		dst = append(dst, `,"finish_reason":`...)
		dst = appendStringOrNull(dst, ch.FinishReason)
		dst = append(dst, '}')
	}
	dst = append(dst, `],"usage":`...)
	dst = appendUsage(dst, &r.Usage)
	dst = append(dst, `,"system_fingerprint":`...)
	dst = appendStringOrNull(dst, r.SystemFingerprint)
	dst = append(dst, `,"switchyard":`...)
	dst = appendRouting(dst, info, requestID)
	return append(dst, '}')
}

func appendMessage(dst []byte, m *llm.Message) []byte {
	role := string(m.Role)
	if role == "" {
		role = string(llm.RoleAssistant)
	}
	dst = append(dst, `{"role":`...)
	dst = appendString(dst, role)
	dst = append(dst, `,"content":`...)
	// A whole message has content unless it only calls tools or refuses.
	if m.Content != "" || (len(m.ToolCalls) == 0 && m.Refusal == "") {
		dst = appendString(dst, m.Content)
	} else {
		dst = append(dst, "null"...)
	}
	dst = append(dst, `,"refusal":`...)
	dst = appendStringOrNull(dst, m.Refusal)
	if len(m.ToolCalls) > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		for i := range m.ToolCalls {
			tc := &m.ToolCalls[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendString(dst, llm.WireToolCallID(tc.ID, tc.Signature))
			dst = append(dst, `,"type":`...)
			if tc.Type == "" {
				dst = append(dst, `"function"`...)
			} else {
				dst = appendString(dst, tc.Type)
			}
			dst = append(dst, `,"function":{"name":`...)
			dst = appendString(dst, tc.Name)
			dst = append(dst, `,"arguments":`...)
			dst = appendString(dst, tc.Arguments)
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	if m.ReasoningContent != "" {
		dst = append(dst, `,"reasoning_content":`...)
		dst = appendString(dst, m.ReasoningContent)
	}
	if m.ReasoningSignature != "" || len(m.RedactedReasoning) > 0 {
		dst = appendThinkingBlocks(append(dst, ','), m.ReasoningContent, m.ReasoningSignature, m.RedactedReasoning)
	}
	return append(dst, '}')
}

// appendThinkingBlocks writes LiteLLM's thinking_blocks when the provider
// signed its reasoning (Anthropic): a client that sends the message back
// as it came keeps the signature, which a tool-use turn needs. In a stream
// delta the signature is a fragment, as Anthropic streams it.
func appendThinkingBlocks(dst []byte, thinking, signature string, redacted []string) []byte {
	dst = append(dst, `"thinking_blocks":[`...)
	if signature != "" {
		dst = append(dst, `{"type":"thinking","thinking":`...)
		dst = appendString(dst, thinking)
		dst = append(dst, `,"signature":`...)
		dst = appendString(dst, signature)
		dst = append(dst, '}')
	}
	for i, d := range redacted {
		if i > 0 || signature != "" {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"type":"redacted_thinking","data":`...)
		dst = appendString(dst, d)
		dst = append(dst, '}')
	}
	return append(dst, ']')
}

// appendChunk appends c as an OpenAI chat.completion.chunk object: the JSON
// of one SSE event, without the "data: " prefix or the blank line.
//
// A delta carries only what this increment has: role when set, content when
// there is text (and on the first, role-carrying chunk, ""), tool-call
// fragments with id, type and name only where set. finish_reason is null
// until the choice's last chunk. usage is written when withUsage (the final
// usage chunk, whose choices are []); the routing block when info is set.
func appendChunk(dst []byte, c *llm.Chunk, withUsage bool, info *route.Info, requestID string) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, c.ID)
	dst = append(dst, `,"object":"chat.completion.chunk","created":`...)
	dst = appendInt(dst, c.Created)
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, c.Model)
	dst = append(dst, `,"choices":[`...)
	for i := range c.Choices {
		ch := &c.Choices[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"index":`...)
		dst = appendInt(dst, int64(ch.Index))
		dst = append(dst, `,"delta":`...)
		dst = appendDelta(dst, &ch.Delta)
		dst = append(dst, `,"logprobs":`...)
		dst = appendLogprobs(dst, ch.Logprobs)
		dst = append(dst, `,"finish_reason":`...)
		dst = appendStringOrNull(dst, ch.FinishReason)
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if withUsage && c.Usage != nil {
		dst = append(dst, `,"usage":`...)
		dst = appendUsage(dst, c.Usage)
	}
	if info != nil {
		dst = append(dst, `,"switchyard":`...)
		dst = appendRouting(dst, info, requestID)
	}
	return append(dst, '}')
}

func appendDelta(dst []byte, m *llm.Message) []byte {
	dst = append(dst, '{')
	n := len(dst)
	sep := func(dst []byte) []byte {
		if len(dst) > n {
			return append(dst, ',')
		}
		return dst
	}
	if m.Role != "" {
		dst = append(dst, `"role":`...)
		dst = appendString(dst, string(m.Role))
	}
	// The first delta of a stream carries the role and an empty content,
	// as OpenAI's does.
	if m.Content != "" || (len(m.ToolCalls) == 0 && m.Refusal == "" && m.Role != "") {
		dst = sep(dst)
		dst = append(dst, `"content":`...)
		dst = appendString(dst, m.Content)
	}
	if len(m.ToolCalls) > 0 {
		dst = sep(dst)
		dst = append(dst, `"tool_calls":[`...)
		for i := range m.ToolCalls {
			tc := &m.ToolCalls[i]
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"index":`...)
			dst = appendInt(dst, int64(tc.Index))
			if tc.ID != "" {
				dst = append(dst, `,"id":`...)
				dst = appendString(dst, llm.WireToolCallID(tc.ID, tc.Signature))
			}
			if tc.Type != "" {
				dst = append(dst, `,"type":`...)
				dst = appendString(dst, tc.Type)
			}
			// arguments is always present so SDK accumulators can append to it.
			dst = append(dst, `,"function":{`...)
			if tc.Name != "" {
				dst = append(dst, `"name":`...)
				dst = appendString(dst, tc.Name)
				dst = append(dst, ',')
			}
			dst = append(dst, `"arguments":`...)
			dst = appendString(dst, tc.Arguments)
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	if m.Refusal != "" {
		dst = sep(dst)
		dst = append(dst, `"refusal":`...)
		dst = appendString(dst, m.Refusal)
	}
	if m.ReasoningContent != "" {
		dst = sep(dst)
		dst = append(dst, `"reasoning_content":`...)
		dst = appendString(dst, m.ReasoningContent)
	}
	if m.ReasoningSignature != "" || len(m.RedactedReasoning) > 0 {
		// The delta's thinking text went out as reasoning_content: the
		// block carries only the signature fragment.
		dst = appendThinkingBlocks(sep(dst), "", m.ReasoningSignature, m.RedactedReasoning)
	}
	return append(dst, '}')
}

// appendLogprobs writes OpenAI's choice logprobs object, or null.
func appendLogprobs(dst []byte, l *llm.Logprobs) []byte {
	if l == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"content":`...)
	dst = appendTokenLogprobs(dst, l.Content)
	dst = append(dst, `,"refusal":`...)
	dst = appendTokenLogprobs(dst, l.Refusal)
	return append(dst, '}')
}

func appendTokenLogprobs(dst []byte, ts []llm.TokenLogprob) []byte {
	if ts == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range ts {
		t := &ts[i]
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendTokenLogprob(dst, t.Token, t.Logprob, t.Bytes)
		dst = append(dst, `,"top_logprobs":[`...)
		for j := range t.TopLogprobs {
			a := &t.TopLogprobs[j]
			if j > 0 {
				dst = append(dst, ',')
			}
			dst = appendTokenLogprob(dst, a.Token, a.Logprob, a.Bytes)
			dst = append(dst, '}')
		}
		dst = append(dst, "]}"...)
	}
	return append(dst, ']')
}

// appendTokenLogprob writes an object's opening and its token, logprob and
// bytes; the caller closes it.
func appendTokenLogprob(dst []byte, token string, logprob float64, b []int) []byte {
	dst = append(dst, `{"token":`...)
	dst = appendString(dst, token)
	dst = append(dst, `,"logprob":`...)
	dst = appendFloat(dst, logprob, 64)
	dst = append(dst, `,"bytes":`...)
	if b == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i, v := range b {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendInt(dst, int64(v))
	}
	return append(dst, ']')
}

// appendUsage writes OpenAI's usage object; total_tokens is the sum when
// the provider left it out.
func appendUsage(dst []byte, u *llm.Usage) []byte {
	total := u.TotalTokens
	if total == 0 {
		total = u.PromptTokens + u.CompletionTokens
	}
	dst = append(dst, `{"prompt_tokens":`...)
	dst = appendInt(dst, int64(u.PromptTokens))
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, int64(u.CompletionTokens))
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, int64(total))
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = appendInt(dst, int64(u.CachedTokens))
	dst = append(dst, `,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":`...)
	dst = appendInt(dst, int64(u.ReasoningTokens))
	return append(dst, `,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}`...)
}

// appendRouting appends the switchyard block. Empty strings and an unknown
// cache status are left out; attempts and cost_usd are always there (a
// cost of 0 is an answer, e.g. on a cache hit).
func appendRouting(dst []byte, r *route.Info, requestID string) []byte {
	dst = append(dst, '{')
	for _, f := range [...]struct{ key, val string }{
		{`"request_id":`, requestID},
		{`"route":`, r.Route},
		{`"strategy":`, r.Strategy},
		{`"provider":`, r.Provider},
		{`"target":`, r.Target},
		{`"upstream_model":`, r.UpstreamModel},
		{`"cache":`, r.Cache.String()},
	} {
		if f.val != "" {
			dst = append(dst, f.key...)
			dst = appendString(dst, f.val)
			dst = append(dst, ',')
		}
	}
	dst = append(dst, `"attempts":`...)
	dst = appendInt(dst, int64(r.Attempts))
	dst = append(dst, `,"cost_usd":`...)
	dst = appendNanoUSD(dst, int64(r.Cost))
	if r.Estimated {
		dst = append(dst, `,"estimated":true`...)
	}
	if len(r.Scores) > 0 {
		dst = append(dst, `,"scores":{`...)
		dst = appendSortedScores(dst, r.Scores)
		dst = append(dst, '}')
	}
	if s := r.Semantic; s != nil && s.Entry != "" {
		dst = append(dst, `,"semantic":{"similarity":`...)
		dst = strconv.AppendFloat(dst, float64(s.Similarity), 'f', 4, 32)
		dst = append(dst, `,"entry":`...)
		dst = appendString(dst, s.Entry)
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// appendNanoUSD writes nano-dollars as a plain decimal JSON number
// (0.00000615, never 6.1499999999999996e-06): exact, and any client's float
// parser reads it as the nearest double.
func appendNanoUSD(dst []byte, n int64) []byte {
	b := llm.Money(n).AppendDecimal(dst) // always has a '.' and nine digits after it
	for b[len(b)-1] == '0' {
		b = b[:len(b)-1]
	}
	if b[len(b)-1] == '.' {
		b = b[:len(b)-1]
	}
	return b
}

// appendSortedScores writes the map in key order so output is
// deterministic. It selects the next key by scanning instead of sorting a
// key slice: the map holds one entry per candidate target (a handful), and
// scanning allocates nothing.
func appendSortedScores(dst []byte, m map[string]float64) []byte {
	last, first := "", true
	for range len(m) {
		next, found := "", false
		for k := range m {
			if (first || k > last) && (!found || k < next) {
				next, found = k, true
			}
		}
		if !first {
			dst = append(dst, ',')
		}
		dst = appendString(dst, next)
		dst = append(dst, ':')
		dst = appendFloat(dst, m[next], 64)
		last, first = next, false
	}
	return dst
}

// appendString appends s as a JSON string. HTML characters are left
// alone, as OpenAI leaves them.
func appendString(dst []byte, s string) []byte { return jsonw.AppendString(dst, s, false) }

// appendStringOrNull appends s, or null when it is empty.
func appendStringOrNull(dst []byte, s string) []byte {
	if s == "" {
		return append(dst, "null"...)
	}
	return appendString(dst, s)
}

// appendFloat appends f as encoding/json would at the given bit size
// (NaN and infinities, which JSON lacks, as 0).
func appendFloat(dst []byte, f float64, bits int) []byte { return jsonw.AppendFloat(dst, f, bits) }

func appendInt(dst []byte, v int64) []byte { return strconv.AppendInt(dst, v, 10) }
