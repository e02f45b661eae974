package alerts

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/store"
)

// webhook is an httptest receiver answering with scripted statuses (200 once the script ends).
type webhook struct {
	mu       sync.Mutex
	script   []func(w http.ResponseWriter)
	bodies   [][]byte
	times    []time.Time
	received chan struct{}
	srv      *httptest.Server
}

func newWebhook(t *testing.T, script ...func(w http.ResponseWriter)) *webhook {
	t.Helper()
	h := &webhook{script: script, received: make(chan struct{}, 100)}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies, h.times = append(h.bodies, body), append(h.times, time.Now())
		var step func(http.ResponseWriter)
		if len(h.script) > 0 {
			step, h.script = h.script[0], h.script[1:]
		}
		h.mu.Unlock()
		h.received <- struct{}{}
		if r.Header.Get("Content-Type") != "application/json" || r.Method != http.MethodPost {
			w.WriteHeader(http.StatusUnsupportedMediaType)
			return
		}
		if step != nil {
			step(w)
		}
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *webhook) count() int { h.mu.Lock(); defer h.mu.Unlock(); return len(h.bodies) }

func status(code int, header ...string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.WriteHeader(code)
	}
}

// logBuffer is an hclog logger writing to a buffer that tests can read while workers log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *logBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func testEvent(url string) Event {
	return Event{
		Alert: store.Alert{ID: "al_1", Name: "errors", Type: TypeErrorRate, Threshold: 0.05, Window: 5 * time.Minute,
			KeyID: "k1", WebhookURL: url, Enabled: true, CreatedAt: now0.Add(-time.Hour)},
		Value: 0.25, Threshold: 0.05, FiredAt: now0, Message: "key k1 error rate 25.0%",
	}
}

// waitStats polls until cond holds for the notifier's counters.
func waitStats(t *testing.T, n *Notifier, cond func(NotifierStats) bool) NotifierStats {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := n.Stats()
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out; stats %+v", st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func done(st NotifierStats) bool { return st.Delivered+st.Failed > 0 }

func TestNotifier_Delivery(t *testing.T) {
	tests := []struct {
		name      string
		script    []func(http.ResponseWriter)
		requests  int
		delivered bool
	}{
		{"first attempt succeeds", nil, 1, true},
		{"two 500s then 200", []func(http.ResponseWriter){status(500), status(502)}, 3, true},
		{"429 then 200", []func(http.ResponseWriter){status(429)}, 2, true},
		{"three 503s give up", []func(http.ResponseWriter){status(503), status(503), status(503)}, 3, false},
		{"400 is not retried", []func(http.ResponseWriter){status(400)}, 1, false},
		{"redirect is not followed", []func(http.ResponseWriter){status(307, "Location", "http://127.0.0.1:1/")}, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newWebhook(t, tt.script...)
			n := NewNotifier(WithBackoff(time.Millisecond, 5*time.Millisecond))
			t.Cleanup(func() { n.Close() })
			if !n.Send(testEvent(h.srv.URL + "/hook")) {
				t.Fatal("Send refused")
			}
			st := waitStats(t, n, done)
			if got := h.count(); got != tt.requests {
				t.Fatalf("receiver saw %d requests, want %d", got, tt.requests)
			}
			if (st.Delivered == 1) != tt.delivered {
				t.Fatalf("stats %+v, want delivered=%v", st, tt.delivered)
			}
		})
	}
}

func TestNotifier_PayloadShape(t *testing.T) {
	h := newWebhook(t)
	n := NewNotifier()
	defer n.Close()
	n.Send(testEvent(h.srv.URL + "/hook?token=s3cret"))
	waitStats(t, n, done)
	var got map[string]any
	if err := json.Unmarshal(h.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"alert", "type", "value", "threshold", "key_id", "fired_at", "message"} {
		if _, ok := got[k]; !ok {
			t.Errorf("payload lacks %q: %s", k, h.bodies[0])
		}
	}
	if got["type"] != TypeErrorRate || got["value"] != 0.25 || got["threshold"] != 0.05 || got["key_id"] != "k1" ||
		got["fired_at"] != "2026-05-10T12:00:00Z" {
		t.Errorf("payload = %s", h.bodies[0])
	}
	a, _ := got["alert"].(map[string]any)
	if a["id"] != "al_1" || a["window"] != "5m0s" {
		t.Errorf("payload alert = %v", a)
	}
	if strings.Contains(string(h.bodies[0]), "s3cret") {
		t.Errorf("payload repeats the webhook URL: %s", h.bodies[0])
	}
}

func TestNotifier_HonoursRetryAfter(t *testing.T) {
	h := newWebhook(t, status(http.StatusTooManyRequests, "Retry-After", "1"))
	n := NewNotifier(WithBackoff(time.Millisecond, time.Millisecond))
	defer n.Close()
	n.Send(testEvent(h.srv.URL))
	if st := waitStats(t, n, done); st.Delivered != 1 {
		t.Fatalf("stats %+v, want delivered", st)
	}
	if gap := h.times[1].Sub(h.times[0]); gap < time.Second {
		t.Fatalf("retried after %v, want at least the 1s Retry-After", gap)
	}
}

func TestNotifier_RetryAfterBeyondCapGivesUp(t *testing.T) {
	h := newWebhook(t, status(http.StatusServiceUnavailable, "Retry-After", "3600"))
	n := NewNotifier(WithBackoff(time.Millisecond, time.Millisecond), WithMaxRetryAfter(time.Second))
	defer n.Close()
	n.Send(testEvent(h.srv.URL))
	if st := waitStats(t, n, done); st.Failed != 1 || h.count() != 1 {
		t.Fatalf("stats %+v after %d requests, want one failed attempt", st, h.count())
	}
}

func TestNotifier_NetworkErrorsRetriedAndLoggedWithoutURL(t *testing.T) {
	h := newWebhook(t)
	url := h.srv.URL + "/hook?token=s3cret"
	h.srv.Close() // connection refused from now on
	var logs logBuffer
	n := NewNotifier(WithBackoff(time.Millisecond, time.Millisecond),
		WithNotifierLogger(hclog.New(&hclog.LoggerOptions{Output: &logs, Level: hclog.Info})))
	defer n.Close()
	n.Send(testEvent(url))
	if st := waitStats(t, n, done); st.Failed != 1 {
		t.Fatalf("stats %+v, want failed", st)
	}
	out := logs.String()
	if !strings.Contains(out, "alert delivery failed") || !strings.Contains(out, "3 attempts") {
		t.Fatalf("log = %q, want a warning after 3 attempts", out)
	}
	if strings.Contains(out, "s3cret") || strings.Contains(out, "/hook") {
		t.Fatalf("log leaks the webhook URL: %q", out)
	}
}

func TestNotifier_FullQueueDropsWithoutBlocking(t *testing.T) {
	release := make(chan struct{})
	h := newWebhook(t, func(w http.ResponseWriter) { <-release })
	var logs logBuffer
	n := NewNotifier(WithQueueSize(1), WithWorkers(1),
		WithNotifierLogger(hclog.New(&hclog.LoggerOptions{Output: &logs})))
	defer n.Close()
	defer close(release)
	ev := testEvent(h.srv.URL)
	if !n.Send(ev) {
		t.Fatal("first Send refused")
	}
	<-h.received // the only worker is now busy with the first event
	if !n.Send(ev) {
		t.Fatal("second Send refused: the queue has room for one")
	}
	start := time.Now()
	if n.Send(ev) {
		t.Fatal("third Send accepted by a full queue")
	}
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("Send blocked on a full queue")
	}
	if st := n.Stats(); st.Dropped != 1 {
		t.Fatalf("stats %+v, want one dropped", st)
	}
	if !strings.Contains(logs.String(), "queue full") {
		t.Fatalf("drop not logged: %q", logs.String())
	}
}

func TestNotifier_CloseAbortsStuckDeliveriesAfterGrace(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	h := newWebhook(t, func(w http.ResponseWriter) { <-release })
	n := NewNotifier(WithCloseGrace(50*time.Millisecond), WithTimeout(time.Minute))
	n.Send(testEvent(h.srv.URL))
	<-h.received
	start := time.Now()
	n.Close()
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d)
	}
	if st := n.Stats(); st.Failed != 1 {
		t.Fatalf("stats %+v, want the stuck delivery failed", st)
	}
	if n.Send(testEvent(h.srv.URL)) {
		t.Fatal("Send accepted after Close")
	}
}

func TestNotifier_EventWithoutWebhookIsOnlyLogged(t *testing.T) {
	n := NewNotifier()
	defer n.Close()
	if !n.Send(testEvent("")) {
		t.Fatal("Send refused an event without webhook")
	}
	if st := n.Stats(); st != (NotifierStats{}) {
		t.Fatalf("stats %+v, want nothing delivered", st)
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"2", 2 * time.Second},
		{"-1", 0},
		{"soon", 0},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := parseRetryAfter(tt.in, now); got != tt.want {
				t.Fatalf("parseRetryAfter(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
