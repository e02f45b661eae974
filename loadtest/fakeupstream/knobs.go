package fakeupstream

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits on knob values, so one typo cannot park a handler for a day or
// make it stream a million words.
const (
	MaxDelay      = 10 * time.Minute
	MaxTokens     = 100_000
	DefaultTokens = 16
	// MaxToolName caps AutoTool; the real APIs allow at most 64 or 128
	// characters in a tool name.
	MaxToolName = 128
)

// Knobs shape how the server answers. The zero value answers at once with
// DefaultTokens words. The same knobs are set server-wide (Options.Knobs,
// POST /_control), per request by X-Fake-* headers, and per request by a
// [[fake:...]] directive in the last user message; see the package doc.
type Knobs struct {
	// Latency is waited before the response starts (status and headers),
	// for every kind of request.
	Latency time.Duration
	// TTFT is waited before the first content chunk of a stream. A unary
	// answer waits Latency + TTFT + (chunks-1)*TokenDelay, as if generated.
	TTFT time.Duration
	// TokenDelay is waited between content chunks.
	TokenDelay time.Duration
	// Tokens is the number of words in a text answer; 0 means
	// DefaultTokens. A smaller max_tokens in the request truncates it and
	// the finish reason says so.
	Tokens int
	// Status, when 400-599, answers with that status and an error body in
	// the provider's format instead of the answer.
	Status int
	// RetryAfter goes with Status: retry-after (and OpenAI's
	// retry-after-ms) headers, or a RetryInfo detail for Gemini.
	RetryAfter time.Duration
	// Hang never answers: the handler waits until the client goes away or
	// the Server is closed.
	Hang bool
	// Reset closes the connection without answering, with SO_LINGER 0 so
	// the client sees a connection reset.
	Reset bool
	// AbortAfter, when > 0, cuts the connection after that many content
	// chunks of a stream, before the terminal event. A unary answer is cut
	// halfway through its body. 0 never cuts.
	AbortAfter int
	// AutoTool, when set, makes the answer call the tool of that name on
	// its own, as a model does, when the request declares it, its tool
	// choice does not forbid calls, and the conversation does not end in a
	// tool result; the answer to the result is text, so an agent's loop
	// ends. Agent CLIs never force a call, so tool_choice alone cannot
	// drive them.
	AutoTool string
}

// validate checks ranges; every entry point (Options, control, headers,
// directives) goes through it.
func (k *Knobs) validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"latency", k.Latency}, {"ttft", k.TTFT}, {"token_delay", k.TokenDelay}, {"retry_after", k.RetryAfter}} {
		if d.v < 0 || d.v > MaxDelay {
			return fmt.Errorf("%s %v out of range [0, %v]", d.name, d.v, MaxDelay)
		}
	}
	if k.Tokens < 0 || k.Tokens > MaxTokens {
		return fmt.Errorf("tokens %d out of range [0, %d]", k.Tokens, MaxTokens)
	}
	if k.Status != 0 && (k.Status < 400 || k.Status > 599) {
		return fmt.Errorf("status %d must be 0 or 400-599", k.Status)
	}
	if k.AbortAfter < 0 || k.AbortAfter > MaxTokens {
		return fmt.Errorf("abort_after %d out of range [0, %d]", k.AbortAfter, MaxTokens)
	}
	if len(k.AutoTool) > MaxToolName {
		return fmt.Errorf("auto_tool is %d bytes, more than %d", len(k.AutoTool), MaxToolName)
	}
	return nil
}

func (k *Knobs) words() int {
	if k.Tokens == 0 {
		return DefaultTokens
	}
	return k.Tokens
}

// knobsJSON is the wire form for POST /_control and GET /_control. Pointer
// fields make a POST a patch: fields left out keep their value.
type knobsJSON struct {
	Latency    *jsonDuration `json:"latency,omitempty"`
	TTFT       *jsonDuration `json:"ttft,omitempty"`
	TokenDelay *jsonDuration `json:"token_delay,omitempty"`
	Tokens     *int          `json:"tokens,omitempty"`
	Status     *int          `json:"status,omitempty"`
	RetryAfter *jsonDuration `json:"retry_after,omitempty"`
	Hang       *bool         `json:"hang,omitempty"`
	Reset      *bool         `json:"reset,omitempty"`
	AbortAfter *int          `json:"abort_after,omitempty"`
	AutoTool   *string       `json:"auto_tool,omitempty"`
}

// jsonDuration is a Go duration string ("250ms") or a number of
// milliseconds.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		*d = jsonDuration(v)
		return nil
	}
	var ms float64
	if err := json.Unmarshal(b, &ms); err != nil {
		return fmt.Errorf("duration must be a string such as \"250ms\" or a number of milliseconds")
	}
	if math.IsNaN(ms) || ms < 0 || ms > float64(MaxDelay/time.Millisecond) {
		return fmt.Errorf("duration %v ms out of range", ms)
	}
	*d = jsonDuration(time.Duration(ms * float64(time.Millisecond)))
	return nil
}

// MarshalJSON writes every knob, durations as Go duration strings.
func (k Knobs) MarshalJSON() ([]byte, error) {
	dur := func(v time.Duration) *jsonDuration { d := jsonDuration(v); return &d }
	return json.Marshal(knobsJSON{
		Latency: dur(k.Latency), TTFT: dur(k.TTFT), TokenDelay: dur(k.TokenDelay),
		Tokens: &k.Tokens, Status: &k.Status, RetryAfter: dur(k.RetryAfter),
		Hang: &k.Hang, Reset: &k.Reset, AbortAfter: &k.AbortAfter, AutoTool: &k.AutoTool,
	})
}

// UnmarshalJSON applies the fields present in b on top of k, so decoding
// into a copy of the current knobs is a patch.
func (k *Knobs) UnmarshalJSON(b []byte) error {
	var p knobsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	set := func(dst *time.Duration, v *jsonDuration) {
		if v != nil {
			*dst = time.Duration(*v)
		}
	}
	set(&k.Latency, p.Latency)
	set(&k.TTFT, p.TTFT)
	set(&k.TokenDelay, p.TokenDelay)
	set(&k.RetryAfter, p.RetryAfter)
	if p.Tokens != nil {
		k.Tokens = *p.Tokens
	}
	if p.Status != nil {
		k.Status = *p.Status
	}
	if p.Hang != nil {
		k.Hang = *p.Hang
	}
	if p.Reset != nil {
		k.Reset = *p.Reset
	}
	if p.AbortAfter != nil {
		k.AbortAfter = *p.AbortAfter
	}
	if p.AutoTool != nil {
		k.AutoTool = *p.AutoTool
	}
	return nil
}

// set applies one knob given as text, from a header or a directive.
// Durations are Go duration text or bare milliseconds, except retry_after,
// which like the Retry-After header it produces is bare seconds.
func (k *Knobs) set(key, val string) error {
	val = strings.TrimSpace(val)
	var err error
	switch key {
	case "latency":
		k.Latency, err = parseDelay(val, time.Millisecond)
	case "ttft":
		k.TTFT, err = parseDelay(val, time.Millisecond)
	case "token_delay":
		k.TokenDelay, err = parseDelay(val, time.Millisecond)
	case "retry_after":
		k.RetryAfter, err = parseDelay(val, time.Second)
	case "retry_after_ms":
		k.RetryAfter, err = parseDelay(val, time.Millisecond)
	case "tokens":
		k.Tokens, err = strconv.Atoi(val)
	case "status":
		k.Status, err = strconv.Atoi(val)
	case "abort_after":
		k.AbortAfter, err = strconv.Atoi(val)
	case "hang":
		k.Hang, err = parseFlag(val)
	case "reset":
		k.Reset, err = parseFlag(val)
	case "auto_tool":
		k.AutoTool = val
	default:
		return fmt.Errorf("unknown knob %q", key)
	}
	if err != nil {
		return fmt.Errorf("knob %s=%q: %v", key, val, err)
	}
	return nil
}

// parseDelay reads a Go duration, or a bare number in unit.
func parseDelay(s string, unit time.Duration) (time.Duration, error) {
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if math.IsNaN(f) || f < 0 || f*float64(unit) > float64(MaxDelay) {
			return 0, fmt.Errorf("out of range")
		}
		return time.Duration(f * float64(unit)), nil
	}
	return time.ParseDuration(s)
}

// parseFlag reads a boolean knob; an empty value (a bare key) is true.
func parseFlag(s string) (bool, error) {
	if s == "" {
		return true, nil
	}
	return strconv.ParseBool(s)
}

// headerPrefix starts every per-request knob header, in canonical form.
const headerPrefix = "X-Fake-"

// applyHeaders applies X-Fake-* request headers: X-Fake-Token-Delay sets
// token_delay, and so on.
// With both retry headers, the milliseconds win, being the more precise
// (as with OpenAI's retry-after-ms); map order must not decide.
func (k *Knobs) applyHeaders(h http.Header) error {
	var ms, msName string
	for name, vals := range h {
		if len(name) <= len(headerPrefix) || !strings.EqualFold(name[:len(headerPrefix)], headerPrefix) || len(vals) == 0 {
			continue
		}
		key := strings.ReplaceAll(strings.ToLower(name[len(headerPrefix):]), "-", "_")
		if key == "retry_after_ms" {
			ms, msName = vals[0], name
			continue
		}
		if err := k.set(key, vals[0]); err != nil {
			return fmt.Errorf("header %s: %v", name, err)
		}
	}
	if msName != "" {
		if err := k.set("retry_after_ms", ms); err != nil {
			return fmt.Errorf("header %s: %v", msName, err)
		}
	}
	return nil
}

// directiveOpen starts a directive in message text.
const directiveOpen = "[[fake:"

// applyDirective applies the first [[fake:k=v,k2=v2]] found in text.
func (k *Knobs) applyDirective(text string) error {
	i := strings.Index(text, directiveOpen)
	if i < 0 {
		return nil
	}
	rest := text[i+len(directiveOpen):]
	j := strings.Index(rest, "]]")
	if j < 0 {
		return fmt.Errorf("directive %q is not closed with ]]", truncate(text[i:], 64))
	}
	for _, kv := range strings.Split(rest[:j], ",") {
		kv = strings.TrimSpace(kv)
		if kv == "" {
			continue
		}
		key, val, _ := strings.Cut(kv, "=")
		if err := k.set(strings.TrimSpace(strings.ToLower(key)), val); err != nil {
			return fmt.Errorf("directive: %v", err)
		}
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// hasKnobHeaders is the fast path: most requests carry none.
func hasKnobHeaders(h http.Header) bool {
	for name := range h {
		if len(name) > len(headerPrefix) && strings.EqualFold(name[:len(headerPrefix)], headerPrefix) {
			return true
		}
	}
	return false
}
