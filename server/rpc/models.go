package rpc

import (
	"context"
	"time"

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

// Embeddings implements EmbeddingService.
type Embeddings struct {
	pb.UnimplementedEmbeddingServiceServer
	router Router
	now    func() time.Time
}

// NewEmbeddings returns the embedding service.
func NewEmbeddings(router Router) *Embeddings { return &Embeddings{router: router, now: time.Now} }

// CreateEmbeddings routes an embeddings request.
func (s *Embeddings) CreateEmbeddings(ctx context.Context, in *pb.CreateEmbeddingsRequest) (*pb.CreateEmbeddingsResponse, error) {
	if in.GetModel() == "" {
		return nil, llm.InvalidParam("model", "you must provide a model parameter")
	}
	if len(in.GetInput()) == 0 {
		return nil, llm.InvalidParam("input", "input must be a non-empty string or array of strings")
	}
	if len(in.GetInput()) > 2048 {
		return nil, llm.InvalidParam("input", "at most 2048 inputs per request")
	}
	// base64 is an encoding of the same floats, done by the REST facade;
	// gRPC clients always get floats.
	if f := in.GetEncodingFormat(); f != "" && f != "float" && f != "base64" {
		return nil, llm.InvalidParam("encoding_format", "encoding_format %q is not supported (want float or base64)", f)
	}
	req := &llm.EmbeddingRequest{Model: in.GetModel(), Input: in.GetInput(), EncodingFormat: in.GetEncodingFormat(), User: in.GetUser()}
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
	resp, info, err := s.router.Embed(ctx, req)
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

// Providers implements ProviderService. Key pools land with the routing
// engine; until then the key RPCs answer Unimplemented.
type Providers struct {
	pb.UnimplementedProviderServiceServer
	router Router
}

// NewProviders returns the provider service.
func NewProviders(router Router) *Providers { return &Providers{router: router} }

// ListProviders lists configured providers and their models.
func (s *Providers) ListProviders(ctx context.Context, _ *pb.ListProvidersRequest) (*pb.ListProvidersResponse, error) {
	ps := s.router.Table().Providers()
	out := &pb.ListProvidersResponse{Providers: make([]*pb.Provider, len(ps))}
	for i, p := range ps {
		out.Providers[i] = &pb.Provider{Name: p.Name, Type: p.Type, Models: p.Models, Healthy: true}
	}
	return out, nil
}

// Usage, Keys and Billing answer Unimplemented until their issues land;
// the contract and the REST routes are already in place.
type (
	Usage struct {
		pb.UnimplementedUsageServiceServer
	}
	Keys struct {
		pb.UnimplementedKeyServiceServer
	}
	Billing struct {
		pb.UnimplementedBillingServiceServer
	}
)
