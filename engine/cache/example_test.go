package cache_test

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/llm"
)

// The unary path as the Router runs it: key, policy and directive, lookup,
// then one coalesced upstream call that stores its answer.
func Example() {
	c, _ := cache.NewTiered(cache.NewL1(), nil) // nil Store: L1 only
	calls := cache.NewGroup[*llm.ChatResponse](time.Minute)
	defer calls.Close()
	upstream := func(ctx context.Context) (*llm.ChatResponse, error) {
		return &llm.ChatResponse{ID: "up-1", Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant, Content: "Paris"}}}}, nil
	}

	chat := func(ctx context.Context, req *llm.ChatRequest) (string, llm.CacheStatus) {
		if !cache.Cacheable(cache.PolicyDeterministic, req) {
			resp, _ := upstream(ctx)
			return resp.Choices[0].Message.Content, llm.CacheBypass
		}
		key := cache.NewKey(req, "auto", "openai/k1=gpt-4o-mini", "")
		read, write := cache.Directive(req.Hints.CacheControl)
		if read {
			if e, ok := c.Get(ctx, key); ok {
				return e.ChatResponse().Choices[0].Message.Content, llm.CacheHit
			}
		}
		resp, shared, err := calls.Do(ctx, key, func(ctx context.Context) (*llm.ChatResponse, error) {
			resp, err := upstream(ctx)
			if err == nil && write {
				c.Set(ctx, key, cache.FromResponse(resp), req.Hints.CacheTTL)
			}
			return resp, err
		})
		if err != nil {
			return err.Error(), llm.CacheMiss
		}
		if shared {
			return resp.Choices[0].Message.Content, llm.CacheCoalesced
		}
		return resp.Choices[0].Message.Content, llm.CacheMiss
	}

	zero := 0.0
	req := &llm.ChatRequest{Temperature: &zero, Messages: []llm.Message{{Role: llm.RoleUser, Content: "Capital of France?"}}}
	for _, cc := range []llm.CacheControl{llm.CacheDefault, llm.CacheDefault, llm.CacheRefresh, llm.CacheNoStore} {
		req.Hints.CacheControl = cc
		answer, status := chat(context.Background(), req)
		fmt.Println(answer, status)
	}
	// Output:
	// Paris miss
	// Paris hit
	// Paris miss
	// Paris hit
}

// A finished shared stream is handed back for caching, and the cached
// entry replays as a stream.
func ExampleStreamGroup() {
	c, _ := cache.NewTiered(cache.NewL1(), nil)
	streams := cache.NewStreamGroup(10 * time.Minute)
	defer streams.Close()
	key := cache.NewKey(&llm.ChatRequest{}, "auto", "", "")
	stored := make(chan struct{})

	sub, shared, err := streams.Join(context.Background(), key,
		func(ctx context.Context) (llm.Stream, error) {
			// The upstream call; here an answer replayed from an entry.
			return cache.FromResponse(&llm.ChatResponse{Choices: []llm.Choice{{Message: llm.Message{Content: "Hi"}, FinishReason: llm.FinishStop}}}).Stream(), nil
		},
		func(chunks []llm.Chunk) {
			c.Set(context.Background(), key, cache.FromChunks(chunks), 0)
			close(stored)
		})
	if err != nil {
		panic(err)
	}
	defer sub.Close()
	n := 0
	for {
		if _, err := sub.Recv(); err == io.EOF {
			break
		}
		n++
	}
	<-stored
	e, hit := c.Get(context.Background(), key)
	fmt.Println(n, "chunks, shared:", shared, "cached:", hit, e.ChatResponse().Choices[0].Message.Content)
	// Output: 2 chunks, shared: false cached: true Hi
}
