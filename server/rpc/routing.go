package rpc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/middleware"
)

// RoutingState is the routing section in force.
type RoutingState struct {
	Routing   config.Routing
	Routes    []config.Route
	Version   int64
	UpdatedAt time.Time
	// Served are the model names providers list: the default route serves
	// them whatever the routing section says.
	Served []string
}

// RoutingChange is one new routing section and its audit record.
type RoutingChange struct {
	Routing config.Routing
	Routes  []config.Route
	By      string    // principal (middleware.Principal)
	At      time.Time // from the service's clock
	// IfVersion is the version the change was checked against; if another
	// is in force by the time it is applied, UpdateRouting fails with
	// ErrRoutingConflict.
	IfVersion  int64
	RollbackOf int64 // the version restored, for a rollback
}

// RoutingVersion is one saved version of the routing section.
type RoutingVersion struct {
	Version    int64
	Routing    config.Routing
	Routes     []config.Route
	UpdatedAt  time.Time
	UpdatedBy  string
	RollbackOf int64
}

// ErrRoutingConflict says the routing changed between a change's checks
// and its swap.
var ErrRoutingConflict = errors.New("the routing config changed concurrently")

// RoutingControl owns the live routing table: it validates a new routing
// section, builds the table and swaps it atomically (server/cmd wires it),
// and keeps the versions (RoutingHistory fails with llm.KindUnavailable
// without storage, RoutingVersion with llm.KindNotFound for a version it
// does not hold).
type RoutingControl interface {
	Routing() RoutingState
	UpdateRouting(ctx context.Context, ch RoutingChange) (RoutingState, error)
	ValidateRouting(r config.Routing, routes []config.Route) error
	RoutingHistory(ctx context.Context, limit int) ([]RoutingVersion, error)
	RoutingVersion(ctx context.Context, version int64) (RoutingVersion, error)
}

// ServedRoutes reports the model names clients sent since a time
// (store.Store implements it from the usage ledger).
type ServedRoutes interface {
	RoutesServedSince(ctx context.Context, since time.Time) ([]string, error)
}

// unroutedWindow is how recent traffic must be for a change that leaves
// its model without a route to need allow_unrouted.
const unroutedWindow = time.Hour

// History page sizes.
const (
	defaultHistoryLimit = 20
	maxHistoryLimit     = 1000
)

// RoutingConfig implements RoutingConfigService.
type RoutingConfig struct {
	pb.UnimplementedRoutingConfigServiceServer
	ctl    RoutingControl
	served ServedRoutes
	now    func() time.Time
}

// RoutingOption configures NewRoutingConfig.
type RoutingOption func(*RoutingConfig)

// WithServedRoutes enables the guard against unrouting models that served
// traffic in the last hour. Without it (no storage) the guard is off.
func WithServedRoutes(s ServedRoutes) RoutingOption {
	return func(r *RoutingConfig) { r.served = s }
}

// WithRoutingClock sets the clock that dates versions and the guard's
// window (default time.Now).
func WithRoutingClock(now func() time.Time) RoutingOption {
	return func(r *RoutingConfig) { r.now = now }
}

// NewRoutingConfig returns the routing config service.
func NewRoutingConfig(ctl RoutingControl, opts ...RoutingOption) *RoutingConfig {
	s := &RoutingConfig{ctl: ctl, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	return s
}

// GetRoutingConfig returns the routing section in force.
func (s *RoutingConfig) GetRoutingConfig(ctx context.Context, _ *pb.GetRoutingConfigRequest) (*pb.GetRoutingConfigResponse, error) {
	st := s.ctl.Routing()
	return &pb.GetRoutingConfigResponse{
		Config:    routingToProto(st.Routing, st.Routes),
		Version:   st.Version,
		UpdatedAt: timestamppb.New(st.UpdatedAt),
	}, nil
}

// UpdateRoutingConfig validates and swaps; an invalid config changes nothing.
// An empty routes list keeps the routes in force, so the seed's shape
// (strategy, fallback_strategy, providers) cannot delete "auto" by leaving
// routes out.
func (s *RoutingConfig) UpdateRoutingConfig(ctx context.Context, in *pb.UpdateRoutingConfigRequest) (*pb.UpdateRoutingConfigResponse, error) {
	if in.GetConfig() == nil {
		return nil, llm.InvalidParam("config", "config is required")
	}
	r, routes := routingFromProto(in.GetConfig())
	cur := s.ctl.Routing()
	switch {
	case in.GetClearRoutes() && len(routes) > 0:
		return nil, llm.InvalidParam("clear_routes", "clear_routes removes every route; it cannot come with routes")
	case len(routes) == 0 && !in.GetClearRoutes():
		routes = cur.Routes
	}
	st, err := s.apply(ctx, cur, RoutingChange{Routing: r, Routes: routes}, in.GetAllowUnrouted())
	if err != nil {
		return nil, err
	}
	return &pb.UpdateRoutingConfigResponse{Config: routingToProto(st.Routing, st.Routes), Version: st.Version}, nil
}

// RollbackRoutingConfig puts version N back in force as a new version.
func (s *RoutingConfig) RollbackRoutingConfig(ctx context.Context, in *pb.RollbackRoutingConfigRequest) (*pb.RollbackRoutingConfigResponse, error) {
	if in.GetVersion() <= 0 {
		return nil, llm.InvalidParam("version", "version must be a positive version number (see GET /v1/routing/config/history)")
	}
	cur := s.ctl.Routing()
	v, err := s.ctl.RoutingVersion(ctx, in.GetVersion())
	if err != nil {
		return nil, err
	}
	st, err := s.apply(ctx, cur, RoutingChange{Routing: v.Routing, Routes: v.Routes, RollbackOf: v.Version}, in.GetAllowUnrouted())
	if err != nil {
		return nil, err
	}
	return &pb.RollbackRoutingConfigResponse{Config: routingToProto(st.Routing, st.Routes), Version: st.Version}, nil
}

// ListRoutingConfigHistory lists saved versions, newest first.
func (s *RoutingConfig) ListRoutingConfigHistory(ctx context.Context, in *pb.ListRoutingConfigHistoryRequest) (*pb.ListRoutingConfigHistoryResponse, error) {
	limit := int(in.GetLimit())
	switch {
	case limit < 0:
		return nil, llm.InvalidParam("limit", "limit must not be negative")
	case limit == 0:
		limit = defaultHistoryLimit
	}
	vs, err := s.ctl.RoutingHistory(ctx, min(limit, maxHistoryLimit))
	if err != nil {
		return nil, err
	}
	out := &pb.ListRoutingConfigHistoryResponse{}
	for _, v := range vs {
		out.Versions = append(out.Versions, &pb.RoutingConfigVersion{
			Version: v.Version, UpdatedAt: timestamppb.New(v.UpdatedAt), UpdatedBy: v.UpdatedBy,
			Config: routingToProto(v.Routing, v.Routes), RollbackOf: v.RollbackOf,
		})
	}
	return out, nil
}

// apply checks ch against the routing in force (cur) and swaps it in.
func (s *RoutingConfig) apply(ctx context.Context, cur RoutingState, ch RoutingChange, allowUnrouted bool) (RoutingState, error) {
	if err := s.ctl.ValidateRouting(ch.Routing, ch.Routes); err != nil {
		return RoutingState{}, validationError(err)
	}
	if !allowUnrouted {
		if err := s.checkUnrouted(ctx, cur, ch.Routes); err != nil {
			return RoutingState{}, err
		}
	}
	ch.By, ch.At, ch.IfVersion = principal(ctx), s.now(), cur.Version
	st, err := s.ctl.UpdateRouting(ctx, ch)
	if errors.Is(err, ErrRoutingConflict) {
		return RoutingState{}, connect.NewError(connect.CodeFailedPrecondition,
			fmt.Errorf("%v while this change was checked; read it again and retry", err))
	}
	if err != nil {
		return RoutingState{}, validationError(err)
	}
	return st, nil
}

// checkUnrouted refuses to leave without a route a model name that served
// traffic within unroutedWindow and is routed now.
func (s *RoutingConfig) checkUnrouted(ctx context.Context, cur RoutingState, next []config.Route) error {
	if s.served == nil {
		return nil
	}
	recent, err := s.served.RoutesServedSince(ctx, s.now().Add(-unroutedWindow))
	if err != nil {
		return &llm.Error{Kind: llm.KindUnavailable, Err: err,
			Message: "cannot read recent traffic to check which models this change leaves unrouted (" + err.Error() + "); send allow_unrouted=true to apply it unchecked"}
	}
	before, after := routed(cur.Routes, cur.Served), routed(next, cur.Served)
	var lost []string
	for _, m := range recent {
		if before[m] && !after[m] {
			lost = append(lost, m)
		}
	}
	if len(lost) == 0 {
		return nil
	}
	slices.Sort(lost)
	return connect.NewError(connect.CodeFailedPrecondition, fmt.Errorf(
		"this change leaves without a route %s, which served traffic in the last hour; "+
			"to apply it anyway send allow_unrouted=true (REST: ?allow_unrouted=true, CLI: --allow-unrouted)",
		quoteList(lost)))
}

func routed(routes []config.Route, served []string) map[string]bool {
	out := make(map[string]bool, len(routes)+len(served))
	for _, m := range served {
		out[m] = true
	}
	for _, r := range routes {
		out[r.Model] = true
	}
	return out
}

func quoteList(ms []string) string {
	q := make([]string, len(ms))
	for i, m := range ms {
		q[i] = strconv.Quote(m)
	}
	return strings.Join(q, ", ")
}

// principal names the caller for the audit record; a caller that did not
// pass through authentication is on an open gateway.
func principal(ctx context.Context) string {
	if p := middleware.Principal(ctx); p != "" {
		return p
	}
	return middleware.PrincipalOpenMode
}

func validationError(err error) error {
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		return &llm.Error{Kind: llm.KindInvalidRequest, Message: err.Error(), Param: firstField(ve), Err: err}
	}
	return err
}

// ValidateRoutingConfig checks a config without applying it.
func (s *RoutingConfig) ValidateRoutingConfig(ctx context.Context, in *pb.ValidateRoutingConfigRequest) (*pb.ValidateRoutingConfigResponse, error) {
	if in.GetConfig() == nil {
		return nil, llm.InvalidParam("config", "config is required")
	}
	r, routes := routingFromProto(in.GetConfig())
	err := s.ctl.ValidateRouting(r, routes)
	if err == nil {
		return &pb.ValidateRoutingConfigResponse{Valid: true}, nil
	}
	out := &pb.ValidateRoutingConfigResponse{}
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		for _, fe := range ve.Errors {
			out.Violations = append(out.Violations, &pb.FieldViolation{Field: fe.Field, Description: fe.Message})
		}
	} else {
		out.Violations = append(out.Violations, &pb.FieldViolation{Description: err.Error()})
	}
	return out, nil
}

func firstField(ve *config.ValidationError) string {
	if len(ve.Errors) > 0 {
		return ve.Errors[0].Field
	}
	return ""
}

func ms(d config.Duration) int32 { return int32(time.Duration(d) / time.Millisecond) }

func dur(msec int32) config.Duration { return config.Duration(time.Duration(msec) * time.Millisecond) }

func routingToProto(r config.Routing, routes []config.Route) *pb.RoutingConfig {
	out := &pb.RoutingConfig{Strategy: r.Strategy, FallbackStrategy: r.FallbackStrategy}
	for _, p := range r.Providers {
		out.Providers = append(out.Providers, &pb.ProviderWeight{Name: p.Name, Priority: int32(p.Priority), Weight: int32(p.Weight)})
	}
	for _, rt := range routes {
		pr := &pb.Route{
			Model:            rt.Model,
			Strategy:         rt.Strategy,
			FallbackStrategy: rt.FallbackStrategy,
			Fallbacks:        rt.Fallbacks,
			Retry: &pb.RetryPolicy{
				MaxAttempts: int32(rt.Retry.MaxAttempts), InitialBackoffMs: ms(rt.Retry.InitialBackoff),
				MaxBackoffMs: ms(rt.Retry.MaxBackoff), PerTryTimeoutMs: ms(rt.Retry.PerTryTimeout),
				OverallTimeoutMs: ms(rt.Retry.OverallTimeout),
			},
			Hedge: &pb.HedgePolicy{Enabled: rt.Hedge.Enabled, DelayMs: ms(rt.Hedge.Delay)},
			Cache: &pb.CachePolicy{Mode: rt.Cache.Mode, TtlSeconds: int32(time.Duration(rt.Cache.TTL) / time.Second),
				Semantic: semanticToProto(rt.Cache.Semantic)},
			Hybrid:    &pb.HybridWeights{Cost: rt.Hybrid.Cost, Latency: rt.Hybrid.Latency, Quality: rt.Hybrid.Quality, ErrorRate: rt.Hybrid.ErrorRate, Load: rt.Hybrid.Load},
			PanicMode: rt.PanicMode,
			FanOutN:   rt.FanOutN,
			Rules:     rulesToProto(rt.Rules),
		}
		for _, t := range rt.Targets {
			pr.Targets = append(pr.Targets, &pb.RouteTarget{Provider: t.Provider, Model: t.Model, Weight: int32(t.Weight), Priority: int32(t.Priority), Quality: t.Quality})
		}
		out.Routes = append(out.Routes, pr)
	}
	return out
}

func routingFromProto(in *pb.RoutingConfig) (config.Routing, []config.Route) {
	r := config.Routing{Strategy: in.GetStrategy(), FallbackStrategy: in.GetFallbackStrategy()}
	for _, p := range in.GetProviders() {
		r.Providers = append(r.Providers, config.ProviderWeight{Name: p.GetName(), Priority: int(p.GetPriority()), Weight: int(p.GetWeight())})
	}
	var routes []config.Route
	for _, pr := range in.GetRoutes() {
		rt := config.Route{
			Model:            pr.GetModel(),
			Strategy:         pr.GetStrategy(),
			FallbackStrategy: pr.GetFallbackStrategy(),
			Fallbacks:        pr.GetFallbacks(),
			Retry: config.Retry{
				MaxAttempts: int(pr.GetRetry().GetMaxAttempts()), InitialBackoff: dur(pr.GetRetry().GetInitialBackoffMs()),
				MaxBackoff: dur(pr.GetRetry().GetMaxBackoffMs()), PerTryTimeout: dur(pr.GetRetry().GetPerTryTimeoutMs()),
				OverallTimeout: dur(pr.GetRetry().GetOverallTimeoutMs()),
			},
			Hedge: config.Hedge{Enabled: pr.GetHedge().GetEnabled(), Delay: dur(pr.GetHedge().GetDelayMs())},
			Cache: config.Cache{Mode: pr.GetCache().GetMode(), TTL: config.Duration(time.Duration(pr.GetCache().GetTtlSeconds()) * time.Second),
				Semantic: semanticFromProto(pr.GetCache().GetSemantic())},
			PanicMode: pr.PanicMode,
			FanOutN:   pr.FanOutN,
			Rules:     rulesFromProto(pr.GetRules()),
			Hybrid: config.Hybrid{Cost: pr.GetHybrid().GetCost(), Latency: pr.GetHybrid().GetLatency(), Quality: pr.GetHybrid().GetQuality(),
				ErrorRate: pr.GetHybrid().GetErrorRate(), Load: pr.GetHybrid().GetLoad()},
		}
		for _, t := range pr.GetTargets() {
			rt.Targets = append(rt.Targets, config.Target{Provider: t.GetProvider(), Model: t.GetModel(), Weight: int(t.GetWeight()), Priority: int(t.GetPriority()), Quality: t.GetQuality()})
		}
		routes = append(routes, rt)
	}
	return r, routes
}

func semanticToProto(s config.Semantic) *pb.SemanticCachePolicy {
	if s == (config.Semantic{}) {
		return nil
	}
	return &pb.SemanticCachePolicy{Enabled: s.Enabled, Model: s.Model, Dimensions: int32(s.Dimensions), Threshold: s.Threshold,
		TtlSeconds: int32(time.Duration(s.TTL) / time.Second), Scope: s.Scope, AllowTools: s.AllowTools, TimeoutMs: ms(s.Timeout)}
}

func semanticFromProto(s *pb.SemanticCachePolicy) config.Semantic {
	if s == nil {
		return config.Semantic{}
	}
	return config.Semantic{Enabled: s.GetEnabled(), Model: s.GetModel(), Dimensions: int(s.GetDimensions()), Threshold: s.GetThreshold(),
		TTL: config.Duration(time.Duration(s.GetTtlSeconds()) * time.Second), Scope: s.GetScope(), AllowTools: s.GetAllowTools(),
		Timeout: dur(s.GetTimeoutMs())}
}
