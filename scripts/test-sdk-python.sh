#!/usr/bin/env bash
# Tests the Python SDK (sdk/python) as a user gets it:
#
#   scripts/test-sdk-python.sh
#
# Creates a fresh virtualenv in a temp dir, `pip install ./sdk/python` with the
# versions pinned in sdk/python/constraints.txt, builds the gateway once, then
# runs the pytest suite (each session starts the gateway on a free loopback
# port and stops it with SIGTERM; the suite includes running the README
# example) and mypy --strict over the package and a typed usage sample.
# Every step is bounded by `timeout`; the temp dir and build leftovers are
# removed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SDK="$ROOT/sdk/python"
STEP_TIMEOUT="${SDK_STEP_TIMEOUT:-300}"
PYTHON="${PYTHON:-python3}"

TMP="$(mktemp -d -t switchyard-sdk-python.XXXXXX)"
# Gateways started here keep their state in this run's own directory, never in the ./data of `make run`.
export SWITCHYARD_DATA_DIR="$TMP/data"
cleanup() {
  rm -rf "$TMP" "$SDK/build" "$SDK"/src/*.egg-info
}
trap cleanup EXIT

say() { printf '==> %s\n' "$*"; }

say "fresh virtualenv in $TMP/venv"
timeout "$STEP_TIMEOUT" "$PYTHON" -m venv "$TMP/venv"
PY="$TMP/venv/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1

say "pip install ./sdk/python (+ pytest, mypy) pinned by sdk/python/constraints.txt"
timeout "$STEP_TIMEOUT" "$PY" -m pip install -q -c "$SDK/constraints.txt" \
  "$SDK" pytest mypy types-grpcio types-protobuf

# The suite must exercise the installed package, not the source tree.
where="$(cd "$TMP" && "$PY" -c 'import switchyard; print(switchyard.__file__)')"
case "$where" in
  "$TMP"/venv/*) say "testing the installed package at $where" ;;
  *) echo "FAIL: switchyard imported from $where, not from the virtualenv" >&2; exit 1 ;;
esac

say "building the gateway"
timeout "$STEP_TIMEOUT" go build -o "$TMP/switchyard" ./server/cmd/switchyard
export SWITCHYARD_TEST_BIN="$TMP/switchyard"

say "pytest sdk/python/tests (sync, async, errors, README example)"
(cd "$SDK" && timeout "$STEP_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider tests)

say "mypy --strict: the package, and a user's typed code against the installed package"
(cd "$SDK" && timeout "$STEP_TIMEOUT" "$PY" -m mypy --cache-dir "$TMP/mypy-cache" src/switchyard)
(cd "$SDK/tests" && timeout "$STEP_TIMEOUT" "$PY" -m mypy --cache-dir "$TMP/mypy-cache-user" --strict typing_sample.py)

say "Python SDK: all checks passed"
