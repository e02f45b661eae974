package control

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// redisChannel is the pub/sub channel gateways sharing storage.redis_url
// announce changes on. A Cluster broadcasts PUBLISH to every node, so the
// channel works there too.
const redisChannel = "switchyard:changes"

// redisNotifier is a Notifier over Redis pub/sub, on a client of its own:
// a subscription holds a connection for as long as it lasts.
type redisNotifier struct {
	c redis.UniversalClient
}

func newRedisNotifier(u string) (*redisNotifier, error) {
	c, err := NewRedisClient(u)
	if err != nil {
		return nil, err
	}
	return &redisNotifier{c: c}, nil
}

func (n *redisNotifier) Publish(ctx context.Context, msg string) error {
	if err := n.c.Publish(ctx, redisChannel, msg).Err(); err != nil {
		return fmt.Errorf("redis publish: %w", err)
	}
	return nil
}

// Listen subscribes and delivers messages until ctx ends (nil) or the
// connection fails. go-redis would resubscribe on its own, silently; the
// error instead tells the caller messages may have been lost.
func (n *redisNotifier) Listen(ctx context.Context, ready func(), fn func(string)) error {
	ps := n.c.Subscribe(ctx, redisChannel)
	defer ps.Close()
	// A subscription's reads have no deadline and ignore ctx: closing it
	// is what ends a blocked read.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("redis subscribe: %w", err)
	}
	ready()
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("redis subscription: %w", err)
		}
		fn(msg.Payload)
	}
}

func (n *redisNotifier) Close() error { return n.c.Close() }
