#!/usr/bin/env bash
# Runs the official SDKs (Python openai, anthropic and google-genai; Node openai
# and @anthropic-ai/sdk), the OpenAI Agents SDK and the Vercel AI SDK against a live
# Switchyard gateway on the deterministic simulator provider.
#
#   scripts/test-sdkcompat.sh
#
# Builds bin/switchyard, starts it on a free loopback port with
# test/sdkcompat/switchyard.yaml, waits for /healthz, runs pytest and
# node --test, then stops the gateway with SIGTERM and requires exit 0.
# Every step is bounded by `timeout`. Exits non-zero if anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STEP_TIMEOUT="${SDKCOMPAT_STEP_TIMEOUT:-300}"
CONFIG="${SDKCOMPAT_CONFIG:-$ROOT/test/sdkcompat/switchyard.yaml}"
NODE_DIR="$ROOT/test/sdkcompat/node"
PY="$ROOT/.venv/bin/python"
BIN="$ROOT/bin/switchyard"

LOG="$(mktemp -t switchyard-sdkcompat.XXXXXX.log)"
# The gateway's state is its own, never the ./data of `make run`.
export SWITCHYARD_DATA_DIR="$(mktemp -d -t switchyard-sdkcompat-data.XXXXXX)"
SERVER_PID=""
FAILED=0

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; FAILED=1; }

show_log() {
  echo "----- switchyard log ($LOG) -----" >&2
  cat "$LOG" >&2 || true
  echo "----- end of switchyard log -----" >&2
}

# stop_server sends SIGTERM and requires a clean exit 0 within 20 s.
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid="$SERVER_PID"
  SERVER_PID=""
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    local rc=$?
    fail "gateway (pid $pid) had already exited with status $rc before shutdown"
    show_log
    return 1
  fi
  say "stopping gateway (pid $pid) with SIGTERM"
  kill -TERM "$pid"
  local i
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "gateway did not exit within 20 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    show_log
    return 1
  fi
  wait "$pid"
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "gateway exited with status $rc after SIGTERM (want 0)"
    show_log
    return 1
  fi
  say "gateway stopped cleanly (exit 0)"
}

cleanup() {
  stop_server
  rm -f "$LOG"
  rm -rf "$SWITCHYARD_DATA_DIR"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

finish() {
  stop_server
  if [ "$FAILED" -ne 0 ]; then
    echo "sdkcompat: FAILED" >&2
    exit 1
  fi
  echo "sdkcompat: all suites passed"
  exit 0
}

# --- prerequisites ---------------------------------------------------------

if [ ! -x "$PY" ]; then
  say "creating Python venv at .venv"
  timeout "$STEP_TIMEOUT" python3 -m venv "$ROOT/.venv" \
    && timeout "$STEP_TIMEOUT" "$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-dev.txt" \
    || { fail "could not create .venv"; finish; }
fi
if ! "$PY" -c 'import openai, agents, anthropic, google.genai, pytest, httpx' 2>/dev/null; then
  say "installing requirements-dev.txt into .venv"
  timeout "$STEP_TIMEOUT" "$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-dev.txt" \
    || { fail "pip install -r requirements-dev.txt failed"; finish; }
fi

if [ ! -d "$NODE_DIR/node_modules/openai" ] || [ ! -d "$NODE_DIR/node_modules/@anthropic-ai/sdk" ] \
  || [ ! -d "$NODE_DIR/node_modules/ai" ] || [ ! -d "$NODE_DIR/node_modules/@ai-sdk/openai" ] \
  || [ ! -d "$NODE_DIR/node_modules/zod" ]; then
  say "npm ci in test/sdkcompat/node"
  (cd "$NODE_DIR" && timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund) \
    || { fail "npm ci failed"; finish; }
fi

say "building bin/switchyard"
mkdir -p "$ROOT/bin"
timeout "$STEP_TIMEOUT" go build -o "$BIN" ./server/cmd/switchyard \
  || { fail "go build ./server/cmd/switchyard failed"; finish; }

# --- start the gateway -----------------------------------------------------

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
ADDR="127.0.0.1:$PORT"
export SWITCHYARD_BASE_URL="http://$ADDR/v1"

say "starting gateway on $ADDR (log: $LOG)"
"$BIN" --config "$CONFIG" --listen "$ADDR" >"$LOG" 2>&1 &
SERVER_PID=$!

ready=0
for i in $(seq 1 200); do # 200 x 0.1 s = 20 s
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    wait "$SERVER_PID"
    rc=$?
    SERVER_PID=""
    fail "gateway exited with status $rc before it became ready"
    show_log
    finish
  fi
  if curl -fsS -o /dev/null --max-time 1 "http://$ADDR/healthz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.1
done
if [ "$ready" -ne 1 ]; then
  fail "gateway did not answer 200 on http://$ADDR/healthz within 20 s"
  show_log
  finish
fi
say "gateway ready"

# --- the suites ------------------------------------------------------------

say "pytest test/sdkcompat/python"
if ! timeout "$STEP_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider test/sdkcompat/python; then
  fail "Python SDK suite"
fi

say "node --test test/sdkcompat/node/"
if ! timeout "$STEP_TIMEOUT" node --test test/sdkcompat/node/; then
  fail "Node SDK suite"
fi

if [ "$FAILED" -ne 0 ]; then
  show_log
fi
finish
