package sim

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
	"time"
)

// Gateway is one running gateway process with its own config and data
// directory.
type Gateway struct {
	URL  string
	Dir  string
	cmd  *exec.Cmd
	done chan error
}

// StartGateway writes the YAML config builds for a free loopback port and
// a data directory under dir, starts bin on it and waits until it answers
// GET /v1/prices. dir also holds the log; the caller removes it.
func StartGateway(ctx context.Context, bin, dir string, config func(listen, dataDir string) (string, error)) (*Gateway, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	listen := fmt.Sprintf("127.0.0.1:%d", port)
	data := filepath.Join(dir, "data")
	yaml, err := config(listen, data)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "switchyard.yaml")
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "gateway.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(bin, "--config", cfgPath)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so a Ctrl-C at the terminal reaches us first
	// and we stop it in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	g := &Gateway{URL: "http://" + listen, Dir: dir, cmd: cmd, done: make(chan error, 1)}
	go func() { g.done <- cmd.Wait() }()
	if err := g.waitReady(ctx, 20*time.Second); err != nil {
		_ = g.Stop()
		log, _ := os.ReadFile(filepath.Join(dir, "gateway.log"))
		return nil, fmt.Errorf("gateway did not start: %w\n%s", err, tail(log, 2000))
	}
	return g, nil
}

func (g *Gateway) waitReady(ctx context.Context, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	c := &http.Client{Timeout: time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"/v1/prices", nil)
		if resp, err := c.Do(req); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-g.done:
			g.done <- err
			return fmt.Errorf("exited: %v", err)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Stop sends SIGTERM, waits up to 10 s, then kills.
func (g *Gateway) Stop() error {
	if g.cmd.Process == nil {
		return nil
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-g.done:
		g.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil // a signalled exit is the expected end
		}
		return err
	case <-time.After(10 * time.Second):
		_ = g.cmd.Process.Kill()
		err := <-g.done
		g.done <- err
		return fmt.Errorf("gateway ignored SIGTERM for 10 s; killed")
	}
}

// CheckConfig runs bin --check on yaml (offline: it dials and writes
// nothing) and returns its output when it fails.
func CheckConfig(ctx context.Context, bin, dir, yaml string) error {
	p := filepath.Join(dir, "check.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		return err
	}
	defer os.Remove(p)
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--check", "--config", p).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%w: %s", err, tail(out, 1000))
	}
	return nil
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}
