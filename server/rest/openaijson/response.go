package openaijson

import (
	"encoding/base64"
	"encoding/binary"
	"math"

	"github.com/switchyard/switchyard/engine/llm"
	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// AppendChatCompletion appends c as an OpenAI chat.completion object.
//
// message.content is null exactly when the proto's content is absent (an
// assistant turn that only calls tools); refusal and system_fingerprint are
// null when empty, as OpenAI sends them; tool_calls is omitted when there are
// none and reasoning_content when unset. usage is omitted when nil.
// "switchyard" carries the routing info when set; OpenAI SDKs ignore it.
func AppendChatCompletion(dst []byte, c *switchyardv1.ChatCompletion) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, c.GetId())
	dst = append(dst, `,"object":"chat.completion","created":`...)
	dst = appendInt(dst, c.GetCreated())
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, c.GetModel())
	dst = append(dst, `,"choices":[`...)
	for i, ch := range c.GetChoices() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"index":`...)
		dst = appendInt(dst, int64(ch.GetIndex()))
		dst = append(dst, `,"message":`...)
		dst = appendMessage(dst, ch.GetMessage())
		dst = append(dst, `,"logprobs":null,"finish_reason":`...)
		dst = appendStringOrNull(dst, ch.GetFinishReason())
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if u := c.GetUsage(); u != nil {
		dst = append(dst, `,"usage":`...)
		dst = appendUsage(dst, u)
	}
	dst = append(dst, `,"system_fingerprint":`...)
	dst = appendStringOrNull(dst, c.GetSystemFingerprint())
	if t := c.GetServiceTier(); t != "" {
		dst = append(dst, `,"service_tier":`...)
		dst = appendString(dst, t)
	}
	if r := c.GetSwitchyard(); r != nil {
		dst = append(dst, `,"switchyard":`...)
		dst = appendRouting(dst, r)
	}
	return append(dst, '}')
}

func appendMessage(dst []byte, m *switchyardv1.ChatMessage) []byte {
	if m == nil {
		m = &switchyardv1.ChatMessage{}
	}
	role := m.GetRole()
	if role == "" {
		role = "assistant"
	}
	dst = append(dst, `{"role":`...)
	dst = appendString(dst, role)
	dst = append(dst, `,"content":`...)
	dst = appendOptString(dst, m.Content)
	dst = append(dst, `,"refusal":`...)
	dst = appendOptString(dst, m.Refusal)
	if tcs := m.GetToolCalls(); len(tcs) > 0 {
		dst = append(dst, `,"tool_calls":[`...)
		for i, tc := range tcs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"id":`...)
			dst = appendString(dst, tc.GetId())
			dst = append(dst, `,"type":`...)
			dst = appendString(dst, toolType(tc.GetType()))
			dst = append(dst, `,"function":{"name":`...)
			dst = appendString(dst, tc.GetFunction().GetName())
			dst = append(dst, `,"arguments":`...)
			dst = appendString(dst, tc.GetFunction().GetArguments())
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	if m.ReasoningContent != nil {
		dst = append(dst, `,"reasoning_content":`...)
		dst = appendString(dst, *m.ReasoningContent)
	}
	return append(dst, '}')
}

func toolType(t string) string {
	if t == "" {
		return "function"
	}
	return t
}

// AppendChunk appends c as an OpenAI chat.completion.chunk object: the JSON
// of one SSE event, without the "data: " prefix or the blank line.
//
// A delta carries only what this increment has: role when set, content when
// present (the first chunk's "" included), tool-call fragments with id, type
// and name only where set. finish_reason is null until the choice's last
// chunk. usage appears only when set (the final usage chunk, whose choices
// are []).
func AppendChunk(dst []byte, c *switchyardv1.ChatCompletionChunk) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, c.GetId())
	dst = append(dst, `,"object":"chat.completion.chunk","created":`...)
	dst = appendInt(dst, c.GetCreated())
	dst = append(dst, `,"model":`...)
	dst = appendString(dst, c.GetModel())
	if fp := c.GetSystemFingerprint(); fp != "" {
		dst = append(dst, `,"system_fingerprint":`...)
		dst = appendString(dst, fp)
	}
	dst = append(dst, `,"choices":[`...)
	for i, ch := range c.GetChoices() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"index":`...)
		dst = appendInt(dst, int64(ch.GetIndex()))
		dst = append(dst, `,"delta":`...)
		dst = appendDelta(dst, ch.GetDelta())
		dst = append(dst, `,"logprobs":null,"finish_reason":`...)
		if ch != nil {
			dst = appendOptString(dst, ch.FinishReason)
		} else {
			dst = append(dst, "null"...)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, ']')
	if u := c.GetUsage(); u != nil {
		dst = append(dst, `,"usage":`...)
		dst = appendUsage(dst, u)
	}
	if r := c.GetSwitchyard(); r != nil {
		dst = append(dst, `,"switchyard":`...)
		dst = appendRouting(dst, r)
	}
	return append(dst, '}')
}

func appendDelta(dst []byte, m *switchyardv1.ChatMessage) []byte {
	dst = append(dst, '{')
	n := len(dst)
	sep := func(dst []byte) []byte {
		if len(dst) > n {
			return append(dst, ',')
		}
		return dst
	}
	if r := m.GetRole(); r != "" {
		dst = append(dst, `"role":`...)
		dst = appendString(dst, r)
	}
	if m != nil && m.Content != nil {
		dst = sep(dst)
		dst = append(dst, `"content":`...)
		dst = appendString(dst, m.GetContent())
	}
	if tcs := m.GetToolCalls(); len(tcs) > 0 {
		dst = sep(dst)
		dst = append(dst, `"tool_calls":[`...)
		for i, tc := range tcs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, `{"index":`...)
			dst = appendInt(dst, int64(tc.GetIndex()))
			if id := tc.GetId(); id != "" {
				dst = append(dst, `,"id":`...)
				dst = appendString(dst, id)
			}
			if t := tc.GetType(); t != "" {
				dst = append(dst, `,"type":`...)
				dst = appendString(dst, t)
			}
			// arguments is always present so SDK accumulators can append to it.
			dst = append(dst, `,"function":{`...)
			if name := tc.GetFunction().GetName(); name != "" {
				dst = append(dst, `"name":`...)
				dst = appendString(dst, name)
				dst = append(dst, ',')
			}
			dst = append(dst, `"arguments":`...)
			dst = appendString(dst, tc.GetFunction().GetArguments())
			dst = append(dst, "}}"...)
		}
		dst = append(dst, ']')
	}
	if m != nil && m.Refusal != nil {
		dst = sep(dst)
		dst = append(dst, `"refusal":`...)
		dst = appendString(dst, *m.Refusal)
	}
	if m != nil && m.ReasoningContent != nil {
		dst = sep(dst)
		dst = append(dst, `"reasoning_content":`...)
		dst = appendString(dst, *m.ReasoningContent)
	}
	return append(dst, '}')
}

func appendUsage(dst []byte, u *switchyardv1.Usage) []byte {
	dst = append(dst, `{"prompt_tokens":`...)
	dst = appendInt(dst, int64(u.GetPromptTokens()))
	dst = append(dst, `,"completion_tokens":`...)
	dst = appendInt(dst, int64(u.GetCompletionTokens()))
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, int64(u.GetTotalTokens()))
	p := u.GetPromptTokensDetails()
	dst = append(dst, `,"prompt_tokens_details":{"cached_tokens":`...)
	dst = appendInt(dst, int64(p.GetCachedTokens()))
	dst = append(dst, `,"audio_tokens":`...)
	dst = appendInt(dst, int64(p.GetAudioTokens()))
	d := u.GetCompletionTokensDetails()
	dst = append(dst, `},"completion_tokens_details":{"reasoning_tokens":`...)
	dst = appendInt(dst, int64(d.GetReasoningTokens()))
	dst = append(dst, `,"audio_tokens":`...)
	dst = appendInt(dst, int64(d.GetAudioTokens()))
	dst = append(dst, `,"accepted_prediction_tokens":`...)
	dst = appendInt(dst, int64(d.GetAcceptedPredictionTokens()))
	dst = append(dst, `,"rejected_prediction_tokens":`...)
	dst = appendInt(dst, int64(d.GetRejectedPredictionTokens()))
	return append(dst, "}}"...)
}

// appendRouting appends the switchyard block. Empty strings and an unknown
// cache status are left out; attempts and cost_usd are always there (a
// cost of 0 is an answer, e.g. on a cache hit).
func appendRouting(dst []byte, r *switchyardv1.RoutingInfo) []byte {
	dst = append(dst, '{')
	for _, f := range [...]struct{ key, val string }{
		{`"request_id":`, r.GetRequestId()},
		{`"route":`, r.GetRoute()},
		{`"strategy":`, r.GetStrategy()},
		{`"provider":`, r.GetProvider()},
		{`"target":`, r.GetTarget()},
		{`"upstream_model":`, r.GetUpstreamModel()},
		{`"cache":`, cacheStatus(r.GetCache())},
	} {
		if f.val != "" {
			dst = append(dst, f.key...)
			dst = appendString(dst, f.val)
			dst = append(dst, ',')
		}
	}
	dst = append(dst, `"attempts":`...)
	dst = appendInt(dst, int64(r.GetAttempts()))
	dst = append(dst, `,"cost_usd":`...)
	if n := r.GetCostNanoUsd(); n != 0 || r.GetCostUsd() == 0 {
		dst = appendNanoUSD(dst, n)
	} else {
		dst = appendFloat(dst, r.GetCostUsd(), 64)
	}
	if r.GetEstimated() {
		dst = append(dst, `,"estimated":true`...)
	}
	if scores := r.GetScores(); len(scores) > 0 {
		dst = append(dst, `,"scores":{`...)
		dst = appendSortedScores(dst, scores)
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

func cacheStatus(s switchyardv1.CacheStatus) string {
	switch s {
	case switchyardv1.CacheStatus_CACHE_STATUS_HIT:
		return "hit"
	case switchyardv1.CacheStatus_CACHE_STATUS_MISS:
		return "miss"
	case switchyardv1.CacheStatus_CACHE_STATUS_COALESCED:
		return "coalesced"
	case switchyardv1.CacheStatus_CACHE_STATUS_BYPASS:
		return "bypass"
	}
	return ""
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

// AppendModelList appends m as OpenAI's {"object":"list","data":[...]}.
func AppendModelList(dst []byte, m *switchyardv1.ListModelsResponse) []byte {
	dst = append(dst, `{"object":"list","data":[`...)
	for i, md := range m.GetData() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendModel(dst, md)
	}
	return append(dst, "]}"...)
}

// AppendModel appends m as an OpenAI model object. Where Switchyard serves
// it from goes in a "switchyard" block, present only when there is
// something to say.
func AppendModel(dst []byte, m *switchyardv1.Model) []byte {
	dst = append(dst, `{"id":`...)
	dst = appendString(dst, m.GetId())
	dst = append(dst, `,"object":"model","created":`...)
	dst = appendInt(dst, m.GetCreated())
	dst = append(dst, `,"owned_by":`...)
	dst = appendString(dst, m.GetOwnedBy())
	if len(m.GetProviders()) > 0 || m.GetAlias() {
		dst = append(dst, `,"switchyard":{"providers":[`...)
		for i, p := range m.GetProviders() {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendString(dst, p)
		}
		dst = append(dst, `],"alias":`...)
		dst = appendBool(dst, m.GetAlias())
		dst = append(dst, '}')
	}
	return append(dst, '}')
}

// AppendEmbeddings appends r as OpenAI's embeddings list with float vectors
// (encoding_format "float", the default).
func AppendEmbeddings(dst []byte, r *switchyardv1.CreateEmbeddingsResponse) []byte {
	return appendEmbeddings(dst, r, false)
}

// AppendEmbeddingsBase64 appends r with each vector as base64 of its
// little-endian float32 bytes, the answer to encoding_format "base64"
// (which the official Python SDK asks for by default).
func AppendEmbeddingsBase64(dst []byte, r *switchyardv1.CreateEmbeddingsResponse) []byte {
	return appendEmbeddings(dst, r, true)
}

func appendEmbeddings(dst []byte, r *switchyardv1.CreateEmbeddingsResponse, b64 bool) []byte {
	dst = append(dst, `{"object":"list","data":[`...)
	for i, e := range r.GetData() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, `{"object":"embedding","index":`...)
		dst = appendInt(dst, int64(e.GetIndex()))
		dst = append(dst, `,"embedding":`...)
		if b64 {
			dst = appendFloat32Base64(dst, e.GetEmbedding())
		} else {
			dst = append(dst, '[')
			for j, f := range e.GetEmbedding() {
				if j > 0 {
					dst = append(dst, ',')
				}
				dst = appendFloat(dst, float64(f), 32)
			}
			dst = append(dst, ']')
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `],"model":`...)
	dst = appendString(dst, r.GetModel())
	dst = append(dst, `,"usage":{"prompt_tokens":`...)
	dst = appendInt(dst, int64(r.GetUsage().GetPromptTokens()))
	dst = append(dst, `,"total_tokens":`...)
	dst = appendInt(dst, int64(r.GetUsage().GetTotalTokens()))
	dst = append(dst, '}')
	if sy := r.GetSwitchyard(); sy != nil {
		dst = append(dst, `,"switchyard":`...)
		dst = appendRouting(dst, sy)
	}
	return append(dst, '}')
}

// appendFloat32Base64 encodes the vector three floats (12 bytes, 16 base64
// characters) at a time through a stack buffer, so no byte copy of the
// whole vector is made.
func appendFloat32Base64(dst []byte, v []float32) []byte {
	dst = append(dst, '"')
	var raw [12]byte
	var enc [16]byte
	for len(v) >= 3 {
		for k := range 3 {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(v[k]))
		}
		base64.StdEncoding.Encode(enc[:], raw[:])
		dst = append(dst, enc[:]...)
		v = v[3:]
	}
	if len(v) > 0 {
		for k, f := range v {
			binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(f))
		}
		n := 4 * len(v)
		base64.StdEncoding.Encode(enc[:], raw[:n])
		dst = append(dst, enc[:base64.StdEncoding.EncodedLen(n)]...)
	}
	return append(dst, '"')
}

// AppendError appends OpenAI's error object:
// {"error":{"message":...,"type":...,"param":...,"code":...}}, with param
// and code null when empty.
func AppendError(dst []byte, message, typ, param, code string) []byte {
	dst = append(dst, `{"error":{"message":`...)
	dst = appendString(dst, message)
	dst = append(dst, `,"type":`...)
	dst = appendString(dst, typ)
	dst = append(dst, `,"param":`...)
	dst = appendStringOrNull(dst, param)
	dst = append(dst, `,"code":`...)
	dst = appendStringOrNull(dst, code)
	return append(dst, "}}"...)
}
