package cache

import (
	"crypto/sha256"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/engine/llm"
)

func ptr[T any](v T) *T { return &v }

// fullRequest sets every field of a request, so each mutation below
// changes exactly one thing.
func fullRequest() *llm.ChatRequest {
	return &llm.ChatRequest{
		Model: "auto",
		Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are terse."},
			{Role: llm.RoleUser, Parts: []llm.Part{
				{Type: llm.PartText, Text: "What is this?"},
				{Type: llm.PartImage, ImageURL: "https://example.com/cat.png", ImageDetail: "low"},
			}, Name: "alice"},
			{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{
				{Index: 0, ID: "call_1", Type: "function", Name: "lookup", Arguments: `{"q":"cat","limit":3}`},
			}, Refusal: "", ReasoningContent: "think", ReasoningSignature: "sig-1", RedactedReasoning: []string{"opaque"}},
			{Role: llm.RoleTool, ToolCallID: "call_1", Content: `{"animal":"cat"}`},
		},
		Temperature:      ptr(0.0),
		TopP:             ptr(0.9),
		TopK:             ptr(40),
		MaxTokens:        ptr(100),
		N:                ptr(1),
		Stop:             []string{"\n\n", "END"},
		Seed:             ptr(int64(42)),
		PresencePenalty:  ptr(0.1),
		FrequencyPenalty: ptr(0.2),
		Tools: []llm.Tool{{
			Type: "function", Name: "lookup", Description: "Look things up",
			Parameters: json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"},"limit":{"type":"integer"}},"required":["q"]}`),
			Strict:     ptr(true),
		}},
		ToolChoice: &llm.ToolChoice{Mode: "auto"},
		ResponseFormat: &llm.ResponseFormat{Type: "json_schema", SchemaName: "answer", SchemaDescription: "the answer",
			Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Strict: ptr(true)},
		User:              "u-1",
		Metadata:          map[string]string{"team": "a"},
		IncludeUsage:      true,
		ParallelToolCalls: ptr(true),
		LogitBias:         map[string]float64{"50256": -100, "13": 5},
		Logprobs:          ptr(true),
		TopLogprobs:       ptr(2),
		ReasoningEffort:   "low",
		Thinking:          &llm.Thinking{Type: llm.ThinkingEnabled, BudgetTokens: 1024},
		Anthropic:         &llm.AnthropicOptions{Version: "2023-06-01", Betas: []string{"beta-a", "beta-b"}},
		Extra:             map[string]json.RawMessage{"top_k": json.RawMessage(`40`), "safety": json.RawMessage(`{"level":"high","mode":"block"}`)},
		Hints:             llm.Hints{Route: "auto", Strategy: "hybrid", CacheControl: llm.CacheDefault, CacheTTL: time.Minute, AffinityKey: "s1"},
	}
}

func keyOf(r *llm.ChatRequest) Key { return NewKey(r, "auto", "openai/k1=gpt-4o-mini", "") }

func TestKeyIgnoresWhatDoesNotChangeTheAnswer(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r *llm.ChatRequest)
	}{
		{"user", func(r *llm.ChatRequest) { r.User = "someone-else" }},
		{"metadata", func(r *llm.ChatRequest) { r.Metadata = map[string]string{"x": "y", "z": "w"} }},
		{"no metadata", func(r *llm.ChatRequest) { r.Metadata = nil }},
		{"include usage / stream options", func(r *llm.ChatRequest) { r.IncludeUsage = false }},
		{"hints", func(r *llm.ChatRequest) {
			r.Hints = llm.Hints{Strategy: "priority", CacheControl: llm.CacheRefresh, CacheTTL: time.Hour, AffinityKey: "other"}
		}},
		{"requested model (the route is keyed instead)", func(r *llm.ChatRequest) { r.Model = "other-alias" }},
		{"tool parameters key order and whitespace", func(r *llm.ChatRequest) {
			r.Tools[0].Parameters = json.RawMessage(` { "required" : [ "q" ], "properties": {"limit":{"type":"integer"},
				"q":{"type":"string"}}, "type":"object" } `)
		}},
		{"schema key order", func(r *llm.ChatRequest) {
			r.ResponseFormat.Schema = json.RawMessage(`{"properties":{"a":{"type":"string"}},"type":"object"}`)
		}},
		{"extra value key order", func(r *llm.ChatRequest) {
			r.Extra["safety"] = json.RawMessage(`{"mode":"block",   "level":"high"}`)
		}},
		{"extra map built in another order", func(r *llm.ChatRequest) {
			r.Extra = map[string]json.RawMessage{"safety": json.RawMessage(`{"level":"high","mode":"block"}`), "top_k": json.RawMessage(`40`)}
		}},
		{"tool call arguments key order", func(r *llm.ChatRequest) {
			r.Messages[2].ToolCalls[0].Arguments = `{"limit":3, "q":"cat"}`
		}},
		{"escaped string equal to plain", func(r *llm.ChatRequest) {
			r.Extra["safety"] = json.RawMessage(`{"level":"\u0068igh","mode":"block"}`)
		}},
		{"negative zero temperature", func(r *llm.ChatRequest) { r.Temperature = ptr(math.Copysign(0, -1)) }},
	}
	base := keyOf(fullRequest())
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := fullRequest()
			tc.mutate(r)
			if got := keyOf(r); got != base {
				t.Fatalf("key changed: %s != %s", got, base)
			}
		})
	}
}

func TestKeyChangesWithEveryAnswerChangingField(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(r *llm.ChatRequest)
	}{
		{"message role", func(r *llm.ChatRequest) { r.Messages[0].Role = llm.RoleDeveloper }},
		{"message content", func(r *llm.ChatRequest) { r.Messages[0].Content = "You are verbose." }},
		{"message added", func(r *llm.ChatRequest) { r.Messages = append(r.Messages, llm.Message{Role: llm.RoleUser}) }},
		{"message order", func(r *llm.ChatRequest) { r.Messages[0], r.Messages[1] = r.Messages[1], r.Messages[0] }},
		{"part text", func(r *llm.ChatRequest) { r.Messages[1].Parts[0].Text = "What is that?" }},
		{"part type", func(r *llm.ChatRequest) { r.Messages[1].Parts[0].Type = "input_text" }},
		{"part image url", func(r *llm.ChatRequest) { r.Messages[1].Parts[1].ImageURL = "https://example.com/dog.png" }},
		{"part image detail", func(r *llm.ChatRequest) { r.Messages[1].Parts[1].ImageDetail = "high" }},
		{"parts order", func(r *llm.ChatRequest) {
			p := r.Messages[1].Parts
			p[0], p[1] = p[1], p[0]
		}},
		{"message name", func(r *llm.ChatRequest) { r.Messages[1].Name = "bob" }},
		{"tool call id", func(r *llm.ChatRequest) { r.Messages[2].ToolCalls[0].ID = "call_2" }},
		{"tool call index", func(r *llm.ChatRequest) { r.Messages[2].ToolCalls[0].Index = 1 }},
		{"tool call type", func(r *llm.ChatRequest) { r.Messages[2].ToolCalls[0].Type = "custom" }},
		{"tool call name", func(r *llm.ChatRequest) { r.Messages[2].ToolCalls[0].Name = "search" }},
		{"tool call arguments", func(r *llm.ChatRequest) { r.Messages[2].ToolCalls[0].Arguments = `{"q":"dog","limit":3}` }},
		{"tool call id of result", func(r *llm.ChatRequest) { r.Messages[3].ToolCallID = "call_9" }},
		{"refusal", func(r *llm.ChatRequest) { r.Messages[2].Refusal = "no" }},
		{"reasoning content", func(r *llm.ChatRequest) { r.Messages[2].ReasoningContent = "think harder" }},
		{"reasoning signature", func(r *llm.ChatRequest) { r.Messages[2].ReasoningSignature = "sig-2" }},
		{"redacted reasoning", func(r *llm.ChatRequest) { r.Messages[2].RedactedReasoning = nil }},
		{"temperature", func(r *llm.ChatRequest) { r.Temperature = ptr(0.5) }},
		{"temperature unset", func(r *llm.ChatRequest) { r.Temperature = nil }},
		{"top_p", func(r *llm.ChatRequest) { r.TopP = ptr(1.0) }},
		{"top_k", func(r *llm.ChatRequest) { r.TopK = ptr(41) }},
		{"top_k unset", func(r *llm.ChatRequest) { r.TopK = nil }},
		{"max tokens", func(r *llm.ChatRequest) { r.MaxTokens = ptr(101) }},
		{"n", func(r *llm.ChatRequest) { r.N = ptr(2) }},
		{"stop", func(r *llm.ChatRequest) { r.Stop = []string{"\n\n"} }},
		{"stop split differently", func(r *llm.ChatRequest) { r.Stop = []string{"\n", "\nEND"} }},
		{"seed", func(r *llm.ChatRequest) { r.Seed = ptr(int64(43)) }},
		{"seed unset", func(r *llm.ChatRequest) { r.Seed = nil }},
		{"presence penalty", func(r *llm.ChatRequest) { r.PresencePenalty = ptr(0.3) }},
		{"frequency penalty", func(r *llm.ChatRequest) { r.FrequencyPenalty = ptr(0.3) }},
		{"tool type", func(r *llm.ChatRequest) { r.Tools[0].Type = "custom" }},
		{"tool name", func(r *llm.ChatRequest) { r.Tools[0].Name = "search" }},
		{"tool description", func(r *llm.ChatRequest) { r.Tools[0].Description = "Search" }},
		{"tool parameters", func(r *llm.ChatRequest) {
			r.Tools[0].Parameters = json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"}},"required":["q"]}`)
		}},
		{"tool parameters array order", func(r *llm.ChatRequest) {
			r.Tools[0].Parameters = json.RawMessage(`{"type":"object","properties":{"q":{"type":"string"},"limit":{"type":"integer"}},"required":["q","limit"]}`)
		}},
		{"tool strict", func(r *llm.ChatRequest) { r.Tools[0].Strict = ptr(false) }},
		{"tools removed", func(r *llm.ChatRequest) { r.Tools = nil }},
		{"tool choice mode", func(r *llm.ChatRequest) { r.ToolChoice = &llm.ToolChoice{Mode: "required"} }},
		{"tool choice function", func(r *llm.ChatRequest) { r.ToolChoice = &llm.ToolChoice{Function: "lookup"} }},
		{"tool choice unset", func(r *llm.ChatRequest) { r.ToolChoice = nil }},
		{"response format type", func(r *llm.ChatRequest) { r.ResponseFormat.Type = "json_object" }},
		{"response format schema name", func(r *llm.ChatRequest) { r.ResponseFormat.SchemaName = "other" }},
		{"response format schema description", func(r *llm.ChatRequest) { r.ResponseFormat.SchemaDescription = "other" }},
		{"response format schema", func(r *llm.ChatRequest) {
			r.ResponseFormat.Schema = json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"}}}`)
		}},
		{"response format strict", func(r *llm.ChatRequest) { r.ResponseFormat.Strict = nil }},
		{"response format unset", func(r *llm.ChatRequest) { r.ResponseFormat = nil }},
		{"parallel tool calls", func(r *llm.ChatRequest) { r.ParallelToolCalls = ptr(false) }},
		{"logit bias value", func(r *llm.ChatRequest) { r.LogitBias["13"] = 6 }},
		{"logit bias token", func(r *llm.ChatRequest) { r.LogitBias = map[string]float64{"50256": -100, "14": 5} }},
		{"logprobs", func(r *llm.ChatRequest) { r.Logprobs = ptr(false) }},
		{"top logprobs", func(r *llm.ChatRequest) { r.TopLogprobs = ptr(3) }},
		{"reasoning effort", func(r *llm.ChatRequest) { r.ReasoningEffort = "high" }},
		{"thinking budget", func(r *llm.ChatRequest) { r.Thinking.BudgetTokens = 2048 }},
		{"thinking type", func(r *llm.ChatRequest) { r.Thinking = &llm.Thinking{Type: llm.ThinkingAdaptive} }},
		{"thinking unset", func(r *llm.ChatRequest) { r.Thinking = nil }},
		{"anthropic beta", func(r *llm.ChatRequest) { r.Anthropic.Betas = []string{"beta-a"} }},
		{"anthropic version", func(r *llm.ChatRequest) { r.Anthropic.Version = "2099-01-01" }},
		{"anthropic options unset", func(r *llm.ChatRequest) { r.Anthropic = nil }},
		{"original body", func(r *llm.ChatRequest) { r.Original = &llm.Original{Dialect: "anthropic", Body: []byte(`{"x":1}`)} }},
		{"extra value", func(r *llm.ChatRequest) { r.Extra["top_k"] = json.RawMessage(`41`) }},
		{"extra number spelling", func(r *llm.ChatRequest) { r.Extra["top_k"] = json.RawMessage(`40.0`) }},
		{"extra string vs number", func(r *llm.ChatRequest) { r.Extra["top_k"] = json.RawMessage(`"40"`) }},
		{"extra key", func(r *llm.ChatRequest) {
			r.Extra = map[string]json.RawMessage{"top_n": json.RawMessage(`40`), "safety": r.Extra["safety"]}
		}},
		{"extra removed", func(r *llm.ChatRequest) { r.Extra = nil }},
		{"extra invalid JSON", func(r *llm.ChatRequest) { r.Extra["top_k"] = json.RawMessage(`40}`) }},
	}
	base := keyOf(fullRequest())
	seen := map[Key]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := fullRequest()
			tc.mutate(r)
			k := keyOf(r)
			if k == base {
				t.Fatal("key did not change")
			}
			if other, dup := seen[k]; dup {
				t.Fatalf("same key as %q", other)
			}
			seen[k] = tc.name
		})
	}
}

func TestKeyLengthPrefixesPreventConcatenationCollisions(t *testing.T) {
	r := fullRequest()
	msgs := func(contents ...string) *llm.ChatRequest {
		q := &llm.ChatRequest{}
		for _, c := range contents {
			q.Messages = append(q.Messages, llm.Message{Role: llm.RoleUser, Content: c})
		}
		return q
	}
	extra := func(v string) *llm.ChatRequest {
		var raw json.RawMessage
		if v != "" {
			raw = json.RawMessage(v)
		}
		return &llm.ChatRequest{Extra: map[string]json.RawMessage{"a": raw}}
	}
	cases := []struct {
		name string
		a, b Key
	}{
		{"route/targets boundary", NewKey(r, "ab", "c", ""), NewKey(r, "a", "bc", "")},
		{"targets/scope boundary", NewKey(r, "r", "t1", "k"), NewKey(r, "r", "t", "1k")},
		{"scope", NewKey(r, "r", "t", ""), NewKey(r, "r", "t", "client-1")},
		{"route", NewKey(r, "r1", "t", ""), NewKey(r, "r2", "t", "")},
		{"targets", NewKey(r, "r", "openai/k1", ""), NewKey(r, "r", "openai/k2", "")},
		{"content split across messages", keyOf(msgs("ab", "c")), keyOf(msgs("a", "bc"))},
		{"JSON string vs nested keys", keyOf(extra(`{"b":"c"}`)), keyOf(extra(`{"bc":""}`))},
		{"empty extra object vs none", keyOf(extra(`{}`)), keyOf(extra(``))},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.a == tc.b {
				t.Fatal("collision")
			}
		})
	}
}

func TestCanonicalJSON(t *testing.T) {
	hash := func(s string) Key {
		w := &keyWriter{h: sha256.New()}
		w.json([]byte(s))
		return w.sum()
	}
	same := [][2]string{
		{`{"b":1,"a":2}`, `{"a":2,"b":1}`},
		{`{"x":{"d":[1,{"z":true,"y":null}],"c":"s"},"a":[]}`, ` {"a":[ ],"x":{"c":"s","d":[1,{"y":null,"z":true}]}}`},
		{`{"k":"caf\u00e9"}`, `{"k":"café"}`},
		{`{"\u0062":1,"a":2}`, `{"a":2,"b":1}`},
		{`"a\"b"`, `"a\u0022b"`},
		{`{"s":"}{]["}`, `{ "s" : "}{][" }`},
	}
	for _, p := range same {
		t.Run("same "+p[0], func(t *testing.T) {
			if hash(p[0]) != hash(p[1]) {
				t.Fatalf("%s and %s hash differently", p[0], p[1])
			}
		})
	}
	different := [][2]string{
		{`[1,2]`, `[2,1]`},
		{`{"a":1}`, `{"a":"1"}`},
		{`{"a":[1]}`, `{"a":[[1]]}`},
		{`{"a":{}}`, `{"a":[]}`},
		{`{"a":null}`, `{}`},
		{`{"a":true}`, `{"a":false}`},
		{`{"a":1,"a":2}`, `{"a":2,"a":1}`},
		{`{"a":1`, `{"a":1}`},
		{``, `null`},
	}
	for _, p := range different {
		t.Run("different "+p[0]+" "+p[1], func(t *testing.T) {
			if hash(p[0]) == hash(p[1]) {
				t.Fatalf("%s and %s hash the same", p[0], p[1])
			}
		})
	}
}

// TestKeyCoversEveryRequestField fails when llm gains a field that NewKey
// neither hashes nor deliberately ignores: decide, then list it here.
func TestKeyCoversEveryRequestField(t *testing.T) {
	known := map[reflect.Type][]string{
		reflect.TypeFor[llm.ChatRequest](): {"Model", "Messages", "Temperature", "TopP", "TopK", "MaxTokens", "N", "Stop", "Seed",
			"PresencePenalty", "FrequencyPenalty", "Tools", "ToolChoice", "ResponseFormat", "User", "Metadata", "IncludeUsage",
			"ParallelToolCalls", "LogitBias", "Logprobs", "TopLogprobs", "ReasoningEffort", "Thinking", "Anthropic", "Extra", "OpenAIFields", "Original", "Hints"},
		reflect.TypeFor[llm.Message]():          {"Role", "Content", "Parts", "Name", "ToolCalls", "ToolCallID", "Refusal", "ReasoningContent", "ReasoningSignature", "RedactedReasoning", "Cache"},
		reflect.TypeFor[llm.Thinking]():         {"Type", "BudgetTokens"},
		reflect.TypeFor[llm.AnthropicOptions](): {"Version", "Betas"},
		reflect.TypeFor[llm.Part]():             {"Type", "Text", "ImageURL", "ImageDetail", "File", "Audio", "Cache"},
		reflect.TypeFor[llm.ToolCall]():         {"Index", "ID", "Type", "Name", "Arguments", "Signature"},
		reflect.TypeFor[llm.Tool]():             {"Type", "Name", "Description", "Parameters", "Strict", "Cache"},
		reflect.TypeFor[llm.ToolChoice]():       {"Mode", "Function"},
		reflect.TypeFor[llm.FilePart]():         {"Data", "MIMEType", "URL", "FileID", "Filename"},
		reflect.TypeFor[llm.AudioPart]():        {"Data", "Format"},
		reflect.TypeFor[llm.ResponseFormat]():   {"Type", "SchemaName", "SchemaDescription", "Schema", "Strict"},
	}
	for typ, fields := range known {
		t.Run(typ.Name(), func(t *testing.T) {
			var have []string
			for i := range typ.NumField() {
				have = append(have, typ.Field(i).Name)
			}
			if strings.Join(have, ",") != strings.Join(fields, ",") {
				t.Fatalf("fields of %s changed:\n have %v\n knew %v\nupdate NewKey and this list", typ, have, fields)
			}
		})
	}
}

func TestCacheable(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		req    *llm.ChatRequest
		want   bool
	}{
		{"off", PolicyOff, &llm.ChatRequest{Temperature: ptr(0.0)}, false},
		{"deterministic temperature 0", PolicyDeterministic, &llm.ChatRequest{Temperature: ptr(0.0)}, true},
		{"deterministic seed", PolicyDeterministic, &llm.ChatRequest{Temperature: ptr(1.0), Seed: ptr(int64(1))}, true},
		{"deterministic sampled", PolicyDeterministic, &llm.ChatRequest{Temperature: ptr(0.7)}, false},
		{"deterministic unset temperature is the provider's default, not 0", PolicyDeterministic, &llm.ChatRequest{}, false},
		{"empty policy is deterministic", "", &llm.ChatRequest{Temperature: ptr(0.0)}, true},
		{"all", PolicyAll, &llm.ChatRequest{Temperature: ptr(0.7)}, true},
		{"unknown caches nothing", "sometimes", &llm.ChatRequest{Temperature: ptr(0.0)}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Cacheable(tc.policy, tc.req); got != tc.want {
				t.Fatalf("Cacheable = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDirective(t *testing.T) {
	cases := []struct {
		cc          llm.CacheControl
		read, write bool
	}{
		{llm.CacheDefault, true, true},
		{llm.CacheNoCache, false, true},
		{llm.CacheNoStore, true, false},
		{llm.CacheRefresh, false, true},
	}
	for _, tc := range cases {
		r, w := Directive(tc.cc)
		if r != tc.read || w != tc.write {
			t.Errorf("Directive(%d) = %v,%v want %v,%v", tc.cc, r, w, tc.read, tc.write)
		}
	}
}

func BenchmarkKey(b *testing.B) {
	cases := []struct {
		name string
		req  *llm.ChatRequest
	}{
		{"short", &llm.ChatRequest{Temperature: ptr(0.0), Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "You are a helpful assistant."},
			{Role: llm.RoleUser, Content: "What is the capital of France?"}}}},
		{"tools+schema", fullRequest()},
		{"long-conversation", func() *llm.ChatRequest {
			r := fullRequest()
			for i := 0; i < 20; i++ {
				r.Messages = append(r.Messages, llm.Message{Role: llm.RoleUser, Content: strings.Repeat("lorem ipsum ", 40)},
					llm.Message{Role: llm.RoleAssistant, Content: strings.Repeat("dolor sit amet ", 40)})
			}
			return r
		}()},
	}
	for _, bc := range cases {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = NewKey(bc.req, "auto", "openai/k1=gpt-4o-mini", "")
			}
		})
	}
}
