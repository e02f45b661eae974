package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/redis/go-redis/v9"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/budget"
	"github.com/switchyard/switchyard/engine/limits"
	"github.com/switchyard/switchyard/engine/llm"
	"github.com/switchyard/switchyard/internal/redisurl"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/store"
)

// NewRedisClient opens storage.redis_url: one node, a Sentinel master or a
// Cluster (the forms internal/redisurl reads). Limits, budgets and quotas
// take a redis.Scripter, which each of those clients is; --check parses
// with it too.
func NewRedisClient(u string) (redis.UniversalClient, error) {
	c, _, err := redisurl.New(u, nil)
	return c, err
}

// OpenGate makes the admission gate over the router's estimates and the
// attached store, and keeps it for Gate; Close releases it. A budget
// crossing a threshold is logged and runs the alert evaluation at once.
// Call it after SetStore and before serving.
func (c *Control) OpenGate(ctx context.Context) error {
	onCross := func(key string, b budget.Budget, f float64, spent llm.Money) {
		c.log.Named("budget").Warn("budget threshold reached", "key_id", key, "budget", b.Name, "limit_usd", b.Limit.String(),
			"period", b.Period.String(), "threshold", f, "spent_usd", spent.String())
		c.budgetCrossed()
	}
	// Provider-key quotas move to the same Redis: a provider counts a key's
	// use from every replica.
	shareQuotas := func(rdb redis.UniversalClient) error {
		q, err := limits.NewRedis(rdb, limits.WithClock(c.quotaNow), limits.WithKeyPrefix("switchyard:pq:"))
		if err != nil {
			return err
		}
		c.router.SetQuotaMeter(q)
		return nil
	}
	g, release, err := buildGate(ctx, c.log.Named("access"), c.Config(), c.router, c.store, onCross, shareQuotas)
	if err != nil {
		return err
	}
	c.gate, c.closeGate = g, release
	return nil
}

// buildGate makes the admission gate: rate-limit buckets and budget
// counters in Redis when storage.redis_url is set (shared by every
// instance), else in process with budgets seeded from the usage ledger so
// a restart does not hand out a day's budget twice. onCross is called when
// a key's spend first reaches 80% and 100% of its budget.
func buildGate(ctx context.Context, log hclog.Logger, cfg *config.Config, est access.Estimator, st *store.Store, onCross budget.ThresholdFunc,
	onRedis func(redis.UniversalClient) error) (*access.Gate, func(), error) {
	bopts := []budget.Option{budget.WithThresholds(onCross, 0.8, 1)}
	var (
		lim     limits.Limiter
		bud     budget.Budgeter
		release = func() {}
	)
	if u := cfg.Storage.RedisURL; u != "" {
		rdb, err := NewRedisClient(u)
		if err != nil {
			return nil, nil, fmt.Errorf("storage.redis_url: %w", err)
		}
		release = func() { _ = rdb.Close() }
		if lim, bud, err = redisAllowances(ctx, rdb, bopts); err != nil {
			release()
			return nil, nil, fmt.Errorf("storage.redis_url %s: %w", config.RedactURL(u), err)
		}
		if onRedis != nil {
			if err := onRedis(rdb); err != nil {
				release()
				return nil, nil, err
			}
		}
		log.Info("rate limits and budgets shared through redis", "url", config.RedactURL(u))
	} else {
		if st != nil {
			bopts = append(bopts, budget.WithSeed(func(ctx context.Context, key string, start time.Time) (llm.Money, error) {
				_, total, err := st.Usage(ctx, store.UsageQuery{From: start, KeyID: key})
				return llm.Money(total.CostNanos), err
			}))
		}
		m, err := budget.NewMemory(bopts...)
		if err != nil {
			return nil, nil, err
		}
		lim, bud = limits.NewMemory(), m
	}
	g, err := access.NewGate(est, lim, bud)
	if err != nil {
		release()
		return nil, nil, err
	}
	return g, release, nil
}

// redisAllowances checks Redis answers and builds the shared limiter and
// budgeter on it. Limits and budgets fail closed without their store:
// better to refuse to start than to serve without them.
func redisAllowances(ctx context.Context, rdb redis.UniversalClient, bopts []budget.Option) (limits.Limiter, budget.Budgeter, error) {
	pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		return nil, nil, fmt.Errorf("unreachable: %w", err)
	}
	lim, err := limits.NewRedis(rdb)
	if err != nil {
		return nil, nil, err
	}
	bud, err := budget.NewRedis(rdb, bopts...)
	if err != nil {
		return nil, nil, err
	}
	return closedLimiter{lim}, closedBudgeter{bud}, nil
}

// routingDoc is what a routing change made through the API saves. Base
// names the config file's routing section it was made over: when the file
// has been edited since, the file wins (the operator's newer intent).
type routingDoc struct {
	Base    string          `json:"base"`
	Routing config.Routing  `json:"routing"`
	Routes  []config.Route  `json:"routes"`
	Meta    json.RawMessage `json:"meta,omitempty"`
	// RollbackOf is the version a rollback restored.
	RollbackOf int64 `json:"rollback_of,omitempty"`
}

// routingHash names a config's routing section.
func routingHash(cfg *config.Config) string {
	b, _ := json.Marshal(struct {
		R  config.Routing
		Rs []config.Route
	}{cfg.Routing, cfg.Routes})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:12])
}

// Restore brings back what was changed through the API before a restart:
// provider keys (decrypted with the master key) and the routing section.
// It also names the config file's keys with the install's salt, so it
// always rebuilds the providers. It runs once at start, after SetStore and
// before serving; without a store it does nothing.
func (c *Control) Restore(ctx context.Context) error {
	if c.store == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	salt, err := c.store.InstallSalt(ctx)
	if err != nil {
		return err
	}
	if c.names, err = newKeyNamer(salt); err != nil {
		return err
	}
	nkeys := 0
	if c.sealer != nil {
		pks, err := c.store.ListProviderKeys(ctx, "")
		if err != nil {
			return err
		}
		for _, pk := range pks {
			secret, err := c.store.RevealProviderKey(ctx, c.sealer, pk.Provider, pk.KeyID)
			if err != nil {
				if errors.Is(err, store.ErrDecrypt) {
					return fmt.Errorf("provider key %s/%s does not decrypt: SWITCHYARD_MASTER_KEY is not the key it was stored with", pk.Provider, pk.KeyID)
				}
				return err
			}
			if pk.KeyID == legacyKeyID(secret) {
				if pk, err = c.renameStoredKey(ctx, pk, secret); err != nil {
					return err
				}
			}
			if !c.hasProvider(pk.Provider) {
				c.log.Warn("stored provider key belongs to a provider no longer configured; kept but unused", "provider", pk.Provider, "key_id", pk.KeyID)
				continue
			}
			if c.hasSecret(pk.Provider, secret) {
				// A rename cut short by a crash: the other copy serves.
				continue
			}
			c.apiKeys[pk.Provider] = append(c.apiKeys[pk.Provider], apiKey{id: pk.KeyID, key: secret, label: pk.Label, weight: pk.Weight})
			nkeys++
		}
	}
	next := c.cfg
	rc, err := c.store.LatestRoutingConfig(ctx)
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return err
	default:
		var doc routingDoc
		if err := json.Unmarshal(rc.Doc, &doc); err != nil {
			return fmt.Errorf("stored routing config v%d: %w", rc.Version, err)
		}
		if doc.Base != c.baseHash {
			c.log.Warn("the config file's routing changed since the last change made through the API; the file wins",
				"stored_version", rc.Version, "stored_at", rc.UpdatedAt)
			break
		}
		n, err := c.cfg.WithRouting(doc.Routing, doc.Routes)
		if err != nil {
			c.log.Error("stored routing config no longer validates; serving the file's", "stored_version", rc.Version, "error", err)
			break
		}
		next = n
		c.version, c.updatedAt = rc.Version, rc.UpdatedAt
		c.log.Info("routing restored from the last change made through the API", "stored_version", rc.Version, "stored_at", rc.UpdatedAt)
	}
	if next == c.cfg {
		// The file's routing serves: it becomes a version too, so history
		// shows what served and a rollback can return to it.
		if err := c.recordFileRouting(ctx); err != nil {
			return err
		}
	}
	// Always rebuilt, even with nothing restored: config-file key ids come
	// from this install's salt, loaded above.
	providers, clients, err := buildProviders(c.registry, next, c.apiKeys, c.names, c.tracing)
	if err != nil {
		return err
	}
	if err := c.restoreFeed(ctx, next.Pricing.FeedURL); err != nil {
		// Prices only: the feed's first fetch replaces them shortly.
		c.log.Warn("the last good price feed could not be read from the store", "error", err)
	}
	providers = c.withFeed(next, providers)
	if err := c.router.Update(buildSpec(next, providers)); err != nil {
		return err
	}
	c.cfg, c.clients = next, clients
	if nkeys > 0 {
		c.log.Info("provider keys restored from the store", "count", nkeys)
	}
	return nil
}

// legacyKeyID is the id earlier versions derived from the secret alone.
func legacyKeyID(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "k" + hex.EncodeToString(sum[:4])
}

// renameStoredKey gives a key stored under a legacy id (one that confirms
// a guessed secret) a random id. The new row is written before the old one
// goes, so a crash in between leaves the key twice, never lost.
func (c *Control) renameStoredKey(ctx context.Context, pk store.ProviderKey, secret string) (store.ProviderKey, error) {
	old := pk.KeyID
	id, err := randomKeyID()
	if err != nil {
		return pk, err
	}
	pk.KeyID = id
	if err := c.store.AddProviderKey(ctx, c.sealer, pk, secret); err != nil {
		return pk, fmt.Errorf("renaming provider key %s/%s: %w", pk.Provider, old, err)
	}
	if err := c.store.DeleteProviderKey(ctx, pk.Provider, old); err != nil {
		return pk, fmt.Errorf("renaming provider key %s/%s: %w", pk.Provider, old, err)
	}
	c.log.Info("provider key renamed: its old id was derived from the secret", "provider", pk.Provider, "old_key_id", old, "key_id", id)
	return pk, nil
}

func (c *Control) hasProvider(name string) bool {
	for _, p := range c.cfg.Providers {
		if p.Name == name {
			return true
		}
	}
	return false
}

// saveRouting records a routing change and returns its version: the
// store's, or the next in memory without storage. ifVersion is the
// version the change was made over (store.AnyVersion: unconditional);
// another replica having saved one since is store.ErrConflict.
func (c *Control) saveRouting(ctx context.Context, cfg *config.Config, ch rpc.RoutingChange, ifVersion int64) (int64, error) {
	if c.store == nil {
		return c.version + 1, nil
	}
	doc, err := json.Marshal(routingDoc{Base: c.baseHash, Routing: cfg.Routing, Routes: cfg.Routes, RollbackOf: ch.RollbackOf})
	if err != nil {
		return 0, err
	}
	rc, err := c.store.PutRoutingConfig(ctx, doc, ch.By, ch.At, ifVersion)
	return rc.Version, err
}
