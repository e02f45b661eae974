// Command fakeupstream serves the fake OpenAI, Anthropic and Gemini APIs of
// package fakeupstream on one address, for load tests and acceptance runs.
//
//	fakeupstream --listen 127.0.0.1:9090 --ttft 50ms --token-delay 5ms --tokens 64 --log
//
// It prints "fakeupstream listening on ADDR" once it accepts connections
// (useful with --listen 127.0.0.1:0) and stops on SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/switchyard/switchyard/loadtest/fakeupstream"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "fakeupstream:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("fakeupstream", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9090", "address to serve on")
	latency := fs.Duration("latency", 0, "delay before every response starts")
	ttft := fs.Duration("ttft", 0, "delay before the first content chunk of a stream")
	tokenDelay := fs.Duration("token-delay", 0, "delay between content chunks")
	tokens := fs.Int("tokens", 0, fmt.Sprintf("words per answer (0 = %d)", fakeupstream.DefaultTokens))
	logReqs := fs.Bool("log", false, "log one line per request to stderr")
	records := fs.Int("records", fakeupstream.DefaultRecordLimit, "requests kept for /_control/records (negative: none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	knobs := fakeupstream.Knobs{Latency: *latency, TTFT: *ttft, TokenDelay: *tokenDelay, Tokens: *tokens}
	if err := knobs.Validate(); err != nil {
		return err
	}
	log := hclog.New(&hclog.LoggerOptions{Name: "fakeupstream", Output: os.Stderr, Level: hclog.Info})
	opts := fakeupstream.Options{Knobs: knobs, RecordLimit: *records}
	if *logReqs {
		opts.Logger = log
	}
	fake := fakeupstream.New(opts)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: fake, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Printf("fakeupstream listening on %s\n", ln.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	// Close first: it ends hanging and sleeping handlers, which Shutdown
	// would otherwise wait for.
	closeErr := fake.Close()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return closeErr
}
