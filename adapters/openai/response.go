package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/switchyard/switchyard/engine/llm"
)

// wireResponse is a unary Chat Completions answer.
type wireResponse struct {
	ID                string       `json:"id"`
	Created           int64        `json:"created"`
	Model             string       `json:"model"`
	Choices           []wireChoice `json:"choices"`
	Usage             wireUsage    `json:"usage"`
	SystemFingerprint string       `json:"system_fingerprint"`
	// Error is set by compatible servers that report failures with 200.
	Error *wireError `json:"error"`
}

type wireChoice struct {
	Index        int           `json:"index"`
	Message      wireRespMsg   `json:"message"`
	FinishReason cachedString  `json:"finish_reason"`
	Logprobs     *wireLogprobs `json:"logprobs"`
}

// wireRespMsg is a message or a stream delta.
type wireRespMsg struct {
	Role             cachedString       `json:"role"`
	Content          wireText           `json:"content"`
	Refusal          string             `json:"refusal"`
	ToolCalls        []wireRespToolCall `json:"tool_calls"`
	ReasoningContent string             `json:"reasoning_content"` // DeepSeek, Qwen
	Reasoning        string             `json:"reasoning"`         // OpenRouter, newer vLLM
}

func (m *wireRespMsg) reset() {
	m.Role.unset()
	m.Content = ""
	m.Refusal = ""
	all := m.ToolCalls[:cap(m.ToolCalls)]
	for i := range all {
		all[i].reset()
	}
	m.ToolCalls = m.ToolCalls[:0]
	m.ReasoningContent = ""
	m.Reasoning = ""
}

// wireRespToolCall is a tool call in an answer, or a fragment of one in a
// stream delta, where index says which call it extends.
type wireRespToolCall struct {
	Index    optInt       `json:"index"`
	ID       string       `json:"id"`
	Type     cachedString `json:"type"`
	Function struct {
		Name      string `json:"name"`
		Arguments string `json:"arguments"`
	} `json:"function"`
}

func (tc *wireRespToolCall) reset() {
	tc.Index.ok = false
	tc.ID = ""
	tc.Type.unset()
	tc.Function.Name, tc.Function.Arguments = "", ""
}

// optInt is an int that remembers whether it was present, without the
// allocation of a *int.
type optInt struct {
	v  int
	ok bool
}

func (o *optInt) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == 'n' {
		o.ok = false
		return nil
	}
	o.ok = true
	// Indexes are small non-negative integers; parse them by hand because
	// json.Unmarshal would allocate a decoder for every delta.
	n := 0
	for i, c := range b {
		if c < '0' || c > '9' || i > 9 {
			return json.Unmarshal(b, &o.v)
		}
		n = n*10 + int(c-'0')
	}
	if len(b) == 0 {
		return json.Unmarshal(b, &o.v)
	}
	o.v, o.ok = n, true
	return nil
}

func (m *wireRespMsg) toLLM(stream bool) llm.Message {
	out := llm.Message{
		Role:             llm.Role(m.Role.get()),
		Content:          string(m.Content),
		Refusal:          m.Refusal,
		ReasoningContent: m.ReasoningContent,
	}
	if out.ReasoningContent == "" {
		out.ReasoningContent = m.Reasoning
	}
	if len(m.ToolCalls) > 0 {
		out.ToolCalls = make([]llm.ToolCall, len(m.ToolCalls))
		for i, tc := range m.ToolCalls {
			// Unary answers carry no index, and some compatible servers omit
			// it in deltas too: the position is the index then.
			idx := i
			if stream && tc.Index.ok {
				idx = tc.Index.v
			}
			out.ToolCalls[i] = llm.ToolCall{
				Index: idx, ID: tc.ID, Type: tc.Type.get(),
				Name: tc.Function.Name, Arguments: tc.Function.Arguments,
			}
		}
	}
	return out
}

// wireUsage covers OpenAI's usage object and DeepSeek's cache fields.
type wireUsage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	TotalTokens         int `json:"total_tokens"`
	PromptTokensDetails struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails struct {
		ReasoningTokens int `json:"reasoning_tokens"`
	} `json:"completion_tokens_details"`
	PromptCacheHitTokens int `json:"prompt_cache_hit_tokens"` // DeepSeek
}

func (u *wireUsage) toLLM() llm.Usage {
	out := llm.Usage{
		PromptTokens:     u.PromptTokens,
		CompletionTokens: u.CompletionTokens,
		TotalTokens:      u.TotalTokens,
		CachedTokens:     u.PromptTokensDetails.CachedTokens,
		ReasoningTokens:  u.CompletionTokensDetails.ReasoningTokens,
	}
	if out.CachedTokens == 0 {
		out.CachedTokens = u.PromptCacheHitTokens
	}
	if out.TotalTokens == 0 {
		out.TotalTokens = out.PromptTokens + out.CompletionTokens
	}
	return out
}

// errNoChoices marks a 2xx answer without a single choice.
var errNoChoices = errors.New("response has no choices")

// decodeChatResponse decodes a unary answer.
func decodeChatResponse(data []byte) (*llm.ChatResponse, error) {
	var w wireResponse
	if !w.decodeFast(data) {
		w = wireResponse{}
		if err := json.Unmarshal(data, &w); err != nil {
			return nil, err
		}
	}
	if len(w.Choices) == 0 {
		if w.Error != nil {
			return nil, &llm.UpstreamError{Status: streamErrorStatus(*w.Error),
				Message: w.Error.Message, Type: w.Error.Type, Code: w.Error.Code}
		}
		return nil, errNoChoices
	}
	out := &llm.ChatResponse{
		ID:                w.ID,
		Created:           w.Created,
		Model:             w.Model,
		Choices:           make([]llm.Choice, len(w.Choices)),
		Usage:             w.Usage.toLLM(),
		SystemFingerprint: w.SystemFingerprint,
	}
	for i := range w.Choices {
		c := &w.Choices[i]
		out.Choices[i] = llm.Choice{Index: c.Index, Message: c.Message.toLLM(false), FinishReason: c.FinishReason.get(),
			Logprobs: c.Logprobs.toLLM()}
		if out.Choices[i].Message.Role == "" {
			out.Choices[i].Message.Role = llm.RoleAssistant
		}
	}
	return out, nil
}

// cachedString decodes a JSON string field that tends to repeat across the
// chunks of a stream (id, model, role, finish_reason). The decoded string is
// kept with its raw bytes and reused while they stay the same, which saves an
// allocation per field per chunk. It lives in a wire struct that is reused
// between decodes; unset marks it absent before each one.
type cachedString struct {
	raw     []byte
	val     string
	present bool
}

func (c *cachedString) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == 'n' { // null
		c.present = false
		return nil
	}
	c.present = true
	if c.raw != nil && bytes.Equal(b, c.raw) {
		return nil
	}
	s, err := unquote(b)
	if err != nil {
		return err
	}
	c.val = s
	c.raw = append(c.raw[:0], b...)
	return nil
}

func (c *cachedString) unset() { c.present = false }

func (c *cachedString) get() string {
	if !c.present {
		return ""
	}
	return c.val
}

// unquote decodes a JSON string, skipping encoding/json for the common case
// of no escapes.
func unquote(b []byte) (string, error) {
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		inner := b[1 : len(b)-1]
		if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
			return string(inner), nil
		}
	}
	var s string
	err := json.Unmarshal(b, &s)
	return s, err
}

// wireText is message content: a string, null, or (from some compatible
// servers, e.g. Mistral) an array of parts whose text is concatenated.
type wireText string

func (t *wireText) UnmarshalJSON(b []byte) error {
	switch {
	case len(b) == 0:
		return nil
	case b[0] == 'n':
		*t = ""
		return nil
	case b[0] == '"':
		s, err := unquote(b)
		*t = wireText(s)
		return err
	case b[0] == '[':
		var parts []struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if err := json.Unmarshal(b, &parts); err != nil {
			return err
		}
		var sb strings.Builder
		for _, p := range parts {
			if p.Type == "" || p.Type == "text" || p.Type == "output_text" {
				sb.WriteString(p.Text)
			}
		}
		*t = wireText(sb.String())
		return nil
	}
	return fmt.Errorf("content: unexpected JSON %.20q", b)
}

// wireModelList is GET /models.
type wireModelList struct {
	Data []struct {
		ID      string `json:"id"`
		Created int64  `json:"created"`
		OwnedBy string `json:"owned_by"`
	} `json:"data"`
}

// wireEmbeddingResponse is POST /embeddings.
type wireEmbeddingResponse struct {
	Model string `json:"model"`
	Data  []struct {
		Index     int           `json:"index"`
		Embedding wireEmbedding `json:"embedding"`
	} `json:"data"`
	Usage wireUsage  `json:"usage"`
	Error *wireError `json:"error"`
}

// wireEmbedding is a float array, or a base64 string of little-endian
// float32s when a server ignores encoding_format.
type wireEmbedding []float32

func (e *wireEmbedding) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		s, err := unquote(b)
		if err != nil {
			return err
		}
		raw, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return fmt.Errorf("embedding: %w", err)
		}
		if len(raw)%4 != 0 {
			return fmt.Errorf("embedding: %d base64 bytes is not a float32 array", len(raw))
		}
		v := make([]float32, len(raw)/4)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		*e = v
		return nil
	}
	return json.Unmarshal(b, (*[]float32)(e))
}

// decodeEmbedding places each vector at its index and checks that every
// input got exactly one.
func decodeEmbedding(data []byte, inputs int) (*llm.EmbeddingResponse, error) {
	var w wireEmbeddingResponse
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, err
	}
	if w.Error != nil && len(w.Data) == 0 {
		return nil, &llm.UpstreamError{Status: streamErrorStatus(*w.Error),
			Message: w.Error.Message, Type: w.Error.Type, Code: w.Error.Code}
	}
	if len(w.Data) != inputs {
		return nil, fmt.Errorf("got %d embeddings for %d inputs", len(w.Data), inputs)
	}
	vecs := make([][]float32, inputs)
	for _, d := range w.Data {
		if d.Index < 0 || d.Index >= inputs {
			return nil, fmt.Errorf("embedding index %d out of range [0,%d)", d.Index, inputs)
		}
		if vecs[d.Index] != nil {
			return nil, fmt.Errorf("embedding index %d repeated", d.Index)
		}
		v := []float32(d.Embedding)
		if v == nil {
			v = []float32{}
		}
		vecs[d.Index] = v
	}
	return &llm.EmbeddingResponse{Model: w.Model, Vectors: vecs, Usage: w.Usage.toLLM()}, nil
}
