package control

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/store"
)

// Change topics: what a gateway re-reads from the store when another one
// says it changed.
const (
	topicRouting      = "routing"
	topicProviderKeys = "provider_keys"
	topicClientKeys   = "client_keys"
	topicAll          = "*"
)

// DefaultResyncInterval is how often a gateway re-reads shared state even
// without a message: the safety net for a message lost while its listener
// was reconnecting.
const DefaultResyncInterval = 30 * time.Second

// Notifier carries short messages between the gateways sharing a store:
// Postgres LISTEN/NOTIFY (store.PostgresNotifier) or Redis pub/sub
// (redisNotifier). Delivery is best effort; Listen calls ready each time
// it (re)starts listening, when the caller catches up on what it missed.
type Notifier interface {
	Publish(ctx context.Context, msg string) error
	Listen(ctx context.Context, ready func(), fn func(msg string)) error
}

// nopNotifier is one gateway alone (or several on one SQLite file): only
// the periodic resync carries changes.
type nopNotifier struct{}

func (nopNotifier) Publish(context.Context, string) error { return nil }
func (nopNotifier) Listen(ctx context.Context, ready func(), _ func(string)) error {
	ready()
	<-ctx.Done()
	return nil
}

// SyncOption configures StartSync.
type SyncOption func(*syncer)

// WithSyncNotifier replaces the notifier StartSync would pick.
func WithSyncNotifier(n Notifier) SyncOption { return func(s *syncer) { s.n = n } }

// WithResyncInterval sets the periodic resync (default 30s).
func WithResyncInterval(d time.Duration) SyncOption { return func(s *syncer) { s.every = d } }

// WithResyncTick replaces the periodic resync's ticker (tests).
func WithResyncTick(c <-chan time.Time) SyncOption { return func(s *syncer) { s.tick = c } }

type syncer struct {
	log    hclog.Logger
	n      Notifier
	kind   string
	origin string
	outbox chan string
	every  time.Duration
	tick   <-chan time.Time
	cancel context.CancelFunc
	done   chan struct{}
	close  func()
	// caughtUp is closed once the first listen has started and the state
	// missed before it was read (tests wait on it).
	caughtUp chan struct{}
}

// StartSync makes changes made through the API on another gateway sharing
// this one's store take effect here: routing versions, provider keys and
// client keys. Each change is announced on Postgres LISTEN/NOTIFY when the
// store is Postgres, else on Redis pub/sub when storage.redis_url is set,
// and every gateway re-reads everything each 30s in case a message was
// lost. Call it after Restore and OpenGate; Close stops it.
func (c *Control) StartSync(ctx context.Context, opts ...SyncOption) error {
	s := &syncer{log: c.log.Named("sync"), every: DefaultResyncInterval, outbox: make(chan string, 64), done: make(chan struct{}), close: func() {},
		caughtUp: make(chan struct{})}
	for _, o := range opts {
		o(s)
	}
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return err
	}
	s.origin = hex.EncodeToString(id[:])
	if s.n != nil {
		s.kind = fmt.Sprintf("%T", s.n)
	} else {
		cfg := c.Config()
		switch {
		case c.store != nil && c.store.Dialect() == "postgres":
			pn, err := store.NewPostgresNotifier(c.store)
			if err != nil {
				return err
			}
			s.n, s.kind = pn, "postgres LISTEN/NOTIFY"
		case cfg.Storage.RedisURL != "":
			rn, err := newRedisNotifier(cfg.Storage.RedisURL)
			if err != nil {
				return fmt.Errorf("storage.redis_url: %w", err)
			}
			s.n, s.kind, s.close = rn, "redis pub/sub", func() { _ = rn.Close() }
		default:
			s.n, s.kind = nopNotifier{}, "none"
		}
	}
	if s.tick == nil {
		t := time.NewTicker(max(s.every, time.Second))
		s.tick = t.C
		prev := s.close
		s.close = func() { t.Stop(); prev() }
	}
	ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	c.sync = s
	go c.syncLoop(ctx, s)
	s.log.Info("changes from other gateways followed", "notify", s.kind, "resync", s.every)
	return nil
}

// stopSync ends StartSync's goroutines (Close).
func (c *Control) stopSync() {
	if s := c.sync; s != nil {
		s.cancel()
		<-s.done
		s.close()
	}
}

func (c *Control) syncLoop(ctx context.Context, s *syncer) {
	defer close(s.done)
	listened := make(chan struct{})
	go func() {
		defer close(listened)
		c.listen(ctx, s)
	}()
	defer func() { <-listened }()
	for {
		select {
		case <-ctx.Done():
			return
		case topic := <-s.outbox:
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			if err := s.n.Publish(pctx, s.origin+" "+topic); err != nil {
				s.log.Warn("announcing a change to other gateways failed; they catch up at the next resync", "topic", topic, "error", err)
			}
			cancel()
		case <-s.tick:
			c.resync(ctx, topicAll)
		}
	}
}

// listen keeps a listener up, reconnecting with backoff; each (re)start
// catches up on everything, since messages sent meanwhile are lost.
func (c *Control) listen(ctx context.Context, s *syncer) {
	backoff := 250 * time.Millisecond
	for ctx.Err() == nil {
		err := s.n.Listen(ctx, func() {
			backoff = 250 * time.Millisecond
			c.resync(ctx, topicAll)
			select {
			case <-s.caughtUp:
			default:
				close(s.caughtUp)
			}
		}, func(msg string) {
			origin, topic, _ := strings.Cut(msg, " ")
			if origin != s.origin {
				c.resync(ctx, topic)
			}
		})
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("listening for changes from other gateways failed; retrying", "notify", s.kind, "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// announce tells the other gateways a change was made here. It never
// blocks (callers hold c.mu): a full outbox drops the message, and the
// periodic resync carries the change instead.
func (c *Control) announce(topic string) {
	s := c.sync
	if s == nil {
		return
	}
	select {
	case s.outbox <- topic:
	default:
		s.log.Warn("change announcement dropped (outbox full); other gateways catch up at the next resync", "topic", topic)
	}
}

func (c *Control) resync(ctx context.Context, topic string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	var errs []error
	if topic == topicAll || topic == topicRouting {
		errs = append(errs, c.syncRouting(ctx))
	}
	if topic == topicAll || topic == topicProviderKeys {
		errs = append(errs, c.syncProviderKeys(ctx))
	}
	if (topic == topicAll || topic == topicClientKeys) && c.keys != nil {
		c.keys.Invalidate(ctx)
	}
	if err := errors.Join(errs...); err != nil && c.sync != nil {
		c.sync.log.Warn("re-reading shared state failed; keeping what serves", "topic", topic, "error", err)
	}
}

// syncRouting puts the store's newest routing version in force when it is
// newer than this gateway's and was made over the same config file.
func (c *Control) syncRouting(ctx context.Context) error {
	if c.store == nil {
		return nil
	}
	rc, err := c.store.LatestRoutingConfig(ctx)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if rc.Version <= c.version {
		return nil
	}
	var doc routingDoc
	if err := json.Unmarshal(rc.Doc, &doc); err != nil {
		return fmt.Errorf("stored routing config v%d: %w", rc.Version, err)
	}
	if doc.Base != c.baseHash {
		// Another gateway runs a different config file (a rollout in
		// progress): its version is not this file's to follow.
		if c.skipped != rc.Version {
			c.skipped = rc.Version
			c.log.Warn("a routing version made over a different config file is not followed here", "stored_version", rc.Version, "by", rc.UpdatedBy)
		}
		return nil
	}
	next, err := c.cfg.WithRouting(doc.Routing, doc.Routes)
	if err != nil {
		return fmt.Errorf("stored routing config v%d no longer validates: %w", rc.Version, err)
	}
	if err := c.router.Update(buildSpec(next, c.router.Spec().Providers)); err != nil {
		return fmt.Errorf("stored routing config v%d: %w", rc.Version, err)
	}
	c.cfg, c.apiRouted = next, rc.UpdatedBy != principalFile
	c.version, c.updatedAt = rc.Version, rc.UpdatedAt
	c.log.Info("routing config changed on another gateway is in force", "version", rc.Version, "by", rc.UpdatedBy, "routing", c.router.Table().String())
	return nil
}

// syncProviderKeys makes this gateway's API-added provider keys those the
// store holds. Without a sealer keys are never stored, so there is nothing
// to follow.
func (c *Control) syncProviderKeys(ctx context.Context) error {
	if c.store == nil || c.sealer == nil {
		return nil
	}
	pks, err := c.store.ListProviderKeys(ctx, "")
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	stored := make(map[string]bool, len(pks))
	for _, pk := range pks {
		stored[pk.Provider+"/"+pk.KeyID] = true
		if c.hasAPIKey(pk.Provider, pk.KeyID) || !c.hasProvider(pk.Provider) {
			continue
		}
		if err := c.adoptProviderKey(ctx, pk); err != nil {
			c.log.Warn("a provider key added on another gateway could not be used here", "provider", pk.Provider, "key_id", pk.KeyID, "error", err)
		}
	}
	for provider, keys := range c.apiKeys {
		kept := keys[:0:0]
		for _, k := range keys {
			if stored[provider+"/"+k.id] {
				kept = append(kept, k)
				continue
			}
			if err := c.router.RemoveKey(provider, k.id); err != nil {
				c.log.Warn("a provider key removed on another gateway could not be removed here", "provider", provider, "key_id", k.id, "error", err)
				kept = append(kept, k)
				continue
			}
			c.log.Info("provider key removed on another gateway", "provider", provider, "key_id", k.id)
		}
		c.apiKeys[provider] = kept
	}
	return nil
}

// adoptProviderKey serves a stored key this gateway does not hold yet.
// Callers hold c.mu.
func (c *Control) adoptProviderKey(ctx context.Context, pk store.ProviderKey) error {
	secret, err := c.store.RevealProviderKey(ctx, c.sealer, pk.Provider, pk.KeyID)
	if err != nil {
		return err
	}
	if c.hasSecret(pk.Provider, secret) {
		return nil // a rename in flight on another gateway: the other copy serves
	}
	var pc *config.Provider
	for i := range c.cfg.Providers {
		if c.cfg.Providers[i].Name == pk.Provider {
			pc = &c.cfg.Providers[i]
		}
	}
	impl, err := c.registry.build(*pc, secret, c.clients[pk.Provider])
	if err != nil {
		return err
	}
	ks := route.KeySpec{ID: pk.KeyID, Masked: config.MaskSecret(secret), Label: pk.Label, Source: "api", Weight: max(pk.Weight, 1), Provider: impl}
	if q := pc.Quota; q != nil {
		ks.Quota = route.Quota{RPM: q.RPM, TPM: q.TPM, Headroom: q.Headroom}
	}
	if err := c.router.AddKey(pk.Provider, ks); err != nil {
		return err
	}
	c.apiKeys[pk.Provider] = append(c.apiKeys[pk.Provider], apiKey{id: pk.KeyID, key: secret, label: pk.Label, weight: ks.Weight})
	c.log.Info("provider key added on another gateway", "provider", pk.Provider, "key_id", pk.KeyID, "key", ks.Masked)
	return nil
}

func (c *Control) hasAPIKey(provider, id string) bool {
	for _, k := range c.apiKeys[provider] {
		if k.id == id {
			return true
		}
	}
	return false
}
