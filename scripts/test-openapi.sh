#!/usr/bin/env bash
# Checks that the OpenAPI document the gateway serves (GET /openapi.json)
# describes what the REST facade actually sends: schemathesis generates
# requests for every operation in it (valid and invalid ones) and checks each
# response's status code, content type, headers and body against the
# document, and that nothing answers 5xx.
#
#   scripts/test-openapi.sh                                # builds bin/switchyard if missing
#   SWITCHYARD_BIN=bin/switchyard scripts/test-openapi.sh  # what make test-openapi runs
#
# The gateway runs on a free loopback port with the embedded default config,
# only the simulator provider (provider key variables are unset, so nothing
# leaves the machine) and a data dir of this run's own. An admin key is set
# and sent with every request: schemathesis creates client keys, which ends
# open mode, and the run must not depend on the order it does that in.
# Destructive operations (revoking keys, replacing the routing table) mutate
# this throwaway gateway only. Generation is deterministic (the same cases
# every run), so that a failure reproduces. schemathesis comes from requirements-dev.txt in the
# project's .venv (scripts/install-tools.sh). Everything is bounded by
# `timeout`; the gateway is stopped and the temp dir removed on exit.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
STEP_TIMEOUT="${OPENAPI_STEP_TIMEOUT:-300}"
MAX_EXAMPLES="${OPENAPI_MAX_EXAMPLES:-10}"

WORK="$(mktemp -d -t switchyard-openapi.XXXXXX)"
SERVER_PID=""
say() { printf '==> %s\n' "$*"; }
die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid="$SERVER_PID" i
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [ ! -x .venv/bin/schemathesis ] || ! cmp -s requirements-dev.txt .venv/.requirements-dev.txt; then
  say "installing requirements-dev.txt into .venv"
  timeout "$STEP_TIMEOUT" scripts/install-tools.sh || die "scripts/install-tools.sh"
fi

BIN="${SWITCHYARD_BIN:-}"
if [ -z "$BIN" ]; then
  say "building the gateway"
  BIN="$WORK/switchyard"
  timeout "$STEP_TIMEOUT" go build -o "$BIN" ./server/cmd/switchyard || die "go build"
fi
BIN="$(realpath "$BIN")"
[ -x "$BIN" ] || die "$BIN is not an executable"

PORT="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
URL="http://127.0.0.1:$PORT"
ADMIN="sy-admin-openapi-$(.venv/bin/python -c 'import secrets; print(secrets.token_hex(16))')"

say "gateway on $URL (data dir $WORK/data, simulator only)"
env -u SWITCHYARD_CONFIG -u OPENAI_API_KEY -u ANTHROPIC_API_KEY -u GEMINI_API_KEY -u DEEPSEEK_API_KEY \
  -u SWITCHYARD_MASTER_KEY SWITCHYARD_DATA_DIR="$WORK/data" SWITCHYARD_ADMIN_KEY="$ADMIN" \
  "$BIN" --listen "127.0.0.1:$PORT" >"$WORK/gateway.log" 2>&1 &
SERVER_PID=$!
ready=0
for _ in $(seq 1 100); do
  if curl -fsS -o /dev/null --max-time 1 "$URL/healthz" 2>/dev/null; then ready=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 0.1
done
[ "$ready" -eq 1 ] || { cat "$WORK/gateway.log" >&2; die "gateway did not become healthy"; }

# The one exclusion: chat requests with "stream": true. Their answer is an SSE
# stream of chat.completion.chunk events, and Swagger 2.0 (what
# protoc-gen-openapiv2 writes) gives an operation one 200 schema for every
# media type it produces, so the document cannot describe the chunks; the
# SDK and sdkcompat suites check the stream. Everything else about the
# operation (non-streaming answers, errors, a "stream" that is not true) is
# tested.
cat >"$WORK/hooks.py" <<'PY'
import schemathesis


@schemathesis.hook
def filter_case(context, case):
    return not (
        case.operation.method.upper() == "POST"
        and case.operation.path == "/v1/chat/completions"
        and isinstance(case.body, dict)
        and case.body.get("stream") is True
    )
PY

say "schemathesis against $URL/openapi.json (at most $MAX_EXAMPLES examples per operation)"
# Why these options:
# - one worker: operations that mutate state (revoke a key, replace the
#   routing table) must run in the same order every time;
# - --generation-deterministic: the same cases every run (a seed would be
#   ignored), and no example database is kept;
# - HOME and the working directory are this run's temp dir, so nothing the
#   tool caches lands in the tree or the user's home;
# - the stateful phase is skipped: it chains operations through links the
#   document does not declare, and its length is not bounded by -n.
(cd "$WORK" && timeout "$STEP_TIMEOUT" env HOME="$WORK" SCHEMATHESIS_HOOKS="$WORK/hooks.py" "$ROOT/.venv/bin/schemathesis" run "$URL/openapi.json" \
  --url "$URL" \
  -H "Authorization: Bearer $ADMIN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
  --phases examples,coverage,fuzzing \
  --max-examples "$MAX_EXAMPLES" --generation-deterministic \
  --workers 1 --request-timeout 10 --no-color)
rc=$?
if [ "$rc" -ne 0 ]; then
  say "gateway log (last 40 lines):"
  tail -n 40 "$WORK/gateway.log" >&2
  die "schemathesis found responses the document does not describe (exit $rc)"
fi
say "OpenAPI conformance: passed"
