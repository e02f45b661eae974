#!/usr/bin/env bash
# make simulate: a synthetic day through the gateway for four routing
# policies (loadtest/cmd/simulate, package loadtest/sim). Loopback only;
# the program bounds itself (--timeout, 15 min) and stops every process it
# started. Writes loadtest/results/simulate.{md,json,svg}.
#
# Env: SWITCHYARD_BIN (bin/switchyard), SIM_DAY (72s: real time per
# simulated day, per policy), SIM_POLICIES (all: comma-separated names).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${SWITCHYARD_BIN:-bin/switchyard}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-simulate.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

"$GO" build -o "$WORK/simulate" ./loadtest/cmd/simulate
args=(--bin "$BIN" --day "${SIM_DAY:-72s}" --out loadtest/results)
[[ -n ${SIM_POLICIES:-} ]] && args+=(--policies "$SIM_POLICIES")
TMPDIR="$WORK" "$WORK/simulate" "${args[@]}" "$@"
