package fakeupstream

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// freshClient opens a new connection per request, so a cut connection
// cannot be mistaken for a stale pooled one (and retried).
func freshClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{DisableKeepAlives: true}}
}

func withHeaders(c call, kv ...string) call {
	h := make(map[string]string, len(c.headers)+len(kv)/2)
	for k, v := range c.headers {
		h[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		h[kv[i]] = kv[i+1]
	}
	c.headers = h
	return c
}

func TestTokensKnobFromHeaderDirectiveAndServer(t *testing.T) {
	s, ts := serve(t, Options{})
	if err := s.SetKnobs(Knobs{Tokens: 4}); err != nil {
		t.Fatal(err)
	}
	for _, f := range apiFormats {
		tests := []struct {
			name   string
			prompt string
			header string
			want   int
		}{
			{"server-wide", "Hi", "", 4},
			{"directive beats server", "[[fake:tokens=6]] Hi", "", 6},
			{"header beats directive", "[[fake:tokens=6]] Hi", "8", 8},
		}
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				c := f.unary(tt.prompt)
				if tt.header != "" {
					c = withHeaders(c, "X-Fake-Tokens", tt.header)
				}
				_, body := mustDo(t, ts.URL, c)
				if got := f.text(t, body); got != answerText(tt.want) {
					t.Errorf("unary text %q, want %d words", got, tt.want)
				}
				c = f.stream(tt.prompt)
				if tt.header != "" {
					c = withHeaders(c, "X-Fake-Tokens", tt.header)
				}
				_, raw := mustDo(t, ts.URL, c)
				r := f.chunks(t, raw)
				if len(r.texts) != tt.want || !r.terminal || strings.Join(r.texts, "") != answerText(tt.want) {
					t.Errorf("stream chunks %q terminal %v, want %d words", r.texts, r.terminal, tt.want)
				}
			})
		}
	}
}

func TestStatusKnobAnswersInEachFormat(t *testing.T) {
	_, ts := serve(t, Options{})
	tests := []struct {
		format      string
		via         string // "header" or "directive"
		status      int
		retry       string // X-Fake-Retry-After
		retryMs     string // X-Fake-Retry-After-Ms
		wantType    string
		wantHeaders map[string]string
		wantDelay   string // Gemini RetryInfo
	}{
		{fmtOpenAI, "header", 429, "2", "", "requests", map[string]string{"Retry-After": "2", "Retry-After-Ms": "2000"}, ""},
		{fmtOpenAI, "directive", 503, "", "1500", "server_error", map[string]string{"Retry-After": "2", "Retry-After-Ms": "1500"}, ""},
		{fmtOpenAI, "header", 500, "", "", "server_error", map[string]string{"Retry-After": ""}, ""},
		{fmtAnthropic, "header", 429, "3", "", "rate_limit_error", map[string]string{"Retry-After": "3"}, ""},
		{fmtAnthropic, "directive", 529, "", "", "overloaded_error", map[string]string{"Retry-After": ""}, ""},
		{fmtAnthropic, "header", 500, "", "", "api_error", nil, ""},
		{fmtGemini, "header", 429, "2", "", "RESOURCE_EXHAUSTED", map[string]string{"Retry-After": ""}, "2s"},
		{fmtGemini, "directive", 503, "", "1500", "UNAVAILABLE", nil, "1.5s"},
		{fmtGemini, "header", 500, "", "", "INTERNAL", nil, ""},
	}
	for _, tt := range tests {
		var f apiFormat
		for _, af := range apiFormats {
			if af.name == tt.format {
				f = af
			}
		}
		for _, stream := range []bool{false, true} {
			name := tt.format + "/" + tt.via + "/" + http.StatusText(tt.status)
			if stream {
				name += "/stream"
			}
			t.Run(name, func(t *testing.T) {
				prompt := "Hi"
				var kv []string
				if tt.via == "directive" {
					d := "[[fake:status=" + strconv.Itoa(tt.status)
					if tt.retry != "" {
						d += ",retry_after=" + tt.retry
					}
					if tt.retryMs != "" {
						d += ",retry_after_ms=" + tt.retryMs
					}
					prompt = d + "]] " + prompt
				} else {
					kv = append(kv, "X-Fake-Status", strconv.Itoa(tt.status))
					if tt.retry != "" {
						kv = append(kv, "X-Fake-Retry-After", tt.retry)
					}
					if tt.retryMs != "" {
						kv = append(kv, "X-Fake-Retry-After-Ms", tt.retryMs)
					}
				}
				c := f.unary(prompt)
				if stream {
					c = f.stream(prompt)
				}
				resp, body := mustDo(t, ts.URL, withHeaders(c, kv...))
				if resp.StatusCode != tt.status {
					t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
				}
				if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("content-type %q", ct)
				}
				v := decode(t, body)
				if got := f.errType(v); got != tt.wantType {
					t.Errorf("error type %q, want %q: %s", got, tt.wantType, body)
				}
				for k, want := range tt.wantHeaders {
					if got := resp.Header.Get(k); got != want {
						t.Errorf("header %s %q, want %q", k, got, want)
					}
				}
				if tt.format == fmtGemini {
					got := ""
					details, _ := path(v, "error", "details").([]any)
					for _, d := range details {
						if strings.HasSuffix(path(d, "@type").(string), "RetryInfo") {
							got = path(d, "retryDelay").(string)
						}
					}
					if got != tt.wantDelay || num(path(v, "error", "code")) != tt.status {
						t.Errorf("retryDelay %q, want %q: %s", got, tt.wantDelay, body)
					}
				}
			})
		}
	}
}

func TestAbortAfterCutsStreamsBeforeTheTerminalEvent(t *testing.T) {
	_, ts := serve(t, Options{})
	client := freshClient(10 * time.Second)
	for _, f := range apiFormats {
		tests := []struct {
			name   string
			c      call
			chunks int
		}{
			{"directive", f.stream("[[fake:abort_after=3]] Count"), 3},
			{"header", withHeaders(f.stream("Count"), "X-Fake-Abort-After", "1"), 1},
			// Gemini's last chunk carries the last word with the finishReason.
			{"beyond the answer still drops the end", withHeaders(f.stream("Count"), "X-Fake-Tokens", "2", "X-Fake-Abort-After", "9"), map[bool]int{true: 1, false: 2}[f.name == fmtGemini]},
		}
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				resp, raw, err := do(t, client, ts.URL, tt.c)
				if resp.StatusCode != 200 {
					t.Fatalf("status %d: %s", resp.StatusCode, raw)
				}
				if err == nil {
					t.Fatalf("stream read cleanly, want a cut connection: %s", raw)
				}
				r := f.chunks(t, raw)
				if r.terminal || len(r.texts) != tt.chunks || strings.Join(r.texts, "") != answerText(tt.chunks) {
					t.Errorf("got chunks %q terminal %v, want the first %d words and no terminal event", r.texts, r.terminal, tt.chunks)
				}
			})
		}
		t.Run(f.name+"/unary is cut halfway", func(t *testing.T) {
			resp, raw, err := do(t, client, ts.URL, f.unary("[[fake:abort_after=1]] Hi"))
			if resp.StatusCode != 200 || err == nil || len(raw) == 0 || resp.ContentLength <= int64(len(raw)) {
				t.Errorf("status %d, read error %v, %d of %d bytes", resp.StatusCode, err, len(raw), resp.ContentLength)
			}
		})
	}
}

func TestResetKnobResetsTheConnection(t *testing.T) {
	_, ts := serve(t, Options{})
	client := freshClient(10 * time.Second)
	for _, f := range apiFormats {
		for _, c := range []call{withHeaders(f.unary("Hi"), "X-Fake-Reset", "1"), f.stream("[[fake:reset]] Hi")} {
			t.Run(f.name, func(t *testing.T) {
				req, _ := http.NewRequest(http.MethodPost, ts.URL+c.path, strings.NewReader(c.body))
				for k, v := range c.headers {
					req.Header.Set(k, v)
				}
				resp, err := client.Do(req)
				if err == nil {
					resp.Body.Close()
					t.Fatalf("got status %d, want a connection reset", resp.StatusCode)
				}
				if !errors.Is(err, syscall.ECONNRESET) {
					t.Errorf("error %v, want ECONNRESET", err)
				}
			})
		}
	}
}

func TestHangKnobHoldsUntilTheClientLeaves(t *testing.T) {
	s, ts := serve(t, Options{})
	for _, f := range apiFormats {
		t.Run(f.name, func(t *testing.T) {
			c := withHeaders(f.unary("Hi"), "X-Fake-Hang", "true")
			req, _ := http.NewRequest(http.MethodPost, ts.URL+c.path, strings.NewReader(c.body))
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			start := time.Now()
			_, err := freshClient(150 * time.Millisecond).Do(req)
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Fatalf("error %v, want a client timeout", err)
			}
			if time.Since(start) < 150*time.Millisecond {
				t.Errorf("answered after %v", time.Since(start))
			}
			deadline := time.Now().Add(2 * time.Second)
			for s.active.Load() != 0 {
				if time.Now().After(deadline) {
					t.Fatalf("%d handlers still running after the client left", s.active.Load())
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

func TestLatencyTTFTAndTokenDelayPaceTheAnswer(t *testing.T) {
	_, ts := serve(t, Options{})
	for _, f := range apiFormats {
		t.Run(f.name+"/latency", func(t *testing.T) {
			start := time.Now()
			mustDo(t, ts.URL, withHeaders(f.unary("Hi"), "X-Fake-Latency", "60ms"))
			if d := time.Since(start); d < 60*time.Millisecond {
				t.Errorf("answered after %v, want ≥ 60ms", d)
			}
		})
		t.Run(f.name+"/stream pacing", func(t *testing.T) {
			start := time.Now()
			_, raw := mustDo(t, ts.URL, f.stream("[[fake:ttft=40ms,token_delay=10,tokens=4]] Hi"))
			if d := time.Since(start); d < 70*time.Millisecond {
				t.Errorf("stream took %v, want ≥ ttft 40ms + 3 × 10ms", d)
			}
			if r := f.chunks(t, raw); len(r.texts) != 4 || !r.terminal {
				t.Errorf("chunks %q terminal %v", r.texts, r.terminal)
			}
		})
		t.Run(f.name+"/unary waits as long as a stream", func(t *testing.T) {
			start := time.Now()
			mustDo(t, ts.URL, f.unary("[[fake:ttft=40ms,token_delay=10,tokens=4]] Hi"))
			if d := time.Since(start); d < 70*time.Millisecond {
				t.Errorf("unary took %v, want ≥ 70ms", d)
			}
		})
	}
}

func TestInvalidKnobsAreRejectedInTheAPIFormat(t *testing.T) {
	_, ts := serve(t, Options{})
	for _, f := range apiFormats {
		tests := []struct {
			name string
			c    call
			want string
		}{
			{"unknown directive key", f.unary("[[fake:bogus=1]] Hi"), `unknown knob \"bogus\"`},
			{"unclosed directive", f.unary("[[fake:tokens=3 Hi"), "not closed"},
			{"status out of range", withHeaders(f.unary("Hi"), "X-Fake-Status", "200"), "400-599"},
			{"negative delay", withHeaders(f.unary("Hi"), "X-Fake-Ttft", "-5"), "ttft"},
			{"tokens not a number", withHeaders(f.unary("Hi"), "X-Fake-Tokens", "many"), "tokens"},
			{"unknown header knob", withHeaders(f.unary("Hi"), "X-Fake-Colour", "blue"), "colour"},
		}
		for _, tt := range tests {
			t.Run(f.name+"/"+tt.name, func(t *testing.T) {
				resp, body := mustDo(t, ts.URL, tt.c)
				if resp.StatusCode != 400 || !strings.Contains(string(body), tt.want) || f.errType(decode(t, body)) == "" {
					t.Errorf("status %d body %s, want 400 mentioning %q", resp.StatusCode, body, tt.want)
				}
			})
		}
	}
}
