package control

import (
	"github.com/switchyard/switchyard/config"
	"github.com/switchyard/switchyard/engine/access"
	"github.com/switchyard/switchyard/engine/route"
	"github.com/switchyard/switchyard/server/keydir"
	"github.com/switchyard/switchyard/server/middleware"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/server/telemetry"
	"github.com/switchyard/switchyard/store"
)

// SetStore attaches storage: st keeps API changes (provider keys, routing
// versions) and serves the admin services, ledger records usage, sealer
// encrypts provider keys. Any may be nil; without a sealer keys added
// through the API last until restart.
func (c *Control) SetStore(st *store.Store, ledger *store.Ledger, sealer *store.Sealer) {
	c.store, c.ledger, c.sealer = st, ledger, sealer
}

// SetKeyDirectory makes auth resolve client keys through dir, and key
// changes made through the API invalidate it at once.
func (c *Control) SetKeyDirectory(dir *keydir.Directory) {
	c.keys = dir
	c.auth.SetDirectory(dir)
}

// SetAlerts gives the trigger that runs an alert evaluation now (budget
// crossings, alerts created through the API).
func (c *Control) SetAlerts(trigger func()) { c.alerts = trigger }

// Router is the live router; its table is swapped in place on changes.
func (c *Control) Router() *route.Router { return c.router }

// Auth is the client-key check; its keys follow reloads.
func (c *Control) Auth() *middleware.Auth { return c.auth }

// Gate is the admission gate OpenGate made, or nil.
func (c *Control) Gate() *access.Gate { return c.gate }

// Store, Ledger and Sealer are what SetStore attached (nil without).
func (c *Control) Store() *store.Store   { return c.store }
func (c *Control) Ledger() *store.Ledger { return c.ledger }
func (c *Control) Sealer() *store.Sealer { return c.sealer }

// Tracing wraps the provider transports; nil without telemetry.
func (c *Control) Tracing() *telemetry.Tracing { return c.tracing }

// Config is the config in force (the file's, with routing changed through
// the API applied). It must not be modified.
func (c *Control) Config() *config.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cfg
}

// ProvidersService serves the provider key admin API over c.
func (c *Control) ProvidersService() *rpc.Providers { return rpc.NewProviders(c) }

// KeysService serves client keys over the store; without storage
// (in-process tests) it answers Unimplemented.
func (c *Control) KeysService() *rpc.Keys {
	if c.store == nil {
		return &rpc.Keys{}
	}
	return rpc.NewKeys(c.store, c.keysChanged, rpc.WithAdminKeyConfigured(c.auth.HasAdminKey()))
}

// BillingService serves alerts over the store; without storage (in-process
// tests) it answers Unimplemented.
func (c *Control) BillingService() *rpc.Billing {
	if c.store == nil {
		return &rpc.Billing{}
	}
	var opts []rpc.BillingOption
	if c.alerts != nil {
		opts = append(opts, rpc.WithAlertCreated(c.alerts))
	}
	return rpc.NewBilling(c.store, opts...)
}

// CheckRouter builds cfg's providers and router the way New does, without
// storage or telemetry, for --check. Key ids use a throwaway salt (the real
// one lives in the store, which a check leaves closed). The caller closes
// the router.
func CheckRouter(cfg *config.Config) (*route.Router, error) {
	names, err := newKeyNamer(nil)
	if err != nil {
		return nil, err
	}
	providers, _, err := buildProviders(Builtin(), cfg, nil, names, nil)
	if err != nil {
		return nil, err
	}
	return route.New(buildSpec(cfg, providers))
}
