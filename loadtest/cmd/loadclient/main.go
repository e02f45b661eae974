// Command loadclient measures one target the way the benchmark measures
// every target: a fixed request count and/or duration over keep-alive
// connections, exact latency percentiles, time to first token for streams,
// and optionally the CPU and RSS of the serving process tree.
//
//	loadclient -mode http -target http://127.0.0.1:8080/v1/chat/completions -c 32 -d 5s -pid 1234
//	loadclient -mode grpc -target 127.0.0.1:8080 -c 1 -n 2000
//	loadclient -hold 10000 -mode sse -target http://127.0.0.1:8080/v1/chat/completions -pid 1234
//
// One JSON object per run is appended to -out (default stdout); a one-line
// summary goes to stderr.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	pb "github.com/switchyard/switchyard/gen/go/switchyard/v1"
	"github.com/switchyard/switchyard/loadtest/load"
)

type headers http.Header

func (h headers) String() string { return "" }
func (h headers) Set(v string) error {
	k, val, ok := strings.Cut(v, ":")
	if !ok {
		return fmt.Errorf("header %q: want 'Name: value'", v)
	}
	http.Header(h).Add(strings.TrimSpace(k), strings.TrimSpace(val))
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "loadclient:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("loadclient", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hdr := headers(http.Header{})
	mode := fs.String("mode", load.ModeHTTP, "http | sse | grpc | grpc-stream")
	target := fs.String("target", "", "URL (http modes) or host:port (grpc modes)")
	label := fs.String("label", "", "name of this run in the output")
	model := fs.String("model", "fake-gpt", "model in the request")
	prompt := fs.String("prompt", "Say hello in a few words.", "user message")
	body := fs.String("body", "", "raw JSON body for the http modes (replaces -model/-prompt)")
	cacheControl := fs.String("cache-control", "", "switchyard.cache_control to send: default | no-cache | no-store | refresh")
	conc := fs.Int("c", 1, "concurrent workers")
	n := fs.Int("n", 0, "requests to measure (0: bounded by -d only)")
	dur := fs.Duration("d", 0, "measuring time (0: bounded by -n only)")
	warmup := fs.Int("warmup", 0, "requests before measuring, not counted")
	rate := fs.Float64("rate", 0, "requests per second, open loop (0: closed loop)")
	conns := fs.Int("conns", 1, "gRPC connections")
	pid := fs.Int("pid", 0, "process (tree) whose CPU and RSS to report")
	sample := fs.Duration("sample", time.Second, "RSS sampling interval with -pid")
	out := fs.String("out", "", "append the JSON result to this file (default stdout)")
	hold := fs.Int("hold", 0, "stream soak: open this many streams, keep them open, report RSS per stream (needs -pid)")
	parallel := fs.Int("parallel", 256, "with -hold: streams being opened at once")
	openTimeout := fs.Duration("open-timeout", 90*time.Second, "with -hold: bound on the opening phase")
	settle := fs.Duration("settle", 3*time.Second, "with -hold: wait before sampling RSS")
	holdFor := fs.Duration("hold-for", 5*time.Second, "with -hold: keep the streams open this long after sampling")
	fs.Var(hdr, "H", "request header 'Name: value' (repeatable)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *target == "" {
		return errors.New("-target is required")
	}
	stream := *mode == load.ModeSSE || *mode == load.ModeGRPCStream
	cc, err := cacheControlEnum(*cacheControl)
	if err != nil {
		return err
	}
	b := []byte(*body)
	if len(b) == 0 {
		b = restBody(*model, *prompt, stream, *cacheControl)
	}
	greq := grpcRequest(*model, *prompt, stream, cc)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	var proc *load.Proc
	if *pid > 0 {
		proc = load.NewProc(*pid)
	}
	var result any
	var line string
	if *hold > 0 {
		if proc == nil {
			return errors.New("-hold needs -pid (the gateway whose memory to measure)")
		}
		res, err := load.Hold(ctx, load.HoldConfig{
			Mode: *mode, Target: *target, Body: b, GRPC: greq, Header: http.Header(hdr),
			Streams: *hold, Parallel: *parallel, Conns: *conns,
			OpenTimeout: *openTimeout, Settle: *settle, Hold: *holdFor, Proc: proc,
		})
		if err != nil {
			return err
		}
		result = res
		line = fmt.Sprintf("hold %s: %d/%d streams open in %.1fs (%d failed), RSS %d -> %d KB = %.1f KB/stream, %d still open at the end",
			res.Mode, res.Opened, res.Streams, res.OpenS, res.Failed, res.Before.RSSKB, res.Open.RSSKB, res.PerStreamKB, res.StillOpen)
		if res.FirstError != "" {
			line += "; first error: " + res.FirstError
		}
	} else {
		res, err := load.Run(ctx, load.Config{
			Label: *label, Mode: *mode, Target: *target, Body: b, GRPC: greq, Header: http.Header(hdr),
			Concurrency: *conc, Requests: *n, Duration: *dur, Warmup: *warmup, Rate: *rate, Conns: *conns,
			Proc: proc, SampleEvery: *sample,
		})
		if err != nil {
			return err
		}
		result = res
		line = summary(res)
	}
	fmt.Fprintln(stderr, line)

	js, err := json.Marshal(result)
	if err != nil {
		return err
	}
	js = append(js, '\n')
	if *out == "" {
		_, err = stdout.Write(js)
		return err
	}
	f, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(js); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func summary(r *load.Result) string {
	s := fmt.Sprintf("%-14s %-11s c=%-3d %6d ok %4d err %8.0f rps  p50 %.3f  p99 %.3f ms",
		r.Label, r.Mode, r.Concurrency, r.Requests, r.Errors, r.RPS, r.Latency.P50, r.Latency.P99)
	if r.TTFT != nil {
		s += fmt.Sprintf("  ttft p50 %.3f ms", r.TTFT.P50)
	}
	if r.Proc != nil {
		s += fmt.Sprintf("  cpu %.1f ms/1k  rss %d KB", r.Proc.CPUPer1k*1000, r.Proc.After.RSSKB)
	}
	if len(r.Cache) > 0 {
		s += fmt.Sprintf("  cache %v", r.Cache)
	}
	if r.FirstError != "" {
		s += "  first error: " + r.FirstError
	}
	return s
}

func restBody(model, prompt string, stream bool, cacheControl string) []byte {
	m := map[string]any{
		"model":    model,
		"messages": []map[string]string{{"role": "user", "content": prompt}},
	}
	if stream {
		m["stream"] = true
		m["stream_options"] = map[string]bool{"include_usage": true}
	}
	if cacheControl != "" {
		m["switchyard"] = map[string]string{"cache_control": cacheControl}
	}
	b, _ := json.Marshal(m)
	return b
}

func grpcRequest(model, prompt string, stream bool, cc pb.CacheControl) *pb.CreateChatCompletionRequest {
	req := &pb.CreateChatCompletionRequest{
		Model:    model,
		Messages: []*pb.ChatMessage{{Role: "user", Content: &prompt}},
	}
	if stream {
		req.StreamOptions = &pb.StreamOptions{IncludeUsage: true}
	}
	req.Switchyard = &pb.RequestOptions{CacheControl: cc}
	return req
}

func cacheControlEnum(s string) (pb.CacheControl, error) {
	switch s {
	case "", "default":
		return pb.CacheControl_CACHE_CONTROL_UNSPECIFIED, nil
	case "no-cache":
		return pb.CacheControl_CACHE_CONTROL_NO_CACHE, nil
	case "no-store":
		return pb.CacheControl_CACHE_CONTROL_NO_STORE, nil
	case "refresh":
		return pb.CacheControl_CACHE_CONTROL_REFRESH, nil
	}
	return 0, fmt.Errorf("-cache-control %q: want default, no-cache, no-store or refresh", s)
}
