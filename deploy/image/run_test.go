package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// extractLayer unpacks the image's one layer into dir with its owners and
// modes, as a container runtime would.
func extractLayer(t *testing.T, img []byte, dir string) imageConfig {
	t.Helper()
	files := readTar(t, bytes.NewReader(img))
	var idx index
	decode(t, files["index.json"].body, &idx)
	var man manifest
	decode(t, blob(t, files, idx.Manifests[0]), &man)
	var cfg imageConfig
	decode(t, blob(t, files, man.Config), &cfg)
	zr, err := gzip.NewReader(bytes.NewReader(blob(t, files, man.Layers[0])))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return cfg
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, h.Name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, b, 0o600); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected entry %s (type %c)", h.Name, h.Typeflag)
		}
		if err := os.Lchown(p, h.Uid, h.Gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, fs.FileMode(h.Mode&0o777)|modeBits(h.Mode)); err != nil {
			t.Fatal(err)
		}
	}
}

func modeBits(m int64) fs.FileMode {
	var out fs.FileMode
	if m&0o1000 != 0 {
		out |= fs.ModeSticky
	}
	return out
}

// snapshot lists every path under dir with its size and mtime.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() {
			out[rel] = "dir"
		} else {
			out[rel] = fmt.Sprint(info.ModTime().UnixNano(), " ", info.Size())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// The image's root filesystem, chrooted with the image's user and
// environment: the gateway serves chat and its console, and writes nothing outside its data
// volume (every other directory is root's 0755, so a write elsewhere would
// fail and the gateway with it).
func TestImageServesAsItsNonRootUserWritingOnlyItsDataVolume(t *testing.T) {
	if os.Geteuid() != 0 || runtime.GOOS != "linux" {
		t.Skip("chroot and switching to uid 65532 need root on Linux")
	}
	bin := staticGateway(t)
	certs := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var img bytes.Buffer
	if err := Build(&img, Options{Binary: bin, Certs: certs, Repo: "switchyard", Tag: "t", Arch: runtime.GOARCH, Created: time.Unix(0, 0)}); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	cfg := extractLayer(t, img.Bytes(), root)
	before := snapshot(t, root)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// The image's Cmd with the port made free and loopback (the test's
	// network namespace is the host's).
	cmd := exec.Command(cfg.Config.Entrypoint[0], "--listen", addr)
	cmd.Env = cfg.Config.Env
	cmd.Dir = cfg.Config.WorkingDir
	var uid, gid uint32 = 65532, 65532
	if cfg.Config.User != "65532:65532" {
		t.Fatalf("User %q", cfg.Config.User)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Chroot: root, Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
		}
	})
	base := "http://" + addr
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the gateway exited: %v\n%s", err, logs.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 15s:\n%s", logs.String())
		}
	}
	resp, err := http.Post(base+"/v1/chat/completions", "application/json",
		strings.NewReader(`{"model":"auto","messages":[{"role":"user","content":"hi"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Choices []struct{ Message struct{ Content string } }
	}
	err = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(answer.Choices) == 0 {
		t.Fatalf("chat: %d %v %+v\n%s", resp.StatusCode, err, answer, logs.String())
	}
	// The operator console is embedded in the binary, so the image has it.
	resp, err = http.Get(base + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(strings.ToLower(string(page)), "<html") {
		t.Fatalf("/console/: %d %.200s", resp.StatusCode, page)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit within 10s of SIGTERM")
	}

	after := snapshot(t, root)
	data := "var/lib/switchyard/data"
	if _, ok := after[filepath.Join(data, "switchyard.db")]; !ok {
		t.Fatalf("no store in %s: %v", data, after)
	}
	for p, v := range after {
		if before[p] == v || p == data || strings.HasPrefix(p, data+"/") {
			continue
		}
		t.Errorf("the gateway wrote %s outside its data dir", p)
	}
}
