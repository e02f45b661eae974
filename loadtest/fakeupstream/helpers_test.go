package fakeupstream

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fixedNow makes created timestamps reproducible.
func fixedNow() time.Time { return time.Unix(1750000000, 0) }

// serve starts s on a loopback httptest server. Cleanup closes the fake
// first, so handlers parked in a hang or a delay return before the
// httptest server waits for them.
func serve(t testing.TB, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	if opts.Now == nil {
		opts.Now = fixedNow
	}
	s := New(opts)
	ts := httptest.NewServer(s)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		ts.Close()
	})
	return s, ts
}

// call is one request in a test table.
type call struct {
	method  string
	path    string
	headers map[string]string
	body    string
}

// do sends c and reads the whole body; a read error (a cut stream) comes
// back as readErr, with what was read before it.
func do(t testing.TB, client *http.Client, base string, c call) (resp *http.Response, body []byte, readErr error) {
	t.Helper()
	method := c.method
	if method == "" {
		method = http.MethodPost
	}
	var rd io.Reader
	if c.body != "" {
		rd = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(method, base+c.path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	if client == nil {
		client = http.DefaultClient
	}
	resp, err = client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, c.path, err)
	}
	defer resp.Body.Close()
	body, readErr = io.ReadAll(resp.Body)
	return resp, body, readErr
}

// mustDo is do for requests that must be read whole.
func mustDo(t testing.TB, base string, c call) (*http.Response, []byte) {
	t.Helper()
	resp, body, err := do(t, nil, base, c)
	if err != nil {
		t.Fatalf("%s: reading body: %v (read %q)", c.path, err, body)
	}
	return resp, body
}

// sseEvent is one server-sent event.
type sseEvent struct {
	name string
	data string
}

// parseSSE splits a stream into events, tolerating CRLF line ends.
func parseSSE(t testing.TB, b []byte) []sseEvent {
	t.Helper()
	var out []sseEvent
	var cur sseEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSuffix(sc.Text(), "\r")
		switch {
		case line == "":
			if cur.data != "" || cur.name != "" {
				out = append(out, cur)
			}
			cur = sseEvent{}
		case strings.HasPrefix(line, "event: "):
			cur.name = line[len("event: "):]
		case strings.HasPrefix(line, "data: "):
			cur.data += line[len("data: "):]
		case strings.HasPrefix(line, ":"):
		default:
			t.Fatalf("malformed SSE line %q", line)
		}
	}
	if cur.data != "" || cur.name != "" {
		out = append(out, cur)
	}
	return out
}

// decode unmarshals JSON into a generic value, failing the test on error.
func decode(t testing.TB, b []byte) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", b, err)
	}
	return v
}

// path walks a decoded JSON value: keys for objects, ints for arrays.
func path(v any, steps ...any) any {
	for _, s := range steps {
		switch k := s.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			a, ok := v.([]any)
			if !ok || k >= len(a) {
				return nil
			}
			v = a[k]
		}
	}
	return v
}

func num(v any) int {
	f, _ := v.(float64)
	return int(f)
}

// Request bodies and headers of the three APIs.
var (
	openaiHeaders    = map[string]string{"Authorization": "Bearer sk-test-0123456789abcdef"}
	anthropicHeaders = map[string]string{"X-Api-Key": "sk-ant-test-0123456789", "Anthropic-Version": "2023-06-01"}
	geminiHeaders    = map[string]string{"X-Goog-Api-Key": "AIza-test-0123456789"}
)

func openaiBody(prompt string, stream bool, extra string) string {
	b := `{"model":"fake-gpt","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":` + jsonString(prompt) + `}]`
	if stream {
		b += `,"stream":true,"stream_options":{"include_usage":true}`
	}
	return b + extra + "}"
}

func anthropicBody(prompt string, stream bool, extra string) string {
	b := `{"model":"fake-claude","max_tokens":1024,"system":"Be brief.","messages":[{"role":"user","content":` + jsonString(prompt) + `}]`
	if stream {
		b += `,"stream":true`
	}
	return b + extra + "}"
}

func geminiBody(prompt string, extra string) string {
	return `{"systemInstruction":{"parts":[{"text":"Be brief."}]},"contents":[{"role":"user","parts":[{"text":` + jsonString(prompt) + `}]}]` + extra + "}"
}

func jsonString(s string) string { return string(appendJSONString(nil, s)) }

// streamResult is what a test needs from any format's stream.
type streamResult struct {
	texts    []string // content per content chunk, in order
	terminal bool     // the event that ends the stream arrived
}

// apiFormat describes one API for tests that run across all three.
type apiFormat struct {
	name    string
	unary   func(prompt string) call
	stream  func(prompt string) call
	text    func(t testing.TB, body []byte) string // text of a unary answer
	chunks  func(t testing.TB, body []byte) streamResult
	errType func(body map[string]any) string // the error's type/status field
}

var apiFormats = []apiFormat{
	{
		name: fmtOpenAI,
		unary: func(p string) call {
			return call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody(p, false, "")}
		},
		stream: func(p string) call {
			return call{path: "/v1/chat/completions", headers: openaiHeaders, body: openaiBody(p, true, "")}
		},
		text: func(t testing.TB, b []byte) string {
			s, _ := path(decode(t, b), "choices", 0, "message", "content").(string)
			return s
		},
		chunks: func(t testing.TB, b []byte) streamResult {
			var r streamResult
			for _, e := range parseSSE(t, b) {
				if e.data == "[DONE]" {
					r.terminal = true
					continue
				}
				if s, _ := path(decode(t, []byte(e.data)), "choices", 0, "delta", "content").(string); s != "" {
					r.texts = append(r.texts, s)
				}
			}
			return r
		},
		errType: func(v map[string]any) string { s, _ := path(v, "error", "type").(string); return s },
	},
	{
		name: fmtAnthropic,
		unary: func(p string) call {
			return call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody(p, false, "")}
		},
		stream: func(p string) call {
			return call{path: "/v1/messages", headers: anthropicHeaders, body: anthropicBody(p, true, "")}
		},
		text: func(t testing.TB, b []byte) string {
			s, _ := path(decode(t, b), "content", 0, "text").(string)
			return s
		},
		chunks: func(t testing.TB, b []byte) streamResult {
			var r streamResult
			for _, e := range parseSSE(t, b) {
				switch e.name {
				case "message_stop":
					r.terminal = true
				case "content_block_delta":
					if s, _ := path(decode(t, []byte(e.data)), "delta", "text").(string); s != "" {
						r.texts = append(r.texts, s)
					}
				}
			}
			return r
		},
		errType: func(v map[string]any) string { s, _ := path(v, "error", "type").(string); return s },
	},
	{
		name: fmtGemini,
		unary: func(p string) call {
			return call{path: "/v1beta/models/fake-gemini:generateContent", headers: geminiHeaders, body: geminiBody(p, "")}
		},
		stream: func(p string) call {
			return call{path: "/v1beta/models/fake-gemini:streamGenerateContent?alt=sse", headers: geminiHeaders, body: geminiBody(p, "")}
		},
		text: func(t testing.TB, b []byte) string {
			s, _ := path(decode(t, b), "candidates", 0, "content", "parts", 0, "text").(string)
			return s
		},
		chunks: func(t testing.TB, b []byte) streamResult {
			var r streamResult
			for _, e := range parseSSE(t, b) {
				v := decode(t, []byte(e.data))
				if s, _ := path(v, "candidates", 0, "content", "parts", 0, "text").(string); s != "" {
					r.texts = append(r.texts, s)
				}
				if path(v, "candidates", 0, "finishReason") != nil {
					r.terminal = true
				}
			}
			return r
		},
		errType: func(v map[string]any) string { s, _ := path(v, "error", "status").(string); return s },
	},
}
