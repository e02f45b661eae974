package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
)

// dialGRPC opens n cleartext HTTP/2 connections to addr.
func dialGRPC(addr string, n int) ([]*grpc.ClientConn, error) {
	if n < 1 {
		n = 1
	}
	addr = strings.TrimPrefix(addr, "grpc://")
	conns := make([]*grpc.ClientConn, 0, n)
	for range n {
		cc, err := grpc.NewClient(addr,
			grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
		if err != nil {
			for _, c := range conns {
				_ = c.Close()
			}
			return nil, err
		}
		cc.Connect()
		conns = append(conns, cc)
	}
	return conns, nil
}

type grpcDoer struct {
	cli    pb.ChatServiceClient
	req    *pb.CreateChatCompletionRequest
	stream bool
}

func (d *grpcDoer) do(ctx context.Context) (observation, error) {
	if !d.stream {
		resp, err := d.cli.CreateChatCompletion(ctx, d.req)
		if err != nil {
			return observation{}, err
		}
		if len(resp.GetChoices()) == 0 {
			return observation{}, errors.New("answer without choices")
		}
		return observation{cache: cacheName(resp.GetSwitchyard().GetCache())}, nil
	}
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := d.cli.StreamChatCompletion(ctx, d.req)
	if err != nil {
		return observation{}, err
	}
	var o observation
	for {
		c, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return o, nil
		}
		if err != nil {
			return o, err
		}
		if o.ttft == 0 {
			for _, ch := range c.GetChoices() {
				if ch.GetDelta().GetContent() != "" {
					o.ttft = time.Since(start)
					break
				}
			}
		}
		if cs := c.GetSwitchyard().GetCache(); cs != pb.CacheStatus_CACHE_STATUS_UNSPECIFIED && o.cache == "" {
			o.cache = cacheName(cs)
		}
	}
}

// cacheName is the lower-case name of a cache status ("hit", "miss"...), or
// "" when unspecified.
func cacheName(s pb.CacheStatus) string {
	if s == pb.CacheStatus_CACHE_STATUS_UNSPECIFIED {
		return ""
	}
	return strings.ToLower(strings.TrimPrefix(s.String(), "CACHE_STATUS_"))
}

// grpcKind names a gRPC status error by its code.
func grpcKind(err error) (string, bool) {
	if s, ok := status.FromError(err); ok && s.Code() != 0 {
		return "grpc " + s.Code().String(), true
	}
	return "", false
}

// doers returns a factory of per-worker doers for cfg and a func that
// releases what they share.
func doers(cfg Config) (func() doer, func(), error) {
	switch cfg.Mode {
	case ModeHTTP, ModeSSE:
		if !strings.HasPrefix(cfg.Target, "http://") && !strings.HasPrefix(cfg.Target, "https://") {
			return nil, nil, fmt.Errorf("load: mode %s wants an http(s):// target, got %q", cfg.Mode, cfg.Target)
		}
		if len(cfg.Body) == 0 {
			return nil, nil, errors.New("load: empty request body")
		}
		c := NewHTTPClient(cfg.Concurrency)
		return func() doer { return newHTTPDoer(c, cfg) }, c.CloseIdleConnections, nil
	case ModeGRPC, ModeGRPCStream:
		if cfg.GRPC == nil {
			return nil, nil, errors.New("load: no gRPC request")
		}
		conns, err := dialGRPC(cfg.Target, cfg.Conns)
		if err != nil {
			return nil, nil, err
		}
		var n atomic.Int64
		return func() doer {
				cc := conns[int(n.Add(1))%len(conns)]
				return &grpcDoer{cli: pb.NewChatServiceClient(cc), req: cfg.GRPC, stream: cfg.Mode == ModeGRPCStream}
			}, func() {
				for _, c := range conns {
					_ = c.Close()
				}
			}, nil
	}
	return nil, nil, fmt.Errorf("load: unknown mode %q (want %s, %s, %s or %s)", cfg.Mode, ModeHTTP, ModeSSE, ModeGRPC, ModeGRPCStream)
}
