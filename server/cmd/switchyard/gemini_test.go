package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
	"github.com/switchyard/switchyard/store"
)

func doGemini(t *testing.T, method, url, key, body string) (*http.Response, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("x-goog-api-key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

type geminiAnswer struct {
	Candidates []struct {
		Content struct {
			Role  string
			Parts []struct {
				Text         string
				FunctionCall *struct {
					Name string
					Args map[string]any
				} `json:"functionCall"`
			}
		}
		FinishReason string `json:"finishReason"`
	}
	UsageMetadata struct {
		PromptTokenCount     int `json:"promptTokenCount"`
		CandidatesTokenCount int `json:"candidatesTokenCount"`
	} `json:"usageMetadata"`
}

// The Gemini API at the door, served by the simulator: unary, both stream
// framings, countTokens, the model list, a forced function call and its
// response, ?key= and x-goog-api-key, errors in Google's shape, and the
// ledger's dialect.
func TestGeminiDialect(t *testing.T) {
	const key = "sk-test-key-g-0123456789"
	g := startGatewayWithStore(t, testConfig+"\nauth: {api_keys: ["+key+"]}\n")
	base := g.base + "/v1beta/models/"
	resp, b := doGemini(t, "POST", base+"auto:generateContent", key, `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":"Hello"}]}]}`)
	var a geminiAnswer
	if resp.StatusCode != 200 || json.Unmarshal(b, &a) != nil || len(a.Candidates) != 1 || a.Candidates[0].Content.Role != "model" ||
		a.Candidates[0].Content.Parts[0].Text == "" || a.Candidates[0].FinishReason != "STOP" || a.UsageMetadata.CandidatesTokenCount == 0 {
		t.Fatalf("unary: %d %s", resp.StatusCode, b)
	}
	if resp.Header.Get("X-Switchyard-Provider") != "sim" {
		t.Errorf("routing headers: %v", resp.Header)
	}

	resp, b = doGemini(t, "POST", base+"auto:streamGenerateContent?alt=sse&key="+key, "", `{"contents":[{"parts":[{"text":"Hello"}]}]}`)
	events := strings.Count(string(b), "data: ")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" || events < 3 || !strings.Contains(string(b), `"finishReason":"STOP"`) {
		t.Fatalf("sse: %d %s", resp.StatusCode, b)
	}
	resp, b = doGemini(t, "POST", base+"auto:streamGenerateContent", key, `{"contents":[{"parts":[{"text":"Hello"}]}]}`)
	var arr []geminiAnswer
	if resp.StatusCode != 200 || json.Unmarshal(b, &arr) != nil || len(arr) < 2 || arr[len(arr)-1].Candidates[0].FinishReason != "STOP" {
		t.Fatalf("JSON array stream: %d %s", resp.StatusCode, b)
	}

	resp, b = doGemini(t, "POST", base+"auto:countTokens", key, `{"contents":[{"parts":[{"text":"Hello there"}]}]}`)
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"totalTokens":`) {
		t.Fatalf("countTokens: %d %s", resp.StatusCode, b)
	}
	resp, b = doGemini(t, "GET", g.base+"/v1beta/models", key, "")
	if resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"models/auto"`) || !strings.Contains(string(b), `"generateContent"`) {
		t.Fatalf("models: %d %s", resp.StatusCode, b)
	}
	if resp, b = doGemini(t, "GET", base+"auto", key, ""); resp.StatusCode != 200 || !strings.Contains(string(b), `"name":"models/auto"`) {
		t.Fatalf("model: %d %s", resp.StatusCode, b)
	}

	resp, b = doGemini(t, "POST", base+"auto:generateContent", key, `{"contents":[{"parts":[{"text":"weather?"}]}],
		"tools":[{"functionDeclarations":[{"name":"get_weather","parameters":{"type":"OBJECT","properties":{"city":{"type":"STRING"}}}}]}],
		"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}}`)
	if json.Unmarshal(b, &a) != nil || a.Candidates[0].Content.Parts[0].FunctionCall == nil || a.Candidates[0].Content.Parts[0].FunctionCall.Name != "get_weather" {
		t.Fatalf("function call: %d %s", resp.StatusCode, b)
	}
	resp, b = doGemini(t, "POST", base+"auto:generateContent", key, `{"contents":[{"parts":[{"text":"weather?"}]},
		{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}}]},
		{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"sky":"sunny"}}}]}]}`)
	if json.Unmarshal(b, &a) != nil || resp.StatusCode != 200 || a.Candidates[0].Content.Parts[0].Text == "" {
		t.Fatalf("after the function response: %d %s", resp.StatusCode, b)
	}

	for _, tc := range []struct {
		name, method, path, key, body, status string
		code                                  int
	}{
		{"wrong key", "POST", base + "auto:generateContent", "sk-wrong-key-00000000000", `{"contents":[{"parts":[{"text":"x"}]}]}`, "UNAUTHENTICATED", 401},
		{"unknown model", "POST", base + "nope:generateContent", key, `{"contents":[{"parts":[{"text":"x"}]}]}`, "NOT_FOUND", 404},
		{"no contents", "POST", base + "auto:generateContent", key, `{}`, "INVALID_ARGUMENT", 400},
		{"unknown method", "POST", base + "auto:predictLongRunning", key, `{}`, "NOT_FOUND", 404},
		{"unknown path, no key", "GET", g.base + "/v1beta/files", "", "", "NOT_FOUND", 404},
	} {
		resp, b := doGemini(t, tc.method, tc.path, tc.key, tc.body)
		var e struct {
			Error struct {
				Code    int
				Message string
				Status  string
			}
		}
		if json.Unmarshal(b, &e) != nil || resp.StatusCode != tc.code || e.Error.Code != tc.code || e.Error.Status != tc.status || e.Error.Message == "" {
			t.Errorf("%s: %d %s", tc.name, resp.StatusCode, b)
		}
	}

	// 6 generations reached the engine (countTokens makes no call): five
	// answered and the unknown model.
	deadline := time.Now().Add(5 * time.Second)
	for {
		rows, _, err := g.ctl.Store().Usage(context.Background(), store.UsageQuery{GroupBy: []string{"dialect"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 1 && rows[0].Dialect == "gemini" && rows[0].Requests == 6 && rows[0].PromptTokens > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ledger by dialect: %+v", rows)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Gemini in, a Gemini target out: the body the upstream gets is the
// client's, byte for byte (the model is in the URL).
func TestSameDialectGeminiIsLossless(t *testing.T) {
	fs := fakeupstream.New(fakeupstream.Options{APIKeys: []string{"sk-upstream-key-0000000001"}})
	up := httptest.NewServer(fs)
	t.Cleanup(func() { fs.Close(); up.Close() })
	g := startGateway(t, sameDialectConfig("gemini", up.URL))
	body, err := os.ReadFile(filepath.Join("testdata", "samedialect", "gemini.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"generateContent", "streamGenerateContent?alt=sse"} {
		resp, b := doGemini(t, "POST", g.base+"/v1beta/models/auto:"+m, "", string(body))
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d %s", m, resp.StatusCode, b)
		}
		recs := fs.Records()
		last := recs[len(recs)-1]
		if !strings.HasPrefix(last.Path, "/v1beta/models/up-model:") || last.Body != string(body) {
			t.Fatalf("%s: upstream got %s %s\nwant the client's body %s", m, last.Path, last.Body, body)
		}
	}
}
