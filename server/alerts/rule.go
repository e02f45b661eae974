// Package alerts evaluates the alert rules kept in the store against the usage ledger and
// delivers firings as webhook POSTs.
//
// A rule fires once per incident: an error_rate, p95_latency or provider_share rule fires when its
// condition becomes true and not again until the evaluator has seen it false; a budget_threshold rule fires
// at most once per UTC period. Firings are claimed in the store (compare-and-set on
// last_fired_at), so gateways sharing a database and a restarted gateway do not page twice.
package alerts

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	budgets "github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/store"
)

// Alert types: what Threshold is compared with.
const (
	// TypeBudget compares the spend of the current UTC period (USD) with FireAt(a) * Threshold.
	TypeBudget = "budget_threshold"
	// TypeErrorRate compares the failed fraction of requests over the window with Threshold.
	TypeErrorRate = "error_rate"
	// TypeP95Latency compares the window's p95 latency (ms) with Threshold.
	TypeP95Latency = "p95_latency"
	// TypeProviderShare compares one provider's share (a ratio) of the window's upstream calls,
	// or of its spend, with Threshold.
	TypeProviderShare = "provider_share"
)

// Measures of a provider_share rule: what its share is of.
const (
	MeasureRequests = "requests"
	MeasureCost     = "cost"
)

// Budget periods (UTC calendar day or month).
const (
	PeriodDay   = "day"
	PeriodMonth = "month"
)

// Keys of store.Alert.Config this package reads.
const (
	ConfigPeriod         = "period"
	ConfigFireAtFraction = "fire_at_fraction"
	ConfigCurrency       = "currency"
	ConfigNotifyEmail    = "notify_email"
	ConfigMeasure        = "measure"  // provider_share: MeasureRequests or MeasureCost
	ConfigProvider       = "provider" // provider_share: the one provider watched; "" watches each
)

// Defaults and limits of rule settings.
const (
	DefaultWindow         = 5 * time.Minute
	MinWindow             = time.Second
	MaxWindow             = 24 * time.Hour // p95 sorts the window: keep it bounded
	DefaultFireAtFraction = 0.8
)

// KnownType reports whether t is an alert type the evaluator understands.
func KnownType(t string) bool {
	return t == TypeBudget || t == TypeErrorRate || t == TypeP95Latency || t == TypeProviderShare
}

// ParseMeasure accepts "requests" and "cost" in any case; "" is requests.
func ParseMeasure(m string) (string, error) {
	switch norm := strings.ToLower(strings.TrimSpace(m)); norm {
	case "", MeasureRequests:
		return MeasureRequests, nil
	case MeasureCost:
		return MeasureCost, nil
	}
	return "", fmt.Errorf("measure must be %s or %s, got %q", MeasureRequests, MeasureCost, m)
}

// Measure is a provider_share rule's measure (MeasureRequests when unset or unreadable).
func Measure(a store.Alert) string {
	s, _ := a.Config[ConfigMeasure].(string)
	m, err := ParseMeasure(s)
	if err != nil {
		return MeasureRequests
	}
	return m
}

// WatchedProvider is the provider a provider_share rule watches, "" when it watches each.
func WatchedProvider(a store.Alert) string {
	p, _ := a.Config[ConfigProvider].(string)
	return p
}

// ParsePeriod accepts "day"/"daily" and "month"/"monthly" (the API spells them daily|monthly,
// configs day|month); "" is month, the seed's example. It returns the canonical PeriodDay or
// PeriodMonth.
func ParsePeriod(p string) (string, error) {
	norm := strings.ToLower(strings.TrimSpace(p))
	if norm == "" {
		return PeriodMonth, nil
	}
	bp, err := budgets.ParsePeriod(norm)
	if err != nil {
		return "", fmt.Errorf("period must be daily or monthly, got %q", p)
	}
	return bp.String(), nil
}

// PeriodStart is the start of the UTC period containing now.
func PeriodStart(period string, now time.Time) time.Time {
	if period == PeriodDay {
		return budgets.Daily.Start(now)
	}
	return budgets.Monthly.Start(now)
}

// PeriodName is how the API spells a period: "daily" or "monthly".
func PeriodName(period string) string {
	if period == PeriodDay {
		return "daily"
	}
	return "monthly"
}

// Period is a budget rule's period (PeriodMonth when unset or unreadable).
func Period(a store.Alert) string {
	s, _ := a.Config[ConfigPeriod].(string)
	p, err := ParsePeriod(s)
	if err != nil {
		return PeriodMonth
	}
	return p
}

// FireAt is a budget rule's fire_at_fraction, DefaultFireAtFraction when unset or out of (0,1].
func FireAt(a store.Alert) float64 {
	f, ok := a.Config[ConfigFireAtFraction].(float64)
	if !ok || !(f > 0 && f <= 1) {
		return DefaultFireAtFraction
	}
	return f
}

// Window is a rate rule's evaluation window, DefaultWindow when unset.
func Window(a store.Alert) time.Duration {
	if a.Window <= 0 {
		return DefaultWindow
	}
	return min(max(a.Window, MinWindow), MaxWindow)
}

// CheckWebhookURL accepts absolute http and https URLs with a host. The error never repeats the
// URL: webhook URLs often carry a token.
func CheckWebhookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return errors.New("webhook_url is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return errors.New("webhook_url must be an http or https URL")
	}
	if u.Host == "" || u.Hostname() == "" {
		return errors.New("webhook_url needs a host")
	}
	return nil
}
