package alerts

import (
	"context"
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
		want := store.AlertFiring{ID: f.ID, AlertID: ev.Alert.ID, Type: ev.Alert.Type, KeyID: ev.Alert.KeyID,
			FiredAt: ev.FiredAt.UTC().Truncate(time.Millisecond), Value: ev.Value, Threshold: ev.Threshold, Message: ev.Message}
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
