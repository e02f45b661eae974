package cache

import (
	"testing"

	"github.com/switchyard/switchyard/engine/llm"
)

func TestPartitionKeyIgnoresOnlyTheLastUserTurn(t *testing.T) {
	temp := 0.0
	base := func(last string) *llm.ChatRequest {
		return &llm.ChatRequest{Temperature: &temp, Messages: []llm.Message{
			{Role: llm.RoleSystem, Content: "be brief"},
			{Role: llm.RoleUser, Content: "hi"},
			{Role: llm.RoleAssistant, Content: "hello"},
			{Role: llm.RoleUser, Content: last},
		}}
	}
	ref, _ := NewPartitionKey(base("what is AI?"), "r", "sig", "")
	tests := []struct {
		name  string
		req   func() *llm.ChatRequest
		route string
		scope string
		same  bool
	}{
		{"other words in the last turn", func() *llm.ChatRequest { return base("explain artificial intelligence") }, "r", "", true},
		{"other system prompt", func() *llm.ChatRequest { r := base("x"); r.Messages[0].Content = "be long"; return r }, "r", "", false},
		{"other earlier turn", func() *llm.ChatRequest { r := base("x"); r.Messages[1].Content = "hey"; return r }, "r", "", false},
		{"other sampling", func() *llm.ChatRequest { r := base("x"); t := 0.5; r.Temperature = &t; return r }, "r", "", false},
		{"tools", func() *llm.ChatRequest { r := base("x"); r.Tools = []llm.Tool{{Type: "function", Name: "f"}}; return r }, "r", "", false},
		{"other route", func() *llm.ChatRequest { return base("x") }, "r2", "", false},
		{"other scope", func() *llm.ChatRequest { return base("x") }, "r", "key-1", false},
		{"original body differs only by the last text", func() *llm.ChatRequest {
			r := base("x")
			r.Original = &llm.Original{Dialect: "anthropic", Body: []byte(`{"system":"be brief","messages":[{"role":"user","content":"x"}],"beta_field":1}`)}
			return r
		}, "r", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			k, ok := NewPartitionKey(tc.req(), tc.route, "sig", tc.scope)
			if !ok || (k == ref) != tc.same {
				t.Fatalf("ok %v same %v, want same %v", ok, k == ref, tc.same)
			}
		})
	}
	withBody := func(last, extra string) Key {
		r := base(last)
		r.Original = &llm.Original{Dialect: "anthropic", Body: []byte(`{"messages":[{"role":"user","content":"` + last + `"}],"beta_field":` + extra + `}`)}
		k, _ := NewPartitionKey(r, "r", "sig", "")
		return k
	}
	if withBody("what is AI?", "1") != withBody("explain AI", "1") {
		t.Fatal("the last turn's text inside the original body was not masked")
	}
	if withBody("what is AI?", "1") == withBody("explain AI", "2") {
		t.Fatal("a field only in the original body was masked")
	}
	if k, _ := NewPartitionKey(base("x"), "r", "sig", ""); k == NewKey(base("x"), "r", "sig", "") {
		t.Fatal("a partition key equals an exact key")
	}
	if _, ok := NewPartitionKey(&llm.ChatRequest{Messages: []llm.Message{{Role: llm.RoleAssistant, Content: "x"}}}, "r", "", ""); ok {
		t.Fatal("a request ending in an assistant turn has a partition")
	}
	// The pooled writer is reset: an exact key after a partition key is
	// what it was.
	if NewKey(base("x"), "r", "sig", "") != NewKey(base("x"), "r", "sig", "") {
		t.Fatal("exact key not stable")
	}
}

func BenchmarkNewPartitionKey(b *testing.B) {
	temp := 0.0
	req := &llm.ChatRequest{Temperature: &temp, Messages: []llm.Message{{Role: llm.RoleSystem, Content: "be brief"}, {Role: llm.RoleUser, Content: "what is a switchyard?"}}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		NewPartitionKey(req, "r", "sig", "")
	}
}
