package switchyard

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"connectrpc.com/connect"

	switchyardv1 "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/gen/go/switchyard/v1/switchyardv1connect"
)

// Protocol is the RPC protocol a Client speaks. The gateway serves all three
// on the same port.
type Protocol int

const (
	// Connect is the Connect protocol over HTTP/1.1 or HTTP/2 (the default).
	Connect Protocol = iota
	// GRPC is gRPC over HTTP/2; plain http:// URLs use cleartext HTTP/2 (h2c).
	GRPC
	// GRPCWeb is gRPC-Web over HTTP/1.1 or HTTP/2.
	GRPCWeb
)

// String returns the protocol's name.
func (p Protocol) String() string {
	switch p {
	case Connect:
		return "connect"
	case GRPC:
		return "grpc"
	case GRPCWeb:
		return "grpcweb"
	}
	return fmt.Sprintf("Protocol(%d)", int(p))
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	protocol    Protocol
	apiKey      string
	httpClient  *http.Client
	timeout     time.Duration
	connectOpts []connect.ClientOption
}

// WithProtocol selects Connect (default), GRPC or GRPCWeb.
func WithProtocol(p Protocol) Option { return func(s *settings) { s.protocol = p } }

// WithAPIKey sends key as "Authorization: Bearer <key>" on every call,
// including calls made through the raw service clients.
func WithAPIKey(key string) Option { return func(s *settings) { s.apiKey = key } }

// WithHTTPClient replaces the HTTP client. For GRPC over plain http:// it
// must speak cleartext HTTP/2 (see http.Protocols.SetUnencryptedHTTP2).
// A Client does not close idle connections of a client it did not create.
func WithHTTPClient(c *http.Client) Option { return func(s *settings) { s.httpClient = c } }

// WithTimeout bounds every call, streams included (as a gRPC deadline
// does), unless the caller's context ends sooner. Zero, the default, leaves
// the deadline to the context.
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithConnectOptions adds connect-go client options (interceptors,
// compression, read limits...) after the ones the Client sets itself.
func WithConnectOptions(opts ...connect.ClientOption) Option {
	return func(s *settings) { s.connectOpts = append(s.connectOpts, opts...) }
}

// Client calls a Switchyard gateway. It is safe for concurrent use; create
// one per gateway and reuse it, since it pools connections.
type Client struct {
	ownedTransport *http.Transport // nil when the caller supplied the HTTP client

	chat       switchyardv1connect.ChatServiceClient
	models     switchyardv1connect.ModelServiceClient
	embeddings switchyardv1connect.EmbeddingServiceClient
	routing    switchyardv1connect.RoutingConfigServiceClient
	providers  switchyardv1connect.ProviderServiceClient
	usage      switchyardv1connect.UsageServiceClient
	keys       switchyardv1connect.KeyServiceClient
	billing    switchyardv1connect.BillingServiceClient
}

// NewClient returns a client for the gateway at baseURL, an http:// or
// https:// URL such as "http://127.0.0.1:8080" (any path is kept as a
// prefix, for gateways mounted behind a proxy).
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	if !strings.Contains(baseURL, "://") {
		return nil, fmt.Errorf("switchyard: base URL %q: missing scheme, want e.g. http://%s", baseURL, baseURL)
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, fmt.Errorf("switchyard: base URL %q: %w", baseURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("switchyard: base URL %q: scheme must be http or https", baseURL)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("switchyard: base URL %q: missing host", baseURL)
	}
	s := settings{}
	for _, o := range opts {
		o(&s)
	}
	if s.timeout < 0 {
		return nil, fmt.Errorf("switchyard: timeout must not be negative, got %s", s.timeout)
	}
	var copts []connect.ClientOption
	switch s.protocol {
	case Connect:
	case GRPC:
		copts = append(copts, connect.WithGRPC())
	case GRPCWeb:
		copts = append(copts, connect.WithGRPCWeb())
	default:
		return nil, fmt.Errorf("switchyard: unknown protocol %s", s.protocol)
	}
	var interceptors []connect.Interceptor
	if s.timeout > 0 {
		interceptors = append(interceptors, timeoutInterceptor{s.timeout})
	}
	if s.apiKey != "" {
		interceptors = append(interceptors, apiKeyInterceptor{"Bearer " + s.apiKey})
	}
	if len(interceptors) > 0 {
		copts = append(copts, connect.WithInterceptors(interceptors...))
	}
	copts = append(copts, s.connectOpts...)

	c := &Client{}
	hc := s.httpClient
	if hc == nil {
		c.ownedTransport = newTransport(s.protocol)
		hc = &http.Client{Transport: c.ownedTransport}
	}
	base := strings.TrimSuffix(u.String(), "/")
	c.chat = switchyardv1connect.NewChatServiceClient(hc, base, copts...)
	c.models = switchyardv1connect.NewModelServiceClient(hc, base, copts...)
	c.embeddings = switchyardv1connect.NewEmbeddingServiceClient(hc, base, copts...)
	c.routing = switchyardv1connect.NewRoutingConfigServiceClient(hc, base, copts...)
	c.providers = switchyardv1connect.NewProviderServiceClient(hc, base, copts...)
	c.usage = switchyardv1connect.NewUsageServiceClient(hc, base, copts...)
	c.keys = switchyardv1connect.NewKeyServiceClient(hc, base, copts...)
	c.billing = switchyardv1connect.NewBillingServiceClient(hc, base, copts...)
	return c, nil
}

// newTransport returns a pooled transport for the protocol. gRPC needs
// HTTP/2 even without TLS, so it gets HTTP/2 only (h2c for http:// URLs);
// Connect and gRPC-Web work on either and keep the standard negotiation.
func newTransport(p Protocol) *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	// The default of 2 idle connections per host collapses throughput for a
	// client that issues concurrent calls to a single gateway.
	t.MaxIdleConnsPerHost = 64
	if p == GRPC {
		var protos http.Protocols
		protos.SetHTTP2(true)
		protos.SetUnencryptedHTTP2(true)
		t.Protocols = &protos
	}
	return t
}

// Close releases idle connections of the HTTP client the Client created.
// Calls in flight are not interrupted; the Client must not be used after.
func (c *Client) Close() error {
	if c.ownedTransport != nil {
		c.ownedTransport.CloseIdleConnections()
	}
	return nil
}

// Chat sends one chat completion request and waits for the whole answer.
func (c *Client) Chat(ctx context.Context, req *switchyardv1.CreateChatCompletionRequest) (*switchyardv1.ChatCompletion, error) {
	return c.chat.CreateChatCompletion(ctx, req)
}

// ChatStream streams a chat completion chunk by chunk:
//
//	for chunk, err := range client.ChatStream(ctx, req) {
//		if err != nil { ... }
//		...
//	}
//
// An error is yielded once, with a nil chunk, and ends the sequence. Leaving
// the loop early cancels the call, so the gateway stops generating. Each
// range over the sequence sends the request anew.
func (c *Client) ChatStream(ctx context.Context, req *switchyardv1.CreateChatCompletionRequest) iter.Seq2[*switchyardv1.ChatCompletionChunk, error] {
	return func(yield func(*switchyardv1.ChatCompletionChunk, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := c.chat.StreamChatCompletion(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		// Cancel before Close: Close alone would leave the gateway streaming
		// into a connection nobody reads until it notices.
		defer func() { cancel(); _ = stream.Close() }()
		for stream.Receive() {
			if !yield(stream.Msg(), nil) {
				return
			}
		}
		if err := stream.Err(); err != nil {
			yield(nil, err)
		}
	}
}

// ListModels lists the route aliases and every model the configured
// providers serve.
func (c *Client) ListModels(ctx context.Context) ([]*switchyardv1.Model, error) {
	resp, err := c.models.ListModels(ctx, &switchyardv1.ListModelsRequest{})
	if err != nil {
		return nil, err
	}
	return resp.GetData(), nil
}

// GetModel looks up one model or alias; an unknown id gives an error for
// which IsNotFound is true.
func (c *Client) GetModel(ctx context.Context, id string) (*switchyardv1.Model, error) {
	resp, err := c.models.GetModel(ctx, &switchyardv1.GetModelRequest{Id: id})
	if err != nil {
		return nil, err
	}
	return resp.GetModel(), nil
}

// Embeddings embeds the request's inputs.
func (c *Client) Embeddings(ctx context.Context, req *switchyardv1.CreateEmbeddingsRequest) (*switchyardv1.CreateEmbeddingsResponse, error) {
	return c.embeddings.CreateEmbeddings(ctx, req)
}

// ChatService is the raw generated chat client, sharing this Client's
// protocol, API key and timeout.
func (c *Client) ChatService() switchyardv1connect.ChatServiceClient { return c.chat }

// ModelService is the raw generated model client.
func (c *Client) ModelService() switchyardv1connect.ModelServiceClient { return c.models }

// EmbeddingService is the raw generated embeddings client.
func (c *Client) EmbeddingService() switchyardv1connect.EmbeddingServiceClient {
	return c.embeddings
}

// RoutingConfigService is the raw generated routing-config client (read,
// validate and replace the routing table).
func (c *Client) RoutingConfigService() switchyardv1connect.RoutingConfigServiceClient {
	return c.routing
}

// ProviderService is the raw generated provider client.
func (c *Client) ProviderService() switchyardv1connect.ProviderServiceClient { return c.providers }

// UsageService is the raw generated usage and metrics client.
func (c *Client) UsageService() switchyardv1connect.UsageServiceClient { return c.usage }

// KeyService is the raw generated virtual-key client.
func (c *Client) KeyService() switchyardv1connect.KeyServiceClient { return c.keys }

// BillingService is the raw generated billing-alert client.
func (c *Client) BillingService() switchyardv1connect.BillingServiceClient { return c.billing }
