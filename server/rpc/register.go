package rpc

import (
	"net/http"
	"slices"

	"connectrpc.com/connect"

	"github.com/switchyard/switchyard/gen/go/switchyard/v1/switchyardv1connect"
)

// Services are the service implementations, one per proto service.
type Services struct {
	Chat       *Chat
	Models     *Models
	Embeddings *Embeddings
	Routing    *RoutingConfig
	Providers  *Providers
	Usage      *Usage
	Keys       *Keys
	Billing    *Billing
}

// Register mounts every service on mux for gRPC, gRPC-Web and Connect
// (connect-go serves all three from one handler) and returns the fully
// qualified service names for health checks and reflection.
func Register(mux *http.ServeMux, s Services, opts ...connect.HandlerOption) []string {
	opts = append([]connect.HandlerOption{connect.WithInterceptors(errorInterceptor{})}, opts...)
	mount := func(path string, h http.Handler) { mux.Handle(path, h) }
	mount(switchyardv1connect.NewChatServiceHandler(connectChat{s.Chat}, opts...))
	mount(switchyardv1connect.NewModelServiceHandler(s.Models, opts...))
	mount(switchyardv1connect.NewEmbeddingServiceHandler(s.Embeddings, opts...))
	mount(switchyardv1connect.NewRoutingConfigServiceHandler(s.Routing, slices.Concat(opts, []connect.HandlerOption{
		connect.WithCodec(strictJSONCodec{"json"}), connect.WithCodec(strictJSONCodec{"json; charset=utf-8"}),
	})...))
	mount(switchyardv1connect.NewProviderServiceHandler(s.Providers, opts...))
	mount(switchyardv1connect.NewUsageServiceHandler(connectUsage{s.Usage}, opts...))
	mount(switchyardv1connect.NewKeyServiceHandler(s.Keys, opts...))
	mount(switchyardv1connect.NewBillingServiceHandler(s.Billing, opts...))
	return []string{
		switchyardv1connect.ChatServiceName,
		switchyardv1connect.ModelServiceName,
		switchyardv1connect.EmbeddingServiceName,
		switchyardv1connect.RoutingConfigServiceName,
		switchyardv1connect.ProviderServiceName,
		switchyardv1connect.UsageServiceName,
		switchyardv1connect.KeyServiceName,
		switchyardv1connect.BillingServiceName,
	}
}
