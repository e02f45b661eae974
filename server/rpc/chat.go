// Package rpc implements the generated service handlers: proto in, domain
// call, proto out. It is shared by every protocol: connect-go serves it as
// gRPC, gRPC-Web and Connect; the REST facade calls it in-process.
package rpc

import (
	"context"
	"errors"
	"io"

	"connectrpc.com/connect"
	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/engine/route"
	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/server/middleware"
)

// Router is what the chat, model and embedding services need from the engine.
type Router interface {
	Chat(ctx context.Context, req *llm.ChatRequest) (*llm.ChatResponse, route.Info, error)
	ChatStream(ctx context.Context, req *llm.ChatRequest) (*route.Stream, error)
	Embed(ctx context.Context, req *llm.EmbeddingRequest) (*llm.EmbeddingResponse, route.Info, error)
	Table() *route.Table
}

// Chat implements ChatService. Its methods return domain errors; the
// connect interceptor (Interceptor) and the REST facade map them.
type Chat struct {
	router Router
	log    hclog.Logger
}

// NewChat returns the chat service over router. log receives one debug
// line per routing decision (with the hybrid scores); nil discards.
func NewChat(router Router, log hclog.Logger) *Chat {
	if log == nil {
		log = hclog.NewNullLogger()
	}
	return &Chat{router: router, log: log}
}

func (s *Chat) logDecision(ctx context.Context, info route.Info, err error) {
	if !s.log.IsDebug() {
		return
	}
	s.log.Debug("routed", "request_id", middleware.RequestID(ctx), "route", info.Route, "strategy", info.Strategy,
		"target", info.Target, "attempts", info.Attempts, "hedged", info.Hedged, "scores", info.Scores, "error", err)
}

// CreateChatCompletion serves a unary chat request.
func (s *Chat) CreateChatCompletion(ctx context.Context, in *pb.CreateChatCompletionRequest) (*pb.ChatCompletion, error) {
	req, err := ChatRequestFromProto(in)
	if err != nil {
		return nil, err
	}
	req.Hints.Client = middleware.Client(ctx)
	resp, info, err := s.router.Chat(ctx, req)
	s.logDecision(ctx, info, err)
	if err != nil {
		return nil, err
	}
	return ChatResponseToProto(resp, infoToProto(middleware.RequestID(ctx), info)), nil
}

// StreamOpen is a chat stream opened and ready to relay. Open fails before
// anything is sent so transports can still answer with a proper error status.
type StreamOpen struct {
	st           *route.Stream
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
	req.Hints.Client = middleware.Client(ctx)
	st, err := s.router.ChatStream(ctx, req)
	if err != nil {
		s.logDecision(ctx, route.Info{Route: req.Model}, err)
		return nil, err
	}
	s.logDecision(ctx, st.Info(), nil)
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

// Close releases the upstream stream.
func (o *StreamOpen) Close() error { return o.st.Close() }

// Usage is the usage the upstream reported, or (partial=true) an estimate
// of the completion tokens relayed before the stream broke.
func (o *StreamOpen) Usage() (u llm.Usage, partial bool) { return o.st.Usage() }

// Info reports the routing decision and cost so far.
func (o *StreamOpen) Info() route.Info { return o.st.Info() }

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
