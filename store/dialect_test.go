package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// Behaviour that differs between SQLite and Postgres unless the store evens it out. Each test
// runs on both backends (Postgres when SWITCHYARD_TEST_POSTGRES is set; make test-go sets it).

func TestInsertUsage_TextPostgresRejectsIsStoredNotLost(t *testing.T) {
	// Postgres refuses NUL and invalid UTF-8 in TEXT; SQLite stores them. Request ids come from
	// client headers, so one odd request must not sink the other rows of its batch.
	tests := []struct {
		name, in, want string
	}{
		{"nul byte", "req\x00id", "req\uFFFDid"},
		{"invalid utf-8", "req\xffid", "req\uFFFDid"},
		{"truncated multibyte", "model-\xe2\x82", "model-\uFFFD"},
		{"valid unicode kept", "modèle-✓", "modèle-✓"},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					ctx := context.Background()
					s := b.open(t)
					recs := []UsageRecord{
						{RequestID: "before", TS: day0},
						{RequestID: tt.in, TS: day0, Model: tt.in, Route: tt.in, Status: tt.in, Cache: tt.in},
						{RequestID: "after", TS: day0},
					}
					if err := s.InsertUsage(ctx, recs); err != nil {
						t.Fatalf("batch lost: %v", err)
					}
					var ids []string
					rows, err := s.db.QueryContext(ctx, `SELECT request_id, model, route, status, cache FROM usage ORDER BY id`)
					if err != nil {
						t.Fatal(err)
					}
					defer rows.Close()
					for rows.Next() {
						var id, model, route, status, cache string
						if err := rows.Scan(&id, &model, &route, &status, &cache); err != nil {
							t.Fatal(err)
						}
						if id == tt.want && (model != tt.want || route != tt.want || status != tt.want || cache != tt.want) {
							t.Errorf("columns %q %q %q %q, want %q", model, route, status, cache, tt.want)
						}
						ids = append(ids, id)
					}
					if want := []string{"before", tt.want, "after"}; !slices.Equal(ids, want) {
						t.Fatalf("request ids %q, want %q", ids, want)
					}
				})
			}
		})
	}
}

func TestUsage_CostsSumExactly(t *testing.T) {
	// 1,000 requests of $0.00000615: a float ledger summed to 0.006149999999999…; nano-dollar
	// integers sum to exactly 6,150,000, and the estimated ones are counted.
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			recs := make([]UsageRecord, 1000)
			for i := range recs {
				recs[i] = UsageRecord{TS: day0, CostNanos: 6150, Estimated: i%4 == 0}
			}
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			_, total, err := s.Usage(ctx, UsageQuery{})
			if err != nil {
				t.Fatal(err)
			}
			if total.Requests != 1000 || total.CostNanos != 6_150_000 || total.Estimated != 250 {
				t.Fatalf("total %+v, want 1000 requests, 6150000 nano-dollars, 250 estimated", total)
			}
		})
	}
}

func TestPutRoutingConfig_ConcurrentWriters(t *testing.T) {
	const n = 8
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Run("unconditional puts all succeed with distinct versions", func(t *testing.T) {
				ctx := context.Background()
				s := b.open(t)
				versions := make([]int64, n)
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						rc, err := s.PutRoutingConfig(ctx, json.RawMessage(fmt.Sprintf(`{"writer":%d}`, i)), "", time.Time{}, AnyVersion)
						versions[i], errs[i] = rc.Version, err
					})
				}
				wg.Wait()
				if err := errors.Join(errs...); err != nil {
					t.Fatalf("unconditional put failed under concurrency: %v", err)
				}
				slices.Sort(versions)
				for i, v := range versions {
					if v != int64(i+1) {
						t.Fatalf("versions %v, want 1..%d", versions, n)
					}
				}
			})
			t.Run("conditional puts on one version: exactly one wins", func(t *testing.T) {
				ctx := context.Background()
				s := b.open(t)
				if _, err := s.PutRoutingConfig(ctx, json.RawMessage(`{}`), "", time.Time{}, 0); err != nil {
					t.Fatal(err)
				}
				errs := make([]error, n)
				var wg sync.WaitGroup
				for i := range n {
					wg.Go(func() {
						_, errs[i] = s.PutRoutingConfig(ctx, json.RawMessage(`{"x":1}`), "", time.Time{}, 1)
					})
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, ErrConflict):
						t.Fatalf("loser got %v, want ErrConflict", err)
					}
				}
				if won != 1 {
					t.Fatalf("%d writers won, want 1", won)
				}
			})
		})
	}
}

func TestMarkAlertFired_ConcurrentGatewaysFireOnce(t *testing.T) {
	const n = 8
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.CreateAlert(ctx, Alert{ID: "a", Type: "error_rate", Cooldown: time.Hour, Enabled: true}); err != nil {
				t.Fatal(err)
			}
			at := time.Now()
			won := make([]bool, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() { won[i], errs[i] = s.MarkAlertFired(ctx, "a", at) })
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				t.Fatal(err)
			}
			if c := len(slices.DeleteFunc(won, func(w bool) bool { return !w })); c != 1 {
				t.Fatalf("%d gateways fired, want 1", c)
			}
		})
	}
}

func TestStore_PreparedStatementsWork(t *testing.T) {
	// database/sql's Prepare is the usual way to reuse a query; it must not be SQLite-only.
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, usageFixture()); err != nil {
				t.Fatal(err)
			}
			st, err := s.db.PrepareContext(ctx, s.d.q(`SELECT COUNT(*) FROM usage WHERE key_id = ?`))
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			defer st.Close()
			want := map[string]int64{}
			for _, r := range usageFixture() {
				want[r.KeyID]++
			}
			for key, w := range want {
				var got int64
				if err := st.QueryRowContext(ctx, key).Scan(&got); err != nil || got != w {
					t.Fatalf("key %q: %d rows (%v), want %d", key, got, err, w)
				}
			}
			del, err := s.db.PrepareContext(ctx, s.d.q(`DELETE FROM usage WHERE key_id = ?`))
			if err != nil {
				t.Fatalf("prepare: %v", err)
			}
			defer del.Close()
			for key, w := range want {
				res, err := del.ExecContext(ctx, key)
				if err != nil {
					t.Fatal(err)
				}
				if n, _ := res.RowsAffected(); n != w {
					t.Fatalf("deleted %d rows of key %q, want %d", n, key, w)
				}
			}
		})
	}
}

func TestMetrics_P95NearestRankOnBothBackends(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			empty, err := s.Metrics(ctx, time.Time{})
			if err != nil || empty != (Metrics{}) {
				t.Fatalf("empty ledger: %+v %v", empty, err)
			}
			recs := make([]UsageRecord, 20)
			for i := range recs {
				recs[i] = UsageRecord{TS: day0, LatencyMS: int64(20 - i)}
			}
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			m, err := s.Metrics(ctx, time.Time{})
			if err != nil || m.P95LatencyMS != 19 || m.AvgLatencyMS != 10.5 {
				t.Fatalf("p95 %v avg %v (%v), want 19 and 10.5", m.P95LatencyMS, m.AvgLatencyMS, err)
			}
		})
	}
}

func TestListings_SortTextByBytesOnBothBackends(t *testing.T) {
	// Code-point order: "B" (0x42) < "_z" (0x5f) < "a" (0x61) < "é". A linguistic collation
	// (en-US) would give "_z", "a", "B", "é" instead.
	ids := []string{"a", "é", "_z", "B"}
	want := []string{"B", "_z", "a", "é"}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			created := ms(time.Now()) // equal timestamps: the id decides
			var recs []UsageRecord
			for _, id := range ids {
				recs = append(recs, UsageRecord{TS: day0, KeyID: id, Provider: "p" + id})
				if err := s.CreateClientKey(ctx, ClientKey{ID: id, Hash: HashClientKey(id), CreatedAt: created}); err != nil {
					t.Fatal(err)
				}
				if err := s.CreateAlert(ctx, Alert{ID: id, Type: "t", CreatedAt: created}); err != nil {
					t.Fatal(err)
				}
				if err := s.AddProviderKey(ctx, newTestSealer(t), ProviderKey{Provider: "p" + id, KeyID: id, CreatedAt: created}, "secret"); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.InsertUsage(ctx, recs); err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			keys, err1 := s.ListClientKeys(ctx)
			for _, k := range keys {
				got["client keys"] = append(got["client keys"], k.ID)
			}
			alerts, err2 := s.ListAlerts(ctx, "")
			for _, a := range alerts {
				got["alerts"] = append(got["alerts"], a.ID)
			}
			pks, err3 := s.ListProviderKeys(ctx, "")
			for _, k := range pks {
				got["provider keys"] = append(got["provider keys"], k.KeyID)
			}
			rows, _, err4 := s.Usage(ctx, UsageQuery{GroupBy: []string{GroupDay, GroupKey}})
			for _, r := range rows {
				got["usage by day, key"] = append(got["usage by day, key"], r.KeyID)
			}
			rows, _, err5 := s.Usage(ctx, UsageQuery{GroupBy: []string{GroupProvider}})
			for _, r := range rows {
				got["usage by provider"] = append(got["usage by provider"], r.Provider[1:])
			}
			if err := errors.Join(err1, err2, err3, err4, err5); err != nil {
				t.Fatal(err)
			}
			for _, what := range []string{"client keys", "alerts", "provider keys", "usage by day, key", "usage by provider"} {
				if !slices.Equal(got[what], want) {
					t.Errorf("%s in order %q, want %q", what, got[what], want)
				}
			}
		})
	}
}

func TestText_UnstorableRefusedOrNotFoundOnBothBackends(t *testing.T) {
	// Postgres cannot hold NUL or invalid UTF-8 in TEXT. Writes are refused with ErrInvalidText
	// on both backends; lookups by such an id are plain not-found, never a driver error.
	for _, bad := range []string{"nul\x00", "bad\xff"} {
		for _, b := range backends(t) {
			t.Run(fmt.Sprintf("%s/%q", b.name, bad), func(t *testing.T) {
				ctx := context.Background()
				s := b.open(t)
				sl := newTestSealer(t)
				if err := s.CreateClientKey(ctx, ClientKey{ID: "k", Hash: "h"}); err != nil {
					t.Fatal(err)
				}
				if err := s.CreateAlert(ctx, Alert{ID: "a", Type: "t"}); err != nil {
					t.Fatal(err)
				}
				if err := s.AddProviderKey(ctx, sl, ProviderKey{Provider: "p", KeyID: "k"}, "secret"); err != nil {
					t.Fatal(err)
				}
				writes := map[string]error{
					"create client key id":   s.CreateClientKey(ctx, ClientKey{ID: bad, Hash: "h2"}),
					"create client key name": s.CreateClientKey(ctx, ClientKey{ID: "k2", Name: bad, Hash: "h2"}),
					"update client key name": s.UpdateClientKey(ctx, ClientKey{ID: "k", Name: bad}),
					"create alert webhook":   s.CreateAlert(ctx, Alert{ID: "a2", Type: "t", WebhookURL: bad}),
					"update alert name":      s.UpdateAlert(ctx, Alert{ID: "a", Type: "t", Name: bad}),
					"add provider key label": s.AddProviderKey(ctx, sl, ProviderKey{Provider: "p", KeyID: "k2", Label: bad}, "secret"),
					"update provider label":  s.UpdateProviderKey(ctx, ProviderKey{Provider: "p", KeyID: "k", Label: bad}),
				}
				if bad == "bad\xff" { // a raw NUL is not JSON at all; invalid UTF-8 in a string passes json.Valid
					_, err := s.PutRoutingConfig(ctx, json.RawMessage(`{"name":"`+bad+`"}`), "", time.Time{}, AnyVersion)
					writes["routing config doc"] = err
				}
				_, err := s.PutRoutingConfig(ctx, json.RawMessage(`{}`), bad, time.Time{}, AnyVersion)
				writes["routing config updated by"] = err
				for what, err := range writes {
					if !errors.Is(err, ErrInvalidText) {
						t.Errorf("%s: %v, want ErrInvalidText", what, err)
					}
				}

				_, e1 := s.GetClientKey(ctx, bad)
				_, e2 := s.ClientKeyByHash(ctx, bad)
				_, e3 := s.GetAlert(ctx, bad)
				_, e4 := s.MarkAlertFired(ctx, bad, time.Now())
				_, e5 := s.GetProviderKey(ctx, bad, "k")
				_, e6 := s.RevealProviderKey(ctx, sl, "p", bad)
				lookups := map[string]error{
					"get client key": e1, "client key by hash": e2, "revoke client key": s.RevokeClientKey(ctx, bad, time.Time{}),
					"update client key": s.UpdateClientKey(ctx, ClientKey{ID: bad}), "delete client key": s.DeleteClientKey(ctx, bad),
					"get alert": e3, "mark alert fired": e4, "update alert": s.UpdateAlert(ctx, Alert{ID: bad, Type: "t"}),
					"delete alert": s.DeleteAlert(ctx, bad), "get provider key": e5, "reveal provider key": e6,
					"update provider key": s.UpdateProviderKey(ctx, ProviderKey{Provider: "p", KeyID: bad}),
					"delete provider key": s.DeleteProviderKey(ctx, "p", bad),
				}
				for what, err := range lookups {
					if !errors.Is(err, ErrNotFound) {
						t.Errorf("%s: %v, want ErrNotFound", what, err)
					}
				}

				alerts, e1 := s.ListAlerts(ctx, bad)
				pks, e2 := s.ListProviderKeys(ctx, bad)
				_, total, e3 := s.Usage(ctx, UsageQuery{KeyID: bad})
				if err := errors.Join(e1, e2, e3); err != nil || len(alerts) != 0 || len(pks) != 0 || total.Requests != 0 {
					t.Errorf("filters: %d alerts, %d provider keys, %d requests, %v; want none", len(alerts), len(pks), total.Requests, err)
				}
			})
		}
	}
}

func TestUsage_KeyFilterMatchesTheLedgersSpelling(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			if err := s.InsertUsage(ctx, []UsageRecord{{TS: day0, KeyID: "k\xff"}, {TS: day0, KeyID: "other"}}); err != nil {
				t.Fatal(err)
			}
			_, total, err := s.Usage(ctx, UsageQuery{KeyID: "k\xff"})
			if err != nil || total.Requests != 1 {
				t.Fatalf("%d requests (%v), want 1", total.Requests, err)
			}
		})
	}
}

func TestAddProviderKey_HintIsValidText(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			s := b.open(t)
			// The last four bytes split "é" (0xc3 0xa9).
			if err := s.AddProviderKey(ctx, newTestSealer(t), ProviderKey{Provider: "p", KeyID: "k"}, "sk-0123456789é123"); err != nil {
				t.Fatal(err)
			}
			k, err := s.GetProviderKey(ctx, "p", "k")
			if err != nil || k.Hint != "123" {
				t.Fatalf("hint %q (%v), want %q", k.Hint, err, "123")
			}
		})
	}
}
