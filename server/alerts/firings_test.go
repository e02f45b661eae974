package alerts

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/store"
)

// checkHistory fails unless the store's firing history is exactly the firings sent, newest
// first: one row per firing, with what the webhook carried.
func checkHistory(t *testing.T, s *store.Store, sent []Event) {
	t.Helper()
	got, err := s.ListAlertFirings(context.Background(), store.FiringQuery{Limit: store.MaxFiringLimit})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(sent) {
		t.Fatalf("%d firings in the history, %d sent: %+v", len(got), len(sent), got)
	}
	for i, f := range got {
		ev := sent[len(sent)-1-i]
		delivery := store.DeliveryNone // a recorder reports no outcome: pending stays
		if ev.Alert.WebhookURL != "" {
			delivery = store.DeliveryPending
		}
		want := store.AlertFiring{ID: f.ID, AlertID: ev.Alert.ID, Type: ev.Alert.Type, KeyID: ev.Alert.KeyID,
			FiredAt: ev.FiredAt.UTC().Truncate(time.Millisecond), Value: ev.Value, Threshold: ev.Threshold, Message: ev.Message,
			Delivery: delivery}
		if f != want {
			t.Fatalf("history[%d] = %+v, want %+v", i, f, want)
		}
	}
}

func (r *recorder) sent() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Two gateways take turns evaluating the same rule through two incidents: the history has one
// row per incident, whichever gateway won each claim.
func TestEvaluate_TwoGatewaysRecordOneFiringPerIncident(t *testing.T) {
	s := openStore(t)
	mustCreate(t, s, store.Alert{ID: "err", Type: TypeErrorRate, Threshold: 0.05, Window: time.Minute, Enabled: true})
	c := &clock{t: now0}
	rec := newRecorder()
	gateways := []*Evaluator{newTestEvaluator(t, s, rec, c), newTestEvaluator(t, s, rec, c)}
	ctx := context.Background()
	steps := []struct {
		name   string
		at     time.Time
		ledger []store.UsageRecord
		rows   int // history rows so far
	}{
		{"incident starts", now0, requests("", now0, 20, 10, 10), 1},
		{"still failing", now0.Add(30 * time.Second), requests("", now0.Add(30*time.Second), 20, 10, 10), 1},
		{"quiet window ends it", now0.Add(5 * time.Minute), nil, 1},
		{"second incident", now0.Add(10 * time.Minute), requests("", now0.Add(10*time.Minute), 20, 10, 10), 2},
		{"second incident continues", now0.Add(10*time.Minute + 30*time.Second), requests("", now0.Add(10*time.Minute+30*time.Second), 20, 10, 10), 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			c.set(st.at)
			mustInsert(t, s, st.ledger...)
			for _, e := range gateways {
				if err := e.Evaluate(ctx); err != nil {
					t.Fatal(err)
				}
			}
			sent := rec.sent()
			if len(sent) != st.rows {
				t.Fatalf("%d firings sent, want %d", len(sent), st.rows)
			}
			checkHistory(t, s, sent)
		})
	}
}

// The webhook's outcome reaches the firing's row: delivered, failed with its reason, dropped.
func TestEvaluate_RecordsDeliveryOutcome(t *testing.T) {
	tests := []struct {
		name    string
		answer  int  // webhook status; 0 = no webhook
		closed  bool // the notifier is closed before the pass
		want    string
		wantPre string // want is a prefix
	}{
		{name: "delivered", answer: http.StatusOK, want: store.DeliveryDelivered},
		{name: "refused by the receiver", answer: http.StatusBadRequest, wantPre: "failed: attempt 1: "},
		{name: "notifier closed", answer: http.StatusOK, closed: true, want: "dropped: notifier closed"},
		{name: "no webhook", want: store.DeliveryNone},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openStore(t)
			a := store.Alert{ID: "err", Type: TypeErrorRate, Threshold: 0.05, Enabled: true}
			if tt.answer != 0 {
				a.WebhookURL = newWebhook(t, status(tt.answer)).srv.URL
			}
			mustCreate(t, s, a)
			mustInsert(t, s, requests("", now0, 20, 10, 10)...)
			n := NewNotifier(WithBackoff(time.Millisecond, time.Millisecond))
			t.Cleanup(func() { n.Close() })
			if tt.closed {
				n.Close()
			}
			if err := newTestEvaluator(t, s, n, &clock{t: now0}).Evaluate(context.Background()); err != nil {
				t.Fatal(err)
			}
			var got string
			for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
				fs, err := s.ListAlertFirings(context.Background(), store.FiringQuery{})
				if err != nil {
					t.Fatal(err)
				}
				if len(fs) != 1 {
					t.Fatalf("%d firings, want 1", len(fs))
				}
				if got = fs[0].Delivery; got != store.DeliveryPending {
					break
				}
			}
			if tt.wantPre != "" && !strings.HasPrefix(got, tt.wantPre) || tt.wantPre == "" && got != tt.want {
				t.Fatalf("delivery = %q, want %q%q", got, tt.want, tt.wantPre)
			}
			if strings.Contains(got, "127.0.0.1") {
				t.Fatalf("delivery outcome leaks the webhook URL: %q", got)
			}
		})
	}
}
