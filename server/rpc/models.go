package rpc

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/middleware"
)

// Models implements ModelService from the routing table in force.
type Models struct {
	pb.UnimplementedModelServiceServer
	router Router
}

// NewModels returns the model service.
func NewModels(router Router) *Models { return &Models{router: router} }

func modelToProto(m route.ModelInfo) *pb.Model {
	return &pb.Model{Id: m.ID, Object: "model", Created: m.Created, OwnedBy: m.OwnedBy, Providers: m.Providers, Alias: m.Alias}
}

// ListModels lists route aliases and the models providers serve.
func (s *Models) ListModels(ctx context.Context, _ *pb.ListModelsRequest) (*pb.ListModelsResponse, error) {
	ms := s.router.Table().Models()
	out := &pb.ListModelsResponse{Object: "list", Data: make([]*pb.Model, len(ms))}
	for i, m := range ms {
		out.Data[i] = modelToProto(m)
	}
	return out, nil
}

// GetModel returns one model, or NotFound.
func (s *Models) GetModel(ctx context.Context, in *pb.GetModelRequest) (*pb.GetModelResponse, error) {
	m, ok := s.router.Table().Model(in.GetId())
	if !ok {
		return nil, &llm.Error{Kind: llm.KindNotFound, Param: "model", Code: "model_not_found",
			Message: "The model '" + in.GetId() + "' does not exist", Err: llm.ErrUnknownModel}
	}
	return &pb.GetModelResponse{Model: modelToProto(m)}, nil
}

// Embeddings implements EmbeddingService over the request lifecycle.
type Embeddings struct {
	pb.UnimplementedEmbeddingServiceServer
	gw *gateway.Gateway
}

// NewEmbeddings returns the embedding service over gw.
func NewEmbeddings(gw *gateway.Gateway) *Embeddings { return &Embeddings{gw: gw} }

// CreateEmbeddings routes an embeddings request.
func (s *Embeddings) CreateEmbeddings(ctx context.Context, in *pb.CreateEmbeddingsRequest) (*pb.CreateEmbeddingsResponse, error) {
	if in.GetModel() == "" {
		return nil, llm.InvalidParam("model", "you must provide a model parameter")
	}
	n := len(in.GetInput())
	switch {
	case n > 0 && len(in.GetInputTokens()) > 0:
		return nil, llm.InvalidParam("input_tokens", "set input or input_tokens, not both")
	case n == 0:
		n = len(in.GetInputTokens())
	}
	if n == 0 {
		return nil, llm.InvalidParam("input", "input must be a non-empty string or array of strings")
	}
	if n > 2048 {
		return nil, llm.InvalidParam("input", "at most 2048 inputs per request")
	}
	// base64 is an encoding of the same floats, done by the REST facade;
	// gRPC clients always get floats.
	if f := in.GetEncodingFormat(); f != "" && f != "float" && f != "base64" {
		return nil, llm.InvalidParam("encoding_format", "encoding_format %q is not supported (want float or base64)", f)
	}
	req := &llm.EmbeddingRequest{Model: in.GetModel(), Input: in.GetInput(), EncodingFormat: in.GetEncodingFormat(), User: in.GetUser()}
	for i, t := range in.GetInputTokens() {
		if len(t.GetIds()) == 0 {
			return nil, llm.InvalidParam(fmt.Sprintf("input_tokens[%d]", i), "a token input must not be empty")
		}
		ids := make([]int, len(t.GetIds()))
		for j, id := range t.GetIds() {
			ids[j] = int(id)
		}
		req.InputTokens = append(req.InputTokens, ids)
	}
	if in.Dimensions != nil {
		if in.GetDimensions() < 1 {
			return nil, llm.InvalidParam("dimensions", "dimensions must be at least 1")
		}
		d := int(in.GetDimensions())
		req.Dimensions = &d
	}
	if o := in.GetSwitchyard(); o != nil {
		req.Hints.Route = o.GetRoute()
	}
	resp, info, err := s.gw.Embed(ctx, callOf(ctx), req)
	if err != nil {
		return nil, err
	}
	out := &pb.CreateEmbeddingsResponse{
		Object:     "list",
		Model:      resp.Model,
		Data:       make([]*pb.Embedding, len(resp.Vectors)),
		Usage:      &pb.EmbeddingUsage{PromptTokens: int32(resp.Usage.PromptTokens), TotalTokens: int32(resp.Usage.PromptTokens)},
		Switchyard: infoToProto(middleware.RequestID(ctx), info),
	}
	if out.Model == "" {
		out.Model = info.UpstreamModel
	}
	for i, v := range resp.Vectors {
		out.Data[i] = &pb.Embedding{Object: "embedding", Index: int32(i), Embedding: v}
	}
	return out, nil
}

// ProviderControl is the live provider key pool (server/cmd wires it).
type ProviderControl interface {
	Status() []route.ProviderStatus
	AddKey(ctx context.Context, provider, key, label string, weight int) (route.KeyStatus, error)
	RemoveKey(ctx context.Context, provider, keyID string) error
}

// Providers implements ProviderService.
type Providers struct {
	pb.UnimplementedProviderServiceServer
	ctl ProviderControl
}

// NewProviders returns the provider service.
func NewProviders(ctl ProviderControl) *Providers { return &Providers{ctl: ctl} }

var targetStates = map[string]pb.TargetState{
	"healthy":   pb.TargetState_TARGET_STATE_HEALTHY,
	"open":      pb.TargetState_TARGET_STATE_OPEN,
	"half_open": pb.TargetState_TARGET_STATE_HALF_OPEN,
	"cooling":   pb.TargetState_TARGET_STATE_COOLING,
}

func keyToProto(k route.KeyStatus) *pb.ProviderKey {
	out := &pb.ProviderKey{
		Id: k.ID, MaskedKey: k.Masked, Label: k.Label, Weight: int32(k.Weight), State: targetStates[k.State],
		InFlight: int32(k.InFlight), EwmaLatencyMs: k.LatencyMs, ErrorRate: k.ErrorRate, Source: k.Source,
	}
	if !k.CooldownUntil.IsZero() {
		out.CooldownUntil = timestamppb.New(k.CooldownUntil)
	}
	return out
}

// ListProviders lists providers with each key's health: breaker state,
// cooldown, in-flight calls, EWMA latency and error rate.
func (s *Providers) ListProviders(ctx context.Context, _ *pb.ListProvidersRequest) (*pb.ListProvidersResponse, error) {
	st := s.ctl.Status()
	out := &pb.ListProvidersResponse{Providers: make([]*pb.Provider, len(st))}
	for i, p := range st {
		pp := &pb.Provider{Name: p.Name, Type: p.Type, Models: p.Models, Healthy: p.Healthy}
		for _, k := range p.Keys {
			pp.Keys = append(pp.Keys, keyToProto(k))
		}
		out.Providers[i] = pp
	}
	return out, nil
}

// AddProviderKey adds a key to a provider's pool; it takes traffic at once.
func (s *Providers) AddProviderKey(ctx context.Context, in *pb.AddProviderKeyRequest) (*pb.AddProviderKeyResponse, error) {
	if in.GetProvider() == "" {
		return nil, llm.InvalidParam("provider", "provider is required")
	}
	if in.GetWeight() < 0 {
		return nil, llm.InvalidParam("weight", "weight must not be negative")
	}
	k, err := s.ctl.AddKey(ctx, in.GetProvider(), in.GetApiKey(), in.GetLabel(), int(in.GetWeight()))
	if err != nil {
		return nil, err
	}
	return &pb.AddProviderKeyResponse{Key: keyToProto(k)}, nil
}

// RemoveProviderKey removes a key; requests already using it finish.
func (s *Providers) RemoveProviderKey(ctx context.Context, in *pb.RemoveProviderKeyRequest) (*pb.RemoveProviderKeyResponse, error) {
	if err := s.ctl.RemoveKey(ctx, in.GetProvider(), in.GetKeyId()); err != nil {
		return nil, err
	}
	return &pb.RemoveProviderKeyResponse{}, nil
}
