package store_test

import (
	"context"
	"fmt"
	"os"

	"github.com/switchyard/switchyard/store"
)

func ExampleLedger() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "switchyard-example")
	defer os.RemoveAll(dir)

	s, err := store.Open(ctx, store.Options{DataDir: dir})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()

	l := store.NewLedger(s)
	l.Record(store.UsageRecord{KeyID: "team-a", Provider: "openai", Model: "gpt-4o-mini",
		PromptTokens: 12, CompletionTokens: 30, CostNanos: 20_000, LatencyMS: 420, Status: store.StatusOK})
	l.Record(store.UsageRecord{KeyID: "team-a", Provider: "anthropic", Model: "claude-haiku",
		LatencyMS: 90, Status: "upstream_529"})
	if err := l.Close(ctx); err != nil { // flushes the queue
		fmt.Println(err)
		return
	}

	rows, total, _ := s.Usage(ctx, store.UsageQuery{GroupBy: []string{store.GroupProvider}})
	for _, r := range rows {
		fmt.Printf("%s: %d requests, %d errors, %d tokens\n", r.Provider, r.Requests, r.Errors, r.PromptTokens+r.CompletionTokens)
	}
	fmt.Println("total requests:", total.Requests)
	// Output:
	// anthropic: 1 requests, 1 errors, 0 tokens
	// openai: 1 requests, 0 errors, 42 tokens
	// total requests: 2
}

func ExampleSealer() {
	sl, err := store.NewSealer("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=") // 32 bytes, base64
	if err != nil {
		fmt.Println(err)
		return
	}
	ct, nonce, _ := sl.Seal([]byte("sk-secret"), []byte("openai/key-1"))
	pt, _ := sl.Open(ct, nonce, []byte("openai/key-1"))
	_, err = sl.Open(ct, nonce, []byte("openai/key-2"))
	fmt.Println(string(pt), err)
	// Output: sk-secret store: cannot decrypt secret (wrong master key or tampered data)
}
