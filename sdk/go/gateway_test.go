package switchyard_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// The tests run against the real gateway binary, built once and started by
// TestMain on a free loopback port with testdata/switchyard.yaml. Set
// SWITCHYARD_TEST_BIN to a prebuilt binary to skip the build.
const testAPIKey = "sk-sdk-go-test-0123456789"

// gatewayURL is the base URL of the gateway TestMain started. It is written
// once, before any test or example runs.
var gatewayURL string

func TestMain(m *testing.M) {
	os.Exit(runWithGateway(m))
}

func runWithGateway(m *testing.M) int {
	dir, err := os.MkdirTemp("", "switchyard-sdk-go-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "tempdir:", err)
		return 1
	}
	defer os.RemoveAll(dir)

	bin := os.Getenv("SWITCHYARD_TEST_BIN")
	if bin == "" {
		bin = filepath.Join(dir, "switchyard")
		bctx, bcancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer bcancel()
		build := exec.CommandContext(bctx, "go", "build", "-o", bin, "github.com/switchyard/switchyard/server/cmd/switchyard")
		if out, err := build.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "go build gateway: %v\n%s", err, out)
			return 1
		}
	}

	addr, err := freeAddr()
	if err != nil {
		fmt.Fprintln(os.Stderr, "free port:", err)
		return 1
	}
	logPath := filepath.Join(dir, "gateway.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, "log file:", err)
		return 1
	}
	defer logFile.Close()
	cmd := exec.Command(bin, "--config", filepath.Join("testdata", "switchyard.yaml"), "--listen", addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start gateway:", err)
		return 1
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	showLog := func() {
		b, _ := os.ReadFile(logPath)
		fmt.Fprintf(os.Stderr, "----- gateway log -----\n%s----- end -----\n", b)
	}

	if err := waitHealthy(addr, exited, 20*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = cmd.Process.Kill()
		showLog()
		return 1
	}
	gatewayURL = "http://" + addr

	code := m.Run()

	// The gateway must drain and exit 0 on SIGTERM; anything else is a bug
	// worth failing the run for.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			fmt.Fprintln(os.Stderr, "gateway exit after SIGTERM:", err)
			showLog()
			return 1
		}
	case <-time.After(15 * time.Second):
		_ = cmd.Process.Kill()
		<-exited
		fmt.Fprintln(os.Stderr, "gateway did not stop within 15s of SIGTERM")
		showLog()
		return 1
	}
	if code != 0 {
		showLog()
	}
	return code
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func waitHealthy(addr string, exited <-chan error, limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("gateway exited before it became ready: %v", err)
		default:
		}
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("gateway did not answer 200 on /healthz within " + limit.String())
}
