#!/usr/bin/env bash
# Builds the operator console (console/) into server/console/dist, which the
# gateway embeds: the SDK (sdk/typescript, from gen/ts) first, then npm ci,
# a type check and the esbuild bundle. Commit server/console/dist afterwards:
# a fresh clone's `make run` serves the committed bundle with no Node step.
#
#   scripts/build-console.sh           # rebuild server/console/dist
#   scripts/build-console.sh --check   # fail when the committed bundle differs from a fresh build
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STEP_TIMEOUT="${CONSOLE_STEP_TIMEOUT:-300}"
mode=()
[ "${1:-}" = "--check" ] && mode=(--check)

(cd "$ROOT/sdk/typescript" && timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error \
  && timeout "$STEP_TIMEOUT" npm run --silent build)
cd "$ROOT/console"
timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error
timeout "$STEP_TIMEOUT" "$ROOT/sdk/typescript/node_modules/.bin/tsc" -p tsconfig.json
timeout "$STEP_TIMEOUT" node build.mjs "${mode[@]}"
