package fakeupstream

import (
	"context"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Response header values, shared and never modified.
var (
	hdrJSON        = []string{"application/json"}
	hdrEventStream = []string{"text/event-stream; charset=utf-8"}
	hdrNoCache     = []string{"no-cache"}
)

// finish is why an answer ended.
type finish int

const (
	finishStop finish = iota
	finishLength
	finishTools
)

// answer is what one request gets back, in any format.
type answer struct {
	id      string
	model   string
	created int64
	prompt  int // prompt tokens
	words   int // text words, when calls is empty
	finish  finish
	calls   []toolCall
	// json is a structured-output answer's JSON text (setJSON), in the
	// fragments a stream carries; nil for a word answer.
	json []string
	// n is how many choices (OpenAI n) or candidates (Gemini
	// candidateCount) carry the answer; 0 means 1.
	n int
}

// choices is how many choices or candidates the answer has.
func (a *answer) choices() int { return max(a.n, 1) }

// completion is one choice's completion tokens: its words, JSON
// fragments or calls.
func (a *answer) completion() int {
	if len(a.calls) == 0 {
		if a.json != nil {
			return len(a.json)
		}
		return a.words
	}
	n := 0
	for i := range a.calls {
		n += a.calls[i].tokens()
	}
	return n
}

// completionAll is the completion tokens of every choice, what usage
// reports.
func (a *answer) completionAll() int { return a.completion() * a.choices() }

// setJSON makes a a structured-output answer with the JSON text, split as
// forced calls' arguments are; a max tokens below its fragments cuts it
// with finish reason length. Calls, when there are any, still win.
func (a *answer) setJSON(text string, maxTokens *int) {
	a.json = splitCall("", "", text).frags
	if a.finish == finishLength {
		a.finish = finishStop
	}
	if maxTokens != nil && *maxTokens > 0 && *maxTokens < len(a.json) {
		a.json, a.finish = a.json[:*maxTokens], finishLength
	}
}

// pieces is how many content chunks the text takes: words or JSON
// fragments.
func (a *answer) pieces() int {
	if a.json != nil {
		return len(a.json)
	}
	return a.words
}

// appendPiece appends the i-th content chunk's text as a JSON string.
func (a *answer) appendPiece(b []byte, i int) []byte {
	if a.json != nil {
		return appendJSONString(b, a.json[i])
	}
	return append(b, wordJSON(i)...)
}

// piece is the i-th content chunk's text, as streamed.
func (a *answer) piece(i int) string {
	if a.json != nil {
		return a.json[i]
	}
	if i == 0 {
		return wordList[0]
	}
	return " " + wordList[i%len(wordList)]
}

// text is the whole text of one choice.
func (a *answer) text() string {
	if a.json != nil {
		return strings.Join(a.json, "")
	}
	return answerText(a.words)
}

// newAnswer sizes a text answer: the knob's word count, cut to maxTokens
// when the request sets a smaller limit.
func newAnswer(k *Knobs, id, model string, created int64, prompt int, maxTokens *int) answer {
	a := answer{id: id, model: model, created: created, prompt: max(prompt, 1), words: k.words()}
	if maxTokens != nil && *maxTokens > 0 && *maxTokens < a.words {
		a.words, a.finish = *maxTokens, finishLength
	}
	return a
}

// unaryDelay is how long a whole unary answer takes to "generate".
func unaryDelay(k *Knobs, chunks int) time.Duration {
	d := k.TTFT
	if chunks > 1 {
		d += time.Duration(chunks-1) * k.TokenDelay
	}
	return min(d, MaxDelay)
}

// sleep waits d, or less when the client goes away or the Server closes;
// it reports whether the full time passed.
func (s *Server) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-s.done:
	}
	return false
}

// faults applies the knobs that act before the answer starts: latency,
// hang, reset and status. It reports whether the handler should go on.
func (s *Server) faults(w http.ResponseWriter, r *http.Request, format string, k *Knobs) bool {
	if !s.sleep(r.Context(), k.Latency) {
		s.interrupted(w)
		return false
	}
	if k.Hang {
		select {
		case <-r.Context().Done():
		case <-s.done:
			s.interrupted(w)
		}
		return false
	}
	if k.Reset {
		cut(w, true)
		return false
	}
	if k.Status != 0 {
		s.writeError(w, format, apiError{status: k.Status, retryAfter: k.RetryAfter})
		return false
	}
	return true
}

// interrupted ends a handler whose wait was cut short. When the Server is
// closing, the connection is dropped: returning quietly would make net/http
// send an empty 200, or end a stream as if it were complete.
func (s *Server) interrupted(w http.ResponseWriter) {
	if s.closed() {
		cut(w, false)
	}
}

// cut drops the connection under the handler. With reset the socket
// lingers 0, so the peer gets a TCP RST; otherwise a FIN in the middle of
// the body, which the peer reads as an unexpected EOF. Where hijacking is
// impossible (HTTP/2) the handler aborts, which resets the stream.
func cut(w http.ResponseWriter, reset bool) {
	if f, ok := w.(http.Flusher); ok && !reset {
		f.Flush() // what was written goes out before the cut; a reset sends nothing
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && reset {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

// writeUnary sends a complete JSON answer after the generation delay, or
// half of it then a cut when the abort knob is set.
func (s *Server) writeUnary(w http.ResponseWriter, r *http.Request, k *Knobs, chunks int, body []byte) {
	if !s.sleep(r.Context(), unaryDelay(k, chunks)) {
		s.interrupted(w)
		return
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	if k.AbortAfter > 0 {
		_, _ = w.Write(body[:len(body)/2])
		cut(w, false)
		return
	}
	_, _ = w.Write(body)
}

// writeJSON sends v with status 200; for endpoints without generation.
func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header()["Content-Type"] = hdrJSON
	_, _ = w.Write(b)
}

// streamBuf holds one stream's scratch buffers, pooled so a zero-latency
// stream allocates almost nothing per chunk.
type streamBuf struct {
	head []byte // the constant start of every chunk
	buf  []byte // the event being written
}

func (s *Server) getBuf() *streamBuf {
	b := s.bufs.Get().(*streamBuf)
	b.head, b.buf = b.head[:0], b.buf[:0]
	return b
}

func (s *Server) putBuf(b *streamBuf) {
	if cap(b.buf) <= 64<<10 && cap(b.head) <= 64<<10 {
		s.bufs.Put(b)
	}
}

// streamer writes the events of one stream: pacing content chunks by TTFT
// and TokenDelay, flushing each, and cutting the connection where the
// abort knob says.
type streamer struct {
	s     *Server
	w     http.ResponseWriter
	fl    http.Flusher
	ctx   context.Context
	k     *Knobs
	timer *time.Timer
	sent  int // content chunks written
}

// startStream sends 200 with SSE headers.
func (s *Server) startStream(w http.ResponseWriter, r *http.Request, k *Knobs, contentType []string) *streamer {
	h := w.Header()
	h["Content-Type"] = contentType
	h["Cache-Control"] = hdrNoCache
	w.WriteHeader(http.StatusOK)
	fl, _ := w.(http.Flusher)
	return &streamer{s: s, w: w, fl: fl, ctx: r.Context(), k: k}
}

func (st *streamer) close() {
	if st.timer != nil {
		st.timer.Stop()
	}
}

func (st *streamer) wait(d time.Duration) bool {
	if d <= 0 {
		return st.ctx.Err() == nil
	}
	if st.timer == nil {
		st.timer = time.NewTimer(d)
	} else {
		st.timer.Reset(d)
	}
	select {
	case <-st.timer.C:
		return true
	case <-st.ctx.Done():
	case <-st.s.done:
		cut(st.w, false)
	}
	return false
}

// write sends b at once: events that carry no content (message_start,
// block boundaries).
func (st *streamer) write(b []byte) bool {
	if _, err := st.w.Write(b); err != nil {
		return false
	}
	if st.fl != nil {
		st.fl.Flush()
	}
	return true
}

// content sends one content chunk after TTFT (the first) or TokenDelay,
// unless the abort knob cuts the stream here.
func (st *streamer) content(b []byte) bool {
	d := st.k.TokenDelay
	if st.sent == 0 {
		d = st.k.TTFT
	}
	if !st.wait(d) {
		return false
	}
	if st.k.AbortAfter > 0 && st.sent >= st.k.AbortAfter {
		cut(st.w, false)
		return false
	}
	if !st.write(b) {
		return false
	}
	st.sent++
	return true
}

// terminal sends the events that end a stream; with the abort knob set
// the stream is cut before them, whatever was sent so far. paced is for a
// terminal event that also carries content (Gemini's last chunk).
func (st *streamer) terminal(b []byte, paced bool) bool {
	if paced {
		d := st.k.TokenDelay
		if st.sent == 0 {
			d = st.k.TTFT
		}
		if !st.wait(d) {
			return false
		}
	}
	if st.k.AbortAfter > 0 {
		cut(st.w, false)
		return false
	}
	return st.write(b)
}

// apiError is an error answer before it is put in a format.
type apiError struct {
	status  int
	message string
	// typ is OpenAI's and Anthropic's error.type, Gemini's error.status;
	// empty picks the usual one for the status.
	typ        string
	code       string // OpenAI error.code
	nullCode   bool   // OpenAI error.code null even where the status has a usual code
	param      string // OpenAI error.param
	reason     string // Gemini ErrorInfo reason
	retryAfter time.Duration
}

// writeError answers with e in the format's error shape and headers.
func (s *Server) writeError(w http.ResponseWriter, format string, e apiError) {
	if e.message == "" {
		e.message = defaultMessage(e.status)
	}
	h := w.Header()
	h["Content-Type"] = hdrJSON
	var body any
	switch format {
	case fmtAnthropic:
		if e.retryAfter > 0 {
			h.Set("Retry-After", retrySeconds(e.retryAfter))
		}
		reqID := s.nextID("req_")
		h.Set("Request-Id", reqID)
		body = anthropicError{Type: "error", Error: anthropicErrorBody{Type: orDefault(e.typ, anthropicErrorType(e.status)), Message: e.message}, RequestID: reqID}
	case fmtGemini:
		g := geminiErrorBody{Code: e.status, Message: e.message, Status: orDefault(e.typ, geminiStatus(e.status))}
		if e.reason != "" {
			g.Details = append(g.Details, map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": e.reason, "domain": "googleapis.com", "metadata": map[string]string{"service": "generativelanguage.googleapis.com"}})
		}
		if e.retryAfter > 0 {
			g.Details = append(g.Details, map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": strconv.FormatFloat(e.retryAfter.Seconds(), 'f', -1, 64) + "s"})
		}
		body = geminiError{Error: g}
	default:
		if e.retryAfter > 0 {
			h.Set("Retry-After", retrySeconds(e.retryAfter))
			h.Set("Retry-After-Ms", strconv.FormatInt(e.retryAfter.Milliseconds(), 10))
		}
		h.Set("X-Request-Id", s.nextID("req_"))
		typ, code := openaiErrorType(e.status)
		if e.typ != "" {
			typ = e.typ
		}
		if e.code != "" {
			code = e.code
		}
		if e.nullCode {
			code = ""
		}
		body = openaiError{Error: openaiErrorBody{Message: e.message, Type: typ, Param: nullable(e.param), Code: nullable(code)}}
	}
	b, _ := json.Marshal(body)
	w.WriteHeader(e.status)
	_, _ = w.Write(b)
}

// retrySeconds is Retry-After in whole seconds, rounded up so a client
// never retries early.
func retrySeconds(d time.Duration) string {
	return strconv.FormatInt(int64(math.Ceil(d.Seconds())), 10)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func defaultMessage(status int) string {
	switch status {
	case 400:
		return "fakeupstream: bad request"
	case 401:
		return "fakeupstream: unauthorized"
	case 429:
		return "fakeupstream: rate limit reached for requests"
	case 500:
		return "fakeupstream: the server had an error while processing your request"
	case 503, 529:
		return "fakeupstream: the server is overloaded, please try again later"
	}
	return "fakeupstream: injected status " + strconv.Itoa(status) + " " + http.StatusText(status)
}

type openaiError struct {
	Error openaiErrorBody `json:"error"`
}

type openaiErrorBody struct {
	Message string  `json:"message"`
	Type    string  `json:"type"`
	Param   *string `json:"param"`
	Code    *string `json:"code"`
}

func openaiErrorType(status int) (typ, code string) {
	switch {
	case status == 401:
		return "invalid_request_error", "invalid_api_key"
	case status == 403:
		return "permission_error", ""
	case status == 429:
		return "requests", "rate_limit_exceeded"
	case status >= 500:
		return "server_error", ""
	}
	return "invalid_request_error", ""
}

type anthropicError struct {
	Type      string             `json:"type"`
	Error     anthropicErrorBody `json:"error"`
	RequestID string             `json:"request_id"`
}

type anthropicErrorBody struct {
	Type    string `json:"type"`
	Message string `json:"message"`
}

func anthropicErrorType(status int) string {
	switch status {
	case 401:
		return "authentication_error"
	case 403:
		return "permission_error"
	case 404:
		return "not_found_error"
	case 413:
		return "request_too_large"
	case 429:
		return "rate_limit_error"
	case 503, 529:
		return "overloaded_error"
	case 504:
		return "timeout_error"
	}
	if status >= 500 {
		return "api_error"
	}
	return "invalid_request_error"
}

type geminiError struct {
	Error geminiErrorBody `json:"error"`
}

type geminiErrorBody struct {
	Code    int              `json:"code"`
	Message string           `json:"message"`
	Status  string           `json:"status"`
	Details []map[string]any `json:"details,omitempty"`
}

func geminiStatus(status int) string {
	switch status {
	case 400:
		return "INVALID_ARGUMENT"
	case 401:
		return "UNAUTHENTICATED"
	case 403:
		return "PERMISSION_DENIED"
	case 404:
		return "NOT_FOUND"
	case 409:
		return "ABORTED"
	case 429:
		return "RESOURCE_EXHAUSTED"
	case 499:
		return "CANCELLED"
	case 501:
		return "UNIMPLEMENTED"
	case 503:
		return "UNAVAILABLE"
	case 504:
		return "DEADLINE_EXCEEDED"
	}
	if status >= 500 {
		return "INTERNAL"
	}
	return "FAILED_PRECONDITION"
}
