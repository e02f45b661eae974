package alerts

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/switchyard/switchyard/store"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

func TestEvent_PayloadMatchesGolden(t *testing.T) {
	tests := []struct {
		file string
		ev   Event
	}{
		{"webhook_budget_threshold.json", Event{
			Alert: store.Alert{ID: "alert_0123456789abcdef", Name: TypeBudget, Type: TypeBudget, Threshold: 100, KeyID: "key_team_a",
				WebhookURL: "https://hooks.example.com/services/T0/B0/secret", Enabled: true, CreatedAt: now0.Add(-72 * time.Hour),
				Config: map[string]any{ConfigPeriod: PeriodMonth, ConfigFireAtFraction: 0.8, ConfigNotifyEmail: "admin@example.com"}},
			Value: 81.5, Threshold: 100, FiredAt: now0,
			Message: "key key_team_a spend $81.50 this month reached 82% of the $100.00 monthly budget (alert at 80%)",
		}},
		{"webhook_error_rate.json", Event{
			Alert: store.Alert{ID: "alert_fedcba9876543210", Name: TypeErrorRate, Type: TypeErrorRate, Threshold: 0.05,
				Window: 5 * time.Minute, WebhookURL: "https://hooks.example.com/x?token=secret", Enabled: true, CreatedAt: now0.Add(-time.Hour)},
			Value: 0.125, Threshold: 0.05, FiredAt: now0,
			Message: "gateway error rate 12.5% (5 of 40 requests) over 5m0s exceeds 5.0%",
		}},
		{"webhook_provider_share.json", Event{
			Alert: store.Alert{ID: "alert_00aa11bb22cc33dd", Name: TypeProviderShare, Type: TypeProviderShare, Threshold: 0.7,
				Window: 10 * time.Minute, KeyID: "key_team_a", WebhookURL: "https://hooks.example.com/x?token=secret", Enabled: true,
				CreatedAt: now0.Add(-2 * time.Hour), Config: map[string]any{ConfigMeasure: MeasureCost, ConfigNotifyEmail: "admin@example.com"}},
			Value: 0.8, Threshold: 0.7, FiredAt: now0,
			Message: "key key_team_a provider openai took 80.0% of spend ($4.0000 of $5.0000) over 10m0s, above 70.0%",
			Share: &ProviderShare{Provider: "openai", Measure: MeasureCost, Share: 0.8, Window: 10 * time.Minute,
				Calls: 50, ProviderCalls: 20, CostNanos: 5_000_000_000, ProviderCostNanos: 4_000_000_000},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			b, err := tt.ev.Payload()
			if err != nil {
				t.Fatal(err)
			}
			var pretty bytes.Buffer
			if err := json.Indent(&pretty, b, "", "  "); err != nil {
				t.Fatal(err)
			}
			pretty.WriteByte('\n')
			path := filepath.Join("testdata", tt.file)
			if *update {
				if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(pretty.Bytes(), want) {
				t.Fatalf("payload differs from %s:\n%s", path, pretty.Bytes())
			}
			if bytes.Contains(b, []byte("secret")) || bytes.Contains(b, []byte("admin@example.com")) {
				t.Fatalf("payload leaks the webhook URL or e-mail: %s", b)
			}
		})
	}
}
