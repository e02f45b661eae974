package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is one child process the driver owns: started, signalled and
// waited for by the driver alone, never found by name.
type proc struct {
	name string
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

func startProc(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), env...)
	// Its own process group: a Ctrl-C to the driver reaches the driver,
	// which then stops its children in order.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to grace, then kills.
func (p *proc) stop(sig syscall.Signal, grace time.Duration) {
	if p == nil || p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(sig)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cpuSeconds is the process's user+system CPU time so far (Linux /proc).
func cpuSeconds(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	// Fields after the command name, which is in parentheses and may hold spaces.
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ is 100 on Linux
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitHTTP polls url until it answers 200 or d passes.
func waitHTTP(ctx context.Context, url string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer 200 within %v", url, d)
}

// waitTCP polls addr until it accepts a connection.
func waitTCP(addr string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s did not accept connections within %v", addr, d)
}

// gateway is one replica: its port and the process serving it now.
type gateway struct {
	name string
	port int
	p    *proc
	cpu  float64 // CPU seconds of processes already gone
}

func (g *gateway) addr() string { return "127.0.0.1:" + strconv.Itoa(g.port) }
func (g *gateway) url() string  { return "http://" + g.addr() }

// cpuTotal is every process of this replica's CPU time so far.
func (g *gateway) cpuTotal() float64 {
	if g.p == nil || g.p.exited() {
		return g.cpu
	}
	return g.cpu + cpuSeconds(g.p.pid())
}

func (f *fleet) startGateway(ctx context.Context, g *gateway) error {
	env := []string{"SWITCHYARD_MASTER_KEY=" + f.masterKey, "SWITCHYARD_ADMIN_KEY=" + f.adminKey}
	p, err := startProc(g.name, filepath.Join(f.work, g.name+".log"), env, f.opts.bin, "--config", f.configPath, "--listen", g.addr())
	if err != nil {
		return err
	}
	g.p = p
	if err := waitHTTP(ctx, g.url()+"/healthz", 20*time.Second); err != nil {
		return fmt.Errorf("%s: %w (log: %s)", g.name, err, tail(filepath.Join(f.work, g.name+".log")))
	}
	return nil
}

// killGateway stops g with sig and notes its CPU time first (a reaped
// process has no /proc entry).
func (f *fleet) killGateway(g *gateway, sig syscall.Signal) {
	g.cpu += cpuSeconds(g.p.pid())
	g.p.stop(sig, 20*time.Second)
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// redisServer is the fleet's Redis on a fixed port, so a restart comes
// back where every client looks for it. Budget counters live only in
// Redis, so it runs with an append-only file as a production one must:
// without it a restart would hand every key its period's budget again.
type redisServer struct {
	port int
	log  string
	p    *proc
}

func (r *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(r.port) }

func (r *redisServer) start(work string) error {
	p, err := startProc("redis", r.log, nil, "redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "yes", "--appendfsync", "everysec", "--dir", work)
	if err != nil {
		return err
	}
	r.p = p
	if err := waitTCP(r.addr(), 10*time.Second); err != nil {
		return errors.Join(err, errors.New(tail(r.log)))
	}
	return nil
}
