package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/responses")

// checkGolden compares got with testdata/responses/name byte for byte.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "responses", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s\n got: %s\nwant: %s", path, got, want)
	}
}

// The sdk* types mirror the OpenAI SDK response types (openai-python's
// pydantic models): pointers for fields the SDK declares required, so a
// missing one is caught, plus the keys Switchyard adds. Decoding uses
// DisallowUnknownFields so a misspelt key fails too.
type sdkCompletion struct {
	ID                *string      `json:"id"`
	Object            *string      `json:"object"`
	Created           *int64       `json:"created"`
	Model             *string      `json:"model"`
	Choices           *[]sdkChoice `json:"choices"`
	Usage             *sdkUsage    `json:"usage"`
	SystemFingerprint *string      `json:"system_fingerprint"`
	ServiceTier       *string      `json:"service_tier"`
	Switchyard        *sdkRouting  `json:"switchyard"`
}

type sdkChoice struct {
	Index        *int        `json:"index"`
	Message      *sdkMessage `json:"message"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type sdkMessage struct {
	Role             *string       `json:"role"`
	Content          *string       `json:"content"`
	Refusal          *string       `json:"refusal"`
	ToolCalls        []sdkToolCall `json:"tool_calls"`
	ReasoningContent *string       `json:"reasoning_content"`
}

type sdkToolCall struct {
	Index    *int    `json:"index"`
	ID       *string `json:"id"`
	Type     *string `json:"type"`
	Function *struct {
		Name      *string `json:"name"`
		Arguments *string `json:"arguments"`
	} `json:"function"`
}

type sdkUsage struct {
	PromptTokens        *int `json:"prompt_tokens"`
	CompletionTokens    *int `json:"completion_tokens"`
	TotalTokens         *int `json:"total_tokens"`
	PromptTokensDetails *struct {
		CachedTokens *int `json:"cached_tokens"`
		AudioTokens  *int `json:"audio_tokens"`
	} `json:"prompt_tokens_details"`
	CompletionTokensDetails *struct {
		ReasoningTokens          *int `json:"reasoning_tokens"`
		AudioTokens              *int `json:"audio_tokens"`
		AcceptedPredictionTokens *int `json:"accepted_prediction_tokens"`
		RejectedPredictionTokens *int `json:"rejected_prediction_tokens"`
	} `json:"completion_tokens_details"`
}

type sdkRouting struct {
	RequestID     string             `json:"request_id"`
	Route         string             `json:"route"`
	Strategy      string             `json:"strategy"`
	Provider      string             `json:"provider"`
	Target        string             `json:"target"`
	UpstreamModel string             `json:"upstream_model"`
	Attempts      *int               `json:"attempts"`
	Cache         string             `json:"cache"`
	CostUSD       *float64           `json:"cost_usd"`
	Estimated     bool               `json:"estimated"`
	Scores        map[string]float64 `json:"scores"`
}

type sdkChunk struct {
	ID                *string           `json:"id"`
	Object            *string           `json:"object"`
	Created           *int64            `json:"created"`
	Model             *string           `json:"model"`
	SystemFingerprint *string           `json:"system_fingerprint"`
	Choices           *[]sdkChunkChoice `json:"choices"`
	Usage             *sdkUsage         `json:"usage"`
	Switchyard        *sdkRouting       `json:"switchyard"`
}

type sdkChunkChoice struct {
	Index        *int        `json:"index"`
	Delta        *sdkMessage `json:"delta"`
	Logprobs     *struct{}   `json:"logprobs"`
	FinishReason *string     `json:"finish_reason"`
}

type sdkModel struct {
	ID         *string `json:"id"`
	Object     *string `json:"object"`
	Created    *int64  `json:"created"`
	OwnedBy    *string `json:"owned_by"`
	Switchyard *struct {
		Providers []string `json:"providers"`
		Alias     bool     `json:"alias"`
	} `json:"switchyard"`
}

type sdkModelList struct {
	Object *string     `json:"object"`
	Data   *[]sdkModel `json:"data"`
}

type sdkEmbeddings struct {
	Object *string `json:"object"`
	Data   *[]struct {
		Object    *string         `json:"object"`
		Index     *int            `json:"index"`
		Embedding json.RawMessage `json:"embedding"`
	} `json:"data"`
	Model *string `json:"model"`
	Usage *struct {
		PromptTokens *int `json:"prompt_tokens"`
		TotalTokens  *int `json:"total_tokens"`
	} `json:"usage"`
	Switchyard *sdkRouting `json:"switchyard"`
}

type sdkError struct {
	Error *struct {
		Message *string `json:"message"`
		Type    *string `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

// decodeSDK checks b is valid JSON and decodes it strictly into v.
func decodeSDK(t *testing.T, b []byte, v any) {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("output is not valid JSON: %s", b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output does not decode as the SDK type: %v\n%s", err, b)
	}
}

// keyState says whether key is absent, null or set in obj, to tell
// "null" from "absent" where the SDK cares (content, finish_reason).
func keyState(t *testing.T, obj json.RawMessage, key string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatal(err)
	}
	v, ok := m[key]
	switch {
	case !ok:
		return "absent"
	case string(v) == "null":
		return "null"
	}
	return "set"
}

func requireFields(t *testing.T, what string, fields map[string]bool) {
	t.Helper()
	for name, ok := range fields {
		if !ok {
			t.Errorf("%s: required field %s missing", what, name)
		}
	}
}

func fixedResponse() *llm.ChatResponse {
	return &llm.ChatResponse{
		ID: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Created: 1741569952, Model: "gpt-4.1-2025-04-14",
		Choices:           []llm.Choice{{Message: llm.Message{Role: "assistant", Content: "Hello! How can I assist you today?"}, FinishReason: "stop"}},
		Usage:             llm.Usage{PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29},
		SystemFingerprint: "fp_b376dfbbd5",
	}
}

func fixedInfo() *route.Info {
	return &route.Info{Route: "fast", Strategy: "least_connections", Provider: "openai", Target: "openai/k1/gpt-4o-mini",
		UpstreamModel: "gpt-4o-mini", Attempts: 1, Cache: llm.CacheMiss, Cost: 13_500}
}

type completionCase struct {
	golden string
	in     *llm.ChatResponse
	info   *route.Info
}

func completionCases() []completionCase {
	return []completionCase{
		{"completion_text.json", fixedResponse(), fixedInfo()},
		{"completion_tool_calls.json", &llm.ChatResponse{
			ID: "chatcmpl-abc123", Created: 1699896916, Model: "gpt-4o-mini",
			Choices: []llm.Choice{{Message: llm.Message{Role: "assistant", ToolCalls: []llm.ToolCall{
				{ID: "call_abc123", Type: "function", Name: "get_current_weather", Arguments: "{\n\"location\": \"Boston, MA\"\n}"},
				{ID: "call_def456", Name: "get_time", Arguments: `{"tz":"America/New_York"}`},
			}}, FinishReason: "tool_calls"}},
			Usage: llm.Usage{PromptTokens: 82, CompletionTokens: 17},
		}, &route.Info{}},
		{"completion_switchyard.json", &llm.ChatResponse{
			ID: "chatcmpl-sy-1", Created: 1741569952, Model: "deepseek-reasoner",
			Choices: []llm.Choice{
				{Index: 0, Message: llm.Message{Role: "assistant", Content: "Line 1\nLine \"2\" \\ <b>&</b>\u2028end\t\u0001",
					ReasoningContent: "Think first."}, FinishReason: "length"},
				{Index: 1, Message: llm.Message{Refusal: "I can't help with that."}, FinishReason: "content_filter"},
			},
			Usage: llm.Usage{PromptTokens: 1200, CompletionTokens: 300, TotalTokens: 1500, CachedTokens: 1024, CacheCreationTokens: 7, ReasoningTokens: 120},
		}, &route.Info{Route: "smart", Strategy: "hybrid", Provider: "deepseek",
			Target: "deepseek/key-2/deepseek-reasoner", UpstreamModel: "deepseek-reasoner", Attempts: 2,
			Cache: llm.CacheMiss, Cost: 487_500, Estimated: true,
			Scores: map[string]float64{"openai/k1/gpt-4o": 0.25, "deepseek/key-2/deepseek-reasoner": 0.875, "anthropic/a/claude": 1e-7}}},
		{"completion_empty.json", &llm.ChatResponse{}, &route.Info{}},
		{"completion_cache_hit.json", &llm.ChatResponse{
			ID: "chatcmpl-hit", Created: 1741569952, Model: "gpt-4o",
			Choices: []llm.Choice{{Message: llm.Message{Content: "cached"}, FinishReason: "stop"}},
			Usage:   llm.Usage{PromptTokens: 5, CompletionTokens: 1, TotalTokens: 6},
		}, &route.Info{Cache: llm.CacheHit}},
	}
}

func TestAppendCompletionGolden(t *testing.T) {
	for _, tt := range completionCases() {
		t.Run(strings.TrimSuffix(tt.golden, ".json"), func(t *testing.T) {
			got := appendCompletion(nil, tt.in, tt.info, "req_01HXYZ")
			checkGolden(t, tt.golden, got)

			var c sdkCompletion
			decodeSDK(t, got, &c)
			requireFields(t, "chat.completion", map[string]bool{
				"id": c.ID != nil, "object": c.Object != nil, "created": c.Created != nil, "model": c.Model != nil,
				"choices": c.Choices != nil, "usage": c.Usage != nil, "switchyard": c.Switchyard != nil,
			})
			if *c.Object != "chat.completion" {
				t.Errorf("object = %q", *c.Object)
			}
			u := c.Usage
			requireFields(t, "usage", map[string]bool{
				"prompt_tokens": u.PromptTokens != nil, "completion_tokens": u.CompletionTokens != nil, "total_tokens": u.TotalTokens != nil,
			})
			if want := tt.in.Usage.PromptTokens + tt.in.Usage.CompletionTokens; *u.TotalTokens != want && tt.in.Usage.TotalTokens == 0 {
				t.Errorf("total_tokens = %d, want the sum %d", *u.TotalTokens, want)
			}
			var raw struct {
				Choices []struct{ Message json.RawMessage }
			}
			if err := json.Unmarshal(got, &raw); err != nil {
				t.Fatal(err)
			}
			for i, ch := range *c.Choices {
				in := tt.in.Choices[i].Message
				requireFields(t, "choice", map[string]bool{"index": ch.Index != nil, "message": ch.Message != nil})
				m := ch.Message
				if m.Role == nil || *m.Role != "assistant" {
					t.Errorf("choice %d: role = %v, want assistant", i, m.Role)
				}
				// content null exactly when the turn only calls tools or refuses.
				wantContent := "set"
				if in.Content == "" && (len(in.ToolCalls) > 0 || in.Refusal != "") {
					wantContent = "null"
				}
				if st := keyState(t, raw.Choices[i].Message, "content"); st != wantContent {
					t.Errorf("choice %d: content is %s, want %s", i, st, wantContent)
				}
				if st := keyState(t, raw.Choices[i].Message, "refusal"); st == "absent" {
					t.Errorf("choice %d: refusal key missing (OpenAI always sends it)", i)
				}
				if m.Content != nil && *m.Content != in.Content {
					t.Errorf("choice %d: content round-trips as %q, want %q", i, *m.Content, in.Content)
				}
				if len(m.ToolCalls) != len(in.ToolCalls) {
					t.Errorf("choice %d: %d tool calls, want %d", i, len(m.ToolCalls), len(in.ToolCalls))
				}
				for j, tc := range m.ToolCalls {
					requireFields(t, "tool_call", map[string]bool{"id": tc.ID != nil, "type": tc.Type != nil, "function": tc.Function != nil})
					if *tc.Type != "function" || *tc.Function.Arguments != in.ToolCalls[j].Arguments {
						t.Errorf("tool call %d = %+v", j, tc)
					}
				}
			}
		})
	}
}

type chunkCase struct {
	golden    string
	in        *llm.Chunk
	withUsage bool
	info      *route.Info
}

func chunkCases() []chunkCase {
	const id, created, model = "chatcmpl-123", 1694268190, "gpt-4o-mini"
	chunk := func(choices ...llm.ChunkChoice) *llm.Chunk {
		return &llm.Chunk{ID: id, Created: created, Model: model, Choices: choices}
	}
	usage := chunk()
	usage.Usage = &llm.Usage{PromptTokens: 9, CompletionTokens: 12, TotalTokens: 21}
	return []chunkCase{
		{"chunk_role.json", chunk(llm.ChunkChoice{Delta: llm.Message{Role: "assistant"}}), false,
			&route.Info{Route: "fast", Strategy: "least_connections", Provider: "openai", Target: "openai/k1/gpt-4o-mini",
				UpstreamModel: "gpt-4o-mini", Attempts: 1, Cache: llm.CacheBypass}},
		{"chunk_content.json", chunk(llm.ChunkChoice{Delta: llm.Message{Content: "Hello"}}), false, nil},
		{"chunk_tool_call_first.json", chunk(llm.ChunkChoice{Delta: llm.Message{Role: "assistant",
			ToolCalls: []llm.ToolCall{{Index: 0, ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Type: "function", Name: "get_weather"}}}}), false, nil},
		{"chunk_tool_call_args.json", chunk(llm.ChunkChoice{Delta: llm.Message{ToolCalls: []llm.ToolCall{
			{Index: 0, Arguments: `{"location":"Par`},
			{Index: 1, ID: "call_2", Type: "function", Name: "get_time", Arguments: `{}`},
			{Index: 2},
		}}}), false, nil},
		{"chunk_reasoning.json", chunk(llm.ChunkChoice{Index: 1, Delta: llm.Message{ReasoningContent: "Hmm, "}}), false, nil},
		{"chunk_refusal.json", chunk(llm.ChunkChoice{Delta: llm.Message{Refusal: "I can't"}}), false, nil},
		{"chunk_finish.json", chunk(llm.ChunkChoice{FinishReason: "stop"}), false, nil},
		{"chunk_usage.json", usage, true, &route.Info{Attempts: 1, Cost: 13_500}},
		{"chunk_usage_not_asked.json", usage, false, nil},
	}
}

func TestAppendChunkGolden(t *testing.T) {
	for _, tt := range chunkCases() {
		t.Run(strings.TrimSuffix(tt.golden, ".json"), func(t *testing.T) {
			got := appendChunk(nil, tt.in, tt.withUsage, tt.info, "req_1")
			checkGolden(t, tt.golden, got)

			var c sdkChunk
			decodeSDK(t, got, &c)
			requireFields(t, "chunk", map[string]bool{
				"id": c.ID != nil, "object": c.Object != nil, "created": c.Created != nil, "model": c.Model != nil, "choices": c.Choices != nil,
			})
			if *c.Object != "chat.completion.chunk" {
				t.Errorf("object = %q", *c.Object)
			}
			if (c.Usage != nil) != (tt.withUsage && tt.in.Usage != nil) {
				t.Errorf("usage presence = %v", c.Usage != nil)
			}
			if (c.Switchyard != nil) != (tt.info != nil) {
				t.Errorf("routing block presence = %v", c.Switchyard != nil)
			}
			var raw struct {
				Choices []struct {
					Delta  json.RawMessage
					Finish json.RawMessage `json:"finish_reason"`
				}
			}
			if err := json.Unmarshal(got, &raw); err != nil {
				t.Fatal(err)
			}
			for i, ch := range *c.Choices {
				in := tt.in.Choices[i]
				requireFields(t, "chunk choice", map[string]bool{"index": ch.Index != nil, "delta": ch.Delta != nil})
				if string(raw.Choices[i].Finish) == "" {
					t.Errorf("choice %d: finish_reason key missing", i)
				}
				if (ch.FinishReason == nil) != (in.FinishReason == "") {
					t.Errorf("choice %d: finish_reason = %v, want %q", i, ch.FinishReason, in.FinishReason)
				}
				d := in.Delta
				wantContent := "absent"
				if d.Content != "" || (len(d.ToolCalls) == 0 && d.Refusal == "" && d.Role != "") {
					wantContent = "set"
				}
				if st := keyState(t, raw.Choices[i].Delta, "content"); st != wantContent {
					t.Errorf("choice %d: delta content is %s, want %s", i, st, wantContent)
				}
				for j, tc := range ch.Delta.ToolCalls {
					if tc.Index == nil || *tc.Index != d.ToolCalls[j].Index {
						t.Errorf("tool call delta %d: index = %v", j, tc.Index)
					}
					if tc.Function == nil || tc.Function.Arguments == nil {
						t.Errorf("tool call delta %d: function.arguments missing", j)
					}
				}
			}
		})
	}
}

func embeddingsResponse() (*llm.EmbeddingResponse, *route.Info) {
	vec := []float32{0.0023064255, -0.009327292, 1e-7, -3.5e+20, 0, 1, 0.1}
	return &llm.EmbeddingResponse{Model: "text-embedding-3-small", Vectors: [][]float32{vec, vec[:2]}, Usage: llm.Usage{PromptTokens: 8}},
		&route.Info{Provider: "openai", Attempts: 1, Cache: llm.CacheCoalesced}
}

func TestAppendEmbeddingsGolden(t *testing.T) {
	resp, info := embeddingsResponse()
	vec := resp.Vectors[0]
	t.Run("float", func(t *testing.T) {
		got := appendEmbeddings(nil, resp, info, "req_1", false)
		checkGolden(t, "embeddings.json", got)
		var e sdkEmbeddings
		decodeSDK(t, got, &e)
		requireFields(t, "embeddings", map[string]bool{"object": e.Object != nil, "data": e.Data != nil, "model": e.Model != nil, "usage": e.Usage != nil})
		var floats []float32
		if err := json.Unmarshal((*e.Data)[0].Embedding, &floats); err != nil {
			t.Fatal(err)
		}
		for i := range vec {
			if floats[i] != vec[i] {
				t.Errorf("embedding[%d] = %v, want %v (not round-tripped)", i, floats[i], vec[i])
			}
		}
	})
	t.Run("model from the route when the provider names none", func(t *testing.T) {
		got := appendEmbeddings(nil, &llm.EmbeddingResponse{}, &route.Info{UpstreamModel: "up"}, "", false)
		if want := `{"object":"list","data":[],"model":"up","usage":{"prompt_tokens":0,"total_tokens":0},"switchyard":{"upstream_model":"up","attempts":0,"cost_usd":0}}`; string(got) != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	})
	t.Run("base64", func(t *testing.T) {
		for n := range len(vec) + 1 { // every remainder of n%3
			r := &llm.EmbeddingResponse{Model: "m", Vectors: [][]float32{vec[:n]}}
			got := appendEmbeddings(nil, r, &route.Info{}, "", true)
			if n == len(vec) {
				checkGolden(t, "embeddings_base64.json", got)
			}
			var e sdkEmbeddings
			decodeSDK(t, got, &e)
			var s string
			if err := json.Unmarshal((*e.Data)[0].Embedding, &s); err != nil {
				t.Fatalf("n=%d: embedding is not a string: %v", n, err)
			}
			// Decode the way the OpenAI Python SDK does: base64 -> little-endian float32.
			raw, err := base64.StdEncoding.DecodeString(s)
			if err != nil || len(raw) != 4*n {
				t.Fatalf("n=%d: base64 %q: %v (len %d)", n, s, err, len(raw))
			}
			for i := range n {
				if f := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])); f != vec[i] {
					t.Errorf("n=%d: [%d] = %v, want %v", n, i, f, vec[i])
				}
			}
		}
	})
}

func TestAppendChunkAppendsAfterDst(t *testing.T) {
	prefix := []byte("data: ")
	got := appendChunk(prefix, &llm.Chunk{ID: "x"}, false, nil, "")
	if !bytes.HasPrefix(got, prefix) || !json.Valid(got[len(prefix):]) {
		t.Errorf("appendChunk did not append after dst: %s", got)
	}
}

func TestAppendSortedScoresIsDeterministic(t *testing.T) {
	m := map[string]float64{}
	for _, k := range []string{"d", "a", "c", "b", "", "aa", "é"} {
		m[k] = float64(len(k))
	}
	want := `"":0,"a":1,"aa":2,"b":1,"c":1,"d":1,"é":2`
	for range 20 { // map iteration order is randomised per range
		if got := string(appendSortedScores(nil, m)); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
}

func TestAppendNanoUSDIsAPlainDecimal(t *testing.T) {
	tests := []struct {
		nanos int64
		want  string
	}{
		{0, "0"},
		{6150, "0.00000615"},
		{1, "0.000000001"},
		{1_000_000_000, "1"},
		{12_345_000_000, "12.345"},
		{-500_000_000, "-0.5"},
	}
	for _, tt := range tests {
		if got := string(appendNanoUSD([]byte(`x`), tt.nanos)); got != "x"+tt.want {
			t.Errorf("appendNanoUSD(%d) = %s, want x%s", tt.nanos, got, tt.want)
		}
	}
}
