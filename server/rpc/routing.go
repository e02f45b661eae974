package rpc

import (
	"context"
	"errors"
	"time"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// RoutingState is the routing section in force.
type RoutingState struct {
	Routing   config.Routing
	Routes    []config.Route
	Version   int64
	UpdatedAt time.Time
}

// RoutingControl owns the live routing table: it validates a new routing
// section, builds the table and swaps it atomically (server/cmd wires it).
type RoutingControl interface {
	Routing() RoutingState
	UpdateRouting(ctx context.Context, r config.Routing, routes []config.Route) (RoutingState, error)
	ValidateRouting(r config.Routing, routes []config.Route) error
}

// RoutingConfig implements RoutingConfigService.
type RoutingConfig struct {
	pb.UnimplementedRoutingConfigServiceServer
	ctl RoutingControl
}

// NewRoutingConfig returns the routing config service.
func NewRoutingConfig(ctl RoutingControl) *RoutingConfig { return &RoutingConfig{ctl: ctl} }

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
func (s *RoutingConfig) UpdateRoutingConfig(ctx context.Context, in *pb.UpdateRoutingConfigRequest) (*pb.UpdateRoutingConfigResponse, error) {
	if in.GetConfig() == nil {
		return nil, llm.InvalidParam("config", "config is required")
	}
	r, routes := routingFromProto(in.GetConfig())
	st, err := s.ctl.UpdateRouting(ctx, r, routes)
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			return nil, &llm.Error{Kind: llm.KindInvalidRequest, Message: err.Error(), Param: firstField(ve), Err: err}
		}
		return nil, err
	}
	return &pb.UpdateRoutingConfigResponse{Config: routingToProto(st.Routing, st.Routes), Version: st.Version}, nil
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
			Hedge:  &pb.HedgePolicy{Enabled: rt.Hedge.Enabled, DelayMs: ms(rt.Hedge.Delay)},
			Cache:  &pb.CachePolicy{Mode: rt.Cache.Mode, TtlSeconds: int32(time.Duration(rt.Cache.TTL) / time.Second)},
			Hybrid: &pb.HybridWeights{Cost: rt.Hybrid.Cost, Latency: rt.Hybrid.Latency, Quality: rt.Hybrid.Quality, ErrorRate: rt.Hybrid.ErrorRate, Load: rt.Hybrid.Load},
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
			Cache: config.Cache{Mode: pr.GetCache().GetMode(), TTL: config.Duration(time.Duration(pr.GetCache().GetTtlSeconds()) * time.Second)},
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
