package control

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/store"
)

// principalFile names versions made from the config file (start, SIGHUP).
const principalFile = "config-file"

// recordFileRouting saves the routing in force, which came from the config
// file, as a new version. Callers hold c.mu.
func (c *Control) recordFileRouting(ctx context.Context) error {
	at := c.now()
	v, err := c.saveRouting(ctx, c.cfg, rpc.RoutingChange{By: principalFile, At: at}, store.AnyVersion)
	if err != nil {
		return fmt.Errorf("saving the config file's routing as a version: %w", err)
	}
	c.version, c.updatedAt = v, at
	return nil
}

// RoutingHistory returns the newest limit saved versions, newest first.
func (c *Control) RoutingHistory(ctx context.Context, limit int) ([]rpc.RoutingVersion, error) {
	if c.store == nil {
		return nil, errNoRoutingHistory
	}
	rcs, err := c.store.ListRoutingConfigs(ctx, limit)
	if err != nil {
		return nil, err
	}
	out := make([]rpc.RoutingVersion, 0, len(rcs))
	for _, rc := range rcs {
		v, err := decodeRoutingVersion(rc)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// RoutingVersion returns one saved version.
func (c *Control) RoutingVersion(ctx context.Context, version int64) (rpc.RoutingVersion, error) {
	if c.store == nil {
		return rpc.RoutingVersion{}, errNoRoutingHistory
	}
	rc, err := c.store.GetRoutingConfig(ctx, version)
	if errors.Is(err, store.ErrNotFound) {
		return rpc.RoutingVersion{}, &llm.Error{Kind: llm.KindNotFound, Param: "version", Err: err,
			Message: fmt.Sprintf("routing config version %d does not exist (see GET /v1/routing/config/history)", version)}
	}
	if err != nil {
		return rpc.RoutingVersion{}, err
	}
	return decodeRoutingVersion(rc)
}

var errNoRoutingHistory = &llm.Error{Kind: llm.KindUnavailable, Message: "routing history needs storage (storage.data_dir or storage.postgres_url)"}

func decodeRoutingVersion(rc store.RoutingConfig) (rpc.RoutingVersion, error) {
	var doc routingDoc
	if err := json.Unmarshal(rc.Doc, &doc); err != nil {
		return rpc.RoutingVersion{}, fmt.Errorf("stored routing config v%d: %w", rc.Version, err)
	}
	return rpc.RoutingVersion{Version: rc.Version, Routing: doc.Routing, Routes: doc.Routes,
		UpdatedAt: rc.UpdatedAt, UpdatedBy: rc.UpdatedBy, RollbackOf: doc.RollbackOf}, nil
}

// RoutingService serves the routing API over c. With storage it guards
// against unrouting live models (the ledger tells which are live).
func (c *Control) RoutingService() *rpc.RoutingConfig {
	opts := []rpc.RoutingOption{rpc.WithRoutingClock(c.now)}
	if c.store != nil {
		opts = append(opts, rpc.WithServedRoutes(c.store))
	}
	return rpc.NewRoutingConfig(c, opts...)
}

// servedModels lists the model names cfg's providers serve directly.
func servedModels(cfg *config.Config) []string {
	var out []string
	for _, p := range cfg.Providers {
		out = append(out, p.Models...)
	}
	return out
}
