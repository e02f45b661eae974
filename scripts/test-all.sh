#!/usr/bin/env bash
# make test: every suite, with TMPDIR pointed at one directory of this run's
# own that is removed at the end, so the suites (throwaway Redis and
# Postgres, gateway binaries, browser profiles, SDK venvs) leave nothing in
# /tmp; then checks that the tests left the work tree as they found it.
#
#   scripts/test-all.sh            # what `make test` runs
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

base="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-test.XXXXXX")"
# Postgres refuses to run as root and runs as its own user, which must be
# able to reach its cluster under here.
chmod 755 "$base"
cleanup() {
  local rc=$?
  # Anything still running from this directory (a gateway or server a
  # failed suite could not stop) is ended before the directory goes.
  pkill -f -- "$base" 2>/dev/null || true
  sleep 0.2
  pkill -9 -f -- "$base" 2>/dev/null || true
  rm -rf "$base"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export TMPDIR="$base"

before="$(git status --porcelain)"
make --no-print-directory test-suites
after="$(git status --porcelain)"
if [ "$before" != "$after" ]; then
  echo "test-all: the suites changed the work tree:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
