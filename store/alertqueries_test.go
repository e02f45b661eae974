package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestWindowStats_FailuresAndP95(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	var recs []UsageRecord
	// Key "a": 20 requests in the window with latencies 10..200; 2 upstream failures, one client
	// error and one admission refusal that must not count as failures.
	for i := range 20 {
		r := UsageRecord{TS: t0.Add(time.Duration(i) * time.Second), KeyID: "a", Provider: "openai", LatencyMS: int64(10 * (i + 1)), Status: StatusOK}
		switch i {
		case 0:
			r.Status = "unavailable"
		case 1:
			r.Status = "rate_limited" // upstream 429: the provider is set
		case 2:
			r.Status = "invalid_request"
		case 3:
			r.Status, r.Provider = "rate_limited", "" // refused by the key's own limit
		}
		recs = append(recs, r)
	}
	// Key "b": 2 timeouts in the window; one old row outside it.
	recs = append(recs,
		UsageRecord{TS: t0, KeyID: "b", Provider: "anthropic", LatencyMS: 5000, Status: "timeout"},
		UsageRecord{TS: t0.Add(time.Second), KeyID: "b", Provider: "anthropic", LatencyMS: 4000, Status: "timeout"},
		UsageRecord{TS: t0.Add(-time.Hour), KeyID: "b", Provider: "anthropic", LatencyMS: 9000, Status: "timeout"},
	)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			tests := []struct {
				name  string
				since time.Time
				key   string
				want  WindowStats
			}{
				// 95th of 20 is the 19th smallest: 190.
				{"one key", t0, "a", WindowStats{Requests: 20, Failures: 2, P95LatencyMS: 190}},
				{"other key, old row excluded", t0, "b", WindowStats{Requests: 2, Failures: 2, P95LatencyMS: 5000}},
				// 22 rows: 95th is the ceil(20.9)=21st smallest: 4000.
				{"gateway-wide", t0, "", WindowStats{Requests: 22, Failures: 4, P95LatencyMS: 4000}},
				{"empty window", t0.Add(time.Hour), "", WindowStats{}},
				{"unknown key", t0, "zz", WindowStats{}},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					got, err := s.WindowStats(ctx, tt.since, tt.key)
					if err != nil {
						t.Fatal(err)
					}
					if got != tt.want {
						t.Fatalf("WindowStats = %+v, want %+v", got, tt.want)
					}
				})
			}
		})
	}
}

func TestSpendByKey_SumsPerKeySince(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	recs := []UsageRecord{
		{TS: t0.Add(-time.Minute), KeyID: "a", CostNanos: usd(100)}, // before the period
		{TS: t0, KeyID: "a", CostNanos: usd(1.25)},
		{TS: t0.Add(time.Hour), KeyID: "a", CostNanos: usd(2.5)},
		{TS: t0.Add(time.Hour), KeyID: "b", CostNanos: usd(0.5)},
		{TS: t0.Add(time.Hour), KeyID: "", CostNanos: usd(0.125)},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			got, err := s.SpendByKey(ctx, t0)
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]int64{"a": usd(3.75), "b": usd(0.5), "": usd(0.125)}
			if len(got) != len(want) {
				t.Fatalf("SpendByKey = %v, want %v", got, want)
			}
			for k, v := range want {
				if got[k] != v {
					t.Fatalf("SpendByKey[%q] = %v, want %v (all: %v)", k, got[k], v, got)
				}
			}
			empty, err := s.SpendByKey(ctx, t0.Add(24*time.Hour))
			if err != nil || len(empty) != 0 {
				t.Fatalf("SpendByKey(later) = %v, %v; want empty", empty, err)
			}
		})
	}
}

func TestClaimAlertFiring_CompareAndSetWithCooldown(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			for _, a := range []Alert{
				{ID: "plain", Type: "error_rate", Enabled: true},
				{ID: "cool", Type: "error_rate", Enabled: true, Cooldown: time.Hour},
			} {
				if err := s.CreateAlert(ctx, a); err != nil {
					t.Fatal(err)
				}
			}
			steps := []struct {
				name     string
				id       string
				prev, at time.Time
				want     bool
			}{
				{"never fired: first claim wins", "plain", time.Time{}, t0, true},
				{"stale view of never fired loses", "plain", time.Time{}, t0.Add(time.Second), false},
				{"current view wins again without cooldown", "plain", t0, t0.Add(time.Minute), true},
				{"cooldown alert first claim", "cool", time.Time{}, t0, true},
				{"inside cooldown loses", "cool", t0, t0.Add(30 * time.Minute), false},
				{"after cooldown wins", "cool", t0, t0.Add(time.Hour), true},
			}
			for _, st := range steps {
				t.Run(st.name, func(t *testing.T) {
					got, err := s.ClaimAlertFiring(ctx, st.prev, AlertFiring{AlertID: st.id, FiredAt: st.at})
					if err != nil {
						t.Fatal(err)
					}
					if got != st.want {
						t.Fatalf("ClaimAlertFiring = %v, want %v", got, st.want)
					}
				})
			}
			a, err := s.GetAlert(ctx, "plain")
			if err != nil {
				t.Fatal(err)
			}
			if !a.LastFiredAt.Equal(t0.Add(time.Minute)) {
				t.Fatalf("last_fired_at = %v, want %v", a.LastFiredAt, t0.Add(time.Minute))
			}
			if _, err := s.ClaimAlertFiring(ctx, time.Time{}, AlertFiring{AlertID: "gone", FiredAt: t0}); !errors.Is(err, ErrNotFound) {
				t.Fatalf("missing alert: err = %v, want ErrNotFound", err)
			}
		})
	}
}
