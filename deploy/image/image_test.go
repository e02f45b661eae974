package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// staticGateway builds the gateway the way scripts/image.sh does, once
// per test run; TestMain removes it.
func staticGateway(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the gateway binary")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "switchyard-image-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "switchyard")
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-s -w -X main.version=imagetest", "-o", builtBin, "../../server/cmd/switchyard")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		_ = os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}

// entry is one file of a tar stream.
type entry struct {
	hdr  *tar.Header
	body []byte
}

func readTar(t *testing.T, r io.Reader) map[string]entry {
	t.Helper()
	out := map[string]entry{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(h.Name, "/")
		if _, dup := out[name]; dup {
			t.Fatalf("tar lists %s twice", name)
		}
		out[name] = entry{h, b}
	}
}

// blob returns the blob d names after checking its size and digest.
func blob(t *testing.T, files map[string]entry, d descriptor) []byte {
	t.Helper()
	hexd, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok {
		t.Fatalf("digest %q is not sha256", d.Digest)
	}
	e, ok := files["blobs/sha256/"+hexd]
	if !ok {
		t.Fatalf("blob %s (%s) missing", d.Digest, d.MediaType)
	}
	sum := sha256.Sum256(e.body)
	if got := hex.EncodeToString(sum[:]); got != hexd {
		t.Fatalf("blob %s hashes to %s", d.Digest, got)
	}
	if int64(len(e.body)) != d.Size {
		t.Fatalf("blob %s is %d bytes, descriptor says %d", d.Digest, len(e.body), d.Size)
	}
	return e.body
}

func decode(t *testing.T, b []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%v in %s", err, b)
	}
}

func TestBuiltImageIsAValidNonRootOCIArchiveWhoseBinaryRuns(t *testing.T) {
	bin := staticGateway(t)
	certs := filepath.Join(t.TempDir(), "ca.crt")
	pem := []byte("-----BEGIN CERTIFICATE-----\nMIIB (test bundle)\n-----END CERTIFICATE-----\n")
	if err := os.WriteFile(certs, pem, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Binary: bin, Certs: certs, Repo: "switchyard", Tag: "v9.9.9", Version: "v9.9.9", Revision: "abc123",
		Arch: runtime.GOARCH, Created: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	var img bytes.Buffer
	if err := Build(&img, opts); err != nil {
		t.Fatal(err)
	}
	files := readTar(t, bytes.NewReader(img.Bytes()))

	var layout struct{ ImageLayoutVersion string }
	decode(t, files["oci-layout"].body, &layout)
	if layout.ImageLayoutVersion != "1.0.0" {
		t.Fatalf("oci-layout version %q", layout.ImageLayoutVersion)
	}
	var idx index
	decode(t, files["index.json"].body, &idx)
	if idx.SchemaVersion != 2 || idx.MediaType != mediaIndex || len(idx.Manifests) != 1 {
		t.Fatalf("index.json: %+v", idx)
	}
	md := idx.Manifests[0]
	if md.MediaType != mediaManifest || md.Platform == nil || md.Platform.OS != "linux" || md.Platform.Architecture != runtime.GOARCH {
		t.Fatalf("index entry %+v", md)
	}
	if md.Annotations["org.opencontainers.image.ref.name"] != "v9.9.9" || md.Annotations["io.containerd.image.name"] != "switchyard:v9.9.9" {
		t.Fatalf("index annotations %v", md.Annotations)
	}
	var man manifest
	decode(t, blob(t, files, md), &man)
	if man.SchemaVersion != 2 || man.MediaType != mediaManifest || man.Config.MediaType != mediaConfig || len(man.Layers) != 1 || man.Layers[0].MediaType != mediaLayer {
		t.Fatalf("manifest %+v", man)
	}
	var cfg imageConfig
	decode(t, blob(t, files, man.Config), &cfg)
	gz := blob(t, files, man.Layers[0])
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(raw); len(cfg.RootFS.DiffIDs) != 1 || cfg.RootFS.DiffIDs[0] != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("diff_ids %v do not name the uncompressed layer", cfg.RootFS.DiffIDs)
	}

	// docker load's manifest.json names the same blobs.
	var dm []dockerManifest
	decode(t, files["manifest.json"].body, &dm)
	if len(dm) != 1 || dm[0].Config != "blobs/sha256/"+strings.TrimPrefix(man.Config.Digest, "sha256:") ||
		!slices.Equal(dm[0].Layers, []string{"blobs/sha256/" + strings.TrimPrefix(man.Layers[0].Digest, "sha256:")}) ||
		!slices.Equal(dm[0].RepoTags, []string{"switchyard:v9.9.9"}) {
		t.Fatalf("manifest.json %+v", dm)
	}

	c := cfg.Config
	if c.User != "65532:65532" || strings.HasPrefix(c.User, "0") || c.User == "" {
		t.Fatalf("User %q, want the non-root 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/switchyard"}) {
		t.Fatalf("Entrypoint %q", c.Entrypoint)
	}
	if _, ok := c.ExposedPorts["8080/tcp"]; !ok {
		t.Fatalf("ExposedPorts %v", c.ExposedPorts)
	}
	if _, ok := c.Volumes["/var/lib/switchyard"]; !ok || !slices.Contains(c.Env, "SWITCHYARD_DATA_DIR=/var/lib/switchyard/data") {
		t.Fatalf("data dir: Volumes %v, Env %v", c.Volumes, c.Env)
	}
	if c.Labels["org.opencontainers.image.version"] != "v9.9.9" || c.Labels["org.opencontainers.image.revision"] != "abc123" {
		t.Fatalf("Labels %v", c.Labels)
	}
	if cfg.Created != "2026-01-02T03:04:05Z" || cfg.OS != "linux" {
		t.Fatalf("created %q os %q", cfg.Created, cfg.OS)
	}

	root := readTar(t, bytes.NewReader(raw))
	if !strings.Contains(string(root["etc/passwd"].body), "nonroot:x:65532:65532:") {
		t.Fatalf("/etc/passwd lacks the non-root user:\n%s", root["etc/passwd"].body)
	}
	if !bytes.Equal(root["etc/ssl/certs/ca-certificates.crt"].body, pem) {
		t.Fatal("the CA bundle in the image differs from the build host's")
	}
	data := root["var/lib/switchyard"].hdr
	if data == nil || data.Typeflag != tar.TypeDir || data.Uid != 65532 || data.Mode&0o700 != 0o700 {
		t.Fatalf("data volume %+v: want a directory the non-root user owns", data)
	}
	if tmp := root["tmp"].hdr; tmp == nil || tmp.Mode != 0o1777 {
		t.Fatalf("/tmp %+v", tmp)
	}
	for name, e := range root {
		if !e.hdr.ModTime.Equal(opts.Created) {
			t.Fatalf("%s has mtime %v, want the build's %v", name, e.hdr.ModTime, opts.Created)
		}
	}
	be := root["usr/local/bin/switchyard"]
	if be.hdr == nil || be.hdr.Mode&0o111 == 0 {
		t.Fatal("the binary is missing or not executable")
	}

	// The binary from the layer is static and runs.
	extracted := filepath.Join(t.TempDir(), "switchyard")
	if err := os.WriteFile(extracted, be.body, 0o755); err != nil {
		t.Fatal(err)
	}
	ef, err := elf.Open(extracted)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the binary needs a dynamic loader; the image has none (build with CGO_ENABLED=0)")
		}
	}
	ef.Close()
	out, err := exec.Command(extracted, "--version").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "switchyard imagetest" {
		t.Fatalf("--version: %v, %q", err, out)
	}
	conf := filepath.Join(t.TempDir(), "switchyard.yaml")
	if err := os.WriteFile(conf, []byte("listen: 0.0.0.0:8080\nproviders:\n  - {name: sim, type: simulator, models: [sim-small]}\nroutes:\n  - model: auto\n    targets: [{provider: sim, model: sim-small}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(extracted, "--check", "--config", conf)
	check.Env = append(os.Environ(), "SWITCHYARD_DATA_DIR="+t.TempDir())
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("--check on a config: %v\n%s", err, out)
	}

	// Same inputs, same bytes: the image digest is reproducible.
	var again bytes.Buffer
	if err := Build(&again, opts); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(img.Bytes(), again.Bytes()) {
		t.Fatal("two builds from the same inputs differ")
	}
	t.Logf("image %d bytes, layer %d bytes compressed (%d uncompressed)", img.Len(), len(gz), len(raw))
}

func TestBuildRefusesMissingInputs(t *testing.T) {
	dir := t.TempDir()
	present := filepath.Join(dir, "present")
	if err := os.WriteFile(present, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	base := Options{Binary: present, Certs: present, Repo: "switchyard", Tag: "dev", Arch: "amd64"}
	for _, tc := range []struct {
		name string
		edit func(*Options)
		want string
	}{
		{"no binary", func(o *Options) { o.Binary = filepath.Join(dir, "none") }, "binary"},
		{"no CA bundle", func(o *Options) { o.Certs = filepath.Join(dir, "none") }, "CA certificates"},
		{"no tag", func(o *Options) { o.Tag = "" }, "required"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := base
			tc.edit(&o)
			err := Build(io.Discard, o)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Build: %v, want an error about %s", err, tc.want)
			}
		})
	}
}
