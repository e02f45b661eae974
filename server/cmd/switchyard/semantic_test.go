package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

// semanticUpstream is the fake upstream with word embeddings.
func semanticUpstream(t *testing.T) (*fakeupstream.Server, string) {
	t.Helper()
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}, WordEmbeddings: true})
	srv := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); srv.Close() })
	return fs, srv.URL
}

func semanticConfig(upstream, redis string) string {
	c := `
log: {level: error}
providers:
  - name: fake
    type: openai-compatible
    base_url: ` + upstream + `/v1
    api_keys: [sk-upstream-key-0000000001]
    models: [fake-gpt, text-embedding-3-small]
    prices:
      fake-gpt: {input: 1, output: 2}
      text-embedding-3-small: {input: 0.5, output: 0}
routes:
  - model: faq
    targets: [{provider: fake, model: fake-gpt}]
    cache:
      mode: all
      ttl: 1m
      semantic: {enabled: true, model: text-embedding-3-small, dimensions: 256}
`
	if redis != "" {
		c += "cache: {redis_url: " + redis + "}\n"
	}
	return c
}

type semAnswer struct {
	cache, similarity, entry, content string
	block                             struct {
		Cache    string `json:"cache"`
		Semantic struct {
			Similarity float64 `json:"similarity"`
			Entry      string  `json:"entry"`
		} `json:"semantic"`
	}
}

func askFAQ(t *testing.T, base, question string) semAnswer {
	t.Helper()
	resp := post(t, base+"/v1/chat/completions", fmt.Sprintf(`{"model":"faq","messages":[{"role":"system","content":"be brief"},{"role":"user","content":%q}]}`, question))
	defer resp.Body.Close()
	var out struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
		Switchyard json.RawMessage `json:"switchyard"`
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || json.Unmarshal(b, &out) != nil || len(out.Choices) == 0 {
		t.Fatalf("%d %s", resp.StatusCode, b)
	}
	a := semAnswer{cache: resp.Header.Get("X-Switchyard-Cache"), similarity: resp.Header.Get("X-Switchyard-Cache-Similarity"),
		entry: resp.Header.Get("X-Switchyard-Cache-Entry"), content: out.Choices[0].Message.Content}
	_ = json.Unmarshal(out.Switchyard, &a.block)
	return a
}

func TestSemanticCacheParaphraseReachesTheUpstreamForTheEmbeddingOnly(t *testing.T) {
	fs, up := semanticUpstream(t)
	g := startGatewayWithStore(t, semanticConfig(up, ""))
	counts := func() (chat, embed uint64) {
		c := fs.Counts()
		return c["/v1/chat/completions"], c["/v1/embeddings"]
	}
	first := askFAQ(t, g.base, "What is quantum computing?")
	if chat, embed := counts(); first.cache != "miss" || chat != 1 || embed != 1 {
		t.Fatalf("first: %q, upstream chat %d embed %d", first.cache, chat, embed)
	}
	hit := askFAQ(t, g.base, "Can you tell me about quantum computing, please?")
	chat, embed := counts()
	if hit.cache != "semantic_hit" || chat != 1 || embed != 2 || hit.content != first.content {
		t.Fatalf("paraphrase: %q, upstream chat %d embed %d", hit.cache, chat, embed)
	}
	if hit.block.Cache != "semantic_hit" || hit.block.Semantic.Similarity < 0.95 || hit.block.Semantic.Entry == "" ||
		hit.entry != hit.block.Semantic.Entry || hit.similarity == "" {
		t.Fatalf("hit report: header %q %q, block %+v", hit.similarity, hit.entry, hit.block)
	}
	// Streamed, the paraphrase is replayed as a stream.
	resp := post(t, g.base+"/v1/chat/completions", `{"model":"faq","stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Explain quantum computing."}]}`)
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "data: ")
		var c struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if json.Unmarshal([]byte(line), &c) == nil && len(c.Choices) > 0 {
			text.WriteString(c.Choices[0].Delta.Content)
		}
	}
	resp.Body.Close()
	if resp.Header.Get("X-Switchyard-Cache") != "semantic_hit" || text.String() != first.content {
		t.Fatalf("stream: %q %q", resp.Header.Get("X-Switchyard-Cache"), text.String())
	}
	// A different question is never answered from the cache.
	if other := askFAQ(t, g.base, "What is classical computing?"); other.cache != "miss" {
		t.Fatalf("near miss: %q", other.cache)
	}
	if chat, embed := counts(); chat != 2 || embed != 4 {
		t.Fatalf("upstream chat %d embed %d", chat, embed)
	}
	// Metrics count the semantic outcomes.
	mresp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	for _, want := range []string{`switchyard_semantic_cache_total{outcome="hit"} 2`, `switchyard_semantic_cache_total{outcome="miss"} 2`, `switchyard_cache_results_total{result="semantic_hit"} 2`} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	// The ledger bills each embedding as its own request.
	var usage struct {
		Rows []struct {
			Model    string  `json:"model"`
			Requests string  `json:"requests"`
			CostUSD  float64 `json:"cost_usd"`
		} `json:"rows"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(g.base + "/v1/usage?group_by=model")
		if err != nil {
			t.Fatal(err)
		}
		_ = json.NewDecoder(resp.Body).Decode(&usage)
		resp.Body.Close()
		var emb string
		var cost float64
		for _, r := range usage.Rows {
			if r.Model == "text-embedding-3-small" {
				emb, cost = r.Requests, r.CostUSD
			}
		}
		if emb == "4" && cost > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger rows %+v, want 4 billed embedding requests", usage.Rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two gateway instances sharing one Redis: a semantic entry written by one
// is hit by the other, which reaches the upstream for its embedding only.
func TestSemanticCacheTwoReplicasShareEntriesThroughRedis(t *testing.T) {
	addr := testRedisAddr(t)
	fs, up := semanticUpstream(t)
	a := startGateway(t, semanticConfig(up, addr))
	t.Cleanup(a.ctl.Close)
	b := startGateway(t, semanticConfig(up, addr))
	t.Cleanup(b.ctl.Close)
	topic := fmt.Sprintf("switchyard number %d", time.Now().UnixNano()) // fresh in a Redis other runs used
	first := askFAQ(t, a.base, "What is "+topic+"?")
	if first.cache != "miss" {
		t.Fatalf("A: %q", first.cache)
	}
	deadline := time.Now().Add(5 * time.Second)
	for b.ctl.Semantic().Index().Len() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("replica B never indexed A's entry")
		}
		time.Sleep(10 * time.Millisecond)
	}
	hit := askFAQ(t, b.base, "Tell me about "+topic+", please")
	c := fs.Counts()
	if hit.cache != "semantic_hit" || hit.content != first.content || c["/v1/chat/completions"] != 1 || c["/v1/embeddings"] != 2 {
		t.Fatalf("B: %q, upstream %v", hit.cache, c)
	}
}

// A client that got a semantic hit for a different question reports it
// with the entry the hit named: the entry no longer matches, the metric
// counts the report, and a bad entry is a 400 naming it.
func TestSemanticCacheFalseHitReport(t *testing.T) {
	fs, up := semanticUpstream(t)
	g := startGatewayWithStore(t, semanticConfig(up, ""))
	askFAQ(t, g.base, "What is quantum computing?")
	hit := askFAQ(t, g.base, "Can you tell me about quantum computing, please?")
	if hit.cache != "semantic_hit" || hit.entry == "" {
		t.Fatalf("paraphrase: %q entry %q", hit.cache, hit.entry)
	}
	resp := post(t, g.base+"/v1/cache/false_hits", `{"entry":"`+hit.entry+`"}`)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"removed":true`) {
		t.Fatalf("report: %d %s", resp.StatusCode, b)
	}
	chatBefore := fs.Counts()["/v1/chat/completions"]
	if again := askFAQ(t, g.base, "Can you tell me about quantum computing, please?"); again.cache == "semantic_hit" {
		t.Fatal("the reported entry still matched")
	}
	if fs.Counts()["/v1/chat/completions"] != chatBefore+1 {
		t.Fatal("the paraphrase after the report did not reach the upstream")
	}
	resp = post(t, g.base+"/v1/cache/false_hits", `{"entry":"zz"}`)
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(b), `"param":"entry"`) {
		t.Fatalf("bad entry: %d %s", resp.StatusCode, b)
	}
	mresp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mb, _ := io.ReadAll(mresp.Body)
	mresp.Body.Close()
	if !strings.Contains(string(mb), `switchyard_semantic_cache_total{outcome="false_hit_report"} 1`) {
		t.Error("metrics lack the false-hit report")
	}
}
