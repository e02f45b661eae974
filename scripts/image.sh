#!/usr/bin/env bash
# make image: the gateway's OCI image without a container daemon. Builds the
# static binary (CGO_ENABLED=0, -trimpath) and writes bin/switchyard-image.tar,
# an OCI archive (OCI layout plus docker's manifest.json) that podman load,
# docker load, skopeo (oci-archive:) and crane accept. Every timestamp is the
# commit time, so the same commit gives the same image digest.
#
#   scripts/image.sh                  # tag = git describe
#   IMAGE_TAG=1.2.3 scripts/image.sh
#   IMAGE_ARCH=arm64 scripts/image.sh # cross-built, no emulation needed
set -euo pipefail
export TZ=UTC
cd "$(dirname "$0")/.."

version="$(git describe --tags --always --dirty 2>/dev/null || echo dev)"
tag="${IMAGE_TAG:-$version}"
arch="${IMAGE_ARCH:-$(go env GOARCH)}"
revision="$(git rev-parse HEAD 2>/dev/null || true)"
created="$(git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null || echo 1970-01-01T00:00:00Z)"
out=bin/switchyard-image.tar

mkdir -p bin/image
CGO_ENABLED=0 GOOS=linux GOARCH="$arch" go build -trimpath -ldflags "-s -w -X main.version=$version" \
  -o bin/image/switchyard ./server/cmd/switchyard
go run ./deploy/image --binary bin/image/switchyard --arch "$arch" --repo switchyard --tag "$tag" \
  --version "$version" --revision "$revision" --created "$created" --out "$out"

size() { stat -c %s "$1"; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
echo "image switchyard:$tag ($arch) -> $out: $(mb "$(size "$out")") compressed, binary $(mb "$(size bin/image/switchyard)")"
echo "load it with: podman load -i $out   (or docker load -i $out, skopeo copy oci-archive:$out ...)"
