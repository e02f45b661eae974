package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestClaimAlertFiring_RecordsOneRowPerWonClaim(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateAlert(ctx, Alert{ID: "err", Type: "error_rate", Threshold: 0.05, KeyID: "k1", Enabled: true}); err != nil {
				t.Fatal(err)
			}
			f := AlertFiring{AlertID: "err", Type: "error_rate", KeyID: "k1", FiredAt: t0, Value: 0.25, Threshold: 0.05,
				Message: "gateway error rate 25.0% exceeds 5.0%", Delivery: DeliveryPending}
			if won, err := s.ClaimAlertFiring(ctx, time.Time{}, f); err != nil || !won {
				t.Fatalf("first claim = %v, %v; want true", won, err)
			}
			stale := f
			stale.FiredAt = t0.Add(time.Second)
			if won, err := s.ClaimAlertFiring(ctx, time.Time{}, stale); err != nil || won {
				t.Fatalf("stale claim = %v, %v; want false", won, err)
			}
			got, err := s.ListAlertFirings(ctx, FiringQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 {
				t.Fatalf("%d firings, want 1 (a lost claim writes no row): %+v", len(got), got)
			}
			g := got[0]
			g.ID = 0
			if g != f {
				t.Fatalf("firing = %+v, want %+v", g, f)
			}
		})
	}
}

func TestClaimAlertFiring_ConcurrentClaimersRecordOneRow(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateAlert(ctx, Alert{ID: "p95", Type: "p95_latency", Threshold: 500, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			const gateways = 8
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				wins int
				errs []error
			)
			for i := range gateways {
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Each saw "never fired" and claims at its own clock.
					won, err := s.ClaimAlertFiring(ctx, time.Time{}, AlertFiring{AlertID: "p95", Type: "p95_latency",
						FiredAt: t0.Add(time.Duration(i) * time.Millisecond), Value: 900, Threshold: 500})
					mu.Lock()
					defer mu.Unlock()
					if err != nil {
						errs = append(errs, err)
					}
					if won {
						wins++
					}
				}()
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			got, err := s.ListAlertFirings(ctx, FiringQuery{AlertID: "p95"})
			if err != nil {
				t.Fatal(err)
			}
			if wins != 1 || len(got) != 1 {
				t.Fatalf("%d wins and %d rows from %d claimers, want 1 and 1", wins, len(got), gateways)
			}
			a, err := s.GetAlert(ctx, "p95")
			if err != nil {
				t.Fatal(err)
			}
			if !a.LastFiredAt.Equal(got[0].FiredAt) {
				t.Fatalf("last_fired_at %v, history row %v: the winner's claim and row disagree", a.LastFiredAt, got[0].FiredAt)
			}
		})
	}
}

func TestListAlertFirings_NewestFirstFilteredAndLimited(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			for _, id := range []string{"a", "b"} {
				if err := s.CreateAlert(ctx, Alert{ID: id, Type: "error_rate", Enabled: true}); err != nil {
					t.Fatal(err)
				}
			}
			// a fires at minutes 0, 2, 4, ...; b at 1, 3, 5, ...
			prev := map[string]time.Time{}
			for i := range 6 {
				id := []string{"a", "b"}[i%2]
				at := t0.Add(time.Duration(i) * time.Minute)
				if won, err := s.ClaimAlertFiring(ctx, prev[id], AlertFiring{AlertID: id, FiredAt: at, Value: float64(i)}); err != nil || !won {
					t.Fatalf("claim %d = %v, %v", i, won, err)
				}
				prev[id] = at
			}
			cases := []struct {
				name string
				q    FiringQuery
				want []float64 // values, newest first
			}{
				{"all, newest first", FiringQuery{}, []float64{5, 4, 3, 2, 1, 0}},
				{"one alert", FiringQuery{AlertID: "a"}, []float64{4, 2, 0}},
				{"limit", FiringQuery{Limit: 2}, []float64{5, 4}},
				{"negative limit is the default", FiringQuery{Limit: -1}, []float64{5, 4, 3, 2, 1, 0}},
				{"unknown alert", FiringQuery{AlertID: "nope"}, nil},
				{"unstorable alert id", FiringQuery{AlertID: "a\x00"}, nil},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					got, err := s.ListAlertFirings(ctx, c.q)
					if err != nil {
						t.Fatal(err)
					}
					var vals []float64
					for _, f := range got {
						vals = append(vals, f.Value)
					}
					if fmt.Sprint(vals) != fmt.Sprint(c.want) {
						t.Fatalf("values = %v, want %v", vals, c.want)
					}
				})
			}
		})
	}
}

func TestListAlertFirings_DefaultAndMaxLimit(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	s := openSQLiteStore(t)
	if err := s.CreateAlert(ctx, Alert{ID: "many", Type: "error_rate", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var prev time.Time
	for i := range MaxFiringLimit + 1 {
		at := t0.Add(time.Duration(i) * time.Second)
		if won, err := s.ClaimAlertFiring(ctx, prev, AlertFiring{AlertID: "many", FiredAt: at}); err != nil || !won {
			t.Fatalf("claim %d = %v, %v", i, won, err)
		}
		prev = at
	}
	for _, c := range []struct {
		limit, want int
	}{{0, DefaultFiringLimit}, {MaxFiringLimit + 100, MaxFiringLimit}} {
		got, err := s.ListAlertFirings(ctx, FiringQuery{Limit: c.limit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != c.want {
			t.Fatalf("limit %d: %d rows, want %d", c.limit, len(got), c.want)
		}
	}
}

func TestDeleteAlert_RemovesItsFiringHistory(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			for _, id := range []string{"gone", "kept"} {
				if err := s.CreateAlert(ctx, Alert{ID: id, Type: "error_rate", Enabled: true}); err != nil {
					t.Fatal(err)
				}
				if _, err := s.ClaimAlertFiring(ctx, time.Time{}, AlertFiring{AlertID: id, FiredAt: t0}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteAlert(ctx, "gone"); err != nil {
				t.Fatal(err)
			}
			// Recreated under the same id: a fresh rule with no history.
			if err := s.CreateAlert(ctx, Alert{ID: "gone", Type: "error_rate", Enabled: true}); err != nil {
				t.Fatal(err)
			}
			got, err := s.ListAlertFirings(ctx, FiringQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].AlertID != "kept" {
				t.Fatalf("firings after delete = %+v, want only kept's", got)
			}
			if err := s.DeleteAlert(ctx, "never"); !errors.Is(err, ErrNotFound) {
				t.Fatalf("delete missing: %v, want ErrNotFound", err)
			}
		})
	}
}

func TestSetAlertFiringDelivery_UpdatesThatFiringOnly(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateAlert(ctx, Alert{ID: "hook", Type: "error_rate", Enabled: true}); err != nil {
				t.Fatal(err)
			}
			for i, prev := range []time.Time{{}, t0} {
				at := t0.Add(time.Duration(i) * time.Hour)
				if won, err := s.ClaimAlertFiring(ctx, prev, AlertFiring{AlertID: "hook", FiredAt: at, Delivery: DeliveryPending}); err != nil || !won {
					t.Fatalf("claim %d = %v, %v", i, won, err)
				}
			}
			if err := s.SetAlertFiringDelivery(ctx, "hook", t0, "failed: 3 attempts: status 503"); err != nil {
				t.Fatal(err)
			}
			got, err := s.ListAlertFirings(ctx, FiringQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Delivery != DeliveryPending || got[1].Delivery != "failed: 3 attempts: status 503" {
				t.Fatalf("deliveries = %+v, want the older firing failed and the newer pending", got)
			}
			if err := s.SetAlertFiringDelivery(ctx, "hook", t0.Add(time.Minute), DeliveryDelivered); !errors.Is(err, ErrNotFound) {
				t.Fatalf("no firing at that time: err = %v, want ErrNotFound", err)
			}
		})
	}
}
