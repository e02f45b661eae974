package alerts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/backoff"
	"github.com/switchyard/switchyard/store"
)

// Event is one firing of a rule.
type Event struct {
	Alert store.Alert
	// Value is what was measured: USD spent, failed fraction, p95 milliseconds, or a provider's
	// share.
	Value float64
	// Threshold is the rule's threshold; a budget rule fires at FireAt * Threshold.
	Threshold float64
	FiredAt   time.Time
	Message   string
	// Share says which provider a provider_share firing is about; nil for other types.
	Share *ProviderShare
	// report, when set, is told what became of the delivery (store.DeliveryDelivered,
	// "failed: …", "dropped: …").
	report func(outcome string)
}

func (ev Event) done(outcome string) {
	if ev.report != nil {
		ev.report(outcome)
	}
}

// maxOutcome bounds a failure reason kept in the firing history.
const maxOutcome = 300

// payloadAlert is the rule as webhook receivers see it: never the webhook URL (it often carries
// a token) nor the notification e-mail.
type payloadAlert struct {
	ID             string    `json:"id"`
	Name           string    `json:"name,omitempty"`
	Type           string    `json:"type"`
	Threshold      float64   `json:"threshold"`
	Currency       string    `json:"currency,omitempty"`
	Period         string    `json:"period,omitempty"`
	Window         string    `json:"window,omitempty"`
	FireAtFraction float64   `json:"fire_at_fraction,omitempty"`
	Measure        string    `json:"measure,omitempty"`
	Provider       string    `json:"provider,omitempty"` // the watched one; absent when it watches each
	KeyID          string    `json:"key_id"`
	CreatedAt      time.Time `json:"created_at"`
}

type payload struct {
	Alert     payloadAlert `json:"alert"`
	Type      string       `json:"type"`
	Value     float64      `json:"value"`
	Threshold float64      `json:"threshold"`
	KeyID     string       `json:"key_id"`
	FiredAt   time.Time    `json:"fired_at"`
	Message   string       `json:"message"`
	// ProviderShare is set for provider_share only, so the other payloads are unchanged.
	ProviderShare *payloadShare `json:"provider_share,omitempty"`
}

// payloadShare names the provider a receiver has to act on, which a rule watching each
// provider does not: the message alone would have to be parsed for it.
type payloadShare struct {
	Provider         string  `json:"provider"`
	Share            float64 `json:"share"`
	Measure          string  `json:"measure"`
	Window           string  `json:"window"`
	ProviderRequests int64   `json:"provider_requests"`
	Requests         int64   `json:"requests"`
	ProviderCostUSD  float64 `json:"provider_cost_usd"`
	CostUSD          float64 `json:"cost_usd"`
}

// Payload is the JSON body POSTed to the webhook.
func (ev Event) Payload() ([]byte, error) {
	a := ev.Alert
	pa := payloadAlert{ID: a.ID, Name: a.Name, Type: a.Type, Threshold: a.Threshold, KeyID: a.KeyID, CreatedAt: a.CreatedAt.UTC()}
	if a.Type == TypeBudget {
		pa.Period, pa.FireAtFraction, pa.Currency = PeriodName(Period(a)), FireAt(a), "USD"
	} else {
		pa.Window = Window(a).String()
	}
	p := payload{Alert: pa, Type: a.Type, Value: ev.Value, Threshold: ev.Threshold, KeyID: a.KeyID,
		FiredAt: ev.FiredAt.UTC(), Message: ev.Message}
	if a.Type == TypeProviderShare {
		pa.Measure, pa.Provider = Measure(a), WatchedProvider(a)
		p.Alert = pa
		if sh := ev.Share; sh != nil {
			p.ProviderShare = &payloadShare{Provider: sh.Provider, Share: sh.Share, Measure: sh.Measure,
				Window: sh.Window.String(), ProviderRequests: sh.ProviderCalls, Requests: sh.Calls,
				ProviderCostUSD: float64(sh.ProviderCostNanos) / 1e9, CostUSD: float64(sh.CostNanos) / 1e9}
		}
	}
	return json.Marshal(p)
}

// Notifier delivers events to their webhooks off the caller's goroutine: a bounded queue drained
// by a few workers, each delivery with a per-attempt timeout and retries with exponential backoff
// on network errors, 5xx and 429 (waiting at least Retry-After).
type Notifier struct {
	client        *http.Client
	log           hclog.Logger
	timeout       time.Duration
	attempts      int
	backoff       time.Duration
	maxBackoff    time.Duration
	rnd           func() float64 // [0,1) for backoff jitter; goroutine-safe
	maxRetryAfter time.Duration
	grace         time.Duration
	workers       int

	mu     sync.RWMutex // guards closed against Send racing Close
	closed bool
	queue  chan Event
	ctx    context.Context // cancelled when Close's grace ends: aborts requests and backoff sleeps
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once

	delivered, failed, dropped atomic.Int64
}

// NotifierOption configures a Notifier.
type NotifierOption func(*Notifier)

// WithHTTPClient sets the client (default: a dedicated transport, redirects not followed).
func WithHTTPClient(c *http.Client) NotifierOption { return func(n *Notifier) { n.client = c } }

// WithNotifierLogger sets the logger for firings that fail to deliver.
func WithNotifierLogger(l hclog.Logger) NotifierOption { return func(n *Notifier) { n.log = l } }

// WithTimeout sets the per-attempt timeout (default 5s, capped at 1m).
func WithTimeout(d time.Duration) NotifierOption { return func(n *Notifier) { n.timeout = d } }

// WithAttempts sets how many times one delivery is tried (default 3, 1..10).
func WithAttempts(k int) NotifierOption { return func(n *Notifier) { n.attempts = k } }

// WithBackoff sets the first retry delay and the cap of its doubling (default 1s and 30s).
func WithBackoff(base, maxDelay time.Duration) NotifierOption {
	return func(n *Notifier) { n.backoff, n.maxBackoff = base, maxDelay }
}

// WithMaxRetryAfter caps the Retry-After a receiver may ask for; asking for more gives up the
// delivery rather than holding a worker (default 1m).
func WithMaxRetryAfter(d time.Duration) NotifierOption {
	return func(n *Notifier) { n.maxRetryAfter = d }
}

// WithQueueSize bounds pending deliveries (default 64, 1..10000); a full queue drops.
func WithQueueSize(k int) NotifierOption {
	return func(n *Notifier) { n.queue = make(chan Event, min(max(k, 1), 10000)) }
}

// WithWorkers sets concurrent deliveries (default 2, 1..32).
func WithWorkers(k int) NotifierOption { return func(n *Notifier) { n.workers = k } }

// WithCloseGrace sets how long Close lets queued deliveries finish (default 5s).
func WithCloseGrace(d time.Duration) NotifierOption { return func(n *Notifier) { n.grace = d } }

// NewNotifier starts the delivery workers; Close stops them.
func NewNotifier(opts ...NotifierOption) *Notifier {
	n := &Notifier{timeout: 5 * time.Second, attempts: 3, backoff: time.Second, maxBackoff: 30 * time.Second,
		rnd: rand.Float64, maxRetryAfter: time.Minute, grace: 5 * time.Second, workers: 2}
	for _, o := range opts {
		o(n)
	}
	if n.log == nil {
		n.log = hclog.NewNullLogger()
	}
	if n.timeout <= 0 {
		n.timeout = 5 * time.Second
	}
	n.timeout = min(n.timeout, time.Minute)
	n.attempts = min(max(n.attempts, 1), 10)
	if n.backoff <= 0 {
		n.backoff = time.Second
	}
	n.maxBackoff = max(n.maxBackoff, n.backoff)
	if n.maxRetryAfter <= 0 {
		n.maxRetryAfter = time.Minute
	}
	if n.grace < 0 {
		n.grace = 0
	}
	n.workers = min(max(n.workers, 1), 32)
	if n.queue == nil {
		n.queue = make(chan Event, 64)
	}
	if n.client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = n.workers
		n.client = &http.Client{
			Transport: tr,
			// A webhook that redirects is misconfigured; following it would re-send the POST
			// to wherever the receiver points, possibly inside our network.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	n.ctx, n.cancel = context.WithCancel(context.Background())
	for range n.workers {
		n.wg.Go(n.work)
	}
	return n
}

// Send queues ev for delivery without blocking. It reports false when the queue is full or the
// Notifier is closed; the event is then dropped (and logged). Events without a webhook URL are
// accepted and not delivered: their firing is only logged.
func (n *Notifier) Send(ev Event) bool {
	if ev.Alert.WebhookURL == "" {
		return true
	}
	if reason := n.enqueue(ev); reason != "" {
		ev.done("dropped: " + reason)
		return false
	}
	return true
}

// enqueue queues ev, or says why not.
func (n *Notifier) enqueue(ev Event) string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		n.dropped.Add(1)
		n.log.Warn("alert delivery dropped: notifier closed", "alert_id", ev.Alert.ID)
		return "notifier closed"
	}
	select {
	case n.queue <- ev:
		return ""
	default:
		n.dropped.Add(1)
		n.log.Warn("alert delivery dropped: queue full", "alert_id", ev.Alert.ID, "queue", cap(n.queue))
		return "queue full"
	}
}

// NotifierStats counts deliveries since start.
type NotifierStats struct {
	Delivered, Failed, Dropped int64
}

// Stats returns the delivery counters.
func (n *Notifier) Stats() NotifierStats {
	return NotifierStats{Delivered: n.delivered.Load(), Failed: n.failed.Load(), Dropped: n.dropped.Load()}
}

// Close stops accepting events, lets queued deliveries finish for the grace period, then aborts
// the rest and waits for the workers.
func (n *Notifier) Close() error {
	n.once.Do(func() {
		n.mu.Lock()
		n.closed = true
		close(n.queue)
		n.mu.Unlock()
		done := make(chan struct{})
		go func() { n.wg.Wait(); close(done) }()
		t := time.NewTimer(n.grace)
		defer t.Stop()
		select {
		case <-done:
		case <-t.C:
			n.cancel()
			<-done
		}
		n.cancel()
	})
	return nil
}

func (n *Notifier) work() {
	for ev := range n.queue {
		if err := n.deliver(n.ctx, ev); err != nil {
			n.failed.Add(1)
			n.log.Warn("alert delivery failed", "alert_id", ev.Alert.ID, "type", ev.Alert.Type, "error", err)
			reason := []rune("failed: " + err.Error()) // deliver's errors never hold the URL
			ev.done(string(reason[:min(len(reason), maxOutcome)]))
			continue
		}
		n.delivered.Add(1)
		ev.done(store.DeliveryDelivered)
	}
}

// errPermanent marks an answer that retrying cannot fix (4xx other than 408/429).
var errPermanent = errors.New("permanent failure")

// deliver POSTs ev, retrying transient failures. Errors never contain the URL.
func (n *Notifier) deliver(ctx context.Context, ev Event) error {
	body, err := ev.Payload()
	if err != nil {
		return fmt.Errorf("encode payload: %w", err)
	}
	var last error
	for attempt := range n.attempts {
		if attempt > 0 {
			var floor time.Duration
			var ra *retryAfterError
			if errors.As(last, &ra) {
				if ra.after > n.maxRetryAfter {
					return fmt.Errorf("attempt %d: %w; Retry-After %s exceeds the %s cap, giving up", attempt, last, ra.after, n.maxRetryAfter)
				}
				floor = ra.after
			}
			wait := n.backoffFor(attempt, floor)
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return fmt.Errorf("attempt %d: %w; aborted: %w", attempt, last, ctx.Err())
			case <-t.C:
			}
		}
		last = n.post(ctx, ev.Alert.WebhookURL, body)
		if last == nil {
			return nil
		}
		if errors.Is(last, errPermanent) || ctx.Err() != nil {
			return fmt.Errorf("attempt %d: %w", attempt+1, last)
		}
	}
	return fmt.Errorf("%d attempts: %w", n.attempts, last)
}

// backoffFor is base * 2^(attempt-1), capped, plus up to 20% jitter so that receivers
// recovering from an outage are not hit by every gateway at once, and at least floor (the
// receiver's Retry-After).
func (n *Notifier) backoffFor(attempt int, floor time.Duration) time.Duration {
	return backoff.Policy{Base: n.backoff, Max: n.maxBackoff}.Spread(attempt-1, 0.2, n.rnd, floor)
}

type retryAfterError struct {
	status int
	after  time.Duration
}

func (e *retryAfterError) Error() string { return "status " + strconv.Itoa(e.status) }

func (n *Notifier) post(ctx context.Context, rawURL string, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, rawURL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: invalid webhook URL", errPermanent)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "switchyard-alerts")
	resp, err := n.client.Do(req)
	if err != nil {
		// *url.Error quotes the URL, which may hold a token: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("post: %w", err)
	}
	// Drain a little so the connection can be reused; receivers' answers are not read.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusRequestTimeout ||
		resp.StatusCode >= 500:
		return &retryAfterError{status: resp.StatusCode, after: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	default:
		return fmt.Errorf("%w: status %d", errPermanent, resp.StatusCode)
	}
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(min(s, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
