package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// The image's fixed layout. The data directory is a volume: the root
// filesystem can be read-only. SWITCHYARD_DATA_DIR names a directory below
// it, not the mount point itself, because the store creates its directory
// and chmods it 0700, which a non-root user can do only to a directory it
// owns (a Kubernetes emptyDir mount point is root's).
const (
	uid        = 65532
	user       = "65532:65532"
	binaryPath = "usr/local/bin/switchyard"
	dataVolume = "/var/lib/switchyard"
	dataDir    = dataVolume + "/data"
	configDir  = "etc/switchyard"
	certsPath  = "etc/ssl/certs/ca-certificates.crt"
	listenPort = "8080"
)

// OCI media types (image-spec v1.1).
const (
	mediaIndex    = "application/vnd.oci.image.index.v1+json"
	mediaManifest = "application/vnd.oci.image.manifest.v1+json"
	mediaConfig   = "application/vnd.oci.image.config.v1+json"
	mediaLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// Options describe one image.
type Options struct {
	Binary   string    // the static gateway binary
	Certs    string    // a CA bundle (PEM) for TLS to the providers
	Repo     string    // e.g. "switchyard"
	Tag      string    // e.g. "dev" or a version
	Version  string    // org.opencontainers.image.version
	Revision string    // org.opencontainers.image.revision (a commit), may be empty
	Arch     string    // GOARCH of the binary
	Created  time.Time // every timestamp in the image, so builds are reproducible
}

// descriptor is an OCI content descriptor.
type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Platform    *platform         `json:"platform,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

type manifest struct {
	SchemaVersion int               `json:"schemaVersion"`
	MediaType     string            `json:"mediaType"`
	Config        descriptor        `json:"config"`
	Layers        []descriptor      `json:"layers"`
	Annotations   map[string]string `json:"annotations,omitempty"`
}

type index struct {
	SchemaVersion int          `json:"schemaVersion"`
	MediaType     string       `json:"mediaType"`
	Manifests     []descriptor `json:"manifests"`
}

// imageConfig is the subset of the OCI image config this image sets.
type imageConfig struct {
	Created      string `json:"created"`
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Config       struct {
		User         string              `json:"User"`
		Entrypoint   []string            `json:"Entrypoint"`
		Cmd          []string            `json:"Cmd"`
		Env          []string            `json:"Env"`
		WorkingDir   string              `json:"WorkingDir"`
		ExposedPorts map[string]struct{} `json:"ExposedPorts"`
		Volumes      map[string]struct{} `json:"Volumes"`
		Labels       map[string]string   `json:"Labels"`
		StopSignal   string              `json:"StopSignal"`
	} `json:"config"`
	RootFS struct {
		Type    string   `json:"type"`
		DiffIDs []string `json:"diff_ids"`
	} `json:"rootfs"`
	History []struct {
		Created   string `json:"created"`
		CreatedBy string `json:"created_by"`
	} `json:"history"`
}

// dockerManifest is the manifest.json docker load reads beside the OCI
// layout (the shape docker save writes since Docker 25).
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Build writes the image as an OCI archive (a tar of an OCI image layout)
// to w.
func Build(w io.Writer, o Options) error {
	if o.Repo == "" || o.Tag == "" || o.Arch == "" {
		return fmt.Errorf("image: repo, tag and arch are required")
	}
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return fmt.Errorf("image: binary: %w", err)
	}
	certs, err := os.ReadFile(o.Certs)
	if err != nil {
		return fmt.Errorf("image: CA certificates: %w", err)
	}
	rawLayer, err := rootfs(bin, certs, o.Created)
	if err != nil {
		return err
	}
	layer, err := gzipped(rawLayer)
	if err != nil {
		return err
	}
	cfg, err := json.Marshal(configFor(o, digestOf(rawLayer)))
	if err != nil {
		return err
	}
	m := manifest{
		SchemaVersion: 2,
		MediaType:     mediaManifest,
		Config:        descriptor{MediaType: mediaConfig, Digest: digestOf(cfg), Size: int64(len(cfg))},
		Layers:        []descriptor{{MediaType: mediaLayer, Digest: digestOf(layer), Size: int64(len(layer))}},
		Annotations:   map[string]string{"org.opencontainers.image.created": o.Created.UTC().Format(time.RFC3339)},
	}
	man, err := json.Marshal(m)
	if err != nil {
		return err
	}
	ref := o.Repo + ":" + o.Tag
	idx, err := json.Marshal(index{SchemaVersion: 2, MediaType: mediaIndex, Manifests: []descriptor{{
		MediaType: mediaManifest, Digest: digestOf(man), Size: int64(len(man)),
		Platform: &platform{Architecture: o.Arch, OS: "linux"},
		// ref.name is what podman and skopeo tag an oci-archive with;
		// containerd's name annotation is what it imports under.
		Annotations: map[string]string{"org.opencontainers.image.ref.name": o.Tag, "io.containerd.image.name": ref},
	}}})
	if err != nil {
		return err
	}
	dm, err := json.Marshal([]dockerManifest{{Config: blobPath(cfg), RepoTags: []string{ref}, Layers: []string{blobPath(layer)}}})
	if err != nil {
		return err
	}

	tw := tar.NewWriter(w)
	a := archive{tw: tw, mtime: o.Created}
	a.file("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644, 0)
	a.file("index.json", idx, 0o644, 0)
	a.file("manifest.json", dm, 0o644, 0)
	a.dir("blobs", 0o755, 0)
	a.dir("blobs/sha256", 0o755, 0)
	for _, b := range [][]byte{cfg, layer, man} {
		a.file(blobPath(b), b, 0o644, 0)
	}
	if a.err != nil {
		return a.err
	}
	return tw.Close()
}

func configFor(o Options, diffID string) imageConfig {
	var c imageConfig
	created := o.Created.UTC().Format(time.RFC3339)
	c.Created, c.Architecture, c.OS = created, o.Arch, "linux"
	c.Config.User = user
	c.Config.Entrypoint = []string{"/" + binaryPath}
	// The embedded default config listens on loopback, which nothing
	// outside the container reaches.
	c.Config.Cmd = []string{"--listen", "0.0.0.0:" + listenPort}
	c.Config.Env = []string{
		"PATH=/usr/local/bin",
		"SWITCHYARD_DATA_DIR=" + dataDir,
		"SSL_CERT_FILE=/" + certsPath,
	}
	c.Config.WorkingDir = dataVolume
	c.Config.ExposedPorts = map[string]struct{}{listenPort + "/tcp": {}}
	c.Config.Volumes = map[string]struct{}{dataVolume: {}}
	c.Config.Labels = map[string]string{
		"org.opencontainers.image.title":       "switchyard",
		"org.opencontainers.image.description": "Switchyard: a gRPC-first AI routing gateway",
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.created":     created,
		"org.opencontainers.image.source":      "https://github.com/switchyard/switchyard",
	}
	if o.Revision != "" {
		c.Config.Labels["org.opencontainers.image.revision"] = o.Revision
	}
	c.Config.StopSignal = "SIGTERM"
	c.RootFS.Type = "layers"
	c.RootFS.DiffIDs = []string{diffID}
	c.History = append(c.History, struct {
		Created   string `json:"created"`
		CreatedBy string `json:"created_by"`
	}{created, "deploy/image: static switchyard, CA certificates, non-root user " + user})
	return c
}

// rootfs is the image's one layer, uncompressed: no shell, no package
// manager, only what the gateway reads or writes.
func rootfs(bin, certs []byte, mtime time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	a := archive{tw: tw, mtime: mtime}
	for _, d := range []string{"etc", "etc/ssl", "etc/ssl/certs", configDir, "usr", "usr/local", "usr/local/bin", "var", "var/lib", "home"} {
		a.dir(d, 0o755, 0)
	}
	a.file("etc/passwd", []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"), 0o644, 0)
	a.file("etc/group", []byte("root:x:0:\nnonroot:x:65532:\n"), 0o644, 0)
	a.file(certsPath, certs, 0o644, 0)
	a.file(binaryPath, bin, 0o755, 0)
	a.dir("home/nonroot", 0o700, uid)
	a.dir(strings.TrimPrefix(dataVolume, "/"), 0o700, uid)
	// Go and SQLite may want a temp dir; on a read-only root it is a
	// mounted tmpfs or emptyDir.
	a.dir("tmp", 0o1777, 0)
	if a.err != nil {
		return nil, a.err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// archive writes tar entries with fixed times and owners, keeping the
// first error.
type archive struct {
	tw    *tar.Writer
	mtime time.Time
	err   error
}

func (a *archive) dir(name string, mode int64, owner int) {
	a.header(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: owner, Gid: owner})
}

func (a *archive) file(name string, b []byte, mode int64, owner int) {
	a.header(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(b)), Uid: owner, Gid: owner})
	if a.err == nil {
		_, a.err = a.tw.Write(b)
	}
}

func (a *archive) header(h *tar.Header) {
	if a.err != nil {
		return
	}
	h.ModTime = a.mtime
	h.Format = tar.FormatPAX
	a.err = a.tw.WriteHeader(h)
}

func gzipped(b []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digestOf(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

func blobPath(b []byte) string {
	return "blobs/sha256/" + strings.TrimPrefix(digestOf(b), "sha256:")
}
