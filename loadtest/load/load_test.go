package load

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestSummarizeUsesNearestRank(t *testing.T) {
	tests := []struct {
		name string
		in   []time.Duration
		want Percentiles
	}{
		{"empty", nil, Percentiles{}},
		{"one", []time.Duration{3 * time.Millisecond}, Percentiles{N: 1, Mean: 3, P50: 3, P90: 3, P95: 3, P99: 3, Max: 3}},
		{"hundred, unsorted", func() []time.Duration {
			var d []time.Duration
			for i := 100; i >= 1; i-- {
				d = append(d, time.Duration(i)*time.Millisecond)
			}
			return d
		}(), Percentiles{N: 100, Mean: 50.5, P50: 50, P90: 90, P95: 95, P99: 99, Max: 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Summarize(tt.in); got != tt.want {
				t.Errorf("Summarize = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestReadSSE(t *testing.T) {
	tests := []struct {
		name     string
		body     string
		wantErr  string
		wantTTFT bool
	}{
		{"content then done", "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n", "", true},
		{"no content", "data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}\n\ndata: [DONE]\n\n", "", false},
		{"cut before done", "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n", "without data: [DONE]", true},
		{"error event", "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: {\"error\":{\"message\":\"boom\"}}\n\n", "stream error event", true},
		{"event longer than the buffer", "data: {\"x\":\"" + strings.Repeat("a", 200) + "\"}\n\ndata: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReaderSize(nil, 64)
			ttft, err := readSSE(br, strings.NewReader(tt.body), time.Now().Add(-time.Millisecond))
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("readSSE err = %v, want %q", err, tt.wantErr)
			}
			if (ttft > 0) != tt.wantTTFT {
				t.Errorf("ttft = %v, want set: %v", ttft, tt.wantTTFT)
			}
		})
	}
}

func TestProcSampleSumsTheTree(t *testing.T) {
	root := t.TempDir()
	write := func(pid int, ppid int, comm string, utime, stime, rss, hwm int) {
		dir := filepath.Join(root, fmt.Sprint(pid))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		// Fields after the command: state ppid pgrp session tty tpgid flags
		// minflt cminflt majflt cmajflt utime stime ...
		stat := fmt.Sprintf("%d (%s) S %d 1 1 0 -1 0 0 0 0 0 %d %d 0 0 20 0 1 0\n", pid, comm, ppid, utime, stime)
		status := fmt.Sprintf("Name:\t%s\nVmHWM:\t  %d kB\nVmRSS:\t  %d kB\n", comm, hwm, rss)
		if err := os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "status"), []byte(status), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(10, 1, "npm exec (x) y", 100, 50, 1000, 2000) // a name with spaces and parens
	write(11, 10, "node", 300, 100, 5000, 6000)
	write(12, 11, "worker", 10, 0, 100, 100)
	write(20, 1, "unrelated", 999, 999, 9999, 9999)
	if err := os.WriteFile(filepath.Join(root, "uptime"), []byte("1 1\n"), 0o644); err != nil {
		t.Fatal(err) // a non-pid entry, to be ignored
	}

	tests := []struct {
		pid  int
		want ProcSample
	}{
		{10, ProcSample{PIDs: 3, CPUSeconds: 5.6, RSSKB: 6100, HWMKB: 8100}},
		{11, ProcSample{PIDs: 2, CPUSeconds: 4.1, RSSKB: 5100, HWMKB: 6100}},
		{12, ProcSample{PIDs: 1, CPUSeconds: 0.1, RSSKB: 100, HWMKB: 100}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.pid), func(t *testing.T) {
			got, err := (&Proc{root: root, pid: tt.pid}).Sample()
			if err != nil {
				t.Fatal(err)
			}
			if got.PIDs != tt.want.PIDs || got.RSSKB != tt.want.RSSKB || got.HWMKB != tt.want.HWMKB ||
				got.CPUSeconds < tt.want.CPUSeconds-1e-9 || got.CPUSeconds > tt.want.CPUSeconds+1e-9 {
				t.Errorf("Sample = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("gone", func(t *testing.T) {
		if _, err := (&Proc{root: root, pid: 99}).Sample(); err == nil {
			t.Error("Sample of a missing process: nil error")
		}
	})
}

func TestProcSampleSelf(t *testing.T) {
	s, err := NewProc(os.Getpid()).Sample()
	if err != nil {
		t.Skipf("no /proc here: %v", err)
	}
	if s.PIDs < 1 || s.RSSKB <= 0 || s.HWMKB < s.RSSKB {
		t.Errorf("Sample(self) = %+v, want RSS > 0 and HWM >= RSS", s)
	}
}

// fakeChat answers like an OpenAI endpoint; every fifth request fails when
// failEvery is set.
func fakeChat(t *testing.T, failEvery int64) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		i := n.Add(1)
		if failEvery > 0 && i%failEvery == 0 {
			http.Error(w, `{"error":{"message":"boom"}}`, http.StatusBadGateway)
			return
		}
		w.Header().Set("X-Switchyard-Cache", "miss")
		if strings.Contains(string(body), `"stream":true`) {
			w.Header().Set("Content-Type", "text/event-stream")
			fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n")
			return
		}
		fmt.Fprint(w, `{"choices":[{"message":{"content":"Hi"}}]}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestRunCountsEveryRequest(t *testing.T) {
	tests := []struct {
		name       string
		mode       string
		body       string
		failEvery  int64
		wantOK     int
		wantErrors int
		wantTTFT   bool
	}{
		{"unary", ModeHTTP, `{"model":"m"}`, 0, 50, 0, false},
		{"sse", ModeSSE, `{"model":"m","stream":true}`, 0, 50, 0, true},
		{"failures are counted, not hidden", ModeHTTP, `{"model":"m"}`, 5, 40, 10, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, served := fakeChat(t, tt.failEvery)
			res, err := Run(context.Background(), Config{Mode: tt.mode, Target: srv.URL, Body: []byte(tt.body), Concurrency: 4, Requests: 50})
			if err != nil {
				t.Fatal(err)
			}
			if res.Requests != tt.wantOK || res.Errors != tt.wantErrors || served.Load() != 50 {
				t.Errorf("ok %d errors %d served %d, want %d, %d, 50", res.Requests, res.Errors, served.Load(), tt.wantOK, tt.wantErrors)
			}
			if tt.wantErrors > 0 && res.ErrorKinds["status 502"] != tt.wantErrors {
				t.Errorf("error kinds %v, want status 502 × %d", res.ErrorKinds, tt.wantErrors)
			}
			if (res.TTFT != nil && res.TTFT.N == tt.wantOK) != tt.wantTTFT {
				t.Errorf("TTFT = %+v, want one per answer: %v", res.TTFT, tt.wantTTFT)
			}
			if res.Cache["miss"] != tt.wantOK || res.Latency.N != tt.wantOK || res.Latency.P50 <= 0 {
				t.Errorf("cache %v latency %+v", res.Cache, res.Latency)
			}
		})
	}
}

func TestRunPacesOpenLoop(t *testing.T) {
	srv, served := fakeChat(t, 0)
	start := time.Now()
	res, err := Run(context.Background(), Config{Mode: ModeHTTP, Target: srv.URL, Body: []byte(`{}`), Concurrency: 4,
		Rate: 200, Duration: 500 * time.Millisecond, Proc: NewProc(os.Getpid()), SampleEvery: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 450*time.Millisecond {
		t.Errorf("a 500 ms paced run took %v", el)
	}
	// 200/s for 0.5 s is 100 requests (the schedule includes t=0).
	if res.Requests < 95 || res.Requests > 101 || served.Load() != int64(res.Requests) {
		t.Errorf("paced run sent %d (served %d), want ~100", res.Requests, served.Load())
	}
	if res.Proc == nil || len(res.Proc.RSSKB) < 3 || res.Proc.RSSMaxKB < res.Proc.RSSMinKB {
		t.Errorf("proc = %+v, want RSS samples", res.Proc)
	}
}

func TestRunRefusesUnboundedAndUnknown(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"unbounded", Config{Mode: ModeHTTP, Target: "http://x", Body: []byte("{}")}, "Requests or Duration"},
		{"unknown mode", Config{Mode: "carrier-pigeon", Target: "http://x", Requests: 1}, "unknown mode"},
		{"grpc URL for http", Config{Mode: ModeHTTP, Target: "127.0.0.1:1", Body: []byte("{}"), Requests: 1}, "http(s)://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run = %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// BenchmarkSummarize is the end-of-run cost per 100k samples.
func BenchmarkSummarize(b *testing.B) {
	src := make([]time.Duration, 100000)
	for i := range src {
		src[i] = time.Duration((i*7919)%100000) * time.Microsecond
	}
	d := make([]time.Duration, len(src))
	b.ReportAllocs()
	for b.Loop() {
		copy(d, src)
		Summarize(d)
	}
}

func TestHoldKeepsStreamsOpen(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\n")
		w.(http.Flusher).Flush()
		<-r.Context().Done() // a slow upstream: the rest never comes
	}))
	t.Cleanup(srv.Close)
	res, err := Hold(context.Background(), HoldConfig{Mode: ModeSSE, Target: srv.URL, Body: []byte(`{"stream":true}`),
		Streams: 20, Parallel: 5, Settle: 10 * time.Millisecond, Proc: NewProc(os.Getpid()), OpenTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 20 || res.Failed != 0 || res.StillOpen != 20 {
		t.Errorf("opened %d failed %d still open %d, want 20, 0, 20 (%s)", res.Opened, res.Failed, res.StillOpen, res.FirstError)
	}
}

func TestHoldCountsStreamsThatFail(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	res, err := Hold(context.Background(), HoldConfig{Mode: ModeSSE, Target: srv.URL, Body: []byte(`{}`),
		Streams: 6, Proc: NewProc(os.Getpid()), OpenTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if res.Opened != 0 || res.Failed != 6 || res.ErrorKinds["status 503"] != 6 {
		t.Errorf("opened %d failed %d kinds %v, want 0, 6, status 503 × 6", res.Opened, res.Failed, res.ErrorKinds)
	}
}
