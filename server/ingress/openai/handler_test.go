package openai

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/adapters/simulator"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/middleware"
)

// newHandler serves the dialect over a simulator, behind the server's
// middleware, as server.New mounts it.
func newHandler(tb testing.TB) http.Handler {
	tb.Helper()
	sim := simulator.New("sim", []string{"m"}, simulator.WithResponseTokens(16))
	r, err := route.New(route.Spec{Providers: []route.ProviderSpec{{Name: "sim", Models: []string{"m"},
		Keys: []route.KeySpec{{ID: "sim", Provider: sim}}}}})
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	New(gateway.New(r, nil), nil, hclog.NewNullLogger()).Register(mux)
	return middleware.Wrap(hclog.NewNullLogger(), 1<<20, mux)
}

func post(h http.Handler, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

type apiError struct {
	Error struct {
		Message string  `json:"message"`
		Type    string  `json:"type"`
		Param   *string `json:"param"`
		Code    *string `json:"code"`
	} `json:"error"`
}

func TestChatUnaryAnswersWithRoutingHeadersAndBlock(t *testing.T) {
	h := newHandler(t)
	rec := post(h, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if rec.Header().Get("X-Switchyard-Provider") != "sim" || rec.Header().Get("X-Switchyard-Cache") == "" {
		t.Errorf("routing headers %v", rec.Header())
	}
	var c sdkCompletion
	decodeSDK(t, rec.Body.Bytes(), &c)
	if c.Switchyard == nil || c.Switchyard.Provider != "sim" || c.Switchyard.RequestID == "" || c.Usage == nil {
		t.Errorf("answer %s", rec.Body)
	}
}

func TestChatErrorsAreOpenAIShaped(t *testing.T) {
	h := newHandler(t)
	for _, tc := range []struct {
		name, body, param string
		hdr               []string
		status            int
	}{
		{"malformed", `{"model":`, "", nil, 400},
		{"wrong type", `{"model":"m","messages":[{"role":"user","content":5}]}`, "messages[0].content", nil, 400},
		{"validation", `{"model":"m","messages":[]}`, "messages", nil, 400},
		{"unknown cache directive", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "x-switchyard-cache",
			[]string{"X-Switchyard-Cache", "sometimes"}, 400},
		{"unknown model", `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`, "model", nil, 404},
		{"embeddings validation", `{"model":"m","input":[]}`, "input", nil, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/v1/chat/completions"
			if strings.HasPrefix(tc.name, "embeddings") {
				path = "/v1/embeddings"
			}
			rec := post(h, path, tc.body, tc.hdr...)
			var e apiError
			if rec.Code != tc.status || json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Error.Message == "" {
				t.Fatalf("%d %s", rec.Code, rec.Body)
			}
			if got := e.Error.Param; (got == nil) != (tc.param == "") || got != nil && *got != tc.param {
				t.Errorf("param %v, want %q", e.Error.Param, tc.param)
			}
		})
	}
}

func TestCacheHeaderDirectiveIsHonoured(t *testing.T) {
	h := newHandler(t)
	rec := post(h, "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "X-Switchyard-Cache", " No-Store ")
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func sseEvents(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	for _, ev := range strings.Split(strings.TrimSpace(body), "\n\n") {
		if !strings.HasPrefix(ev, "data: ") {
			t.Fatalf("not an SSE data event: %q", ev)
		}
		out = append(out, strings.TrimPrefix(ev, "data: "))
	}
	return out
}

func TestStreamRoutingRidesOnFirstAndUsageChunks(t *testing.T) {
	h := newHandler(t)
	for _, includeUsage := range []bool{false, true} {
		body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]`
		if includeUsage {
			body += `,"stream_options":{"include_usage":true}`
		}
		rec := post(h, "/v1/chat/completions", body+`}`)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/event-stream" || rec.Header().Get("X-Switchyard-Provider") != "sim" {
			t.Fatalf("%d %v", rec.Code, rec.Header())
		}
		evs := sseEvents(t, rec.Body.String())
		if evs[len(evs)-1] != "[DONE]" {
			t.Fatalf("stream did not end with [DONE]: %q", evs[len(evs)-1])
		}
		evs = evs[:len(evs)-1]
		var usageChunks int
		for i, ev := range evs {
			var c sdkChunk
			decodeSDK(t, []byte(ev), &c)
			if c.Usage != nil {
				usageChunks++
				if c.Switchyard == nil || len(*c.Choices) != 0 {
					t.Errorf("usage chunk %s", ev)
				}
			}
			if i == 0 && c.Switchyard == nil {
				t.Errorf("first chunk has no routing block: %s", ev)
			}
			if i > 0 && c.Usage == nil && c.Switchyard != nil {
				t.Errorf("chunk %d has a routing block: %s", i, ev)
			}
		}
		if want := map[bool]int{false: 0, true: 1}[includeUsage]; usageChunks != want {
			t.Errorf("include_usage %v: %d usage chunks", includeUsage, usageChunks)
		}
	}
}

func TestMidStreamFailureIsAnInBandErrorEventWithoutDone(t *testing.T) {
	h := newHandler(t)
	body := `{"model":"m","stream":true,"metadata":{"simulator.fail_after_tokens":"3"},"messages":[{"role":"user","content":"hi"}]}`
	rec := post(h, "/v1/chat/completions", body)
	if rec.Code != 200 {
		t.Fatalf("status %d: the failure came after the first chunk, so the stream had started", rec.Code)
	}
	events := strings.Split(strings.TrimSpace(rec.Body.String()), "\n\n")
	last := strings.TrimPrefix(events[len(events)-1], "data: ")
	var e struct {
		Error struct{ Message, Type string } `json:"error"`
		Usage struct {
			CompletionTokens int  `json:"completion_tokens"`
			Estimated        bool `json:"estimated"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(last), &e); err != nil || e.Error.Message == "" {
		t.Fatalf("last event %q is not an error event (%v)", last, err)
	}
	if e.Usage.CompletionTokens < 1 || !e.Usage.Estimated {
		t.Fatalf("partial usage not reported: %q", last)
	}
	if strings.Contains(rec.Body.String(), "[DONE]") {
		t.Fatal("a failed stream must not end with [DONE]")
	}
	if len(events) < 4 {
		t.Fatalf("expected the chunks before the failure, got %d events", len(events))
	}
}

func TestEmbeddingsFloatAndBase64(t *testing.T) {
	h := newHandler(t)
	for _, format := range []string{"float", "base64"} {
		rec := post(h, "/v1/embeddings", `{"model":"m","input":["a","b"],"encoding_format":"`+format+`"}`)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", format, rec.Code, rec.Body)
		}
		var e sdkEmbeddings
		decodeSDK(t, rec.Body.Bytes(), &e)
		if len(*e.Data) != 2 || e.Switchyard == nil || rec.Header().Get("X-Switchyard-Provider") != "sim" {
			t.Fatalf("%s: %s", format, rec.Body)
		}
		if isString := (*e.Data)[0].Embedding[0] == '"'; isString != (format == "base64") {
			t.Errorf("%s: embedding %s", format, (*e.Data)[0].Embedding)
		}
	}
}

// BenchmarkChatCompletionUnary is the dialect's whole in-process path:
// middleware, decode, validate, route, simulator (zero delay), encode. It
// was server/rest's; same name and body, for before/after comparisons.
func BenchmarkChatCompletionUnary(b *testing.B) {
	h := newHandler(b)
	body := `{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Hello there"}],"temperature":0}`
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code, rec.Body)
		}
	}
}

// BenchmarkChatCompletionSSE streams 16 tokens per op.
func BenchmarkChatCompletionSSE(b *testing.B) {
	h := newHandler(b)
	body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"Hello there"}]}`
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body)))
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}
