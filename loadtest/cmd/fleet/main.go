// Command fleet runs three gateway replicas (the real binary, one config)
// on a shared Redis and Postgres behind HAProxy, in front of the fake
// upstream, and checks what a fleet must hold while replicas and Redis
// fail: client success through HAProxy, RPM limits and budgets across
// replicas, cache hits across replicas, routing propagation, alerts fired
// once, the ledger of a drained replica, and Redis restarting. It stops
// by itself (--timeout), stops every process it started and deletes its
// temporary database and directory.
//
//	fleet --bin bin/switchyard --postgres postgres://postgres@127.0.0.1:PORT/switchyard?sslmode=disable --out loadtest/results
//
// make fleet (scripts/fleet.sh) starts the Postgres, installs HAProxy and
// Redis when missing, and runs it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

type options struct {
	bin         string
	postgres    string
	out         string
	duration    time.Duration
	calibrate   time.Duration
	workers     int
	timeout     time.Duration
	haproxy     string
	keep        bool
	minSuccess  float64
	maxPropagat time.Duration
}

func main() {
	var o options
	fs := flag.NewFlagSet("fleet", flag.ExitOnError)
	fs.StringVar(&o.bin, "bin", "bin/switchyard", "the gateway binary")
	fs.StringVar(&o.postgres, "postgres", os.Getenv("SWITCHYARD_TEST_POSTGRES"), "a Postgres URL the driver may create a scratch database on")
	fs.StringVar(&o.out, "out", "", "directory for fleet.md and fleet.json (empty: print only)")
	fs.DurationVar(&o.duration, "duration", 60*time.Second, "the mixed load's length, failures included")
	fs.DurationVar(&o.calibrate, "calibrate", 10*time.Second, "the steady phase that counts CPU, Redis and Postgres operations per request")
	fs.IntVar(&o.workers, "workers", 16, "concurrent clients through HAProxy")
	fs.DurationVar(&o.timeout, "timeout", 6*time.Minute, "the whole run's bound")
	fs.StringVar(&o.haproxy, "haproxy", "haproxy", "the HAProxy binary")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, logs) for a post-mortem")
	fs.Float64Var(&o.minSuccess, "min-success", 0.999, "the client success rate through HAProxy the run must reach")
	fs.DurationVar(&o.maxPropagat, "max-propagation", 2*time.Second, "how long a routing change may take to reach every replica")
	_ = fs.Parse(os.Args[1:])
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, o)
	if rep != nil && o.out != "" {
		if werr := rep.write(o.out); werr != nil {
			fmt.Fprintln(os.Stderr, "fleet:", werr)
		}
	}
	if rep != nil {
		fmt.Print(rep.markdown())
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleet:", err)
		os.Exit(1)
	}
}

// fleet is everything one run started.
type fleet struct {
	opts       options
	work       string
	configPath string
	masterKey  string
	adminKey   string
	client     *http.Client

	fakeAddr string
	redis    *redisServer
	db       *scratchDB
	gws      []*gateway
	lb       *proc
	lbURL    string
	hooks    *hookReceiver

	keys    map[string]clientKey
	closers []func()
}

type clientKey struct {
	id, secret string
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// run sets the fleet up, runs the checks and tears everything down,
// whatever happened.
func run(ctx context.Context, o options) (*report, error) {
	if o.postgres == "" {
		return nil, errors.New("--postgres (or SWITCHYARD_TEST_POSTGRES) is required: scripts/postgres.sh starts one")
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	work, err := os.MkdirTemp("", "switchyard-fleet-")
	if err != nil {
		return nil, err
	}
	f := &fleet{opts: o, work: work, masterKey: randomHex(32), adminKey: "sy-admin-" + randomHex(16), keys: map[string]clientKey{},
		client: &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 128, IdleConnTimeout: 30 * time.Second}}}
	defer func() {
		f.teardown()
		if !o.keep {
			_ = os.RemoveAll(work)
		}
	}()
	if err := f.setup(ctx); err != nil {
		return nil, err
	}
	rep := &report{Started: time.Now().UTC(), Workers: o.workers, Duration: o.duration.String(), HAProxy: haproxyRetrySummary}
	err = f.checks(ctx, rep)
	rep.Finished = time.Now().UTC()
	rep.verdict(o)
	if err == nil && len(rep.Failures) > 0 {
		err = fmt.Errorf("%d checks failed: %v", len(rep.Failures), rep.Failures)
	}
	return rep, err
}

func (f *fleet) setup(ctx context.Context) error {
	// The fake upstream, in process: short streams so a killed replica
	// has few in flight.
	fake := fakeupstream.New(fakeupstream.Options{Knobs: fakeupstream.Knobs{TTFT: 5 * time.Millisecond, TokenDelay: time.Millisecond, Tokens: 16}, RecordLimit: -1})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	f.fakeAddr = ln.Addr().String()
	f.closers = append(f.closers, func() { _ = fake.Close(); _ = srv.Close() })

	rport, err := freePort()
	if err != nil {
		return err
	}
	f.redis = &redisServer{port: rport, log: filepath.Join(f.work, "redis.log")}
	if err := f.redis.start(f.work); err != nil {
		return err
	}
	if f.db, err = newScratchDB(ctx, f.opts.postgres); err != nil {
		return err
	}
	if f.hooks, err = newHookReceiver(); err != nil {
		return err
	}
	f.closers = append(f.closers, f.hooks.close)
	if err := f.writeConfig(); err != nil {
		return err
	}
	for i := range 3 {
		port, err := freePort()
		if err != nil {
			return err
		}
		f.gws = append(f.gws, &gateway{name: fmt.Sprintf("gw%d", i+1), port: port})
	}
	// The first replica alone creates the schema; the others then start
	// together.
	if err := f.startGateway(ctx, f.gws[0]); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(f.gws))
	for i, g := range f.gws[1:] {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.startGateway(ctx, g) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return f.startHAProxy(ctx)
}

func (f *fleet) teardown() {
	if f.lb != nil {
		f.lb.stop(syscall.SIGTERM, 5*time.Second)
	}
	var wg sync.WaitGroup
	for _, g := range f.gws {
		if g.p != nil {
			wg.Add(1)
			go func() { defer wg.Done(); g.p.stop(syscall.SIGTERM, 15*time.Second) }()
		}
	}
	wg.Wait()
	if f.redis != nil && f.redis.p != nil {
		f.redis.p.stop(syscall.SIGTERM, 5*time.Second)
	}
	if f.db != nil {
		f.db.drop()
	}
	for i := len(f.closers) - 1; i >= 0; i-- {
		f.closers[i]()
	}
}

func (f *fleet) writeConfig() error {
	cfg := fmt.Sprintf(`# make fleet: three replicas share this file, Redis and Postgres.
log: {level: warn, format: text}
server: {shutdown_timeout: 10s}
storage:
  postgres_url: %q
  redis_url: redis://%s/0
cache: {redis_url: "redis://%s/1", ttl: 10m}
alerts: {interval: 2s}
providers:
  - name: fake
    type: openai
    base_url: http://%s/v1
    api_keys: [sk-fake-fleet-0123456789]
    models: [fake-gpt]
    prices:
      fake-gpt: {input: 100, output: 200}
routes:
  - model: fleet
    targets: [{provider: fake, model: fake-gpt}]
  - model: cached
    cache: {mode: all}
    targets: [{provider: fake, model: fake-gpt}]
`, f.db.url, f.redis.addr(), f.redis.addr(), f.fakeAddr)
	f.configPath = filepath.Join(f.work, "switchyard.yaml")
	return os.WriteFile(f.configPath, []byte(cfg), 0o600)
}
