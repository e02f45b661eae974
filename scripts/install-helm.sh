#!/usr/bin/env bash
# Installs helm, pinned, from the Go module proxy into tools/bin (ignored by
# git). Skipped when that version is already there. Prints helm's path.
set -euo pipefail
cd "$(dirname "$0")/.."
HELM_VERSION=v3.22.0
bin="$PWD/tools/bin"
if [[ ! -x "$bin/helm" || "$(cat "$bin/.helm-version" 2>/dev/null)" != "$HELM_VERSION" ]]; then
  printf '==> %s\n' "go: helm $HELM_VERSION into tools/bin (a few minutes, once)" >&2
  mkdir -p "$bin"
  GOBIN="$bin" GOFLAGS=-buildvcs=false go install "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  echo "$HELM_VERSION" > "$bin/.helm-version"
fi
echo "$bin/helm"
