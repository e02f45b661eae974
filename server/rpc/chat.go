// Package rpc implements the generated service handlers: proto in, domain
// call, proto out. It is shared by every protocol: connect-go serves it as
// gRPC, gRPC-Web and Connect; the REST facade calls it in-process.
package rpc

import (
	"context"
	"errors"
	"io"
	"net/http"

	"connectrpc.com/connect"

	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/middleware"
)

// Router is what the model services need from the engine.
type Router interface {
	Table() *route.Table
}

// Chat implements ChatService over the request lifecycle: proto in,
// gateway call, proto out. Its methods return domain errors; the connect
// interceptor (Interceptor) and the REST facade map them.
type Chat struct {
	gw *gateway.Gateway
}

// NewChat returns the chat service over gw.
func NewChat(gw *gateway.Gateway) *Chat { return &Chat{gw: gw} }

// responseHeaderKey carries the REST facade's response headers: in-process
// calls have no connect call info to set headers on.
type responseHeaderKey struct{}

// WithResponseHeader lets the services set response headers (x-ratelimit-*)
// on h when called in-process.
func WithResponseHeader(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, responseHeaderKey{}, h)
}

func headerSetter(ctx context.Context) func(name, value string) {
	if h, ok := ctx.Value(responseHeaderKey{}).(http.Header); ok {
		return h.Set
	}
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		return ci.ResponseHeader().Set
	}
	return nil
}

type dialectKey struct{}

// WithDialect names the wire format an in-process caller (the REST facade)
// received the request in; calls without it came over gRPC or Connect.
func WithDialect(ctx context.Context, dialect string) context.Context {
	return context.WithValue(ctx, dialectKey{}, dialect)
}

// DialectGRPC names requests that came in over gRPC, gRPC-Web or Connect.
const DialectGRPC = "grpc"

// callOf is what the transport knows of the request, for the lifecycle.
func callOf(ctx context.Context) gateway.Call {
	d, _ := ctx.Value(dialectKey{}).(string)
	if d == "" {
		d = DialectGRPC
	}
	c := gateway.Call{RequestID: middleware.RequestID(ctx), Client: middleware.Client(ctx), Key: access.FromContext(ctx),
		Dialect: d, SetHeader: headerSetter(ctx)}
	if ci, ok := connect.CallInfoForHandlerContext(ctx); ok {
		c.Region = ci.RequestHeader().Get("x-switchyard-region") // gRPC metadata and Connect headers alike
	}
	return c
}

// CreateChatCompletion serves a unary chat request.
func (s *Chat) CreateChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest) (*pb.ChatCompletion, error) {
	req, err := ChatRequestFromProto(in)
	if err != nil {
		return nil, err
	}
	resp, info, err := s.gw.Chat(ctx, callOf(ctx), req)
	if err != nil {
		return nil, err
	}
	return ChatResponseToProto(resp, infoToProto(middleware.RequestID(ctx), info)), nil
}

// StreamOpen is a chat stream opened and ready to relay. Open fails before
// anything is sent so transports can still answer with a proper error status.
type StreamOpen struct {
	st           *gateway.Stream
	includeUsage bool
	requestID    string
	sent         int
}

// OpenStream validates the request and opens the upstream stream.
func (s *Chat) OpenStream(ctx context.Context, in *pb.CreateChatCompletionRequest) (*StreamOpen, error) {
	req, err := ChatRequestFromProto(in)
	if err != nil {
		return nil, err
	}
	st, err := s.gw.ChatStream(ctx, callOf(ctx), req)
	if err != nil {
		return nil, err
	}
	return &StreamOpen{st: st, includeUsage: req.IncludeUsage, requestID: middleware.RequestID(ctx)}, nil
}

// Next returns the next chunk for the client, or io.EOF. The routing block
// rides on the first chunk and the usage chunk (or the last chunk when
// usage was not asked for).
func (o *StreamOpen) Next() (*pb.ChatCompletionChunk, error) {
	for {
		c, err := o.st.Recv()
		if err != nil {
			return nil, err
		}
		if c.Usage != nil && len(c.Choices) == 0 && !o.includeUsage {
			continue // accounted by the router; the client did not ask for it
		}
		out := ChunkToProto(&c)
		if !o.includeUsage {
			out.Usage = nil
		}
		if o.sent == 0 || out.Usage != nil {
			out.Switchyard = infoToProto(o.requestID, o.st.Info())
		}
		o.sent++
		return out, nil
	}
}

// Close releases the upstream stream; the lifecycle settles and records
// the request, partial streams included.
func (o *StreamOpen) Close() error { return o.st.Close() }

// Info reports the routing decision and cost so far.
func (o *StreamOpen) Info() route.Info { return o.st.Info() }

// Usage is the usage the upstream reported, or (partial=true) an estimate
// of the completion tokens relayed before the stream broke.
func (o *StreamOpen) Usage() (u llm.Usage, partial bool) { return o.st.Usage() }

// StreamChatCompletion relays a stream through send. Errors after the first
// chunk end the stream in-band (the transport's trailer status).
func (s *Chat) StreamChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest, send func(*pb.ChatCompletionChunk) error) error {
	o, err := s.OpenStream(ctx, in)
	if err != nil {
		return err
	}
	defer o.Close()
	for {
		c, err := o.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := send(c); err != nil {
			return err
		}
	}
}

// connectChat adapts Chat to connect's handler interface (simple mode).
type connectChat struct{ *Chat }

func (c connectChat) StreamChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest, st *connect.ServerStream[pb.ChatCompletionChunk]) error {
	return c.Chat.StreamChatCompletion(ctx, in, st.Send)
}
