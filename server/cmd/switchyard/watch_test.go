package main

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
)

// configMapDir lays out path the way the kubelet mounts a ConfigMap: the
// file is a symlink through ..data to a timestamped directory, and an
// update swaps ..data in one rename.
type configMapDir struct {
	t   *testing.T
	dir string
	gen int
}

func newConfigMapDir(t *testing.T, content string) *configMapDir {
	c := &configMapDir{t: t, dir: t.TempDir()}
	c.update(content)
	if err := os.Symlink(filepath.Join("..data", "switchyard.yaml"), c.path()); err != nil {
		t.Fatal(err)
	}
	return c
}

func (c *configMapDir) path() string { return filepath.Join(c.dir, "switchyard.yaml") }

func (c *configMapDir) update(content string) {
	c.t.Helper()
	c.gen++
	gen := filepath.Join(c.dir, "..2026_gen_"+string(rune('0'+c.gen)))
	if err := os.Mkdir(gen, 0o755); err != nil {
		c.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(gen, "switchyard.yaml"), []byte(content), 0o644); err != nil {
		c.t.Fatal(err)
	}
	tmp := filepath.Join(c.dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(gen), tmp); err != nil {
		c.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.dir, "..data")); err != nil {
		c.t.Fatal(err)
	}
}

func TestConfigWatchReportsContentChangesOnly(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(c *configMapDir)
		want  bool
		fails bool
	}{
		{"untouched", func(*configMapDir) {}, false, false},
		{"re-synced with the same content", func(c *configMapDir) { c.update("a: 1\n") }, false, false},
		{"new content swapped in", func(c *configMapDir) { c.update("a: 2\n") }, true, false},
		{"file gone mid-swap", func(c *configMapDir) {
			if err := os.Remove(filepath.Join(c.dir, "..data")); err != nil {
				t.Fatal(err)
			}
		}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newConfigMapDir(t, "a: 1\n")
			w, err := newConfigWatch(c.path())
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(c)
			got, err := w.changed()
			if (err != nil) != tc.fails || got != tc.want {
				t.Fatalf("changed() = %v, %v; want %v, error %v", got, err, tc.want, tc.fails)
			}
			if got {
				// The new content is the baseline now.
				if again, err := w.changed(); again || err != nil {
					t.Fatalf("second poll after one change = %v, %v", again, err)
				}
			}
		})
	}
}

func TestWatchConfigSignalsOncePerChangeAndSurvivesAMissingFile(t *testing.T) {
	c := newConfigMapDir(t, "a: 1\n")
	w, err := newConfigWatch(c.path())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tick := make(chan time.Time)
	changed := make(chan struct{}, 4)
	done := make(chan struct{})
	go func() {
		watchConfig(ctx, w, tick, changed, hclog.NewNullLogger())
		close(done)
	}()
	poll := func() { tick <- time.Time{}; tick <- time.Time{} } // the second send returns once the first poll is done
	expect := func(want int) {
		t.Helper()
		poll()
		if got := len(changed); got != want {
			t.Fatalf("%d change signals, want %d", got, want)
		}
		for range want {
			<-changed
		}
	}
	expect(0)
	c.update("a: 2\n")
	expect(1)
	if err := os.Remove(filepath.Join(c.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	expect(0)
	c.update("a: 3\n")
	expect(1)
	cancel()
	<-done
}

// The gateway started with --watch-config serves a ConfigMap update without
// a signal or a restart.
func TestGatewayWatchConfigReloadsAnUpdatedConfigMap(t *testing.T) {
	c := newConfigMapDir(t, testConfig)
	addr := freeAddr(t)
	cmd := exec.Command(gatewayBinary(t), "--config", c.path(), "--listen", addr, "--watch-config", "50ms")
	cmd.Env = append(os.Environ(), "SWITCHYARD_DATA_DIR="+t.TempDir())
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("gateway log:\n%s", logs.String())
		}
	})
	base := "http://" + addr
	models := func() string {
		resp, err := http.Get(base + "/v1/models")
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return ""
		}
		return string(b)
	}
	waitForWatch(t, 15*time.Second, "the gateway to serve", func() bool { return strings.Contains(models(), `"auto"`) })
	if strings.Contains(models(), `"fresh"`) {
		t.Fatal(`route "fresh" served before the update`)
	}
	c.update(testConfig + `  - model: fresh
    targets:
      - {provider: sim, model: sim-large}
`)
	waitForWatch(t, 5*time.Second, `route "fresh" after the ConfigMap update`, func() bool { return strings.Contains(models(), `"fresh"`) })
}

func waitForWatch(t *testing.T, limit time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
