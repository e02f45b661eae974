package fakeupstream

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
)

const weatherTools = `,"tools":[` +
	`{"type":"function","function":{"name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"},"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer"}},"required":["city"]}}},` +
	`{"type":"function","function":{"name":"get_time","parameters":{"type":"object","properties":{"tz":{"type":["string","null"]}}}}}]`

func TestOpenAIUnaryAnswersDeterministicTextWithCountedUsage(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name       string
		extra      string
		words      int
		finish     string
		promptText string
	}{
		{"default length", "", DefaultTokens, "stop", "Name three primes"},
		{"max_tokens truncates", `,"max_tokens":5`, 5, "length", "Name three primes"},
		{"max_completion_tokens wins over max_tokens", `,"max_tokens":9,"max_completion_tokens":3`, 3, "length", "one"},
		{"limit above the answer changes nothing", `,"max_tokens":500`, DefaultTokens, "stop", "a b c d e f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody(tt.promptText, false, tt.extra)})
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
				t.Fatalf("status %d, content-type %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			v := decode(t, body)
			if path(v, "object") != "chat.completion" || !strings.HasPrefix(path(v, "id").(string), "chatcmpl-") ||
				num(path(v, "created")) != 1750000000 || path(v, "model") != "fake-gpt" {
				t.Errorf("envelope: %s", body)
			}
			if got, want := path(v, "choices", 0, "message", "content"), answerText(tt.words); got != want {
				t.Errorf("content %q, want %q", got, want)
			}
			if path(v, "choices", 0, "message", "role") != "assistant" || path(v, "choices", 0, "finish_reason") != tt.finish {
				t.Errorf("role/finish: %s", body)
			}
			prompt := 2 + countWords(tt.promptText) // "Be brief." + the user text
			u := path(v, "usage")
			if num(path(u, "prompt_tokens")) != prompt || num(path(u, "completion_tokens")) != tt.words || num(path(u, "total_tokens")) != prompt+tt.words {
				t.Errorf("usage %v, want prompt %d completion %d", u, prompt, tt.words)
			}
		})
	}
}

func TestOpenAIStreamSendsChunksUsageAndDone(t *testing.T) {
	_, ts := serve(t, Options{})
	for _, includeUsage := range []bool{true, false} {
		t.Run(map[bool]string{true: "include_usage", false: "no usage"}[includeUsage], func(t *testing.T) {
			body := `{"model":"fake-gpt","stream":true,"max_tokens":4,"messages":[{"role":"user","content":"Count up"}]}`
			if includeUsage {
				body = `{"model":"fake-gpt","stream":true,"stream_options":{"include_usage":true},"max_tokens":4,"messages":[{"role":"user","content":"Count up"}]}`
			}
			resp, raw := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: body})
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
				t.Fatalf("content-type %q", ct)
			}
			events := parseSSE(t, raw)
			if len(events) == 0 || events[len(events)-1].data != "[DONE]" {
				t.Fatalf("stream does not end with [DONE]: %s", raw)
			}
			events = events[:len(events)-1]
			var text strings.Builder
			var id string
			usageChunks, finishes := 0, []string{}
			for i, e := range events {
				v := decode(t, []byte(e.data))
				if path(v, "object") != "chat.completion.chunk" {
					t.Errorf("chunk %d object %v", i, path(v, "object"))
				}
				if id == "" {
					id, _ = path(v, "id").(string)
				} else if path(v, "id") != id {
					t.Errorf("chunk %d id %v, want %s", i, path(v, "id"), id)
				}
				_, hasUsage := v["usage"]
				if hasUsage != includeUsage {
					t.Errorf("chunk %d has usage key %v, want %v", i, hasUsage, includeUsage)
				}
				if i == 0 && path(v, "choices", 0, "delta", "role") != "assistant" {
					t.Errorf("first chunk has no role assistant: %s", e.data)
				}
				if u := path(v, "usage"); u != nil {
					usageChunks++
					if n := len(path(v, "choices").([]any)); n != 0 {
						t.Errorf("usage chunk has %d choices", n)
					}
					if num(path(u, "prompt_tokens")) != 2 || num(path(u, "completion_tokens")) != 4 || num(path(u, "total_tokens")) != 6 {
						t.Errorf("usage %v", u)
					}
					continue
				}
				if s, ok := path(v, "choices", 0, "delta", "content").(string); ok {
					text.WriteString(s)
				}
				if f, ok := path(v, "choices", 0, "finish_reason").(string); ok {
					finishes = append(finishes, f)
				}
			}
			if text.String() != answerText(4) {
				t.Errorf("text %q, want %q", text.String(), answerText(4))
			}
			if len(finishes) != 1 || finishes[0] != "length" {
				t.Errorf("finish reasons %v, want [length]", finishes)
			}
			if want := map[bool]int{true: 1, false: 0}[includeUsage]; usageChunks != want {
				t.Errorf("%d usage chunks, want %d", usageChunks, want)
			}
		})
	}
}

// reassemble joins streamed tool-call deltas by index, as clients do.
func reassemble(t *testing.T, events []sseEvent) (ids, names, args map[int]string, finish string) {
	t.Helper()
	ids, names, args = map[int]string{}, map[int]string{}, map[int]string{}
	for _, e := range events {
		if e.data == "[DONE]" {
			continue
		}
		v := decode(t, []byte(e.data))
		if f, ok := path(v, "choices", 0, "finish_reason").(string); ok {
			finish = f
		}
		calls, _ := path(v, "choices", 0, "delta", "tool_calls").([]any)
		for _, c := range calls {
			i := num(path(c, "index"))
			if id, ok := path(c, "id").(string); ok {
				ids[i] = id
			}
			if n, ok := path(c, "function", "name").(string); ok {
				names[i] = n
			}
			a, _ := path(c, "function", "arguments").(string)
			args[i] += a
		}
	}
	return ids, names, args, finish
}

func TestOpenAIToolChoiceForcesCallsUnaryAndStreamed(t *testing.T) {
	_, ts := serve(t, Options{})
	wantArgs := map[string]string{
		"get_weather": `{"city":"Switchyard","days":43,"unit":"celsius"}`,
		"get_time":    `{"tz":"Switchyard"}`,
	}
	tests := []struct {
		name  string
		extra string
		want  []string // tool names in order
	}{
		{"required calls every tool", `,"tool_choice":"required"`, []string{"get_weather", "get_time"}},
		{"required without parallel calls one", `,"tool_choice":"required","parallel_tool_calls":false`, []string{"get_weather"}},
		{"named function", `,"tool_choice":{"type":"function","function":{"name":"get_time"}}`, []string{"get_time"}},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/unary", func(t *testing.T) {
			_, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Weather?", false, weatherTools+tt.extra)})
			v := decode(t, body)
			if path(v, "choices", 0, "finish_reason") != "tool_calls" {
				t.Fatalf("finish %v: %s", path(v, "choices", 0, "finish_reason"), body)
			}
			if c, ok := path(v, "choices", 0, "message").(map[string]any)["content"]; !ok || c != nil {
				t.Errorf("content %v, want null", c)
			}
			calls := path(v, "choices", 0, "message", "tool_calls").([]any)
			if len(calls) != len(tt.want) {
				t.Fatalf("%d calls, want %d: %s", len(calls), len(tt.want), body)
			}
			completion := 0
			for i, name := range tt.want {
				c := calls[i]
				if path(c, "type") != "function" || path(c, "function", "name") != name || !strings.HasPrefix(path(c, "id").(string), "call_") {
					t.Errorf("call %d: %v", i, c)
				}
				args := path(c, "function", "arguments").(string)
				if !json.Valid([]byte(args)) {
					t.Errorf("call %d arguments are not JSON: %q", i, args)
				}
				if i == 0 && args != wantArgs[name] {
					t.Errorf("call %d arguments %s, want %s", i, args, wantArgs[name])
				}
				completion += 1 + (len(args)+argFragment-1)/argFragment
			}
			if got := num(path(v, "usage", "completion_tokens")); got != completion {
				t.Errorf("completion_tokens %d, want %d", got, completion)
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Weather?", true, weatherTools+tt.extra)})
			events := parseSSE(t, raw)
			first := decode(t, []byte(events[0].data))
			if path(first, "choices", 0, "delta", "role") != "assistant" {
				t.Errorf("first delta has no role: %s", events[0].data)
			}
			ids, names, args, finish := reassemble(t, events)
			if finish != "tool_calls" {
				t.Errorf("finish %q", finish)
			}
			if len(args) != len(tt.want) {
				t.Fatalf("%d calls reassembled, want %d", len(args), len(tt.want))
			}
			for i, name := range tt.want {
				if names[i] != name || ids[i] == "" {
					t.Errorf("call %d: name %q id %q", i, names[i], ids[i])
				}
				var obj map[string]any
				if err := json.Unmarshal([]byte(args[i]), &obj); err != nil {
					t.Errorf("call %d arguments %q do not reassemble into JSON: %v", i, args[i], err)
				}
			}
			if args[0] != wantArgs[tt.want[0]] {
				t.Errorf("call 0 arguments %s, want %s", args[0], wantArgs[tt.want[0]])
			}
		})
	}
}

func TestOpenAIRejectsWhatTheRealAPIRejects(t *testing.T) {
	_, ts := serve(t, Options{APIKeys: []string{"sk-test-0123456789abcdef"}})
	tests := []struct {
		name    string
		c       call
		status  int
		param   any
		code    any
		message string
	}{
		{"no key", call{path: "/v1/chat/completions", body: openaiBody("hi", false, "")}, 401, nil, nil, "You didn't provide an API key"},
		{"wrong key", call{path: "/v1/chat/completions", headers: map[string]string{"Authorization": "Bearer sk-wrong"}, body: openaiBody("hi", false, "")}, 401, nil, "invalid_api_key", "Incorrect API key"},
		{"bad JSON", call{path: "/v1/chat/completions", headers: openaiHeaders, body: `{"model":`}, 400, nil, nil, "could not parse the JSON body"},
		{"no model", call{path: "/v1/chat/completions", headers: openaiHeaders, body: `{"messages":[{"role":"user","content":"hi"}]}`}, 400, "model", nil, "model"},
		{"no messages", call{path: "/v1/chat/completions", headers: openaiHeaders, body: `{"model":"m","messages":[]}`}, 400, "messages", nil, "too short"},
		{"unknown role", call{path: "/v1/chat/completions", headers: openaiHeaders, body: `{"model":"m","messages":[{"role":"robot","content":"hi"}]}`}, 400, "messages.[0].role", nil, "'robot'"},
		{"stream_options without stream", call{path: "/v1/chat/completions", headers: openaiHeaders, body: `{"model":"m","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`}, 400, "stream_options", nil, "only allowed when 'stream'"},
		{"tool_choice without tools", call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("hi", false, `,"tool_choice":"required"`)}, 400, "tool_choice", nil, "only allowed when 'tools'"},
		{"named tool not declared", call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("hi", false, weatherTools+`,"tool_choice":{"type":"function","function":{"name":"nope"}}`)}, 400, "tool_choice", nil, "nope"},
		{"unknown path", call{path: "/v1/nothing", headers: openaiHeaders, body: "{}"}, 404, nil, nil, "Unknown request URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := mustDo(t, ts.URL, tt.c)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			v := decode(t, body)
			e, ok := v["error"].(map[string]any)
			if !ok {
				t.Fatalf("no error object: %s", body)
			}
			for _, k := range []string{"message", "type", "param", "code"} {
				if _, ok := e[k]; !ok {
					t.Errorf("error has no %q: %s", k, body)
				}
			}
			if e["param"] != tt.param || e["code"] != tt.code || !strings.Contains(e["message"].(string), tt.message) {
				t.Errorf("error %v, want param %v code %v message containing %q", e, tt.param, tt.code, tt.message)
			}
		})
	}
}

func TestOpenAIEmbeddings(t *testing.T) {
	_, ts := serve(t, Options{EmbeddingDims: 32})
	vectors := func(t *testing.T, body string) (map[string]any, [][]float64) {
		t.Helper()
		resp, raw := mustDo(t, ts.URL, call{path: "/v1/embeddings", headers: openaiHeaders, body: body})
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, raw)
		}
		v := decode(t, raw)
		var out [][]float64
		for i, d := range path(v, "data").([]any) {
			if num(path(d, "index")) != i || path(d, "object") != "embedding" {
				t.Errorf("item %d: %v", i, d)
			}
			switch e := path(d, "embedding").(type) {
			case []any:
				vec := make([]float64, len(e))
				for j, x := range e {
					vec[j] = x.(float64)
				}
				out = append(out, vec)
			case string:
				b, err := base64.StdEncoding.DecodeString(e)
				if err != nil || len(b)%4 != 0 {
					t.Fatalf("bad base64 embedding: %v", err)
				}
				vec := make([]float64, len(b)/4)
				for j := range vec {
					vec[j] = float64(math.Float32frombits(binary.LittleEndian.Uint32(b[4*j:])))
				}
				out = append(out, vec)
			}
		}
		return v, out
	}
	t.Run("float vectors are unit length and deterministic", func(t *testing.T) {
		v, vecs := vectors(t, `{"model":"fake-embed","input":["hello world","other text here"]}`)
		if len(vecs) != 2 || len(vecs[0]) != 32 {
			t.Fatalf("got %d vectors of %d dims", len(vecs), len(vecs[0]))
		}
		for i, vec := range vecs {
			var n float64
			for _, x := range vec {
				n += x * x
			}
			if math.Abs(n-1) > 1e-4 {
				t.Errorf("vector %d norm² %v", i, n)
			}
		}
		_, again := vectors(t, `{"model":"fake-embed","input":"hello world"}`)
		if again[0][0] != vecs[0][0] || again[0][31] != vecs[0][31] {
			t.Error("same input gave a different vector")
		}
		if vecs[0][0] == vecs[1][0] {
			t.Error("different inputs gave the same vector")
		}
		if num(path(v, "usage", "prompt_tokens")) != 5 || path(v, "model") != "fake-embed" {
			t.Errorf("usage/model: %v", v)
		}
	})
	t.Run("base64 carries the same floats", func(t *testing.T) {
		_, f := vectors(t, `{"model":"e","input":"hello world","dimensions":8}`)
		_, b := vectors(t, `{"model":"e","input":"hello world","dimensions":8,"encoding_format":"base64"}`)
		if len(f[0]) != 8 || len(b[0]) != 8 {
			t.Fatalf("dims %d/%d, want 8", len(f[0]), len(b[0]))
		}
		for i := range f[0] {
			if float32(f[0][i]) != float32(b[0][i]) {
				t.Fatalf("component %d: float %v, base64 %v", i, f[0][i], b[0][i])
			}
		}
	})
	t.Run("token arrays count their tokens", func(t *testing.T) {
		v, vecs := vectors(t, `{"model":"e","input":[[1,2,3],[4,5]]}`)
		if len(vecs) != 2 || num(path(v, "usage", "total_tokens")) != 5 {
			t.Errorf("got %d vectors, usage %v", len(vecs), path(v, "usage"))
		}
	})
	t.Run("bad input is a 400", func(t *testing.T) {
		resp, raw := mustDo(t, ts.URL, call{path: "/v1/embeddings", headers: openaiHeaders, body: `{"model":"e","input":{"x":1}}`})
		if resp.StatusCode != 400 || path(decode(t, raw), "error", "param") != "input" {
			t.Errorf("status %d: %s", resp.StatusCode, raw)
		}
	})
}

func TestOpenAIModelsAndAzurePaths(t *testing.T) {
	_, ts := serve(t, Options{Models: []string{"a", "b"}})
	_, raw := mustDo(t, ts.URL, call{method: "GET", path: "/v1/models", headers: openaiHeaders})
	v := decode(t, raw)
	if path(v, "object") != "list" || path(v, "data", 1, "id") != "b" || path(v, "data", 0, "object") != "model" {
		t.Errorf("models: %s", raw)
	}
	resp, raw := mustDo(t, ts.URL, call{path: "/openai/deployments/my-dep/chat/completions?api-version=2024-10-21",
		headers: map[string]string{"Api-Key": "azure-key"}, body: `{"messages":[{"role":"user","content":"hi"}]}`})
	if resp.StatusCode != 200 || path(decode(t, raw), "model") != "my-dep" {
		t.Errorf("azure chat: %d %s", resp.StatusCode, raw)
	}
}
