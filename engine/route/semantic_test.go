package route

import (
	"context"
	"hash/fnv"
	"io"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/engine/cache/semantic"
	"github.com/switchyard/switchyard/engine/llm"
)

// semProvider answers chat with a counter and embeds text as a bag of its
// lowercased words (hashed into 64 dimensions), so word order and
// punctuation do not change the vector and another word does.
type semProvider struct {
	chats, embeds atomic.Int64
}

func (p *semProvider) Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, error) {
	n := p.chats.Add(1)
	return &llm.ChatResponse{ID: "c", Model: req.Model, Choices: []llm.Choice{{Message: llm.Message{Role: llm.RoleAssistant,
		Content: "answer " + string(rune('0'+n))}, FinishReason: "stop"}}, Usage: llm.Usage{PromptTokens: 10, CompletionTokens: 5, TotalTokens: 15}}, nil
}

func (p *semProvider) ChatStream(ctx context.Context, req *llm.ChatRequest) (llm.Stream, error) {
	p.chats.Add(1)
	return &fakeStream{name: "streamed"}, nil
}

func (p *semProvider) Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, error) {
	p.embeds.Add(1)
	out := &llm.EmbeddingResponse{Model: req.Model, Usage: llm.Usage{PromptTokens: 4, TotalTokens: 4}}
	for _, s := range req.Input {
		v := make([]float32, 64)
		for _, w := range strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !('a' <= r && r <= 'z') }) {
			h := fnv.New32a()
			h.Write([]byte(w))
			v[h.Sum32()%64]++
		}
		out.Vectors = append(out.Vectors, v)
	}
	return out, nil
}

func semRouter(t *testing.T, spec *SemanticSpec) (*Router, *semProvider, *semantic.Cache) {
	t.Helper()
	up := &semProvider{}
	sc := semantic.New(nil)
	r, err := New(Spec{
		Providers: []ProviderSpec{{Name: "p", Models: []string{"m", "emb"}, Keys: []KeySpec{{ID: "k", Weight: 1, Provider: up}},
			Prices: map[string]Price{"m": {Input: 1, Output: 2}, "emb": {Input: 1}}}},
		Routes: []RouteSpec{{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}},
			Cache: CacheSpec{Mode: "all", Semantic: spec}}},
	}, WithCache(memCache{cache.NewL1()}, false), WithSemanticCache(sc))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r, up, sc
}

func ask(text string, opts ...func(*llm.ChatRequest)) *llm.ChatRequest {
	req := &llm.ChatRequest{Model: "r", Messages: []llm.Message{{Role: llm.RoleSystem, Content: "be brief"}, {Role: llm.RoleUser, Content: text}}}
	for _, o := range opts {
		o(req)
	}
	return req
}

func asClient(c string) func(*llm.ChatRequest) {
	return func(r *llm.ChatRequest) { r.Hints.Client = c }
}

func TestSemanticCacheAnswersTheSameQuestionInOtherWordsOnly(t *testing.T) {
	r, up, sc := semRouter(t, &SemanticSpec{Model: "emb"})
	ctx := context.Background()
	first, info, err := r.Chat(ctx, ask("What is a switchyard?"))
	if err != nil || info.Cache != llm.CacheMiss || info.Semantic == nil || !info.Semantic.Embedded {
		t.Fatalf("first: %v %v %+v", err, info.Cache, info.Semantic)
	}
	tests := []struct {
		name              string
		req               *llm.ChatRequest
		want              llm.CacheStatus
		chats, embeds     int64
		sameAnswer, embed bool
	}{
		{"exact repeat: no embedding", ask("What is a switchyard?"), llm.CacheHit, 1, 1, true, false},
		{"other words, same bag", ask("a switchyard -- what is?"), llm.CacheSemanticHit, 1, 2, true, true},
		{"a different question", ask("What is a railway?"), llm.CacheMiss, 2, 3, false, true},
		{"no-cache bypasses it", ask("switchyard, what is a", func(q *llm.ChatRequest) { q.Hints.CacheControl = llm.CacheNoCache }), llm.CacheMiss, 3, 3, false, false},
		{"other client key", ask("a switchyard is what", asClient("k2")), llm.CacheMiss, 4, 4, false, true},
		{"other system prompt", ask("is a switchyard what", func(q *llm.ChatRequest) { q.Messages[0].Content = "be long" }), llm.CacheMiss, 5, 5, false, true},
		{"a conversation that called tools", ask("what is a switchyard", func(q *llm.ChatRequest) {
			q.Messages = append(q.Messages[:1], llm.Message{Role: llm.RoleAssistant, ToolCalls: []llm.ToolCall{{ID: "t", Name: "f"}}},
				llm.Message{Role: llm.RoleTool, ToolCallID: "t", Content: "x"}, llm.Message{Role: llm.RoleUser, Content: "What is a switchyard?"})
		}), llm.CacheMiss, 6, 5, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, info, err := r.Chat(ctx, tc.req)
			if err != nil || info.Cache != tc.want {
				t.Fatalf("%v cache %v, want %v", err, info.Cache, tc.want)
			}
			if up.chats.Load() != tc.chats || up.embeds.Load() != tc.embeds {
				t.Fatalf("upstream chats %d embeds %d, want %d %d", up.chats.Load(), up.embeds.Load(), tc.chats, tc.embeds)
			}
			if got := resp.Choices[0].Message.Content == first.Choices[0].Message.Content; got != tc.sameAnswer {
				t.Fatalf("answer %q (first %q)", resp.Choices[0].Message.Content, first.Choices[0].Message.Content)
			}
			if tc.embed != (info.Semantic != nil && info.Semantic.Embedded) {
				t.Fatalf("semantic info %+v", info.Semantic)
			}
			if tc.want == llm.CacheSemanticHit {
				want := cache.NewKey(ask("What is a switchyard?"), "r", r.Table().routes["r"].sig, "").String()
				if info.Semantic.Entry != want || info.Semantic.Similarity < 0.999 || info.Cost != 0 || info.Semantic.Embed.Cost == 0 {
					t.Fatalf("hit report %+v cost %v", info.Semantic, info.Cost)
				}
			}
		})
	}
	if st := sc.Stats(); st.Hits != 1 || st.Stores < 3 {
		t.Fatalf("stats %+v", st)
	}
}

func TestSemanticCacheSharedScopeAndStreams(t *testing.T) {
	r, up, _ := semRouter(t, &SemanticSpec{Model: "emb", Shared: true})
	ctx := context.Background()
	st, err := r.ChatStream(ctx, ask("Tell me about switchyards", asClient("k1")))
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := st.Recv(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	// Another key, other word order, as a stream: replayed from the cache.
	st, err = r.ChatStream(ctx, ask("about switchyards, tell me", asClient("k2")))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	for {
		c, err := st.Recv()
		if err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		for _, ch := range c.Choices {
			text += ch.Delta.Content
		}
	}
	_ = st.Close()
	if info := st.Info(); info.Cache != llm.CacheSemanticHit || text != "streamed" || up.chats.Load() != 1 || info.Semantic.Entry == "" {
		t.Fatalf("cache %v text %q chats %d", info.Cache, text, up.chats.Load())
	}
}

func TestSemanticCacheIsOffWithoutASpecOrForUncacheableRequests(t *testing.T) {
	r, up, _ := semRouter(t, nil)
	for i := 0; i < 2; i++ {
		if _, info, err := r.Chat(context.Background(), ask([]string{"what is it", "it is what"}[i])); err != nil || info.Semantic != nil {
			t.Fatalf("%v %+v", err, info.Semantic)
		}
	}
	if up.embeds.Load() != 0 {
		t.Fatalf("embedded %d times", up.embeds.Load())
	}
}

func BenchmarkSemanticHit(b *testing.B) {
	up := &semProvider{}
	r, err := New(Spec{
		Providers: []ProviderSpec{{Name: "p", Models: []string{"m", "emb"}, Keys: []KeySpec{{ID: "k", Weight: 1, Provider: up}}}},
		Routes: []RouteSpec{{Model: "r", Strategy: "priority", Targets: []TargetSpec{{Provider: "p", Model: "m"}},
			Cache: CacheSpec{Mode: "all", Semantic: &SemanticSpec{Model: "emb"}}}},
	}, WithCache(memCache{cache.NewL1()}, false), WithSemanticCache(semantic.New(nil)))
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	ctx := context.Background()
	_, _, _ = r.Chat(ctx, ask("What is a switchyard?"))
	req := ask("a switchyard -- what is?")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, info, _ := r.Chat(ctx, req); info.Cache != llm.CacheSemanticHit {
			b.Fatal(info.Cache)
		}
	}
}
