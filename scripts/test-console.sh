#!/usr/bin/env bash
# The operator console in headless Chromium: checks that the committed
# bundle (server/console/dist) matches a fresh build of console/, then
# console/test/run.mjs starts the real gateway (simulator providers, its own
# temp data dir, a random loopback port), sends real traffic and drives every
# page with playwright-core and Debian's chromium (never a downloaded
# browser). Prints the bundle size (gzip) and the overview's time to first
# render.
#
#   scripts/test-console.sh
#   SWITCHYARD_BIN=bin/switchyard scripts/test-console.sh   # skip go build
#   scripts/test-console.sh --shots docs/console            # also rewrite the committed screenshots
#
# Installs Debian's chromium when /usr/bin/chromium is missing (needs root).
# The last line reads "console: N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEP_TIMEOUT="${CONSOLE_STEP_TIMEOUT:-300}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
WORK="$(mktemp -d -t switchyard-console.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
SHOTS="$WORK/shots"
if [ "${1:-}" = "--shots" ]; then
  [ -n "${2:-}" ] || { echo "usage: $0 [--shots DIR]" >&2; exit 2; }
  mkdir -p "$2" && SHOTS="$(realpath "$2")"
fi

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'FAIL: %s\n' "$*" >&2
  echo "console: 0 passed, 1 failed"
  exit 1
}

if [ ! -x "$CHROMIUM" ]; then
  [ "$(id -u)" -eq 0 ] || die "$CHROMIUM is missing and installing it needs root: apt-get install chromium"
  say "installing Debian chromium"
  export DEBIAN_FRONTEND=noninteractive
  { timeout "$STEP_TIMEOUT" apt-get update -qq \
    && timeout "$STEP_TIMEOUT" apt-get install -y -qq chromium; } >"$WORK/apt.log" 2>&1 \
    || { cat "$WORK/apt.log" >&2; die "apt-get install chromium"; }
fi

say "console: the committed bundle against a fresh build"
"$ROOT/scripts/build-console.sh" --check || die "server/console/dist is stale or the console does not build: run scripts/build-console.sh and commit server/console/dist"

if [ -n "${SWITCHYARD_BIN:-}" ]; then
  BIN="$(realpath "$SWITCHYARD_BIN")"
  [ -x "$BIN" ] || die "SWITCHYARD_BIN=$SWITCHYARD_BIN is not an executable"
else
  say "go build the gateway"
  BIN="$WORK/switchyard"
  (cd "$ROOT" && timeout "$STEP_TIMEOUT" go build -o "$BIN" ./server/cmd/switchyard) || die "go build ./server/cmd/switchyard"
fi

say "headless Chromium against the gateway"
# run.mjs has its own watchdog and cleans up; timeout is the backstop.
(cd "$ROOT/console" && SWITCHYARD_BIN="$BIN" CHROMIUM="$CHROMIUM" CONSOLE_SHOTS="$SHOTS" timeout --kill-after=10 240 node test/run.mjs)
RC=$?
if [ "$RC" -ne 0 ]; then
  { [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; } && echo "console: 0 passed, 1 failed"
  exit 1
fi
