package rpc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/alerts"
	"github.com/switchyard/switchyard/store"
)

// BillingStore keeps alert rules (store.Store implements it).
type BillingStore interface {
	CreateAlert(ctx context.Context, a store.Alert) error
	ListAlerts(ctx context.Context, keyID string) ([]store.Alert, error)
	DeleteAlert(ctx context.Context, id string) error
	ListAlertFirings(ctx context.Context, q store.FiringQuery) ([]store.AlertFiring, error)
}

// Billing implements BillingService: alert rules on spend, errors, latency and provider share. The zero value
// answers Unimplemented.
type Billing struct {
	pb.UnimplementedBillingServiceServer
	st      BillingStore
	now     func() time.Time
	created func() // evaluates soon after a create; nil: wait for the next interval
}

// BillingOption configures Billing.
type BillingOption func(*Billing)

// WithAlertCreated calls f after every created alert, e.g. (*alerts.Evaluator).Trigger, so a
// rule whose condition already holds fires without waiting for the next interval.
func WithAlertCreated(f func()) BillingOption { return func(b *Billing) { b.created = f } }

// WithBillingClock sets the time source (tests).
func WithBillingClock(now func() time.Time) BillingOption { return func(b *Billing) { b.now = now } }

// NewBilling returns the billing service over st; st nil answers Unimplemented.
func NewBilling(st BillingStore, opts ...BillingOption) *Billing {
	b := &Billing{st: st, now: time.Now}
	for _, o := range opts {
		o(b)
	}
	return b
}

const maxAlertIDLen = 64

// CreateAlert validates and stores a rule; the response carries its id.
func (s *Billing) CreateAlert(ctx context.Context, in *pb.CreateAlertRequest) (*pb.CreateAlertResponse, error) {
	if s.st == nil {
		return s.UnimplementedBillingServiceServer.CreateAlert(ctx, in)
	}
	a, err := alertFromProto(in.GetAlert(), s.now())
	if err != nil {
		return nil, err
	}
	if err := s.st.CreateAlert(ctx, a); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, llm.InvalidParam("id", "an alert with id %q already exists", a.ID)
		}
		return nil, err
	}
	if s.created != nil {
		s.created()
	}
	return &pb.CreateAlertResponse{Alert: alertToProto(a)}, nil
}

// ListAlerts returns every rule, oldest first.
func (s *Billing) ListAlerts(ctx context.Context, in *pb.ListAlertsRequest) (*pb.ListAlertsResponse, error) {
	if s.st == nil {
		return s.UnimplementedBillingServiceServer.ListAlerts(ctx, in)
	}
	as, err := s.st.ListAlerts(ctx, "")
	if err != nil {
		return nil, err
	}
	out := &pb.ListAlertsResponse{Alerts: make([]*pb.Alert, 0, len(as))}
	for _, a := range as {
		out.Alerts = append(out.Alerts, alertToProto(a))
	}
	return out, nil
}

// DeleteAlert removes a rule.
func (s *Billing) DeleteAlert(ctx context.Context, in *pb.DeleteAlertRequest) (*pb.DeleteAlertResponse, error) {
	if s.st == nil {
		return s.UnimplementedBillingServiceServer.DeleteAlert(ctx, in)
	}
	if in.GetId() == "" {
		return nil, llm.InvalidParam("id", "id is required")
	}
	if err := s.st.DeleteAlert(ctx, in.GetId()); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &llm.Error{Kind: llm.KindNotFound, Param: "id", Message: "alert " + in.GetId() + " not found", Err: err}
		}
		return nil, err
	}
	return &pb.DeleteAlertResponse{}, nil
}

// ListAlertFirings returns recorded firings, newest first; a limit above the store's cap is
// capped rather than refused, so a client asking for "everything" gets the most there is.
func (s *Billing) ListAlertFirings(ctx context.Context, in *pb.ListAlertFiringsRequest) (*pb.ListAlertFiringsResponse, error) {
	if s.st == nil {
		return s.UnimplementedBillingServiceServer.ListAlertFirings(ctx, in)
	}
	if id := in.GetAlertId(); id != "" && !validAlertID(id) {
		return nil, llm.InvalidParam("alert_id", "alert_id must be 1-%d letters, digits, '-' or '_'", maxAlertIDLen)
	}
	if in.GetLimit() < 0 {
		return nil, llm.InvalidParam("limit", "limit must be 0 (the default, %d) or more, got %d", store.DefaultFiringLimit, in.GetLimit())
	}
	fs, err := s.st.ListAlertFirings(ctx, store.FiringQuery{AlertID: in.GetAlertId(), Limit: int(in.GetLimit())})
	if err != nil {
		return nil, err
	}
	out := &pb.ListAlertFiringsResponse{Firings: make([]*pb.AlertFiring, 0, len(fs))}
	for _, f := range fs {
		out.Firings = append(out.Firings, &pb.AlertFiring{AlertId: f.AlertID, Type: f.Type, KeyId: f.KeyID,
			FiredAt: timestamppb.New(f.FiredAt), Value: f.Value, Threshold: f.Threshold, Message: f.Message, Delivery: f.Delivery})
	}
	return out, nil
}

// alertFromProto validates a rule as sent by a client and converts it for the store.
func alertFromProto(p *pb.Alert, now time.Time) (store.Alert, error) {
	if p == nil {
		return store.Alert{}, llm.InvalidParam("alert", "alert is required")
	}
	typ := p.GetType()
	if !alerts.KnownType(typ) {
		return store.Alert{}, llm.InvalidParam("type", "type must be %s, %s, %s or %s, got %q",
			alerts.TypeBudget, alerts.TypeErrorRate, alerts.TypeP95Latency, alerts.TypeProviderShare, typ)
	}
	th := p.GetThreshold()
	if !(th > 0) || math.IsInf(th, 0) {
		return store.Alert{}, llm.InvalidParam("threshold", "threshold must be a number greater than 0")
	}
	if typ == alerts.TypeErrorRate && th >= 1 {
		return store.Alert{}, llm.InvalidParam("threshold", "error_rate threshold is a fraction below 1 (0.05 = 5%%), got %v", th)
	}
	if typ == alerts.TypeProviderShare && th > 1 {
		return store.Alert{}, llm.InvalidParam("threshold", "provider_share threshold is a share in (0, 1] (0.7 = 70%%), got %v", th)
	}
	id := p.GetId()
	if id == "" {
		id = newAlertID()
	} else if !validAlertID(id) {
		return store.Alert{}, llm.InvalidParam("id", "id must be 1-%d letters, digits, '-' or '_'", maxAlertIDLen)
	}
	if key := p.GetKeyId(); len(key) > 128 {
		return store.Alert{}, llm.InvalidParam("key_id", "key_id is too long")
	}
	if u := p.GetWebhookUrl(); u != "" {
		if err := alerts.CheckWebhookURL(u); err != nil {
			return store.Alert{}, llm.InvalidParam("webhook_url", "%s", err.Error())
		}
	}
	cfg := map[string]any{}
	if e := p.GetNotifyEmail(); e != "" {
		if _, err := mail.ParseAddress(e); err != nil {
			return store.Alert{}, llm.InvalidParam("notify_email", "notify_email is not a valid address")
		}
		cfg[alerts.ConfigNotifyEmail] = e
	}
	if c := p.GetCurrency(); c != "" && !strings.EqualFold(c, "USD") {
		return store.Alert{}, llm.InvalidParam("currency", "only USD is supported, got %q", c)
	}
	if err := shareConfig(p, cfg); err != nil {
		return store.Alert{}, err
	}
	a := store.Alert{ID: id, Name: typ, Type: typ, Threshold: th, KeyID: p.GetKeyId(), WebhookURL: p.GetWebhookUrl(),
		Enabled: true, CreatedAt: now, Config: cfg}
	frac := p.GetFireAtFraction()
	if typ == alerts.TypeBudget {
		period, err := alerts.ParsePeriod(p.GetPeriod())
		if err != nil {
			return store.Alert{}, llm.InvalidParam("period", "%s", err.Error())
		}
		if frac == 0 {
			frac = alerts.DefaultFireAtFraction
		}
		if !(frac > 0 && frac <= 1) {
			return store.Alert{}, llm.InvalidParam("fire_at_fraction", "fire_at_fraction must be in (0, 1], got %v", frac)
		}
		if p.GetWindow() != "" {
			return store.Alert{}, llm.InvalidParam("window", "budget_threshold alerts use period, not window")
		}
		cfg[alerts.ConfigPeriod], cfg[alerts.ConfigFireAtFraction], cfg[alerts.ConfigCurrency] = period, frac, "USD"
		return a, nil
	}
	if frac != 0 {
		return store.Alert{}, llm.InvalidParam("fire_at_fraction", "fire_at_fraction applies to budget_threshold alerts only")
	}
	if p.GetPeriod() != "" {
		return store.Alert{}, llm.InvalidParam("period", "%s alerts use window, not period", typ)
	}
	a.Window = alerts.DefaultWindow
	if w := p.GetWindow(); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil || d < alerts.MinWindow || d > alerts.MaxWindow {
			return store.Alert{}, llm.InvalidParam("window", "window must be a duration between %s and %s like 5m, got %q",
				alerts.MinWindow, alerts.MaxWindow, w)
		}
		a.Window = d
	}
	return a, nil
}

// shareConfig validates measure and provider into cfg: they mean something to provider_share
// only, and a client setting them on another type has misread the API.
func shareConfig(p *pb.Alert, cfg map[string]any) error {
	if p.GetType() != alerts.TypeProviderShare {
		if p.GetMeasure() != "" {
			return llm.InvalidParam("measure", "measure applies to provider_share alerts only")
		}
		if p.GetProvider() != "" {
			return llm.InvalidParam("provider", "provider applies to provider_share alerts only")
		}
		return nil
	}
	m, err := alerts.ParseMeasure(p.GetMeasure())
	if err != nil {
		return llm.InvalidParam("measure", "%s", err.Error())
	}
	cfg[alerts.ConfigMeasure] = m
	// The ledger records a provider by its configured name, so only an exact name can match.
	if prov := p.GetProvider(); prov != "" {
		if len(prov) > 128 {
			return llm.InvalidParam("provider", "provider is too long")
		}
		if strings.TrimSpace(prov) != prov {
			return llm.InvalidParam("provider", "provider must be a configured provider's name, got %q", prov)
		}
		cfg[alerts.ConfigProvider] = prov
	}
	return nil
}

func alertToProto(a store.Alert) *pb.Alert {
	p := &pb.Alert{Id: a.ID, Type: a.Type, Threshold: a.Threshold, KeyId: a.KeyID, WebhookUrl: maskWebhookURL(a.WebhookURL)}
	if e, ok := a.Config[alerts.ConfigNotifyEmail].(string); ok {
		p.NotifyEmail = e
	}
	if a.Type == alerts.TypeBudget {
		p.Currency, p.FireAtFraction = "USD", alerts.FireAt(a)
		p.Period = alerts.PeriodName(alerts.Period(a))
	} else {
		p.Window = alerts.Window(a).String()
	}
	if a.Type == alerts.TypeProviderShare {
		p.Measure, p.Provider = alerts.Measure(a), alerts.WatchedProvider(a)
	}
	if !a.CreatedAt.IsZero() {
		p.CreatedAt = timestamppb.New(a.CreatedAt)
	}
	if !a.LastFiredAt.IsZero() {
		p.LastFiredAt = timestamppb.New(a.LastFiredAt)
	}
	return p
}

// maskWebhookURL keeps the scheme, host and the last 4 characters: webhook URLs carry their
// token in the path (Slack) or the query, and answers end up in logs and terminals.
func maskWebhookURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return "****"
	}
	rest := strings.TrimPrefix(raw, u.Scheme+"://")
	rest = rest[min(len(rest), strings.IndexByte(rest+"/", '/')):] // after userinfo@host:port
	if len(rest) <= 1 {
		return u.Scheme + "://" + u.Host + rest
	}
	tail := []rune(rest)
	if len(tail) > 4 {
		tail = tail[len(tail)-4:]
	}
	return u.Scheme + "://" + u.Host + "/…" + string(tail)
}

func newAlertID() string {
	var b [8]byte
	rand.Read(b[:])
	return "alert_" + hex.EncodeToString(b[:])
}

func validAlertID(id string) bool {
	if len(id) > maxAlertIDLen {
		return false
	}
	for _, r := range id {
		if !(r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}
