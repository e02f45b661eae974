package fakeupstream

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
)

// embedInputs reads an embeddings input: a string, strings, a token
// array, or token arrays. Each input comes back as its text (tokens
// spelled as numbers) and its token count.
func embedInputs(raw json.RawMessage) (texts []string, tokens int, err error) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, countWords(one), nil
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			tokens += countWords(t)
		}
		return many, tokens, nil
	}
	var ids []int
	if json.Unmarshal(raw, &ids) == nil {
		return []string{fmt.Sprint(ids)}, len(ids), nil
	}
	var idss [][]int
	if json.Unmarshal(raw, &idss) == nil {
		for _, ids := range idss {
			texts = append(texts, fmt.Sprint(ids))
			tokens += len(ids)
		}
		return texts, tokens, nil
	}
	return nil, 0, fmt.Errorf("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
}

// embedding is a deterministic unit vector seeded by the text.
func embedding(text string, dims int) []float32 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(text))
	x := h.Sum64() | 1
	v := make([]float32, dims)
	var norm float64
	for i := range v {
		// xorshift64*: cheap, deterministic, good enough to look random.
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		f := float64(int64(x*2685821657736338717)>>11) / float64(1<<52)
		v[i] = float32(f)
		norm += f * f
	}
	if norm > 0 {
		inv := 1 / math.Sqrt(norm)
		for i := range v {
			v[i] = float32(float64(v[i]) * inv)
		}
	}
	return v
}

func (s *Server) openaiEmbeddings(w http.ResponseWriter, r *http.Request, body []byte) {
	if !s.openaiAuth(w, r) {
		return
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     *int            `json:"dimensions"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		s.badRequest(w, fmtOpenAI, "", "We could not parse the JSON body of your request. "+err.Error())
		return
	}
	if d := deployment(r.URL.Path); d != "" {
		req.Model = d
	}
	if req.Model == "" {
		s.badRequest(w, fmtOpenAI, "model", "you must provide a model parameter")
		return
	}
	texts, tokens, err := embedInputs(req.Input)
	if err != nil || len(texts) == 0 {
		s.badRequest(w, fmtOpenAI, "input", "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.")
		return
	}
	dims := s.opts.EmbeddingDims
	if req.Dimensions != nil {
		if *req.Dimensions < 1 || *req.Dimensions > 65536 {
			s.badRequest(w, fmtOpenAI, "dimensions", "Invalid 'dimensions': must be at least 1.")
			return
		}
		dims = *req.Dimensions
	}
	if req.EncodingFormat != "" && req.EncodingFormat != "float" && req.EncodingFormat != "base64" {
		s.badRequest(w, fmtOpenAI, "encoding_format", "Invalid value for 'encoding_format': must be 'float' or 'base64'.")
		return
	}
	k, err := s.requestKnobs(r, texts[len(texts)-1])
	if err != nil {
		s.badRequest(w, fmtOpenAI, "", "fakeupstream: "+err.Error())
		return
	}
	if !s.faults(w, r, fmtOpenAI, &k) {
		return
	}
	type item struct {
		Object    string `json:"object"`
		Index     int    `json:"index"`
		Embedding any    `json:"embedding"`
	}
	data := make([]item, len(texts))
	for i, t := range texts {
		v := s.embed(t, dims)
		data[i] = item{Object: "embedding", Index: i, Embedding: v}
		if req.EncodingFormat == "base64" {
			var raw bytes.Buffer
			_ = binary.Write(&raw, binary.LittleEndian, v)
			data[i].Embedding = base64.StdEncoding.EncodeToString(raw.Bytes())
		}
	}
	b, _ := json.Marshal(struct {
		Object string `json:"object"`
		Data   []item `json:"data"`
		Model  string `json:"model"`
		Usage  struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}{Object: "list", Data: data, Model: req.Model, Usage: struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	}{tokens, tokens}})
	s.writeUnary(w, r, &k, 1, b)
}
