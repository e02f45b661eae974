#!/usr/bin/env bash
# Connect-Web and gRPC-Web in a real browser: builds the TypeScript SDK and
# the page in test/browser, then test/browser/run.mjs serves the page on
# loopback, starts the gateway with server.cors_origins set to the page's
# origin, and drives headless Debian Chromium with playwright-core (which
# never downloads a browser here). Screenshots land in
# test/browser/screenshot*.png (gitignored).
#
#   scripts/test-browser.sh
#   SWITCHYARD_BIN=bin/switchyard scripts/test-browser.sh   # skip go build
#
# Installs Debian's chromium when /usr/bin/chromium is missing (needs root).
# The last line reads "browser: N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK="$ROOT/sdk/typescript"
PAGE="$ROOT/test/browser"
STEP_TIMEOUT="${BROWSER_STEP_TIMEOUT:-300}"
CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
WORK="$(mktemp -d -t switchyard-browser.XXXXXX)"
# Gateways started here keep their state in this run's own directory, never in the ./data of `make run`.
export SWITCHYARD_DATA_DIR="$WORK/data"
trap 'rm -rf "$WORK"' EXIT

say() { printf '==> %s\n' "$*"; }
die() {
  printf 'FAIL: %s\n' "$*" >&2
  echo "browser: 0 passed, 1 failed"
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
"$CHROMIUM" --version 2>/dev/null | sed 's/^/    /' || die "$CHROMIUM does not run"

say "SDK: npm ci and build"
(cd "$SDK" && timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error \
  && timeout "$STEP_TIMEOUT" npm run --silent build) || die "building sdk/typescript"

say "page: npm ci, type-check and bundle"
(cd "$PAGE" && timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error) || die "npm ci in test/browser"
(cd "$PAGE" && timeout "$STEP_TIMEOUT" "$SDK/node_modules/.bin/tsc" -p tsconfig.json) || die "type-checking test/browser/src"
(cd "$PAGE" && timeout "$STEP_TIMEOUT" node build.mjs) || die "bundling the page"

if [ -n "${SWITCHYARD_BIN:-}" ]; then
  BIN="$(realpath "$SWITCHYARD_BIN")"
  [ -x "$BIN" ] || die "SWITCHYARD_BIN=$SWITCHYARD_BIN is not an executable"
else
  say "go build the gateway"
  BIN="$WORK/switchyard"
  (cd "$ROOT" && timeout "$STEP_TIMEOUT" go build -o "$BIN" ./server/cmd/switchyard) || die "go build ./server/cmd/switchyard"
fi

say "headless Chromium against the gateway"
rm -f "$PAGE"/screenshot*.png
# run.mjs has its own 120 s watchdog and cleans up; timeout is the backstop.
(cd "$PAGE" && SWITCHYARD_BIN="$BIN" CHROMIUM="$CHROMIUM" timeout --kill-after=10 180 node run.mjs)
RC=$?
if [ "$RC" -ne 0 ]; then
  # run.mjs prints its own closing line unless it was killed.
  [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ] && echo "browser: 0 passed, 1 failed"
  exit 1
fi
ls "$PAGE"/screenshot*.png | sed 's/^/    screenshot: /'
