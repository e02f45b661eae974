package rpc

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/alerts"
	"github.com/switchyard/switchyard/store"
)

var billingNow = time.Date(2026, 5, 10, 12, 0, 0, 0, time.UTC)

func newTestBilling(t *testing.T, opts ...BillingOption) (*Billing, *store.Store) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return NewBilling(st, append([]BillingOption{WithBillingClock(func() time.Time { return billingNow })}, opts...)...), st
}

func TestBilling_CreateAlertValidation(t *testing.T) {
	tests := []struct {
		name  string
		alert *pb.Alert
		param string // "" = accepted
	}{
		{"seed budget alert", &pb.Alert{Type: "budget_threshold", Threshold: 100, Currency: "USD", Period: "monthly", NotifyEmail: "admin@example.com"}, ""},
		{"error rate with webhook", &pb.Alert{Type: "error_rate", Threshold: 0.05, Window: "5m", WebhookUrl: "https://hooks.example.com/x"}, ""},
		{"p95 without window", &pb.Alert{Type: "p95_latency", Threshold: 2000, KeyId: "k1"}, ""},
		{"missing alert", nil, "alert"},
		{"unknown type", &pb.Alert{Type: "cpu", Threshold: 1}, "type"},
		{"zero threshold", &pb.Alert{Type: "p95_latency", Threshold: 0}, "threshold"},
		{"negative threshold", &pb.Alert{Type: "budget_threshold", Threshold: -1}, "threshold"},
		{"NaN threshold", &pb.Alert{Type: "budget_threshold", Threshold: math.NaN()}, "threshold"},
		{"error rate as percent", &pb.Alert{Type: "error_rate", Threshold: 5}, "threshold"},
		{"window does not parse", &pb.Alert{Type: "error_rate", Threshold: 0.05, Window: "5 minutes"}, "window"},
		{"window negative", &pb.Alert{Type: "error_rate", Threshold: 0.05, Window: "-5m"}, "window"},
		{"window too long", &pb.Alert{Type: "p95_latency", Threshold: 2000, Window: "720h"}, "window"},
		{"window on a budget", &pb.Alert{Type: "budget_threshold", Threshold: 1, Window: "5m"}, "window"},
		{"period on a rate alert", &pb.Alert{Type: "error_rate", Threshold: 0.05, Period: "daily"}, "period"},
		{"unknown period", &pb.Alert{Type: "budget_threshold", Threshold: 1, Period: "weekly"}, "period"},
		{"fraction above 1", &pb.Alert{Type: "budget_threshold", Threshold: 1, FireAtFraction: 1.5}, "fire_at_fraction"},
		{"negative fraction", &pb.Alert{Type: "budget_threshold", Threshold: 1, FireAtFraction: -0.5}, "fire_at_fraction"},
		{"fraction of exactly 1", &pb.Alert{Type: "budget_threshold", Threshold: 1, FireAtFraction: 1}, ""},
		{"fraction on a rate alert", &pb.Alert{Type: "p95_latency", Threshold: 1, FireAtFraction: 0.5}, "fire_at_fraction"},
		{"webhook not http", &pb.Alert{Type: "p95_latency", Threshold: 1, WebhookUrl: "file:///etc/passwd"}, "webhook_url"},
		{"webhook without host", &pb.Alert{Type: "p95_latency", Threshold: 1, WebhookUrl: "https:///x"}, "webhook_url"},
		{"other currency", &pb.Alert{Type: "budget_threshold", Threshold: 1, Currency: "EUR"}, "currency"},
		{"bad email", &pb.Alert{Type: "budget_threshold", Threshold: 1, NotifyEmail: "not an address"}, "notify_email"},
		{"bad id", &pb.Alert{Id: "a b", Type: "budget_threshold", Threshold: 1}, "id"},
		{"provider share of requests", &pb.Alert{Type: "provider_share", Threshold: 0.7}, ""},
		{"provider share of one provider's cost", &pb.Alert{Type: "provider_share", Threshold: 0.5, Measure: "cost", Provider: "openai", Window: "10m"}, ""},
		{"provider share of all of it", &pb.Alert{Type: "provider_share", Threshold: 1}, ""},
		{"provider share as percent", &pb.Alert{Type: "provider_share", Threshold: 70}, "threshold"},
		{"provider share zero", &pb.Alert{Type: "provider_share", Threshold: 0}, "threshold"},
		{"provider share unknown measure", &pb.Alert{Type: "provider_share", Threshold: 0.7, Measure: "tokens"}, "measure"},
		{"provider share provider with spaces", &pb.Alert{Type: "provider_share", Threshold: 0.7, Provider: " openai"}, "provider"},
		{"provider share with a period", &pb.Alert{Type: "provider_share", Threshold: 0.7, Period: "daily"}, "period"},
		{"measure on another type", &pb.Alert{Type: "error_rate", Threshold: 0.05, Measure: "cost"}, "measure"},
		{"provider on a budget", &pb.Alert{Type: "budget_threshold", Threshold: 1, Provider: "openai"}, "provider"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, st := newTestBilling(t)
			resp, err := b.CreateAlert(context.Background(), &pb.CreateAlertRequest{Alert: tt.alert})
			if tt.param != "" {
				var de *llm.Error
				if !errors.As(err, &de) || de.Kind != llm.KindInvalidRequest || de.Param != tt.param {
					t.Fatalf("err = %v, want InvalidParam(%q)", err, tt.param)
				}
				if Code(err) != connect.CodeInvalidArgument {
					t.Fatalf("code = %v", Code(err))
				}
				if as, _ := st.ListAlerts(context.Background(), ""); len(as) != 0 {
					t.Fatalf("invalid alert stored: %+v", as)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(resp.GetAlert().GetId(), "alert_") {
				t.Fatalf("id = %q", resp.GetAlert().GetId())
			}
			got, err := st.GetAlert(context.Background(), resp.GetAlert().GetId())
			if err != nil {
				t.Fatal(err)
			}
			if !got.Enabled || got.Type != tt.alert.GetType() || got.Threshold != tt.alert.GetThreshold() ||
				got.WebhookURL != tt.alert.GetWebhookUrl() || got.KeyID != tt.alert.GetKeyId() {
				t.Fatalf("stored %+v from %v", got, tt.alert)
			}
		})
	}
}

func TestBilling_ConversionRoundTrip(t *testing.T) {
	created := 0
	b, st := newTestBilling(t, WithAlertCreated(func() { created++ }))
	ctx := context.Background()
	tests := []struct {
		name string
		in   *pb.Alert
		want *pb.Alert // id, created_at filled in below
	}{
		{
			name: "budget defaults",
			in:   &pb.Alert{Id: "b1", Type: "budget_threshold", Threshold: 100, Period: "day", KeyId: "k1"},
			want: &pb.Alert{Type: "budget_threshold", Threshold: 100, Currency: "USD", Period: "daily", KeyId: "k1", FireAtFraction: 0.8},
		},
		{
			name: "budget with email and fraction",
			in:   &pb.Alert{Id: "b2", Type: "budget_threshold", Threshold: 5, FireAtFraction: 0.5, NotifyEmail: "ops@example.com"},
			want: &pb.Alert{Type: "budget_threshold", Threshold: 5, Currency: "USD", Period: "monthly", FireAtFraction: 0.5, NotifyEmail: "ops@example.com"},
		},
		{
			name: "error rate, webhook masked",
			in:   &pb.Alert{Id: "e1", Type: "error_rate", Threshold: 0.05, Window: "90s", WebhookUrl: "https://hooks.example.com/services/T0/B0/secrettoken"},
			want: &pb.Alert{Type: "error_rate", Threshold: 0.05, Window: "1m30s", WebhookUrl: "https://hooks.example.com/…oken"},
		},
		{
			name: "provider share defaults",
			in:   &pb.Alert{Id: "s1", Type: "provider_share", Threshold: 0.7},
			want: &pb.Alert{Type: "provider_share", Threshold: 0.7, Window: "5m0s", Measure: "requests"},
		},
		{
			name: "provider share of one provider's cost",
			in:   &pb.Alert{Id: "s2", Type: "provider_share", Threshold: 0.5, Measure: "Cost", Provider: "openai", Window: "1h"},
			want: &pb.Alert{Type: "provider_share", Threshold: 0.5, Window: "1h0m0s", Measure: "cost", Provider: "openai"},
		},
		{
			name: "p95 default window",
			in:   &pb.Alert{Id: "p1", Type: "p95_latency", Threshold: 2000},
			want: &pb.Alert{Type: "p95_latency", Threshold: 2000, Window: "5m0s"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := b.CreateAlert(ctx, &pb.CreateAlertRequest{Alert: tt.in})
			if err != nil {
				t.Fatal(err)
			}
			tt.want.Id = tt.in.Id
			got := resp.GetAlert()
			if !got.GetCreatedAt().AsTime().Equal(billingNow) {
				t.Fatalf("created_at = %v", got.GetCreatedAt())
			}
			got.CreatedAt = nil
			if !proto.Equal(got, tt.want) {
				t.Fatalf("alert = %v\nwant   %v", got, tt.want)
			}
			if strings.Contains(got.String(), "secret") {
				t.Fatalf("answer leaks the webhook token: %v", got)
			}
		})
	}
	if created != len(tests) {
		t.Fatalf("created hook ran %d times, want %d", created, len(tests))
	}

	if _, err := st.ClaimAlertFiring(ctx, time.Time{}, store.AlertFiring{AlertID: "p1", FiredAt: billingNow.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	list, err := b.ListAlerts(ctx, &pb.ListAlertsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, a := range list.GetAlerts() {
		ids = append(ids, a.GetId())
		if a.GetId() == "p1" && !a.GetLastFiredAt().AsTime().Equal(billingNow.Add(time.Minute)) {
			t.Fatalf("last_fired_at = %v", a.GetLastFiredAt())
		}
	}
	if strings.Join(ids, ",") != "b1,b2,e1,p1,s1,s2" {
		t.Fatalf("listed %v", ids)
	}

	if _, err := b.CreateAlert(ctx, &pb.CreateAlertRequest{Alert: tt0(tests[0].in)}); Code(err) != connect.CodeInvalidArgument {
		t.Fatalf("duplicate id: err = %v, want InvalidArgument", err)
	}
	if _, err := b.DeleteAlert(ctx, &pb.DeleteAlertRequest{Id: "b1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.DeleteAlert(ctx, &pb.DeleteAlertRequest{Id: "b1"}); Code(err) != connect.CodeNotFound {
		t.Fatalf("second delete: err = %v, want NotFound", err)
	}
	if _, err := b.DeleteAlert(ctx, &pb.DeleteAlertRequest{}); Code(err) != connect.CodeInvalidArgument {
		t.Fatalf("delete without id: err = %v, want InvalidArgument", err)
	}
}

func tt0(a *pb.Alert) *pb.Alert { return &pb.Alert{Id: a.Id, Type: a.Type, Threshold: a.Threshold} }

func TestBilling_ZeroValueIsUnimplemented(t *testing.T) {
	var b Billing
	if _, err := b.ListAlerts(context.Background(), &pb.ListAlertsRequest{}); Code(err) != connect.CodeUnimplemented {
		t.Fatalf("err = %v, want Unimplemented", err)
	}
}

func TestMaskWebhookURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"https://example.com", "https://example.com"},
		{"https://example.com/", "https://example.com/"},
		{"http://user:pw@example.com:8080/hook?token=abcdef", "http://example.com:8080/…cdef"},
		{"https://hooks.slack.com/services/T0/B0/XyZ123", "https://hooks.slack.com/…Z123"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := maskWebhookURL(tt.in); got != tt.want {
				t.Fatalf("maskWebhookURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// The budget threshold the API accepts is what the evaluator reads back.
func TestBilling_StoredRuleReadsBackInTheEvaluator(t *testing.T) {
	b, st := newTestBilling(t)
	ctx := context.Background()
	if _, err := b.CreateAlert(ctx, &pb.CreateAlertRequest{Alert: &pb.Alert{Id: "b", Type: "budget_threshold", Threshold: 10, Period: "daily", FireAtFraction: 0.9}}); err != nil {
		t.Fatal(err)
	}
	a, err := st.GetAlert(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if alerts.Period(a) != alerts.PeriodDay || alerts.FireAt(a) != 0.9 {
		t.Fatalf("evaluator reads period %q fraction %v", alerts.Period(a), alerts.FireAt(a))
	}
}
