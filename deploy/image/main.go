// Command image writes the gateway's container image as an OCI archive
// without a container daemon or privileges: one layer with the static
// binary, CA certificates, a non-root user and an empty data volume.
// scripts/image.sh (make image) builds the binary and runs it; the
// Containerfile beside it builds the same image with docker or podman.
//
//	go run ./deploy/image --binary bin/image/switchyard --out bin/switchyard-image.tar
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"
)

func main() {
	var o Options
	var out, created string
	flag.StringVar(&o.Binary, "binary", "", "the static gateway binary (CGO_ENABLED=0)")
	flag.StringVar(&o.Certs, "certs", "/etc/ssl/certs/ca-certificates.crt", "CA bundle (PEM) to ship")
	flag.StringVar(&o.Repo, "repo", "switchyard", "image name")
	flag.StringVar(&o.Tag, "tag", "dev", "image tag")
	flag.StringVar(&o.Version, "version", "dev", "version label")
	flag.StringVar(&o.Revision, "revision", "", "source commit label")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "the binary's GOARCH")
	flag.StringVar(&created, "created", "1970-01-01T00:00:00Z", "RFC 3339 time stamped on every file and the config (e.g. the commit time, for reproducible builds)")
	flag.StringVar(&out, "out", "bin/switchyard-image.tar", "OCI archive to write")
	flag.Parse()
	if err := run(o, created, out); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(o Options, created, out string) error {
	t, err := time.Parse(time.RFC3339, created)
	if err != nil {
		return fmt.Errorf("--created: %w", err)
	}
	o.Created = t
	tmp := out + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := Build(f, o); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, out)
}
