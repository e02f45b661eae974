package fakeupstream

import (
	"encoding/json"
	"net/http"
	"testing"
)

// geminiChunks decodes a Gemini stream, SSE or a JSON array.
func geminiChunks(t *testing.T, raw []byte, sse bool) []map[string]any {
	t.Helper()
	var out []map[string]any
	if !sse {
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("stream is not a JSON array: %v: %s", err, raw)
		}
		return out
	}
	for _, e := range parseSSE(t, raw) {
		out = append(out, decode(t, []byte(e.data)))
	}
	return out
}

func TestGeminiStructuredOutputAnswersJSON(t *testing.T) {
	_, ts := serve(t, Options{})
	const openAPISchema = `{"type":"OBJECT","properties":{"city":{"type":"STRING"},"celsius":{"type":"INTEGER"}},"required":["city","celsius"]}`
	tests := []struct {
		name  string
		gc    string
		check func(*testing.T, string)
	}{
		{"responseJsonSchema", `{"responseMimeType":"application/json","responseJsonSchema":` + citySchema + `}`, checkCity},
		{"proto names", `{"response_mime_type":"application/json","response_json_schema":` + citySchema + `}`, checkCity},
		{"responseSchema (OpenAPI types)", `{"responseMimeType":"application/json","responseSchema":` + openAPISchema + `}`, checkCity},
		{"response_schema", `{"response_mime_type":"application/json","response_schema":` + openAPISchema + `}`, checkCity},
		{"JSON without a schema", `{"responseMimeType":"application/json"}`, checkObject},
	}
	for _, tt := range tests {
		body := geminiBody("Weather in Paris?", `,"generationConfig":`+tt.gc)
		t.Run(tt.name+"/unary", func(t *testing.T) {
			resp, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: body})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			v := decode(t, raw)
			text, _ := path(v, "candidates", 0, "content", "parts", 0, "text").(string)
			tt.check(t, text)
			if path(v, "candidates", 0, "finishReason") != "STOP" || num(path(v, "usageMetadata", "candidatesTokenCount")) != len(splitCall("", "", text).frags) {
				t.Errorf("finish/usage: %s", raw)
			}
		})
		for _, sse := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/sse", false: "/array"}[sse], func(t *testing.T) {
				p := "/v1beta/models/fake-gemini:streamGenerateContent"
				if sse {
					p += "?alt=sse"
				}
				_, raw := mustDo(t, ts.URL, call{path: p, headers: geminiHeaders, body: body})
				chunks := geminiChunks(t, raw, sse)
				text := ""
				for _, c := range chunks {
					s, _ := path(c, "candidates", 0, "content", "parts", 0, "text").(string)
					text += s
				}
				if len(chunks) < 2 {
					t.Fatalf("%d chunks, want several: %s", len(chunks), raw)
				}
				tt.check(t, text)
				last := chunks[len(chunks)-1]
				if num(path(last, "usageMetadata", "candidatesTokenCount")) != len(chunks) || path(last, "candidates", 0, "finishReason") != "STOP" {
					t.Errorf("last chunk %v for %d chunks", last, len(chunks))
				}
			})
		}
	}
	t.Run("a schema without the JSON MIME type is text", func(t *testing.T) {
		_, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders,
			body: geminiBody("Hi", `,"generationConfig":{"responseJsonSchema":`+citySchema+`}`)})
		if got := path(decode(t, raw), "candidates", 0, "content", "parts", 0, "text"); got != answerText(DefaultTokens) {
			t.Errorf("text %v", got)
		}
	})
	t.Run("logprobs follow the JSON fragments", func(t *testing.T) {
		_, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders,
			body: geminiBody("Hi", `,"generationConfig":{"responseMimeType":"application/json","responseJsonSchema":`+citySchema+`,"responseLogprobs":true,"logprobs":1}`)})
		v := decode(t, raw)
		text := path(v, "candidates", 0, "content", "parts", 0, "text").(string)
		chosen, _ := path(v, "candidates", 0, "logprobsResult", "chosenCandidates").([]any)
		joined := ""
		for _, c := range chosen {
			joined += path(c, "token").(string)
		}
		if joined != text || len(chosen) != len(splitCall("", "", text).frags) {
			t.Errorf("chosen tokens %v for %q", chosen, text)
		}
	})
}

func TestGeminiCandidateCount(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name string
		gc   string
		n    int
		per  int // candidatesTokenCount of one candidate
	}{
		{"unset", `{"maxOutputTokens":4}`, 1, 4},
		{"1", `{"maxOutputTokens":4,"candidateCount":1}`, 1, 4},
		{"2", `{"maxOutputTokens":4,"candidateCount":2}`, 2, 4},
		{"candidate_count 3", `{"maxOutputTokens":4,"candidate_count":3}`, 3, 4},
		{"2 with thoughts and logprobs", `{"maxOutputTokens":4,"candidateCount":2,"responseLogprobs":true,"logprobs":2,"thinkingConfig":{"includeThoughts":true}}`, 2, 4},
	}
	for _, tt := range tests {
		body := geminiBody("Say hello.", `,"generationConfig":`+tt.gc)
		t.Run(tt.name+"/unary", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: body})
			v := decode(t, raw)
			cands, _ := path(v, "candidates").([]any)
			if len(cands) != tt.n {
				t.Fatalf("%d candidates, want %d: %s", len(cands), tt.n, raw)
			}
			first, _ := json.Marshal(path(cands[0], "content"))
			for i, c := range cands {
				got, _ := json.Marshal(path(c, "content"))
				if num(path(c, "index")) != i || path(c, "finishReason") != "MAX_TOKENS" || string(got) != string(first) {
					t.Fatalf("candidate %d: %v", i, c)
				}
			}
			if got := num(path(v, "usageMetadata", "candidatesTokenCount")); got != tt.n*tt.per {
				t.Errorf("candidatesTokenCount %d, want %d", got, tt.n*tt.per)
			}
		})
		for _, sse := range []bool{true, false} {
			t.Run(tt.name+map[bool]string{true: "/sse", false: "/array"}[sse], func(t *testing.T) {
				p := "/v1beta/models/fake-gemini:streamGenerateContent"
				if sse {
					p += "?alt=sse"
				}
				_, raw := mustDo(t, ts.URL, call{path: p, headers: geminiHeaders, body: body})
				texts := map[int]string{}
				chunks := geminiChunks(t, raw, sse)
				for _, ch := range chunks {
					cands, _ := path(ch, "candidates").([]any)
					if len(cands) != tt.n {
						t.Fatalf("a chunk with %d candidates, want %d: %v", len(cands), tt.n, ch)
					}
					for i, c := range cands {
						if num(path(c, "index")) != i {
							t.Fatalf("candidate %d has index %v", i, path(c, "index"))
						}
						for _, part := range path(c, "content", "parts").([]any) {
							if path(part, "thought") == nil {
								s, _ := path(part, "text").(string)
								texts[i] += s
							}
						}
					}
				}
				for i := 0; i < tt.n; i++ {
					if texts[i] != answerText(tt.per) {
						t.Fatalf("candidate %d streamed %q", i, texts[i])
					}
				}
				if got := num(path(chunks[len(chunks)-1], "usageMetadata", "candidatesTokenCount")); got != tt.n*tt.per {
					t.Errorf("candidatesTokenCount %d, want %d", got, tt.n*tt.per)
				}
			})
		}
	}
	t.Run("forced calls in every candidate", func(t *testing.T) {
		_, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders,
			body: geminiBody("Weather?", geminiTools+`,"toolConfig":{"functionCallingConfig":{"mode":"ANY"}},"generationConfig":{"candidateCount":2}`)})
		v := decode(t, raw)
		if path(v, "candidates", 1, "content", "parts", 0, "functionCall", "name") == nil || num(path(v, "candidates", 1, "index")) != 1 {
			t.Errorf("second candidate: %s", raw)
		}
	})
	resp, raw := mustDo(t, ts.URL, call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders,
		body: geminiBody("Hi", `,"generationConfig":{"candidateCount":9}`)})
	if resp.StatusCode != http.StatusBadRequest || path(decode(t, raw), "error", "status") != "INVALID_ARGUMENT" {
		t.Errorf("candidateCount 9: %d %s", resp.StatusCode, raw)
	}
}
