#!/usr/bin/env bash
# Installs everything code generation and the test suites need, pinned, into
# the checkout (tools/node_modules, .venv, test/sdk-compat/node_modules) and
# the Go module cache. Safe to run again: each step is skipped when done.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '==> %s\n' "$*" >&2; }

if [[ ! -x tools/node_modules/.bin/buf || ! -x tools/node_modules/.bin/protoc-gen-es ]]; then
  log "npm: buf and protoc-gen-es (tools/package.json)"
  (cd tools && npm ci --no-fund --no-audit --loglevel=error)
fi

if [[ ! -x .venv/bin/python ]]; then
  log "python: virtualenv .venv"
  python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import grpc_tools, openai, pytest' 2>/dev/null \
   || ! cmp -s requirements-dev.txt .venv/.requirements-dev.txt; then
  log "pip: requirements-dev.txt"
  .venv/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
  cp requirements-dev.txt .venv/.requirements-dev.txt
fi

scripts/install-helm.sh > /dev/null

log "go: module downloads (main and tools)"
go mod download
go mod download -modfile=tools/go.mod
