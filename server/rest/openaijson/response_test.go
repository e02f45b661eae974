package openaijson

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

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
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

func fixedCompletion() *switchyardv1.ChatCompletion {
	return &switchyardv1.ChatCompletion{
		Id: "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT", Object: "chat.completion", Created: 1741569952, Model: "gpt-4.1-2025-04-14",
		Choices: []*switchyardv1.Choice{{
			Index:        0,
			Message:      &switchyardv1.ChatMessage{Role: "assistant", Content: ptr("Hello! How can I assist you today?")},
			FinishReason: "stop",
		}},
		Usage: &switchyardv1.Usage{
			PromptTokens: 19, CompletionTokens: 10, TotalTokens: 29,
			PromptTokensDetails:     &switchyardv1.PromptTokensDetails{CachedTokens: 0, AudioTokens: 0},
			CompletionTokensDetails: &switchyardv1.CompletionTokensDetails{},
		},
		SystemFingerprint: "fp_b376dfbbd5",
		ServiceTier:       "default",
	}
}

func TestAppendChatCompletionGolden(t *testing.T) {
	tests := []struct {
		golden string
		in     *switchyardv1.ChatCompletion
	}{
		{"completion_text.json", fixedCompletion()},
		{"completion_tool_calls.json", &switchyardv1.ChatCompletion{
			Id: "chatcmpl-abc123", Created: 1699896916, Model: "gpt-4o-mini",
			Choices: []*switchyardv1.Choice{{
				Message: &switchyardv1.ChatMessage{Role: "assistant", ToolCalls: []*switchyardv1.ToolCall{
					{Id: "call_abc123", Type: "function", Function: &switchyardv1.FunctionCall{Name: "get_current_weather", Arguments: "{\n\"location\": \"Boston, MA\"\n}"}},
					{Id: "call_def456", Function: &switchyardv1.FunctionCall{Name: "get_time", Arguments: `{"tz":"America/New_York"}`}},
				}},
				FinishReason: "tool_calls",
			}},
			Usage: &switchyardv1.Usage{PromptTokens: 82, CompletionTokens: 17, TotalTokens: 99,
				CompletionTokensDetails: &switchyardv1.CompletionTokensDetails{ReasoningTokens: 0, AcceptedPredictionTokens: 1, RejectedPredictionTokens: 2}},
		}},
		{"completion_switchyard.json", &switchyardv1.ChatCompletion{
			Id: "chatcmpl-sy-1", Created: 1741569952, Model: "deepseek-reasoner",
			Choices: []*switchyardv1.Choice{
				{Index: 0, Message: &switchyardv1.ChatMessage{Role: "assistant",
					Content:          ptr("Line 1\nLine \"2\" \\ <b>&</b>\u2028end\t\u0001"),
					ReasoningContent: ptr("Think first.")}, FinishReason: "length"},
				{Index: 1, Message: &switchyardv1.ChatMessage{Content: ptr(""), Refusal: ptr("I can't help with that.")}, FinishReason: "content_filter"},
			},
			Usage: &switchyardv1.Usage{PromptTokens: 1200, CompletionTokens: 300, TotalTokens: 1500,
				PromptTokensDetails:     &switchyardv1.PromptTokensDetails{CachedTokens: 1024, CacheCreationTokens: 7},
				CompletionTokensDetails: &switchyardv1.CompletionTokensDetails{ReasoningTokens: 120}},
			Switchyard: &switchyardv1.RoutingInfo{
				RequestId: "req_01HXYZ", Route: "smart", Strategy: "hybrid", Provider: "deepseek",
				Target: "deepseek/key-2/deepseek-reasoner", UpstreamModel: "deepseek-reasoner", Attempts: 2,
				Cache: switchyardv1.CacheStatus_CACHE_STATUS_MISS, CostUsd: 0.0004875, CostNanoUsd: 487_500,
				Scores: map[string]float64{"openai/k1/gpt-4o": 0.25, "deepseek/key-2/deepseek-reasoner": 0.875, "anthropic/a/claude": 1e-7},
			},
		}},
		{"completion_empty.json", &switchyardv1.ChatCompletion{}},
		{"completion_nil_message.json", &switchyardv1.ChatCompletion{Id: "x", Choices: []*switchyardv1.Choice{{FinishReason: "stop"}}}},
		{"completion_cache_hit.json", &switchyardv1.ChatCompletion{
			Id: "chatcmpl-hit", Created: 1741569952, Model: "gpt-4o",
			Choices:    []*switchyardv1.Choice{{Message: &switchyardv1.ChatMessage{Content: ptr("cached")}, FinishReason: "stop"}},
			Usage:      &switchyardv1.Usage{PromptTokens: 5, CompletionTokens: 1, TotalTokens: 6},
			Switchyard: &switchyardv1.RoutingInfo{Cache: switchyardv1.CacheStatus_CACHE_STATUS_HIT, Attempts: 0, CostUsd: 0},
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.golden, ".json"), func(t *testing.T) {
			got := AppendChatCompletion(nil, tt.in)
			checkGolden(t, tt.golden, got)

			var c sdkCompletion
			decodeSDK(t, got, &c)
			requireFields(t, "chat.completion", map[string]bool{
				"id": c.ID != nil, "object": c.Object != nil, "created": c.Created != nil, "model": c.Model != nil, "choices": c.Choices != nil,
			})
			if c.Object != nil && *c.Object != "chat.completion" {
				t.Errorf("object = %q", *c.Object)
			}
			if (c.Usage != nil) != (tt.in.GetUsage() != nil) {
				t.Errorf("usage presence = %v, want %v", c.Usage != nil, tt.in.GetUsage() != nil)
			}
			if u := c.Usage; u != nil {
				requireFields(t, "usage", map[string]bool{
					"prompt_tokens": u.PromptTokens != nil, "completion_tokens": u.CompletionTokens != nil, "total_tokens": u.TotalTokens != nil,
				})
				if *u.TotalTokens != int(tt.in.GetUsage().GetTotalTokens()) {
					t.Errorf("total_tokens = %d", *u.TotalTokens)
				}
			}
			if (c.Switchyard != nil) != (tt.in.GetSwitchyard() != nil) {
				t.Errorf("switchyard block presence = %v", c.Switchyard != nil)
			}
			var raw struct {
				Choices []struct{ Message json.RawMessage }
			}
			if err := json.Unmarshal(got, &raw); err != nil {
				t.Fatal(err)
			}
			for i, ch := range *c.Choices {
				in := tt.in.GetChoices()[i]
				requireFields(t, "choice", map[string]bool{"index": ch.Index != nil, "message": ch.Message != nil})
				m := ch.Message
				if m.Role == nil || *m.Role != "assistant" {
					t.Errorf("choice %d: role = %v, want assistant", i, m.Role)
				}
				// content null exactly when the proto's content is absent.
				wantContent := "set"
				if msg := in.GetMessage(); msg == nil || msg.Content == nil {
					wantContent = "null"
				}
				if st := keyState(t, raw.Choices[i].Message, "content"); st != wantContent {
					t.Errorf("choice %d: content is %s, want %s", i, st, wantContent)
				}
				if st := keyState(t, raw.Choices[i].Message, "refusal"); st == "absent" {
					t.Errorf("choice %d: refusal key missing (OpenAI always sends it)", i)
				}
				if m.Content != nil && *m.Content != in.GetMessage().GetContent() {
					t.Errorf("choice %d: content round-trips as %q, want %q", i, *m.Content, in.GetMessage().GetContent())
				}
				if len(m.ToolCalls) != len(in.GetMessage().GetToolCalls()) {
					t.Errorf("choice %d: %d tool calls, want %d", i, len(m.ToolCalls), len(in.GetMessage().GetToolCalls()))
				}
				for j, tc := range m.ToolCalls {
					requireFields(t, "tool_call", map[string]bool{"id": tc.ID != nil, "type": tc.Type != nil, "function": tc.Function != nil})
					if *tc.Type != "function" || *tc.Function.Arguments != in.GetMessage().GetToolCalls()[j].GetFunction().GetArguments() {
						t.Errorf("tool call %d = %+v", j, tc)
					}
				}
			}
		})
	}
}

func TestAppendChunkGolden(t *testing.T) {
	const id, created, model = "chatcmpl-123", 1694268190, "gpt-4o-mini"
	chunk := func(choices []*switchyardv1.ChunkChoice) *switchyardv1.ChatCompletionChunk {
		return &switchyardv1.ChatCompletionChunk{Id: id, Object: "chat.completion.chunk", Created: created, Model: model,
			SystemFingerprint: "fp_44709d6fcb", Choices: choices}
	}
	withRouting := chunk([]*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Role: "assistant", Content: ptr("")}}})
	withRouting.Switchyard = &switchyardv1.RoutingInfo{RequestId: "req_1", Route: "fast", Strategy: "least_connections",
		Provider: "openai", Target: "openai/k1/gpt-4o-mini", UpstreamModel: "gpt-4o-mini", Attempts: 1,
		Cache: switchyardv1.CacheStatus_CACHE_STATUS_BYPASS}
	usage := chunk(nil)
	usage.Usage = &switchyardv1.Usage{PromptTokens: 9, CompletionTokens: 12, TotalTokens: 21,
		PromptTokensDetails: &switchyardv1.PromptTokensDetails{}, CompletionTokensDetails: &switchyardv1.CompletionTokensDetails{}}
	usage.Switchyard = &switchyardv1.RoutingInfo{RequestId: "req_1", Attempts: 1, CostUsd: 0.0000135, CostNanoUsd: 13_500}

	tests := []struct {
		golden string
		in     *switchyardv1.ChatCompletionChunk
	}{
		{"chunk_role.json", withRouting},
		{"chunk_content.json", chunk([]*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Content: ptr("Hello")}}})},
		{"chunk_tool_call_first.json", chunk([]*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Role: "assistant",
			ToolCalls: []*switchyardv1.ToolCall{{Index: 0, Id: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Type: "function",
				Function: &switchyardv1.FunctionCall{Name: "get_weather"}}}}}})},
		{"chunk_tool_call_args.json", chunk([]*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{
			ToolCalls: []*switchyardv1.ToolCall{
				{Index: 0, Function: &switchyardv1.FunctionCall{Arguments: `{"location":"Par`}},
				{Index: 1, Id: "call_2", Type: "function", Function: &switchyardv1.FunctionCall{Name: "get_time", Arguments: `{}`}},
				{Index: 2},
			}}}})},
		{"chunk_reasoning.json", chunk([]*switchyardv1.ChunkChoice{{Index: 1, Delta: &switchyardv1.ChatMessage{ReasoningContent: ptr("Hmm, ")}}})},
		{"chunk_refusal.json", chunk([]*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Refusal: ptr("I can't")}}})},
		{"chunk_finish.json", chunk([]*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{}, FinishReason: ptr("stop")}})},
		{"chunk_finish_nil_delta.json", chunk([]*switchyardv1.ChunkChoice{{FinishReason: ptr("tool_calls")}})},
		{"chunk_usage.json", usage},
		{"chunk_no_fingerprint.json", &switchyardv1.ChatCompletionChunk{Id: id, Created: created, Model: model,
			Choices: []*switchyardv1.ChunkChoice{{Delta: &switchyardv1.ChatMessage{Content: ptr(" world")}}}}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.golden, ".json"), func(t *testing.T) {
			got := AppendChunk(nil, tt.in)
			checkGolden(t, tt.golden, got)

			var c sdkChunk
			decodeSDK(t, got, &c)
			requireFields(t, "chunk", map[string]bool{
				"id": c.ID != nil, "object": c.Object != nil, "created": c.Created != nil, "model": c.Model != nil, "choices": c.Choices != nil,
			})
			if *c.Object != "chat.completion.chunk" {
				t.Errorf("object = %q", *c.Object)
			}
			if (c.Usage != nil) != (tt.in.GetUsage() != nil) {
				t.Errorf("usage presence = %v, want %v", c.Usage != nil, tt.in.GetUsage() != nil)
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
				in := tt.in.GetChoices()[i]
				requireFields(t, "chunk choice", map[string]bool{"index": ch.Index != nil, "delta": ch.Delta != nil})
				if string(raw.Choices[i].Finish) == "" {
					t.Errorf("choice %d: finish_reason key missing", i)
				}
				if (ch.FinishReason == nil) != (in.FinishReason == nil) {
					t.Errorf("choice %d: finish_reason = %v, want %v", i, ch.FinishReason, in.FinishReason)
				}
				wantContent := "absent"
				if d := in.GetDelta(); d != nil && d.Content != nil {
					wantContent = "set"
				}
				if st := keyState(t, raw.Choices[i].Delta, "content"); st != wantContent {
					t.Errorf("choice %d: delta content is %s, want %s", i, st, wantContent)
				}
				for j, tc := range ch.Delta.ToolCalls {
					if tc.Index == nil || *tc.Index != int(in.GetDelta().GetToolCalls()[j].GetIndex()) {
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

func TestAppendModelsGolden(t *testing.T) {
	list := &switchyardv1.ListModelsResponse{Object: "list", Data: []*switchyardv1.Model{
		{Id: "gpt-4o-mini", Object: "model", Created: 1721172741, OwnedBy: "system", Providers: []string{"openai"}},
		{Id: "fast", Object: "model", Created: 0, OwnedBy: "switchyard", Providers: []string{"openai", "anthropic"}, Alias: true},
		{Id: "bare", OwnedBy: "openai"},
	}}
	t.Run("list", func(t *testing.T) {
		got := AppendModelList(nil, list)
		checkGolden(t, "models.json", got)
		var l sdkModelList
		decodeSDK(t, got, &l)
		if l.Object == nil || *l.Object != "list" || l.Data == nil || len(*l.Data) != 3 {
			t.Fatalf("bad list: %s", got)
		}
		for _, m := range *l.Data {
			requireFields(t, "model", map[string]bool{"id": m.ID != nil, "object": m.Object != nil, "created": m.Created != nil, "owned_by": m.OwnedBy != nil})
		}
		if (*l.Data)[2].Switchyard != nil {
			t.Errorf("a model with no providers and no alias has a switchyard block")
		}
	})
	t.Run("empty list", func(t *testing.T) {
		got := AppendModelList(nil, &switchyardv1.ListModelsResponse{})
		if string(got) != `{"object":"list","data":[]}` {
			t.Errorf("got %s", got)
		}
	})
	t.Run("one", func(t *testing.T) {
		got := AppendModel(nil, list.Data[1])
		checkGolden(t, "model.json", got)
		var m sdkModel
		decodeSDK(t, got, &m)
		if m.Switchyard == nil || !m.Switchyard.Alias || len(m.Switchyard.Providers) != 2 {
			t.Errorf("switchyard block = %+v", m.Switchyard)
		}
	})
}

func TestAppendEmbeddingsGolden(t *testing.T) {
	vec := []float32{0.0023064255, -0.009327292, 1e-7, -3.5e+20, 0, 1, 0.1}
	resp := &switchyardv1.CreateEmbeddingsResponse{
		Object: "list", Model: "text-embedding-3-small",
		Data: []*switchyardv1.Embedding{
			{Object: "embedding", Index: 0, Embedding: vec},
			{Object: "embedding", Index: 1, Embedding: vec[:2]},
		},
		Usage:      &switchyardv1.EmbeddingUsage{PromptTokens: 8, TotalTokens: 8},
		Switchyard: &switchyardv1.RoutingInfo{Provider: "openai", Attempts: 1, Cache: switchyardv1.CacheStatus_CACHE_STATUS_COALESCED},
	}
	t.Run("float", func(t *testing.T) {
		got := AppendEmbeddings(nil, resp)
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
	t.Run("base64", func(t *testing.T) {
		for n := range len(vec) + 1 { // every remainder of n%3
			r := &switchyardv1.CreateEmbeddingsResponse{Model: "m", Data: []*switchyardv1.Embedding{{Embedding: vec[:n]}}}
			got := AppendEmbeddingsBase64(nil, r)
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

func TestAppendErrorGolden(t *testing.T) {
	tests := []struct {
		golden, message, typ, param, code string
	}{
		{"error_param.json", "Invalid type for 'messages[0].content': expected a string, but got a number instead.", "invalid_request_error", "messages[0].content", "invalid_type"},
		{"error_nulls.json", "Rate limit reached for \"gpt-4o\".\nRetry later.", "rate_limit_error", "", ""},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.golden, ".json"), func(t *testing.T) {
			got := AppendError(nil, tt.message, tt.typ, tt.param, tt.code)
			checkGolden(t, tt.golden, got)
			var e sdkError
			decodeSDK(t, got, &e)
			if e.Error == nil || e.Error.Message == nil || *e.Error.Message != tt.message || *e.Error.Type != tt.typ {
				t.Fatalf("error = %s", got)
			}
			if (e.Error.Param == nil) != (tt.param == "") || (e.Error.Code == nil) != (tt.code == "") {
				t.Errorf("param/code null-ness wrong: %s", got)
			}
		})
	}
}

func TestAppendReusesDst(t *testing.T) {
	prefix := []byte("data: ")
	got := AppendChunk(prefix, &switchyardv1.ChatCompletionChunk{Id: "x"})
	if !bytes.HasPrefix(got, prefix) || !json.Valid(got[len(prefix):]) {
		t.Errorf("AppendChunk did not append after dst: %s", got)
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

func TestAppendToleratesNil(t *testing.T) {
	outputs := map[string][]byte{
		"completion":          AppendChatCompletion(nil, nil),
		"completion nil elem": AppendChatCompletion(nil, &switchyardv1.ChatCompletion{Choices: []*switchyardv1.Choice{nil}}),
		"chunk":               AppendChunk(nil, nil),
		"chunk nil elems": AppendChunk(nil, &switchyardv1.ChatCompletionChunk{Choices: []*switchyardv1.ChunkChoice{nil, {Delta: &switchyardv1.ChatMessage{
			ToolCalls: []*switchyardv1.ToolCall{nil}}}}}),
		"model list":     AppendModelList(nil, &switchyardv1.ListModelsResponse{Data: []*switchyardv1.Model{nil}}),
		"model":          AppendModel(nil, nil),
		"embeddings":     AppendEmbeddings(nil, &switchyardv1.CreateEmbeddingsResponse{Data: []*switchyardv1.Embedding{nil}}),
		"embeddings b64": AppendEmbeddingsBase64(nil, nil),
	}
	for name, b := range outputs {
		if !json.Valid(b) {
			t.Errorf("%s: invalid JSON %s", name, b)
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
