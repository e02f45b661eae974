package fakeupstream

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

const geminiTools = `,"tools":[{"functionDeclarations":[` +
	`{"name":"get_weather","parametersJsonSchema":{"type":"object","properties":{"city":{"type":"string"}}}},` +
	`{"name":"get_time","parameters":{"type":"OBJECT","properties":{"hour":{"type":"INTEGER"}}}}]}]`

func TestGeminiUnary(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name   string
		body   string
		words  int
		finish string
	}{
		{"stop", geminiBody("Say hello please", ""), DefaultTokens, "STOP"},
		{"maxOutputTokens", geminiBody("Say hello please", `,"generationConfig":{"maxOutputTokens":2}`), 2, "MAX_TOKENS"},
		{"role may be omitted", `{"contents":[{"parts":[{"text":"Say hello please"}]}],"systemInstruction":{"parts":[{"text":"Be"},{"text":"brief."}]}}`, DefaultTokens, "STOP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: tt.body})
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			v := decode(t, body)
			c := path(v, "candidates", 0)
			if path(c, "content", "role") != "model" || path(c, "content", "parts", 0, "text") != answerText(tt.words) || path(c, "finishReason") != tt.finish {
				t.Errorf("candidate: %s", body)
			}
			u := path(v, "usageMetadata")
			if num(path(u, "promptTokenCount")) != 5 || num(path(u, "candidatesTokenCount")) != tt.words || num(path(u, "totalTokenCount")) != 5+tt.words {
				t.Errorf("usage %v", u)
			}
			if path(v, "modelVersion") != "fake-gemini" || path(v, "responseId") == nil {
				t.Errorf("trailer: %s", body)
			}
		})
	}
}

func TestGeminiStreams(t *testing.T) {
	_, ts := serve(t, Options{Knobs: Knobs{Tokens: 3}})
	t.Run("alt=sse frames data events with CRLF", func(t *testing.T) {
		resp, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody("Hi there", "")})
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") || !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
			t.Fatalf("content-type %q, body %q", resp.Header.Get("Content-Type"), raw)
		}
		events := parseSSE(t, raw)
		if len(events) != 3 {
			t.Fatalf("%d events, want 3", len(events))
		}
		var text string
		for i, e := range events {
			v := decode(t, []byte(e.data))
			text += path(v, "candidates", 0, "content", "parts", 0, "text").(string)
			last := i == len(events)-1
			if (path(v, "candidates", 0, "finishReason") != nil) != last || (path(v, "usageMetadata", "candidatesTokenCount") != nil) != last {
				t.Errorf("event %d: finishReason and candidatesTokenCount belong to the last chunk only: %s", i, e.data)
			}
			if num(path(v, "usageMetadata", "promptTokenCount")) != 4 {
				t.Errorf("event %d usage: %s", i, e.data)
			}
		}
		if text != answerText(3) {
			t.Errorf("text %q", text)
		}
	})
	t.Run("without alt=sse the stream is one JSON array", func(t *testing.T) {
		resp, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:streamGenerateContent", headers: geminiHeaders, body: geminiBody("Hi there", "")})
		var arr []map[string]any
		if err := json.Unmarshal(raw, &arr); err != nil || len(arr) != 3 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("not a 3-element JSON array (%v): %s", err, raw)
		}
		if path(arr[2], "candidates", 0, "finishReason") != "STOP" {
			t.Errorf("last element: %v", arr[2])
		}
	})
}

func TestGeminiFunctionCalling(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name   string
		config string
		want   []string
	}{
		{"ANY calls every function", `,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}`, []string{"get_weather", "get_time"}},
		{"allowedFunctionNames limits them", `,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_time"]}}`, []string{"get_time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/unary", func(t *testing.T) {
			_, body := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: geminiBody("Weather?", geminiTools+tt.config)})
			v := decode(t, body)
			parts := path(v, "candidates", 0, "content", "parts").([]any)
			if len(parts) != len(tt.want) || path(v, "candidates", 0, "finishReason") != "STOP" {
				t.Fatalf("parts/finish: %s", body)
			}
			for i, name := range tt.want {
				if path(parts[i], "functionCall", "name") != name {
					t.Errorf("part %d: %v", i, parts[i])
				}
				if _, ok := path(parts[i], "functionCall", "args").(map[string]any); !ok {
					t.Errorf("part %d args: %v", i, parts[i])
				}
			}
			if name := tt.want[len(tt.want)-1]; name == "get_time" {
				// OpenAPI-style uppercase types are understood.
				if _, ok := path(parts[len(parts)-1], "functionCall", "args", "hour").(float64); !ok {
					t.Errorf("get_time args: %v", parts[len(parts)-1])
				}
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody("Weather?", geminiTools+tt.config)})
			var names []string
			finish := ""
			for _, e := range parseSSE(t, raw) {
				v := decode(t, []byte(e.data))
				if n, ok := path(v, "candidates", 0, "content", "parts", 0, "functionCall", "name").(string); ok {
					names = append(names, n)
				}
				if f, ok := path(v, "candidates", 0, "finishReason").(string); ok {
					finish = f
				}
			}
			if strings.Join(names, ",") != strings.Join(tt.want, ",") || finish != "STOP" {
				t.Errorf("calls %v finish %q, want %v STOP", names, finish, tt.want)
			}
		})
	}
}

func TestGeminiRejectsWhatTheRealAPIRejects(t *testing.T) {
	s, ts := serve(t, Options{APIKeys: []string{"AIza-test-0123456789"}})
	gen := "/v1beta/models/fake-gemini:generateContent"
	tests := []struct {
		name    string
		c       call
		status  int
		rpc     string
		message string
	}{
		{"assistant role", call{path: gen, headers: geminiHeaders, body: `{"contents":[{"role":"user","parts":[{"text":"hi"}]},{"role":"assistant","parts":[{"text":"x"}]}]}`}, 400, "INVALID_ARGUMENT", "valid role: user, model"},
		{"system role", call{path: gen, headers: geminiHeaders, body: `{"contents":[{"role":"system","parts":[{"text":"x"}]}]}`}, 400, "INVALID_ARGUMENT", "valid role"},
		{"no key", call{path: gen, body: geminiBody("hi", "")}, 403, "PERMISSION_DENIED", "unregistered callers"},
		{"invalid key", call{path: gen, headers: map[string]string{"X-Goog-Api-Key": "nope"}, body: geminiBody("hi", "")}, 400, "INVALID_ARGUMENT", "API key not valid"},
		{"no contents", call{path: gen, headers: geminiHeaders, body: `{"contents":[]}`}, 400, "INVALID_ARGUMENT", "contents is not specified"},
		{"ANY without functions", call{path: gen, headers: geminiHeaders, body: geminiBody("hi", `,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}}`)}, 400, "INVALID_ARGUMENT", "function_declarations"},
		{"unknown method", call{path: "/v1beta/models/fake-gemini:dance", headers: geminiHeaders, body: "{}"}, 404, "NOT_FOUND", "dance"},
		{"no model", call{path: "/v1beta/models/:generateContent", headers: geminiHeaders, body: "{}"}, 404, "NOT_FOUND", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, tt.c)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			v := decode(t, body)
			if num(path(v, "error", "code")) != tt.status || path(v, "error", "status") != tt.rpc || !strings.Contains(path(v, "error", "message").(string), tt.message) {
				t.Errorf("error %s, want %s containing %q", body, tt.rpc, tt.message)
			}
		})
	}
	t.Run("invalid key carries ErrorInfo API_KEY_INVALID", func(t *testing.T) {
		_, body := mustDo(t, ts.URL, call{path: gen, headers: map[string]string{"X-Goog-Api-Key": "nope"}, body: geminiBody("hi", "")})
		if path(decode(t, body), "error", "details", 0, "reason") != "API_KEY_INVALID" {
			t.Errorf("details: %s", body)
		}
	})
	t.Run("?key= is accepted and masked in records", func(t *testing.T) {
		resp, body := mustDo(t, ts.URL, call{path: gen + "?key=AIza-test-0123456789", body: geminiBody("hi", "")})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		recs := s.Records()
		if q := recs[len(recs)-1].Query; q != "key=****6789" {
			t.Errorf("recorded query %q, want the key masked", q)
		}
	})
}

func TestGeminiCountTokensEmbeddingsAndModels(t *testing.T) {
	s, ts := serve(t, Options{EmbeddingDims: 4, Models: []string{"fake-gemini"}})
	_, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:countTokens", headers: geminiHeaders, body: `{"contents":[{"parts":[{"text":"one two three"}]}]}`})
	if num(decode(t, raw)["totalTokens"]) != 3 {
		t.Errorf("countTokens: %s", raw)
	}
	_, raw = mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:embedContent", headers: geminiHeaders, body: `{"content":{"parts":[{"text":"hello"}]},"outputDimensionality":3}`})
	if vals, _ := path(decode(t, raw), "embedding", "values").([]any); len(vals) != 3 {
		t.Errorf("embedContent: %s", raw)
	}
	_, raw = mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:batchEmbedContents", headers: geminiHeaders,
		body: `{"requests":[{"model":"models/fake-gemini","content":{"parts":[{"text":"a"}]}},{"model":"models/fake-gemini","content":{"parts":[{"text":"b"}]}}]}`})
	embs, _ := path(decode(t, raw), "embeddings").([]any)
	if len(embs) != 2 || len(path(embs[0], "values").([]any)) != 4 {
		t.Errorf("batchEmbedContents: %s", raw)
	}
	resp, raw := mustDo(t, ts.URL, call{method: http.MethodGet, path: "/v1beta/models", headers: geminiHeaders})
	if resp.StatusCode != 200 || path(decode(t, raw), "models", 0, "name") != "models/fake-gemini" {
		t.Errorf("models: %s", raw)
	}
	if q := s.Records()[0].Query; q != "" {
		t.Errorf("query %q", q)
	}
}
