package fakeupstream

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const gemini3 = "/v1beta/models/gemini-3-flash-preview:"

// forcedWeather is a request that makes the fake call get_weather.
var forcedWeather = geminiBody("Weather?", geminiTools+`,"toolConfig":{"functionCallingConfig":{"mode":"ANY","allowedFunctionNames":["get_weather"]}}`)

// A Gemini 3 model signs its first call; older names do not.
func TestGeminiSignsCallsOnGemini3Models(t *testing.T) {
	_, ts := serve(t, Options{})
	_, body := mustDo(t, ts.URL, call{path: gemini3 + "generateContent", headers: geminiHeaders, body: forcedWeather})
	p := path(decode(t, body), "candidates", 0, "content", "parts", 0)
	name, _ := path(p, "functionCall", "name").(string)
	sig, _ := path(p, "thoughtSignature").(string)
	if name != "get_weather" || sig == "" {
		t.Fatalf("no signed call: %s", body)
	}
	args := path(p, "functionCall", "args")
	if want := geminiCallSignature(name, json.RawMessage(mustJSON(args))); sig != want {
		t.Errorf("signature %q, want %q (derived from the call)", sig, want)
	}
	_, body = mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: forcedWeather})
	if bytes.Contains(body, []byte("thoughtSignature")) {
		t.Errorf("an older model signed its call: %s", body)
	}
}

// A follow-up's calls are checked as Gemini 3 checks them: the current
// turn's first call of each step needs its signature (or the skip value).
func TestGeminiChecksSignaturesOnGemini3Models(t *testing.T) {
	_, ts := serve(t, Options{})
	good := geminiCallSignature("get_weather", []byte(`{"city": "Paris"}`)) // spacing does not matter
	followUp := func(sig, before string) string {
		part := `{"functionCall":{"name":"get_weather","args":{"city":"Paris"}}` + sig + `}`
		return `{"contents":[` + before + `{"role":"user","parts":[{"text":"Weather?"}]},{"role":"model","parts":[` + part +
			`,{"functionCall":{"name":"get_weather","args":{"city":"Rome"}}}]},` +
			`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{"t":1}}},{"functionResponse":{"name":"get_weather","response":{"t":2}}}]}]` + geminiTools + `}`
	}
	tests := []struct {
		name, model, body string
		status            int
		mention           string
	}{
		{"the call's own signature", gemini3, followUp(`,"thoughtSignature":"`+good+`"`, ""), 200, ""},
		{"the documented skip value", gemini3, followUp(`,"thoughtSignature":"`+gmSkipSignature+`"`, ""), 200, ""},
		{"missing", gemini3, followUp("", ""), 400, "missing a thought_signature"},
		{"another call's", gemini3, followUp(`,"thoughtSignature":"c2lnbmF0dXJl"`, ""), 400, "Corrupted thought signature"},
		{"an earlier turn is not checked", gemini3, `{"contents":[{"role":"user","parts":[{"text":"a"}]},{"role":"model","parts":[{"functionCall":{"name":"get_weather","args":{}}}]},` +
			`{"role":"user","parts":[{"functionResponse":{"name":"get_weather","response":{}}}]},{"role":"user","parts":[{"text":"next"}]}]}`, 200, ""},
		{"older models check nothing", "/v1beta/models/gemini-2.5-flash:", followUp("", ""), 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, call{path: tt.model + "generateContent", headers: geminiHeaders, body: tt.body})
			if resp.StatusCode != tt.status || !strings.Contains(string(body), tt.mention) {
				t.Fatalf("status %d, want %d mentioning %q: %s", resp.StatusCode, tt.status, tt.mention, body)
			}
		})
	}
}

func TestGeminiThoughtsLogprobsAndInlineData(t *testing.T) {
	_, ts := serve(t, Options{Knobs: Knobs{Tokens: 3}})
	thinking := `,"generationConfig":{"thinkingConfig":{"includeThoughts":true},"responseLogprobs":true,"logprobs":2}`
	t.Run("unary: a thought part first, counted apart; logprobs per word", func(t *testing.T) {
		_, body := mustDo(t, ts.URL, call{path: gemini3 + "generateContent", headers: geminiHeaders, body: geminiBody("Hi there", thinking)})
		v := decode(t, body)
		c := path(v, "candidates", 0)
		if path(c, "content", "parts", 0, "thought") != true || path(c, "content", "parts", 1, "text") != answerText(3) {
			t.Fatalf("parts: %s", body)
		}
		if u := path(v, "usageMetadata"); num(path(u, "thoughtsTokenCount")) != countWords(gmThought) ||
			num(path(u, "totalTokenCount")) != num(path(u, "promptTokenCount"))+3+countWords(gmThought) {
			t.Errorf("usage %v", u)
		}
		chosen, _ := path(c, "logprobsResult", "chosenCandidates").([]any)
		top, _ := path(c, "logprobsResult", "topCandidates", 0, "candidates").([]any)
		if len(chosen) != 3 || len(top) != 2 || path(c, "logprobsResult", "chosenCandidates", 1, "token") != " routes" {
			t.Errorf("logprobsResult: %s", body)
		}
	})
	t.Run("stream: the thought event first, then one logprob per word event", func(t *testing.T) {
		_, raw := mustDo(t, ts.URL, call{path: gemini3 + "streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody("Hi there", thinking)})
		events := parseSSE(t, raw)
		if len(events) != 4 || path(decode(t, []byte(events[0].data)), "candidates", 0, "content", "parts", 0, "thought") != true {
			t.Fatalf("events: %s", raw)
		}
		for i, e := range events[1:] {
			chosen, _ := path(decode(t, []byte(e.data)), "candidates", 0, "logprobsResult", "chosenCandidates").([]any)
			if len(chosen) != 1 {
				t.Errorf("event %d: %s", i+1, e.data)
			}
		}
	})
	t.Run("inlineData of any type is taken; without a type it is not", func(t *testing.T) {
		pdf := `{"contents":[{"parts":[{"text":"Summarise"},{"inlineData":{"mimeType":"application/pdf","data":"JVBE"}},{"inlineData":{"mimeType":"audio/wav","data":"UklG"}}]}]}`
		if resp, body := mustDo(t, ts.URL, call{path: gemini3 + "generateContent", headers: geminiHeaders, body: pdf}); resp.StatusCode != 200 {
			t.Errorf("documents and audio: %d %s", resp.StatusCode, body)
		}
		// google-genai's proto field names, which Gemini takes too.
		snake := `{"contents":[{"parts":[{"text":"Summarise"},{"inline_data":{"mime_type":"application/pdf","data":"JVBE"}}]}]}`
		if resp, body := mustDo(t, ts.URL, call{path: gemini3 + "generateContent", headers: geminiHeaders, body: snake}); resp.StatusCode != 200 {
			t.Errorf("snake_case inline_data: %d %s", resp.StatusCode, body)
		}
		bad := `{"contents":[{"parts":[{"inlineData":{"data":"JVBE"}}]}]}`
		if resp, body := mustDo(t, ts.URL, call{path: gemini3 + "generateContent", headers: geminiHeaders, body: bad}); resp.StatusCode != 400 {
			t.Errorf("no mimeType: %d %s", resp.StatusCode, body)
		}
	})
}

// The exact bytes of a Gemini 3 answer: a signed forced call, and a
// stream with thoughts and logprobs.
func TestGeminiGemini3GoldenWireOutput(t *testing.T) {
	for _, tt := range []struct {
		golden string
		c      call
	}{
		{"gemini3_unary_tools.json", call{path: gemini3 + "generateContent", headers: geminiHeaders, body: forcedWeather}},
		{"gemini3_stream_thoughts_logprobs.sse", call{path: gemini3 + "streamGenerateContent?alt=sse", headers: geminiHeaders,
			body: geminiBody("Name three primes", `,"generationConfig":{"maxOutputTokens":2,"thinkingConfig":{"includeThoughts":true},"responseLogprobs":true,"logprobs":2}`)}},
	} {
		t.Run(tt.golden, func(t *testing.T) {
			s := New(Options{Now: fixedNow})
			t.Cleanup(func() { _ = s.Close() })
			req := httptest.NewRequest("POST", tt.c.path, strings.NewReader(tt.c.body))
			for k, v := range tt.c.headers {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			file := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(file, rec.Body.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(rec.Body.Bytes(), want) {
				t.Errorf("output differs from %s (run with -update to accept):\n got: %s\nwant: %s", file, rec.Body.Bytes(), want)
			}
		})
	}
}
