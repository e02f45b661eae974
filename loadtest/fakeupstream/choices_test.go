package fakeupstream

import (
	"net/http"
	"strings"
	"testing"
)

// checkLogprobs fails unless lp is chat completions' logprobs for the
// tokens want: each with its text, a logprob at most 0, its bytes and top
// alternatives, the first of them the token itself.
func checkLogprobs(t *testing.T, lp any, want []string, top int) {
	t.Helper()
	content, _ := path(lp, "content").([]any)
	if len(content) != len(want) {
		t.Fatalf("%d logprobs entries, want %d: %v", len(content), len(want), lp)
	}
	for i, e := range content {
		tok, _ := path(e, "token").(string)
		lpv, ok := path(e, "logprob").(float64)
		bs, _ := path(e, "bytes").([]any)
		alts, _ := path(e, "top_logprobs").([]any)
		if tok != want[i] || !ok || lpv > 0 || len(bs) != len(tok) || len(alts) != top {
			t.Fatalf("entry %d = %v, want token %q, logprob <= 0, %d bytes, %d top_logprobs", i, e, want[i], len(want[i]), top)
		}
		for j, b := range bs {
			if num(b) != int(tok[j]) {
				t.Fatalf("entry %d bytes %v do not spell %q", i, bs, tok)
			}
		}
		for r, a := range alts {
			v, _ := path(a, "logprob").(float64)
			if v > 0 || (r == 0 && (path(a, "token") != tok || v != lpv)) {
				t.Fatalf("entry %d top_logprobs %v", i, alts)
			}
		}
	}
}

// streamedWords is the first n words as streamed: a space before each
// but the first.
func streamedWords(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = strings.TrimPrefix(" "+wordList[i%len(wordList)], map[bool]string{true: " ", false: ""}[i == 0])
	}
	return out
}

func TestOpenAILogprobs(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name  string
		extra string
		top   int // -1: logprobs null
	}{
		{"absent", "", -1},
		{"false", `,"logprobs":false,"top_logprobs":2`, -1},
		{"true", `,"logprobs":true`, 0},
		{"top_logprobs 2", `,"logprobs":true,"top_logprobs":2`, 2},
		{"top_logprobs 5", `,"logprobs":true,"top_logprobs":5`, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/unary", func(t *testing.T) {
			_, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Say hello.", false, `,"max_tokens":4`+tt.extra)})
			lp := path(decode(t, body), "choices", 0, "logprobs")
			if tt.top < 0 {
				if lp != nil {
					t.Fatalf("logprobs %v, want null", lp)
				}
				return
			}
			checkLogprobs(t, lp, streamedWords(4), tt.top)
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Say hello.", true, `,"max_tokens":4`+tt.extra)})
			var words []string
			for _, e := range parseSSE(t, raw) {
				if e.data == "[DONE]" {
					continue
				}
				v := decode(t, []byte(e.data))
				s, _ := path(v, "choices", 0, "delta", "content").(string)
				lp := path(v, "choices", 0, "logprobs")
				switch {
				case s == "" && lp != nil:
					t.Fatalf("logprobs on a chunk without content: %s", e.data)
				case s == "":
				case tt.top < 0 && lp != nil:
					t.Fatalf("logprobs %v, want null", lp)
				case tt.top >= 0:
					checkLogprobs(t, lp, []string{s}, tt.top)
					words = append(words, s)
				}
			}
			if tt.top >= 0 && strings.Join(words, "|") != strings.Join(streamedWords(4), "|") {
				t.Fatalf("streamed logprob tokens %q", words)
			}
		})
	}
	t.Run("json answer", func(t *testing.T) {
		_, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Say hello.", false,
			`,"logprobs":true,"top_logprobs":1,"response_format":{"type":"json_schema","json_schema":{"name":"c","schema":`+citySchema+`}}`)})
		v := decode(t, body)
		text := path(v, "choices", 0, "message", "content").(string)
		checkLogprobs(t, path(v, "choices", 0, "logprobs"), splitCall("", "", text).frags, 1)
	})
	resp, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Hi", false, `,"logprobs":true,"top_logprobs":21`)})
	if resp.StatusCode != http.StatusBadRequest || path(decode(t, body), "error", "param") != "top_logprobs" {
		t.Errorf("top_logprobs 21: %d %s", resp.StatusCode, body)
	}
}

func TestOpenAIN(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		name   string
		extra  string
		n      int
		tokens int // completion tokens of one choice
	}{
		{"absent", "", 1, 4},
		{"n 1", `,"n":1`, 1, 4},
		{"n 2", `,"n":2`, 2, 4},
		{"n 3 with logprobs", `,"n":3,"logprobs":true,"top_logprobs":1`, 3, 4},
		{"n 2 tools", `,"n":2` + weatherTools + `,"tool_choice":{"type":"function","function":{"name":"get_time"}}`, 2, 1 + len(newToolCall("", tool{schema: []byte(`{"properties":{"tz":{"type":["string","null"]}}}`)}, 0).frags)},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/unary", func(t *testing.T) {
			_, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Say hello.", false, `,"max_tokens":4`+tt.extra)})
			v := decode(t, body)
			choices, _ := path(v, "choices").([]any)
			if len(choices) != tt.n {
				t.Fatalf("%d choices, want %d: %s", len(choices), tt.n, body)
			}
			for i, c := range choices {
				if num(path(c, "index")) != i || path(c, "finish_reason") == nil ||
					(path(c, "message", "content") == nil && path(c, "message", "tool_calls") == nil) {
					t.Fatalf("choice %d: %v", i, c)
				}
			}
			if got := num(path(v, "usage", "completion_tokens")); got != tt.n*tt.tokens {
				t.Errorf("completion_tokens %d, want %d", got, tt.n*tt.tokens)
			}
		})
		t.Run(tt.name+"/stream", func(t *testing.T) {
			_, raw := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Say hello.", true, `,"max_tokens":4`+tt.extra)})
			texts, args, finishes := map[int]string{}, map[int]string{}, map[int]string{}
			usage := -1
			for _, e := range parseSSE(t, raw) {
				if e.data == "[DONE]" {
					continue
				}
				v := decode(t, []byte(e.data))
				if u := path(v, "usage"); u != nil {
					usage = num(path(u, "completion_tokens"))
				}
				cs, _ := path(v, "choices").([]any)
				if len(cs) > 1 {
					t.Fatalf("a chunk with %d choices: %s", len(cs), e.data)
				}
				for _, c := range cs {
					i := num(path(c, "index"))
					s, _ := path(c, "delta", "content").(string)
					texts[i] += s
					a, _ := path(c, "delta", "tool_calls", 0, "function", "arguments").(string)
					args[i] += a
					if f, _ := path(c, "finish_reason").(string); f != "" {
						finishes[i] = f
					}
				}
			}
			if len(finishes) != tt.n || usage != tt.n*tt.tokens {
				t.Fatalf("finishes %v, completion_tokens %d, want %d choices and %d", finishes, usage, tt.n, tt.n*tt.tokens)
			}
			for i := 0; i < tt.n; i++ {
				if texts[i] != texts[0] || args[i] != args[0] || texts[i]+args[i] == "" {
					t.Fatalf("choice %d streamed %q%q, choice 0 %q%q", i, texts[i], args[i], texts[0], args[0])
				}
			}
		})
	}
	for _, bad := range []string{`,"n":0`, `,"n":129`} {
		resp, body := mustDo(t, ts.URL, call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody("Hi", false, bad)})
		if resp.StatusCode != http.StatusBadRequest || path(decode(t, body), "error", "param") != "n" {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
}
