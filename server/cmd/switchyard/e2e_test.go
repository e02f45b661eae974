package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/hashicorp/go-hclog"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"

	"github.com/switchyard/switchyard/config"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/gen/go/switchyard/v1/switchyardv1connect"
	"github.com/switchyard/switchyard/server/control"
	"github.com/switchyard/switchyard/store"
)

const testConfig = `
log: {level: error}
server: {max_body_bytes: 65536, shutdown_timeout: 5s}
providers:
  - name: sim
    type: simulator
    models: [sim-small, sim-large]
    prices:
      sim-small: {input: 1, output: 2}
      sim-large: {input: 3, output: 15}
    simulator: {token_delay: 1ms, response_tokens: 8}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: sim, model: sim-small, priority: 1}
      - {provider: sim, model: sim-large, priority: 2}
`

type gateway struct {
	addr string
	base string // http://addr
	ctl  *control.Control
}

// startGateway serves the full handler tree on a loopback port, exactly as
// main does, and stops it when the test ends.
func startGateway(t testing.TB, yaml string, opts ...control.Option) *gateway {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	log := hclog.NewNullLogger()
	ctl, err := control.New(log, "", cfg, nil, opts...)
	if err != nil {
		t.Fatalf("control: %v", err)
	}
	t.Cleanup(ctl.Close)
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := newServer(ctx, log, cfg, ctl)
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = srv.Shutdown(sctx)
		<-done
		cancel()
	})
	return &gateway{addr: l.Addr().String(), base: "http://" + l.Addr().String(), ctl: ctl}
}

// h2cClient speaks cleartext HTTP/2, as gRPC clients do.
func h2cClient() *http.Client {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	return &http.Client{Transport: &http.Transport{Protocols: &p, TLSClientConfig: &tls.Config{}}}
}

func chatReq(model string) *pb.CreateChatCompletionRequest {
	hi := "Say hello"
	return &pb.CreateChatCompletionRequest{Model: model, Messages: []*pb.ChatMessage{{Role: "user", Content: &hi}}}
}

func TestEveryConnectProtocolServesChat(t *testing.T) {
	g := startGateway(t, testConfig)
	cases := []struct {
		name   string
		client *http.Client
		opts   []connect.ClientOption
	}{
		{"connect over HTTP/1.1", http.DefaultClient, nil},
		{"connect JSON over HTTP/1.1", http.DefaultClient, []connect.ClientOption{connect.WithProtoJSON()}},
		{"grpc over h2c", h2cClient(), []connect.ClientOption{connect.WithGRPC()}},
		{"grpc-web over HTTP/1.1", http.DefaultClient, []connect.ClientOption{connect.WithGRPCWeb()}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := switchyardv1connect.NewChatServiceClient(tc.client, g.base, tc.opts...)
			ctx := context.Background()
			resp, err := c.CreateChatCompletion(ctx, chatReq("auto"))
			if err != nil {
				t.Fatalf("unary: %v", err)
			}
			text := resp.GetChoices()[0].GetMessage().GetContent()
			if text == "" || resp.GetObject() != "chat.completion" || resp.GetUsage().GetTotalTokens() == 0 {
				t.Fatalf("unary answer incomplete: %v", resp)
			}
			if sy := resp.GetSwitchyard(); sy.GetProvider() != "sim" || sy.GetRoute() != "auto" || sy.GetAttempts() != 1 || sy.GetCostUsd() <= 0 || sy.GetRequestId() == "" {
				t.Fatalf("switchyard block: %v", sy)
			}

			req := chatReq("auto")
			req.StreamOptions = &pb.StreamOptions{IncludeUsage: true}
			st, err := c.StreamChatCompletion(ctx, req)
			if err != nil {
				t.Fatalf("stream: %v", err)
			}
			var got strings.Builder
			var chunks int
			var usage *pb.Usage
			for st.Receive() {
				m := st.Msg()
				if chunks == 0 && m.GetChoices()[0].GetDelta().GetRole() != "assistant" {
					t.Fatalf("first chunk lacks the assistant role: %v", m)
				}
				chunks++
				for _, ch := range m.GetChoices() {
					got.WriteString(ch.GetDelta().GetContent())
				}
				if m.GetUsage() != nil {
					usage = m.GetUsage()
				}
			}
			if err := st.Err(); err != nil {
				t.Fatalf("stream end: %v", err)
			}
			if got.String() != text {
				t.Fatalf("streamed text %q differs from unary %q", got.String(), text)
			}
			if usage.GetCompletionTokens() == 0 {
				t.Fatalf("no usage chunk in %d chunks", chunks)
			}

			_, err = c.CreateChatCompletion(ctx, chatReq("no-such-model"))
			if connect.CodeOf(err) != connect.CodeNotFound {
				t.Fatalf("unknown model: got %v, want NotFound", err)
			}
			bad := chatReq("auto")
			bad.Messages[0].Role = "wizard"
			_, err = c.CreateChatCompletion(ctx, bad)
			if connect.CodeOf(err) != connect.CodeInvalidArgument {
				t.Fatalf("unknown role: got %v, want InvalidArgument", err)
			}
		})
	}
}

// grpc-go is what grpcurl and ghz use: check it, health and reflection.
func TestGRPCGoClientHealthAndReflection(t *testing.T) {
	g := startGateway(t, testConfig)
	conn, err := grpc.NewClient(g.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	hc, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hc, err)
	}
	hc, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "switchyard.v1.ChatService"})
	if err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health of ChatService: %v %v", hc, err)
	}

	rc, err := reflectpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.Send(&reflectpb.ServerReflectionRequest{MessageRequest: &reflectpb.ServerReflectionRequest_ListServices{}}); err != nil {
		t.Fatal(err)
	}
	rr, err := rc.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range rr.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"switchyard.v1.ChatService", "switchyard.v1.ModelService", "switchyard.v1.RoutingConfigService", "switchyard.v1.KeyService", "grpc.health.v1.Health"} {
		if !contains(names, want) {
			t.Errorf("reflection lists %v, missing %s", names, want)
		}
	}

	chat := pb.NewChatServiceClient(conn)
	resp, err := chat.CreateChatCompletion(ctx, chatReq("sim-large"))
	if err != nil || resp.GetChoices()[0].GetMessage().GetContent() == "" {
		t.Fatalf("grpc unary: %v %v", resp, err)
	}
	st, err := chat.StreamChatCompletion(ctx, chatReq("sim-large"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		_, err := st.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("grpc stream: %v", err)
		}
		n++
	}
	if n < 3 {
		t.Fatalf("grpc stream gave %d chunks", n)
	}
	_, err = chat.CreateChatCompletion(ctx, chatReq("nope"))
	if status.Code(err) != codes.NotFound {
		t.Fatalf("grpc unknown model: %v", err)
	}
	_, err = pb.NewKeyServiceClient(conn).ListKeys(ctx, &pb.ListKeysRequest{})
	if status.Code(err) != codes.Unimplemented {
		t.Fatalf("not-yet-built service: %v, want Unimplemented", err)
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func post(t *testing.T, url, body string) *http.Response {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

type openAIError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func TestRESTUnaryAndSSE(t *testing.T) {
	g := startGateway(t, testConfig)
	body := `{"model":"auto","messages":[{"role":"user","content":"Say hello"}],"some_future_field":{"x":1}}`
	resp := post(t, g.base+"/v1/chat/completions", body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("unary status %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp.Header.Get("X-Request-Id") == "" || resp.Header.Get("X-Switchyard-Provider") != "sim" {
		t.Fatalf("headers: %v", resp.Header)
	}
	var cc struct {
		ID      string `json:"id"`
		Object  string `json:"object"`
		Created int64  `json:"created"`
		Choices []struct {
			Message struct {
				Role    string  `json:"role"`
				Content *string `json:"content"`
			} `json:"message"`
			FinishReason string `json:"finish_reason"`
		} `json:"choices"`
		Usage struct {
			TotalTokens int `json:"total_tokens"`
		} `json:"usage"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cc); err != nil {
		t.Fatal(err)
	}
	if cc.Object != "chat.completion" || cc.Created == 0 || cc.Choices[0].Message.Role != "assistant" ||
		cc.Choices[0].Message.Content == nil || cc.Choices[0].FinishReason != "stop" || cc.Usage.TotalTokens == 0 {
		t.Fatalf("unary body: %+v", cc)
	}

	resp = post(t, g.base+"/v1/chat/completions", `{"model":"auto","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Say hello"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("sse status %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var text strings.Builder
	var events []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		if !strings.HasPrefix(line, "data: ") {
			t.Fatalf("not an SSE data line: %q", line)
		}
		events = append(events, strings.TrimPrefix(line, "data: "))
	}
	if len(events) < 4 || events[len(events)-1] != "[DONE]" {
		t.Fatalf("events do not end in [DONE]: %q", events)
	}
	var sawUsage bool
	for _, e := range events[:len(events)-1] {
		var ch struct {
			Object  string `json:"object"`
			Choices []struct {
				Delta struct {
					Content string `json:"content"`
				} `json:"delta"`
			} `json:"choices"`
			Usage *struct {
				TotalTokens int `json:"total_tokens"`
			} `json:"usage"`
		}
		if err := json.Unmarshal([]byte(e), &ch); err != nil {
			t.Fatalf("chunk %q: %v", e, err)
		}
		if ch.Object != "chat.completion.chunk" {
			t.Fatalf("chunk object %q", ch.Object)
		}
		for _, c := range ch.Choices {
			text.WriteString(c.Delta.Content)
		}
		if ch.Usage != nil {
			sawUsage = len(ch.Choices) == 0 && ch.Usage.TotalTokens > 0
		}
	}
	if !sawUsage {
		t.Fatal("no final usage chunk with include_usage")
	}
	if text.String() != *cc.Choices[0].Message.Content {
		t.Fatalf("SSE text %q != unary %q", text.String(), *cc.Choices[0].Message.Content)
	}

	resp, err := http.Get(g.base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Object string `json:"object"`
		Data   []struct {
			ID      string `json:"id"`
			Object  string `json:"object"`
			Created int64  `json:"created"`
			OwnedBy string `json:"owned_by"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range list.Data {
		ids = append(ids, m.ID)
		if m.Object != "model" || m.OwnedBy == "" {
			t.Fatalf("model entry %+v", m)
		}
	}
	if list.Object != "list" || !contains(ids, "auto") || !contains(ids, "sim-small") || !contains(ids, "sim-large") {
		t.Fatalf("models: %+v", list)
	}
}

// Bad input never yields a 5xx or a panic.
func TestRESTBadInputIsAnOpenAIShaped4xx(t *testing.T) {
	g := startGateway(t, testConfig)
	huge := `{"model":"auto","messages":[{"role":"user","content":"` + strings.Repeat("a", 70000) + `"}]}`
	cases := []struct {
		name   string
		body   string
		status int
		param  string
	}{
		{"malformed JSON", `{"model":`, 400, ""},
		{"not an object", `[1,2]`, 400, ""},
		{"missing model", `{"messages":[{"role":"user","content":"hi"}]}`, 400, "model"},
		{"empty messages", `{"model":"auto","messages":[]}`, 400, "messages"},
		{"no messages", `{"model":"auto"}`, 400, "messages"},
		{"unknown role", `{"model":"auto","messages":[{"role":"wizard","content":"hi"}]}`, 400, "messages[0].role"},
		{"wrong type", `{"model":"auto","temperature":"hot","messages":[{"role":"user","content":"hi"}]}`, 400, "temperature"},
		{"temperature out of range", `{"model":"auto","temperature":7,"messages":[{"role":"user","content":"hi"}]}`, 400, "temperature"},
		{"unknown model", `{"model":"gpt-nope","messages":[{"role":"user","content":"hi"}]}`, 404, "model"},
		{"unknown model streaming", `{"model":"gpt-nope","stream":true,"messages":[{"role":"user","content":"hi"}]}`, 404, "model"},
		{"body over the limit", huge, 413, ""},
		{"upstream unavailable", `{"model":"auto","metadata":{"simulator.fail_status":"503"},"messages":[{"role":"user","content":"hi"}]}`, 503, ""},
		{"upstream rate limit", `{"model":"sim-small","metadata":{"simulator.fail_status":"429","simulator.retry_after":"2"},"messages":[{"role":"user","content":"hi"}]}`, 429, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp := post(t, g.base+"/v1/chat/completions", tc.body)
			if resp.StatusCode != tc.status {
				b, _ := io.ReadAll(resp.Body)
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			var e openAIError
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("not OpenAI error JSON: %v", err)
			}
			if e.Error.Message == "" || e.Error.Type == "" {
				t.Fatalf("error body %+v", e)
			}
			if tc.param != "" && (e.Error.Param == nil || *e.Error.Param != tc.param) {
				t.Fatalf("param %v, want %q", e.Error.Param, tc.param)
			}
			if tc.status == 429 && resp.Header.Get("Retry-After") != "2" {
				t.Fatalf("Retry-After %q", resp.Header.Get("Retry-After"))
			}
		})
	}
}

func TestRoutingConfigUpdateSwapsAtomicallyAndRefusesInvalid(t *testing.T) {
	g := startGateway(t, testConfig)
	// Invalid: the target names a provider that does not exist.
	resp := post(t, g.base+"/v1/routing/config", `{"strategy":"priority","routes":[{"model":"fast","targets":[{"provider":"ghost","model":"x"}]}]}`)
	if resp.StatusCode != 400 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("invalid update: status %d %s", resp.StatusCode, b)
	}
	if r := post(t, g.base+"/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 200 {
		t.Fatalf("old config stopped serving: %d", r.StatusCode)
	}
	// Valid: a new alias appears; the old one is gone.
	resp = post(t, g.base+"/v1/routing/config", `{"strategy":"priority","fallback_strategy":"failover","routes":[{"model":"fast","targets":[{"provider":"sim","model":"sim-small"}]}]}`)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("valid update: status %d %s", resp.StatusCode, b)
	}
	var upd struct {
		Version string `json:"version"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&upd)
	if upd.Version != "2" {
		t.Fatalf("version after update %q", upd.Version)
	}
	if r := post(t, g.base+"/v1/chat/completions", `{"model":"fast","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 200 {
		t.Fatalf("new alias: %d", r.StatusCode)
	}
	if r := post(t, g.base+"/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`); r.StatusCode != 404 {
		t.Fatalf("removed alias: %d", r.StatusCode)
	}
	get, err := http.Get(g.base + "/v1/routing/config")
	if err != nil {
		t.Fatal(err)
	}
	defer get.Body.Close()
	b, _ := io.ReadAll(get.Body)
	if !bytes.Contains(b, []byte(`"model":"fast"`)) {
		t.Fatalf("GET config: %s", b)
	}
}

// A stream in flight when shutdown starts still completes.
func TestShutdownDrainsInFlightStreams(t *testing.T) {
	d := startDrainable(t)
	body := `{"model":"auto","stream":true,"metadata":{"simulator.delay":"20ms","simulator.tokens":"20"},"messages":[{"role":"user","content":"hi"}]}`
	resp, err := http.Post(d.base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	shut := d.shutdown(5 * time.Second)
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("stream cut by shutdown: %v", err)
	}
	if !bytes.HasSuffix(b, []byte("data: [DONE]\n\n")) {
		t.Fatalf("stream did not complete: %q", b)
	}
	if err := <-shut; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-d.done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	d.done <- nil // for the cleanup
}

const authConfig = testConfig + `
auth: {api_keys: [sk-test-key-0123456789]}
server: {max_body_bytes: 65536, shutdown_timeout: 5s, cors_origins: ["http://127.0.0.1:5173"]}
`

func TestAPIKeysGuardEveryProtocolButHealth(t *testing.T) {
	g := startGateway(t, strings.Replace(authConfig, "server: {max_body_bytes: 65536, shutdown_timeout: 5s}\n", "", 1))
	body := `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`
	cases := []struct {
		name   string
		header string
		status int
	}{
		{"no key", "", 401},
		{"wrong key", "Bearer sk-wrong-key-000000000", 401},
		{"not bearer", "Basic abc", 401},
		{"right key", "Bearer sk-test-key-0123456789", 200},
	}
	for _, tc := range cases {
		t.Run("REST "+tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", g.base+"/v1/chat/completions", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.status == 401 {
				var e openAIError
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error.Type != "authentication_error" {
					t.Fatalf("error body %+v %v", e, err)
				}
			}
		})
	}
	if resp, err := http.Get(g.base + "/v1/routing/config"); err != nil || resp.StatusCode != 401 {
		t.Fatalf("admin route without key: %v %v", resp, err)
	}
	if resp, err := http.Get(g.base + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz must stay open: %v %v", resp, err)
	}

	c := switchyardv1connect.NewChatServiceClient(h2cClient(), g.base, connect.WithGRPC())
	_, err := c.CreateChatCompletion(context.Background(), chatReq("auto"))
	if connect.CodeOf(err) != connect.CodeUnauthenticated {
		t.Fatalf("gRPC without key: %v", err)
	}
	conn, err := grpc.NewClient(g.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if hc, err := healthpb.NewHealthClient(conn).Check(context.Background(), &healthpb.HealthCheckRequest{}); err != nil || hc.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health must stay open: %v %v", hc, err)
	}
}

func TestCORSPreflightForConfiguredOriginOnly(t *testing.T) {
	g := startGateway(t, strings.Replace(authConfig, "server: {max_body_bytes: 65536, shutdown_timeout: 5s}\n", "", 1))
	for _, tc := range []struct {
		origin string
		allow  bool
	}{{"http://127.0.0.1:5173", true}, {"http://evil.example", false}} {
		req, _ := http.NewRequest("OPTIONS", g.base+"/switchyard.v1.ChatService/StreamChatCompletion", nil)
		req.Header.Set("Origin", tc.origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type,connect-protocol-version,authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin") == tc.origin
		if got != tc.allow {
			t.Fatalf("origin %s: allowed=%v want %v (%v)", tc.origin, got, tc.allow, resp.Header)
		}
		if tc.allow && (resp.StatusCode != 204 || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "authorization")) {
			t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
		}
	}
}

// A minimal OpenAI-shaped upstream that counts requests per API key.
func keyCountingUpstream(t *testing.T) (string, func(key string) int64) {
	var mu sync.Mutex
	counts := map[string]int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		counts[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]++
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"up-model","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}`)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", func(key string) int64 {
		mu.Lock()
		defer mu.Unlock()
		return counts[key]
	}
}

func TestProviderKeyPoolThroughTheAPI(t *testing.T) {
	base, count := keyCountingUpstream(t)
	g := startGateway(t, `
log: {level: error}
providers:
  - name: up
    type: openai-compatible
    base_url: `+base+`
    api_keys: [sk-first-key-000000001]
    models: [up-model]
routes:
  - model: pool
    strategy: weighted
    targets: [{provider: up, model: up-model}]
`)
	chat := func() {
		t.Helper()
		resp := post(t, g.base+"/v1/chat/completions", `{"model":"pool","messages":[{"role":"user","content":"hi"}]}`)
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("chat: %d %s", resp.StatusCode, b)
		}
	}
	resp := post(t, g.base+"/v1/providers/up/keys", `{"api_key":"sk-second-key-00000002","label":"spare","weight":1}`)
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("add key: %d %s", resp.StatusCode, b)
	}
	var added struct {
		Key struct {
			ID        string `json:"id"`
			MaskedKey string `json:"masked_key"`
		} `json:"key"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&added)
	if added.Key.ID == "" || strings.Contains(added.Key.MaskedKey, "second") {
		t.Fatalf("added key %+v (the secret must never come back)", added)
	}
	for i := 0; i < 20; i++ {
		chat()
	}
	if a, b := count("sk-first-key-000000001"), count("sk-second-key-00000002"); a < 5 || b < 5 {
		t.Fatalf("pool not balanced: first %d, second %d", a, b)
	}

	list, err := http.Get(g.base + "/v1/providers")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(list.Body)
	list.Body.Close()
	if strings.Contains(string(body), "sk-first") || strings.Contains(string(body), "sk-second") || !strings.Contains(string(body), `"TARGET_STATE_HEALTHY"`) {
		t.Fatalf("ListProviders: %s", body)
	}
	var providers struct {
		Providers []struct {
			Keys []struct {
				ID     string `json:"id"`
				Source string `json:"source"`
			} `json:"keys"`
		} `json:"providers"`
	}
	_ = json.Unmarshal(body, &providers)
	var firstID string
	for _, k := range providers.Providers[0].Keys {
		if k.Source == "config" {
			firstID = k.ID
		}
	}
	req, _ := http.NewRequest("DELETE", g.base+"/v1/providers/up/keys/"+firstID, nil)
	del, err := http.DefaultClient.Do(req)
	if err != nil || del.StatusCode != 200 {
		t.Fatalf("remove key: %v %v", del, err)
	}
	del.Body.Close()
	before := count("sk-first-key-000000001")
	for i := 0; i < 10; i++ {
		chat()
	}
	if count("sk-first-key-000000001") != before {
		t.Fatal("removed key still gets traffic")
	}
}

func TestPrometheusMetricsCountRequests(t *testing.T) {
	g := startGateway(t, testConfig)
	post(t, g.base+"/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`)
	_, _ = io.ReadAll(post(t, g.base+"/v1/chat/completions", `{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}`).Body)
	post(t, g.base+"/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`)
	resp, err := http.Get(g.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, want := range []string{
		`switchyard_requests_total{cache="bypass",model="sim-small",provider="sim",route="auto",status="ok"} 2`,
		`status="not_found"`,
		`switchyard_tokens_total{kind="completion",model="sim-small",provider="sim"}`,
		`switchyard_breaker_state{provider="sim",target="sim/sim"} 0`,
		`switchyard_time_to_first_token_seconds_count`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if t.Failed() {
		t.Logf("%s", b)
	}
}

// startGatewayWithStore is startGateway plus the SQLite store and usage
// ledger, wired as main wires them.
func startGatewayWithStore(t *testing.T, yaml string, opts ...control.Option) *gateway {
	t.Helper()
	cfg, err := config.Parse([]byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	log := hclog.NewNullLogger()
	ctl, err := control.New(log, "", cfg, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ledger := store.NewLedger(st, store.WithFlushInterval(20*time.Millisecond))
	ctl.SetStore(st, ledger, nil)
	srv, err := newServer(context.Background(), log, cfg, ctl)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		_ = ledger.Close(ctx)
		_ = st.Close()
		ctl.Close()
	})
	return &gateway{addr: l.Addr().String(), base: "http://" + l.Addr().String(), ctl: ctl}
}

func TestUsageLedgerRecordsEveryRequestAndAnswersUsageAndMetrics(t *testing.T) {
	g := startGatewayWithStore(t, testConfig)
	post(t, g.base+"/v1/chat/completions", `{"model":"auto","messages":[{"role":"user","content":"hi"}]}`)
	_, _ = io.ReadAll(post(t, g.base+"/v1/chat/completions", `{"model":"auto","stream":true,"messages":[{"role":"user","content":"hi"}]}`).Body)
	_, _ = io.ReadAll(post(t, g.base+"/v1/chat/completions", `{"model":"sim-large","stream":true,"metadata":{"simulator.fail_after_tokens":"2"},"messages":[{"role":"user","content":"hi"}]}`).Body)
	post(t, g.base+"/v1/chat/completions", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`)

	var usage struct {
		Rows []struct {
			Model            string  `json:"model"`
			Requests         string  `json:"requests"`
			Errors           string  `json:"errors"`
			CompletionTokens string  `json:"completion_tokens"`
			CostUSD          float64 `json:"cost_usd"`
		} `json:"rows"`
		Total struct {
			Requests string  `json:"requests"`
			CostUSD  float64 `json:"cost_usd"`
		} `json:"total"`
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err := http.Get(g.base + "/v1/usage?group_by=model")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("usage: %d %s", resp.StatusCode, b)
		}
		_ = json.Unmarshal(b, &usage)
		if usage.Total.Requests == "4" || time.Now().After(deadline) {
			t.Logf("usage: %s", b)
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if usage.Total.Requests != "4" || usage.Total.CostUSD <= 0 {
		t.Fatalf("ledger total %+v, want 4 requests with a cost", usage.Total)
	}
	var partial bool
	for _, r := range usage.Rows {
		if r.Model == "sim-large" && r.Errors == "1" && r.CompletionTokens != "0" && r.CostUSD > 0 {
			partial = true // the broken stream is billed for what it sent
		}
	}
	if !partial {
		t.Fatalf("partial stream not recorded with its tokens: %+v", usage.Rows)
	}

	resp, err := http.Get(g.base + "/v1/monitoring/metrics?period=1h")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m struct {
		Metrics struct {
			RequestsTotal string  `json:"requests_total"`
			SuccessRate   float64 `json:"success_rate"`
			ErrorRate     float64 `json:"error_rate"`
			P95LatencyMs  float64 `json:"p95_latency_ms"`
		} `json:"metrics"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
		t.Fatal(err)
	}
	if m.Metrics.RequestsTotal != "4" || m.Metrics.SuccessRate != 0.5 || m.Metrics.ErrorRate != 0.5 {
		t.Fatalf("metrics %+v", m.Metrics)
	}
	if r := post(t, g.base+"/v1/monitoring/metrics?period=forever", ""); r.StatusCode == 200 {
		t.Fatal("bad period accepted")
	}
}
