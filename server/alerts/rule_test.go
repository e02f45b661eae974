package alerts

import (
	"strings"
	"testing"
	"time"

	"github.com/switchyard/switchyard/store"
)

func TestCheckWebhookURL(t *testing.T) {
	tests := []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.com/T000/B000/xyz", true},
		{"http://127.0.0.1:9000/alerts", true},
		{"ftp://example.com/x", false},
		{"javascript:alert(1)", false},
		{"/relative/path", false},
		{"https://", false},
		{"https://:443/x", false},
		{"http://exa mple.com/", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := CheckWebhookURL(tt.url)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckWebhookURL(%q) = %v, want ok=%v", tt.url, err, tt.ok)
			}
			if err != nil && tt.url != "" && strings.Contains(err.Error(), tt.url) {
				t.Fatalf("error repeats the URL: %v", err)
			}
		})
	}
}

func TestPeriods(t *testing.T) {
	at := time.Date(2026, 5, 10, 23, 59, 59, 0, time.FixedZone("UTC+2", 2*3600)) // 21:59:59 UTC
	tests := []struct {
		in    string
		want  string
		start time.Time
	}{
		{"daily", PeriodDay, time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)},
		{"day", PeriodDay, time.Date(2026, 5, 10, 0, 0, 0, 0, time.UTC)},
		{"Monthly", PeriodMonth, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"", PeriodMonth, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"weekly", "", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParsePeriod(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParsePeriod(%q) = %q, want error", tt.in, got)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParsePeriod(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if s := PeriodStart(got, at); !s.Equal(tt.start) {
				t.Fatalf("PeriodStart = %v, want %v", s, tt.start)
			}
		})
	}
}

func TestRuleDefaults(t *testing.T) {
	a := store.Alert{}
	if Period(a) != PeriodMonth || FireAt(a) != DefaultFireAtFraction || Window(a) != DefaultWindow {
		t.Fatalf("defaults: %s %v %v", Period(a), FireAt(a), Window(a))
	}
	a = store.Alert{Window: 48 * time.Hour, Config: map[string]any{ConfigPeriod: "daily", ConfigFireAtFraction: 0.5}}
	if Period(a) != PeriodDay || FireAt(a) != 0.5 || Window(a) != MaxWindow {
		t.Fatalf("set: %s %v %v", Period(a), FireAt(a), Window(a))
	}
	a.Config[ConfigFireAtFraction] = 1.5
	if FireAt(a) != DefaultFireAtFraction {
		t.Fatalf("out-of-range fraction used: %v", FireAt(a))
	}
}

func TestMeasure(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", MeasureRequests, true},
		{"requests", MeasureRequests, true},
		{" Cost ", MeasureCost, true},
		{"tokens", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseMeasure(tt.in)
			if (err == nil) != tt.ok || got != tt.want {
				t.Fatalf("ParseMeasure(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
			}
			if err != nil && !strings.Contains(err.Error(), "measure") {
				t.Fatalf("error does not name the field: %v", err)
			}
			// A stored value the parser refuses (written by hand) reads as the default.
			a := store.Alert{Config: map[string]any{ConfigMeasure: tt.in}}
			if want := map[bool]string{true: tt.want, false: MeasureRequests}[tt.ok]; Measure(a) != want {
				t.Fatalf("Measure = %q, want %q", Measure(a), want)
			}
		})
	}
	if p := WatchedProvider(store.Alert{Config: map[string]any{ConfigProvider: "openai"}}); p != "openai" {
		t.Fatalf("WatchedProvider = %q", p)
	}
	if p := WatchedProvider(store.Alert{}); p != "" {
		t.Fatalf("WatchedProvider of an unset rule = %q", p)
	}
}
