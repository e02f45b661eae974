package fakeupstream

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// citySchema is what the providers suite's structured-output cells ask
// for: a city and its temperature, nothing else.
const citySchema = `{"type":"object","properties":{"city":{"type":"string"},"celsius":{"type":"integer"}},"required":["city","celsius"],"additionalProperties":false}`

// checkCity fails unless text is one JSON object valid against citySchema.
func checkCity(t *testing.T, text string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil {
		t.Fatalf("answer is not a JSON object: %q (%v)", text, err)
	}
	city, ok1 := obj["city"].(string)
	celsius, ok2 := obj["celsius"].(float64)
	if len(obj) != 2 || !ok1 || city == "" || !ok2 || celsius != float64(int(celsius)) {
		t.Fatalf("answer %s does not satisfy %s", text, citySchema)
	}
}

// checkObject fails unless text is a JSON object with something in it.
func checkObject(t *testing.T, text string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal([]byte(text), &obj); err != nil || len(obj) == 0 {
		t.Fatalf("answer is not a non-empty JSON object: %q (%v)", text, err)
	}
}

// openaiStreamContent joins the streamed content of choice 0, checking
// that it came in several deltas, and returns it with the finish reason
// and the usage chunk's completion tokens.
func openaiStreamContent(t *testing.T, raw []byte) (text, finish string, completion int) {
	t.Helper()
	deltas := 0
	for _, e := range parseSSE(t, raw) {
		if e.data == "[DONE]" {
			continue
		}
		v := decode(t, []byte(e.data))
		if u := path(v, "usage"); u != nil {
			completion = num(path(u, "completion_tokens"))
		}
		if s, _ := path(v, "choices", 0, "delta", "content").(string); s != "" {
			text += s
			deltas++
		}
		if f, _ := path(v, "choices", 0, "finish_reason").(string); f != "" {
			finish = f
		}
	}
	if deltas < 2 {
		t.Errorf("%d content deltas, want several: %s", deltas, raw)
	}
	return text, finish, completion
}

func TestOpenAIResponseFormatAnswersJSON(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name  string
		extra string
		check func(*testing.T, string)
	}{
		{"json_schema", `,"response_format":{"type":"json_schema","json_schema":{"name":"city","strict":true,"schema":` + citySchema + `}}`, checkCity},
		{"json_schema with pydantic titles", `,"response_format":{"type":"json_schema","json_schema":{"name":"City","schema":{"title":"City","type":"object","properties":{"city":{"title":"City","type":"string"},"celsius":{"title":"Celsius","type":"integer"}},"required":["city","celsius"],"additionalProperties":false}}}`, checkCity},
		{"json_object", `,"response_format":{"type":"json_object"}`, checkObject},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/unary", func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Weather in Paris? Answer in JSON.", false, tt.extra)})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, body)
			}
			v := decode(t, body)
			text, _ := path(v, "choices", 0, "message", "content").(string)
			tt.check(t, text)
			if path(v, "choices", 0, "finish_reason") != "stop" || path(v, "choices", 0, "message", "tool_calls") != nil {
				t.Errorf("finish/tool_calls: %s", body)
			}
			if c := num(path(v, "usage", "completion_tokens")); c != len(splitCall("", "", text).frags) {
				t.Errorf("completion_tokens %d for %q", c, text)
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Weather in Paris? Answer in JSON.", true, tt.extra)})
			text, finish, completion := openaiStreamContent(t, raw)
			tt.check(t, text)
			if finish != "stop" || completion != len(splitCall("", "", text).frags) {
				t.Errorf("finish %q, completion_tokens %d for %q", finish, completion, text)
			}
		})
	}
}

func TestOpenAIResponseFormatEdges(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name   string
		extra  string
		status int
		want   string // the content, or the error param
	}{
		{"text is words", `,"response_format":{"type":"text"}`, 200, answerText(DefaultTokens)},
		{"max_tokens cuts the JSON", `,"max_tokens":2,"response_format":{"type":"json_schema","json_schema":{"name":"c","schema":` + citySchema + `}}`, 200, `{"celsius":42,"c`}, // two 8-byte fragments
		{"tools forced win over the format", weatherTools + `,"tool_choice":{"type":"function","function":{"name":"get_time"}},"response_format":{"type":"json_object"}`, 200, ""},
		{"json_schema without json_schema", `,"response_format":{"type":"json_schema"}`, 400, "response_format.json_schema"},
		{"unknown type", `,"response_format":{"type":"yaml"}`, 400, "response_format.type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Hi", false, tt.extra)})
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			v := decode(t, body)
			if tt.status != 200 {
				if path(v, "error", "param") != tt.want {
					t.Errorf("error %s, want param %s", body, tt.want)
				}
				return
			}
			if got, _ := path(v, "choices", 0, "message", "content").(string); got != tt.want {
				t.Errorf("content %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponsesTextFormatAnswersJSON(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name   string
		format string
		check  func(*testing.T, string)
	}{
		{"json_schema", `{"type":"json_schema","name":"city","strict":true,"schema":` + citySchema + `}`, checkCity},
		{"json_object", `{"type":"json_object"}`, checkObject},
	}
	for _, tt := range tests {
		body := func(stream bool) string {
			return `{"model":"fake-gpt","input":"Weather in Paris?","stream":` + map[bool]string{true: "true", false: "false"}[stream] + `,"text":{"format":` + tt.format + `}}`
		}
		t.Run(tt.name+"/unary", func(t *testing.T) {
			resp, raw := mustDo(t, ts.URL, call{path: "/v1/responses", headers: openaiHeaders, body: body(false)})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", resp.StatusCode, raw)
			}
			v := decode(t, raw)
			text, _ := path(v, "output", 0, "content", 0, "text").(string)
			tt.check(t, text)
			if path(v, "status") != "completed" || num(path(v, "usage", "output_tokens")) != len(splitCall("", "", text).frags) {
				t.Errorf("status/usage: %s", raw)
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/responses", headers: openaiHeaders, body: body(true)})
			var deltas []string
			done := ""
			for _, e := range parseSSE(t, raw) {
				v := decode(t, []byte(e.data))
				switch e.name {
				case "response.output_text.delta":
					deltas = append(deltas, path(v, "delta").(string))
				case "response.output_text.done":
					done = path(v, "text").(string)
				}
			}
			if len(deltas) < 2 || strings.Join(deltas, "") != done {
				t.Fatalf("deltas %q, done %q", deltas, done)
			}
			tt.check(t, done)
		})
	}
	resp, raw := mustDo(t, ts.URL, call{path: "/v1/responses", headers: openaiHeaders, body: `{"model":"fake-gpt","input":"Hi","text":{"format":{"type":"json_schema","name":"x"}}}`})
	if resp.StatusCode != 400 || path(decode(t, raw), "error", "param") != "text.format.schema" {
		t.Errorf("json_schema without a schema: %d %s", resp.StatusCode, raw)
	}
}
