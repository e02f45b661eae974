package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// slowUpstream is an OpenAI-shaped upstream that takes its time (so
// concurrent identical requests overlap) and counts what reaches it.
type slowUpstream struct {
	url     string
	unary   atomic.Int64
	streams atomic.Int64
}

func newSlowUpstream(t testing.TB, delay time.Duration) *slowUpstream {
	u := &slowUpstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if !strings.Contains(string(body), `"stream":true`) {
			u.unary.Add(1)
			time.Sleep(delay)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id":"chatcmpl-%d","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"answer %d"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}`, u.unary.Load(), u.unary.Load())
			return
		}
		u.streams.Add(1)
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`+"\n\n")
		fl.Flush()
		for i := 0; i < 20; i++ {
			time.Sleep(delay / 20)
			fmt.Fprintf(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{"content":"w%d "},"finish_reason":null}]}`+"\n\n", i)
			fl.Flush()
		}
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}`+"\n\n")
		fmt.Fprint(w, `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up-model","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":20,"total_tokens":23}}`+"\n\ndata: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	u.url = srv.URL + "/v1"
	return u
}

func cacheConfig(upstream, redis string) string {
	c := `
log: {level: error}
providers:
  - name: up
    type: openai-compatible
    base_url: ` + upstream + `
    api_keys: [sk-upstream-0000000001]
    models: [up-model]
routes:
  - model: cached
    targets: [{provider: up, model: up-model}]
    cache: {mode: all, ttl: 1m}
`
	if redis != "" {
		c += "cache: {redis_url: " + redis + "}\n"
	}
	return c
}

const cachedBody = `{"model":"cached","temperature":0.7,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"What is a switchyard?"}],"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"}}}}}]}`

// The same request with every object's keys in another order.
const cachedBodyReordered = `{"tools":[{"function":{"parameters":{"properties":{"b":{"type":"integer"},"a":{"type":"string"}},"type":"object"},"name":"f"},"type":"function"}],"messages":[{"content":"be brief","role":"system"},{"content":"What is a switchyard?","role":"user"}],"temperature":0.7,"model":"cached"}`

func chatOnce(t testing.TB, base, body string) (status int, cacheHdr, content string) {
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, "", ""
	}
	defer resp.Body.Close()
	var cc struct {
		Choices []struct {
			Message struct{ Content string } `json:"message"`
		} `json:"choices"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&cc)
	if len(cc.Choices) > 0 {
		content = cc.Choices[0].Message.Content
	}
	return resp.StatusCode, resp.Header.Get("X-Switchyard-Cache"), content
}

func TestHundredConcurrentIdenticalRequestsMakeOneUpstreamCall(t *testing.T) {
	up := newSlowUpstream(t, 300*time.Millisecond)
	g := startGateway(t, cacheConfig(up.url, ""))
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[string]int{}
	contents := map[string]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, hdr, content := chatOnce(t, g.base, cachedBody)
			mu.Lock()
			defer mu.Unlock()
			if code != 200 {
				t.Errorf("status %d", code)
			}
			statuses[hdr]++
			contents[content]++
		}()
	}
	wg.Wait()
	if n := up.unary.Load(); n != 1 {
		t.Fatalf("upstream saw %d requests, want 1 (statuses %v)", n, statuses)
	}
	if statuses["miss"] != 1 || len(contents) != 1 {
		t.Fatalf("statuses %v, contents %v", statuses, contents)
	}
	t.Logf("100 concurrent: %v", statuses)

	// Same request, keys in another order: a hit, still one upstream call.
	if _, hdr, _ := chatOnce(t, g.base, cachedBodyReordered); hdr != "hit" || up.unary.Load() != 1 {
		t.Fatalf("reordered keys: cache %q, upstream %d", hdr, up.unary.Load())
	}
	// Per-request control: no-cache skips the read (a new upstream call).
	req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions", strings.NewReader(cachedBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Switchyard-Cache", "no-cache")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Switchyard-Cache") != "miss" || up.unary.Load() != 2 {
		t.Fatalf("no-cache: %q, upstream %d", resp.Header.Get("X-Switchyard-Cache"), up.unary.Load())
	}
}

func streamOnce(t testing.TB, base, body string) (string, error) {
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var text strings.Builder
	sc := bufio.NewScanner(resp.Body)
	done := false
	for sc.Scan() {
		line := strings.TrimPrefix(sc.Text(), "data: ")
		if line == "" {
			continue
		}
		if line == "[DONE]" {
			done = true
			continue
		}
		var ch struct {
			Choices []struct {
				Delta struct{ Content string } `json:"delta"`
			} `json:"choices"`
		}
		if err := json.Unmarshal([]byte(line), &ch); err != nil {
			return "", err
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
		}
	}
	if !done {
		return text.String(), fmt.Errorf("no [DONE]")
	}
	return text.String(), nil
}

func TestHundredConcurrentIdenticalStreamsShareOneUpstreamStream(t *testing.T) {
	up := newSlowUpstream(t, 400*time.Millisecond)
	g := startGateway(t, cacheConfig(up.url, ""))
	body := strings.Replace(cachedBody, `"model":"cached"`, `"model":"cached","stream":true`, 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	texts := map[string]int{}
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			time.Sleep(time.Duration(i) * time.Millisecond) // late joiners get the prefix
			text, err := streamOnce(t, g.base, body)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			texts[text]++
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	if n := up.streams.Load(); n != 1 {
		t.Fatalf("upstream saw %d streams, want 1", n)
	}
	want := ""
	for i := 0; i < 20; i++ {
		want += fmt.Sprintf("w%d ", i)
	}
	if len(texts) != 1 || texts[want] != 100 {
		t.Fatalf("clients got %d distinct texts: %v", len(texts), texts)
	}
	// The finished stream was cached: a later identical stream replays it.
	if text, err := streamOnce(t, g.base, body); err != nil || text != want || up.streams.Load() != 1 {
		t.Fatalf("replay: %q %v, upstream %d", text, err, up.streams.Load())
	}
}

func testRedisAddr(t *testing.T) string {
	addr := os.Getenv("SWITCHYARD_TEST_REDIS")
	if addr == "" {
		t.Skip("SWITCHYARD_TEST_REDIS is not set: `make test` starts a redis-server (scripts/redis.sh)")
	}
	return addr
}

func TestTwoInstancesShareOneRedis(t *testing.T) {
	addr := testRedisAddr(t)
	up := newSlowUpstream(t, 10*time.Millisecond)
	a := startGateway(t, cacheConfig(up.url, addr))
	b := startGateway(t, cacheConfig(up.url, addr))
	body := strings.Replace(cachedBody, "switchyard?", fmt.Sprintf("switchyard (run %d)?", time.Now().UnixNano()), 1)
	if _, hdr, _ := chatOnce(t, a.base, body); hdr != "miss" {
		t.Fatalf("A: %q", hdr)
	}
	_, hdr, content := chatOnce(t, b.base, body)
	if hdr != "hit" || up.unary.Load() != 1 || content == "" {
		t.Fatalf("B: cache %q, upstream %d", hdr, up.unary.Load())
	}
}

func TestRedisStoppedMidRunKeepsServing(t *testing.T) {
	testRedisAddr(t) // the suite has Redis installed
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server not on PATH")
	}
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", "127.0.0.1:"+port); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	up := newSlowUpstream(t, time.Millisecond)
	g := startGateway(t, cacheConfig(up.url, "127.0.0.1:"+port))
	for i := 0; i < 40; i++ {
		if i == 10 {
			_ = cmd.Process.Kill() // Redis goes away mid-run
			_ = cmd.Wait()
		}
		body := strings.Replace(cachedBody, "switchyard?", fmt.Sprintf("switchyard #%d?", i%20), 1)
		if code, _, _ := chatOnce(t, g.base, body); code != 200 {
			t.Fatalf("request %d failed with %d after Redis stopped", i, code)
		}
	}
}

// BenchmarkGRPCCacheHit is the cache-hit path end to end over gRPC
// (grpc-go client, loopback, h2c): req/s is the figure to quote.
func BenchmarkGRPCCacheHit(b *testing.B) {
	up := newSlowUpstream(b, 0)
	g := startGateway(b, cacheConfig(up.url, ""))
	conns := make([]*grpc.ClientConn, 4)
	for i := range conns {
		c, err := grpc.NewClient(g.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	temp := 0.0
	req := chatReq("cached")
	req.Temperature = &temp
	ctx := context.Background()
	if _, err := pb.NewChatServiceClient(conns[0]).CreateChatCompletion(ctx, req); err != nil {
		b.Fatal(err)
	}
	var next atomic.Int64
	b.SetParallelism(16)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(p *testing.PB) {
		c := pb.NewChatServiceClient(conns[next.Add(1)%int64(len(conns))])
		for p.Next() {
			resp, err := c.CreateChatCompletion(ctx, req)
			if err != nil || resp.GetSwitchyard().GetCache() != pb.CacheStatus_CACHE_STATUS_HIT {
				b.Fatalf("%v %v", err, resp.GetSwitchyard().GetCache())
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	if up.unary.Load() != 1 {
		b.Fatalf("upstream saw %d requests", up.unary.Load())
	}
}
