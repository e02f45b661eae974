// Command switchyard is the gateway. This is the only place that wires
// config, logger, engine and server together; adapters come in through
// server/control's provider registry.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/config"
	lifecycle "github.com/switchyard/switchyard/engine/gateway"
	"github.com/switchyard/switchyard/server"
	"github.com/switchyard/switchyard/server/alerts"
	"github.com/switchyard/switchyard/server/cli"
	"github.com/switchyard/switchyard/server/console"
	"github.com/switchyard/switchyard/server/control"
	"github.com/switchyard/switchyard/server/ingress"
	"github.com/switchyard/switchyard/server/ingress/anthropic"
	"github.com/switchyard/switchyard/server/ingress/gemini"
	"github.com/switchyard/switchyard/server/ingress/openai"
	"github.com/switchyard/switchyard/server/ingress/responses"
	"github.com/switchyard/switchyard/server/keydir"
	"github.com/switchyard/switchyard/server/metrics"
	"github.com/switchyard/switchyard/server/observe"
	"github.com/switchyard/switchyard/server/rpc"
	"github.com/switchyard/switchyard/server/telemetry"
	"github.com/switchyard/switchyard/store"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	if len(os.Args) > 1 && cli.IsHelp(os.Args[1]) {
		os.Exit(printHelp(os.Stdout, os.Stderr, os.Args[2:]))
	}
	if len(os.Args) > 1 && cli.IsCommand(os.Args[1]) {
		err := cli.Run(context.Background(), os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv})
		switch {
		case errors.Is(err, cli.ErrUsage):
			os.Exit(2)
		case err != nil:
			fmt.Fprintln(os.Stderr, "switchyard:", err)
			os.Exit(1)
		}
		return
	}
	err := run(context.Background(), os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, cli.ErrUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "switchyard:", err)
		os.Exit(1)
	}
}

// gatewayOpts are the flags of the gateway itself (no command).
type gatewayOpts struct {
	configPath, listen    string
	check, connect, showV bool
	watch                 time.Duration
}

// gatewayFlags declares the gateway's flags; run parses them and the help
// prints them, so the two cannot disagree.
func gatewayFlags(getenv func(string) string) (*flag.FlagSet, *gatewayOpts) {
	fs := flag.NewFlagSet("switchyard", flag.ContinueOnError)
	o := &gatewayOpts{}
	fs.StringVar(&o.configPath, "config", getenv("SWITCHYARD_CONFIG"), "YAML config `FILE` (env SWITCHYARD_CONFIG); empty uses the embedded default")
	fs.StringVar(&o.listen, "listen", "", "listen address `HOST:PORT` (overrides the config's listen; default 127.0.0.1:8080)")
	fs.BoolVar(&o.check, "check", false, "validate the config offline (no network, no writes), print a summary and exit")
	fs.BoolVar(&o.connect, "connect", false, "with --check, also dial the configured Redis and Postgres and report each")
	fs.BoolVar(&o.showV, "version", false, "print the version and exit")
	fs.DurationVar(&o.watch, "watch-config", 0, "reload the --config file when its content changes, polled every `INTERVAL` (e.g. 5s; for mounted ConfigMaps); 0 watches nothing, SIGHUP still reloads")
	return fs, o
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	fs, opts := gatewayFlags(os.Getenv)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, gatewayUsage()) }
	if err := fs.Parse(args); err != nil {
		return cli.ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "switchyard: unknown command %q\n\n%s", fs.Arg(0), gatewayUsage())
		return cli.ErrUsage
	}
	if opts.connect && !opts.check {
		fmt.Fprintln(stderr, "switchyard: --connect goes with --check")
		return cli.ErrUsage
	}
	if opts.watch < 0 || (opts.watch > 0 && opts.configPath == "") {
		fmt.Fprintln(stderr, "switchyard: --watch-config takes a positive interval and needs --config")
		return cli.ErrUsage
	}
	if opts.showV {
		fmt.Fprintln(stderr, "switchyard", version)
		return nil
	}

	cfg, err := loadConfig(opts.configPath)
	if err != nil {
		return err
	}
	if opts.listen != "" {
		cfg.Listen = opts.listen
	}
	if opts.check {
		return checkConfig(ctx, cfg, opts.connect, os.Getenv, stderr)
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name:       "switchyard",
		Level:      hclog.LevelFromString(cfg.Log.Level),
		JSONFormat: cfg.Log.Format == "json",
		Output:     stderr,
	})

	tracing, err := telemetry.New(ctx, telemetry.Options{
		Endpoint: cfg.Telemetry.OTLPEndpoint, Headers: cfg.Telemetry.OTLPHeaders,
		ServiceName: cfg.Telemetry.ServiceName, ServiceVersion: version, SampleRatio: cfg.Telemetry.Ratio(),
	}, log.Named("telemetry"))
	if err != nil {
		return err
	}
	defer func() {
		// Export the spans still buffered.
		fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(fctx); err != nil {
			log.Warn("trace export incomplete", "error", err)
		}
	}()
	ctl, err := control.New(log, opts.configPath, cfg, tracing)
	if err != nil {
		return err
	}
	defer ctl.Close()
	st, err := store.Open(ctx, store.Options{DataDir: cfg.Storage.DataDir, PostgresURL: cfg.Storage.PostgresURL})
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer st.Close()
	ledger := store.NewLedger(st, store.WithLedgerLogger(log.Named("ledger")))
	defer func() {
		// Flush every queued usage record before exiting.
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := ledger.Close(fctx); err != nil {
			log.Error("usage ledger flush incomplete", "error", err)
		}
	}()
	var sealer *store.Sealer
	if mk := os.Getenv("SWITCHYARD_MASTER_KEY"); mk != "" {
		if sealer, err = store.NewSealer(mk); err != nil {
			return fmt.Errorf("SWITCHYARD_MASTER_KEY: %w", err)
		}
	}
	ctl.SetStore(st, ledger, sealer)
	dir, err := keydir.New(ctx, st, log.Named("keys"))
	if err != nil {
		return fmt.Errorf("storage: %w", err)
	}
	defer dir.Close()
	ctl.SetKeyDirectory(dir)
	ctl.Auth().SetAdminKey(os.Getenv("SWITCHYARD_ADMIN_KEY"))
	if err := ctl.Restore(ctx); err != nil {
		return fmt.Errorf("restoring state from storage: %w", err)
	}
	ctl.StartPriceFeed()
	ctl.StartProbes()
	// Alerts: evaluated on a timer and at once when a budget crosses a
	// threshold; delivered as webhooks off the evaluation loop. The
	// evaluator stops before the notifier, so queued deliveries get their
	// grace period.
	notifier := alerts.NewNotifier(alerts.WithNotifierLogger(log.Named("alerts")))
	defer notifier.Close()
	evaluator, err := alerts.New(st, notifier, alerts.WithInterval(time.Duration(cfg.Alerts.Interval)),
		alerts.WithMinSamples(cfg.Alerts.MinSamples), alerts.WithLogger(log.Named("alerts")))
	if err != nil {
		return fmt.Errorf("alerts: %w", err)
	}
	defer evaluator.Close()
	ctl.SetAlerts(evaluator.Trigger)
	if err := ctl.OpenGate(ctx); err != nil {
		return err
	}
	// Changes made through the API on another replica (routing, provider
	// keys, client keys) take effect here within moments; ctl.Close stops it.
	if err := ctl.StartSync(ctx); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv, err := newServer(ctx, log, cfg, ctl)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	if !ctl.Auth().Enabled() {
		log.Warn("no client keys exist (auth.api_keys or switchyard keys create): serving unauthenticated callers on loopback only; others are refused")
		log.Warn("keyless mode refuses cross-site requests: REST writes without a JSON Content-Type, any Origin not in server.cors_origins, and any Host that is not loopback or in server.allowed_hosts")
	}
	if !ctl.Auth().HasAdminKey() {
		log.Warn("SWITCHYARD_ADMIN_KEY is not set: admin APIs (keys, billing, usage, providers, routing) answer loopback callers only, and only while no client key exists; creating client keys needs it set (then restart)")
	}
	warnMetricsAccess(log, cfg, ctl.Auth())
	if sealer == nil {
		log.Warn("SWITCHYARD_MASTER_KEY is not set: provider keys added through the API are kept in memory only, until restart")
	}
	log.Info("serving gRPC, gRPC-Web, Connect and OpenAI REST", "addr", l.Addr().String(),
		"base_url", "http://"+l.Addr().String()+"/v1", "routing", ctl.Router().Table().String(), "version", version)

	// Profiling is off unless SWITCHYARD_PPROF names a loopback address; it
	// never shares the serving port, so production exposes nothing new.
	if addr := os.Getenv("SWITCHYARD_PPROF"); addr != "" {
		stopPprof, err := startPprof(addr, log.Named("pprof"))
		if err != nil {
			return err
		}
		defer stopPprof()
	}

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)
	var changed <-chan struct{} // nil, never ready, without --watch-config
	if opts.watch > 0 {
		if changed, err = startConfigWatch(ctx, opts.configPath, opts.watch, log.Named("config")); err != nil {
			return fmt.Errorf("--watch-config: %w", err)
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(l) }()

	for {
		select {
		case err := <-serveErr:
			return err
		case <-changed:
			if err := ctl.Reload(ctx); err != nil {
				log.Error("config file changed but the reload was refused; the previous config keeps serving", "path", opts.configPath, "error", err)
			} else {
				log.Info("config file changed: reloaded", "path", opts.configPath)
			}
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				if err := ctl.Reload(ctx); err != nil {
					log.Error("reload refused; the previous config keeps serving", "error", err)
				}
				continue
			}
			grace := time.Duration(cfg.Server.ShutdownTimeout)
			log.Info("shutting down: draining in-flight requests", "signal", sig.String(), "deadline", grace)
			sctx, scancel := context.WithTimeout(context.Background(), grace)
			err := srv.Shutdown(sctx)
			scancel()
			if errors.Is(err, context.DeadlineExceeded) {
				log.Warn("shutdown deadline passed; closed remaining connections")
				err = nil
			}
			<-serveErr
			log.Info("stopped")
			return err
		}
	}
}

// newServer wires the services over the control's router.
func newServer(ctx context.Context, log hclog.Logger, cfg *config.Config, ctl *control.Control) (*server.Server, error) {
	router, ledger := ctl.Router(), ctl.Ledger()
	mopts := []metrics.Option{metrics.WithRuntimeMetrics(), metrics.WithBreakerStates(ctl.BreakerStates), metrics.WithPanicPicks(router.PanicPicks),
		metrics.WithQuotaCounts(func() (uint64, uint64, uint64) {
			q := router.QuotaStats()
			return q.ReservePicks, q.Refused, q.MeterErrors
		}),
		metrics.WithSemanticCache(ctl.SemanticCounts)}
	if ledger != nil {
		mopts = append(mopts, metrics.WithLedgerDropped(func() uint64 { return ledger.Stats().Dropped }))
	}
	m := metrics.New(mopts...)
	var usage rpc.UsageQuerier
	if st := ctl.Store(); st != nil {
		usage = st
	}
	// The console's live view: the last requests in memory, never their content.
	tail := observe.NewTail(1000)
	gwOpts := []lifecycle.Option{lifecycle.WithObserver(observe.New(m, ledger, observe.WithTail(tail)))}
	if g := ctl.Gate(); g != nil {
		gwOpts = append(gwOpts, lifecycle.WithAdmission(g))
	}
	gw := lifecycle.New(router, log.Named("route"), gwOpts...)
	svc := rpc.Services{
		Chat:       rpc.NewChat(gw),
		Models:     rpc.NewModels(router),
		Embeddings: rpc.NewEmbeddings(gw),
		Routing:    ctl.RoutingService(),
		Providers:  ctl.ProvidersService(),
		Usage:      rpc.NewUsage(usage, rpc.WithTail(tail)),
		Keys:       ctl.KeysService(),
		Billing:    ctl.BillingService(),
	}
	return server.New(ctx, log, svc, server.Options{
		MaxBodyBytes:      cfg.Server.MaxBodyBytes,
		ReadHeaderTimeout: time.Duration(cfg.Server.ReadHeaderTimeout),
		Auth:              ctl.Auth(),
		CORSOrigins:       cfg.Server.CORSOrigins,
		AllowedHosts:      cfg.Server.AllowedHosts,
		BodyReadTimeout:   time.Duration(cfg.Server.BodyReadTimeout),
		IdleTimeout:       time.Duration(cfg.Server.IdleTimeout),
		MaxHeaderBytes:    cfg.Server.MaxHeaderBytes,
		RequestTimeout:    time.Duration(cfg.Server.RequestTimeout),
		Metrics:           m.Handler(),
		Prices:            ctl.ServePrices,
		Listen:            cfg.Listen,
		MetricsToken:      cfg.Server.MetricsToken,
		Tracing:           ctl.Tracing(),
		Console:           console.Handler(),
		OnShutdown:        []func(){tail.Close},
		Ingresses: []ingress.Dialect{
			anthropic.New(gw, ctl.Auth(), log.Named("anthropic"), anthropic.WithModels(func() anthropic.Models { return router.Table() })),
			gemini.New(gw, ctl.Auth(), func() gemini.Models { return router.Table() }, log.Named("gemini")),
			openai.New(gw, ctl.Auth(), log.Named("openai")),
			responses.New(gw, ctl.Auth(), responseStore(ctl.Store()), log.Named("responses"), responses.WithRetention(time.Duration(cfg.Storage.ResponsesRetention))),
		},
	})
}

// responseStore is st as the Responses dialect's store; nil (not a typed
// nil) without storage.
func responseStore(st *store.Store) responses.Store {
	if st == nil {
		return nil
	}
	return st
}

func loadConfig(path string) (*config.Config, error) {
	if path == "" {
		return config.Default(os.LookupEnv)
	}
	return config.Load(path, os.LookupEnv)
}
