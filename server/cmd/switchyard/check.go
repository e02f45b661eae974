package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/cache"
	"github.com/switchyard/switchyard/internal/redisurl"
	"github.com/switchyard/switchyard/server/control"
	"github.com/switchyard/switchyard/store"
)

// checkTimeout bounds each dial of --check --connect.
const checkTimeout = 3 * time.Second

// checkConfig is --check: it builds everything the gateway would build from
// cfg (providers, routing table, store and Redis addresses, the master key)
// without dialling anything or writing anything — no data directory, no
// database, no migrations — so it is safe in CI and on a production host.
// With dial it also connects to each configured store and reports it; any
// store that does not answer fails the check.
func checkConfig(ctx context.Context, cfg *config.Config, dial bool, getenv func(string) string, out io.Writer) error {
	router, err := control.CheckRouter(cfg)
	if err != nil {
		return err
	}
	defer router.Close()
	if mk := getenv("SWITCHYARD_MASTER_KEY"); mk != "" {
		if _, err := store.NewSealer(mk); err != nil {
			return fmt.Errorf("SWITCHYARD_MASTER_KEY: %w", err)
		}
	}
	fmt.Fprintf(out, "config ok: %s\n", router.Table())

	type probe struct {
		name string
		ping func(ctx context.Context) error
	}
	var probes []probe
	if u := cfg.Storage.PostgresURL; u != "" {
		if err := store.CheckPostgresURL(u); err != nil {
			return fmt.Errorf("storage.postgres_url: %w", err)
		}
		probes = append(probes, probe{"storage.postgres_url " + config.RedactURL(u), func(ctx context.Context) error { return store.PingPostgres(ctx, u) }})
	} else {
		state := "exists"
		if _, err := os.Stat(cfg.Storage.DataDir); errors.Is(err, os.ErrNotExist) {
			state = "does not exist yet; created at start"
		}
		fmt.Fprintf(out, "storage: sqlite in %s (%s)\n", cfg.Storage.DataDir, state)
	}
	if u := cfg.Storage.RedisURL; u != "" {
		rdb, err := control.NewRedisClient(u)
		if err != nil {
			return fmt.Errorf("storage.redis_url: %w", err)
		}
		_ = rdb.Close() // parsed the way the gateway parses it; no connection was made
		probes = append(probes, probe{"storage.redis_url " + config.RedactURL(u), func(ctx context.Context) error { return pingRedis(ctx, u) }})
	}
	if u := cfg.ResponseCache.RedisURL; u != "" {
		r, err := cache.NewRedis(u)
		if err != nil {
			return fmt.Errorf("cache.redis_url: %w", err)
		}
		_ = r.Close()
		probes = append(probes, probe{"cache.redis_url " + config.RedactURL(u), func(ctx context.Context) error { return pingRedis(ctx, u) }})
	}

	failed := 0
	for _, p := range probes {
		if !dial {
			fmt.Fprintf(out, "%s: not dialled (--check --connect dials it)\n", p.name)
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, checkTimeout)
		err := p.ping(pctx)
		cancel()
		if err != nil {
			failed++
			fmt.Fprintf(out, "%s: unreachable: %v\n", p.name, err)
			continue
		}
		fmt.Fprintf(out, "%s: ok\n", p.name)
	}
	if failed > 0 {
		return fmt.Errorf("--check --connect: %d of %d configured stores did not answer", failed, len(probes))
	}
	return nil
}

// pingRedis dials u once: the gateway's clients retry a failed dial five
// times, logging each, which only slows a check down. Sentinel and Cluster
// URLs are dialled the way the gateway dials them.
func pingRedis(ctx context.Context, u string) error {
	c, _, err := redisurl.New(u, func(o *redis.UniversalOptions) { o.DialerRetries, o.MaxRetries = 1, -1 })
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Ping(ctx).Err()
}
