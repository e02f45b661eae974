#!/usr/bin/env bash
# Tests the TypeScript SDK (sdk/typescript) end to end:
#
#   1. npm ci and npm run build (gen/ts -> src/gen -> dist/*.js + *.d.ts)
#   2. vitest against live gateways (its globalSetup starts them)
#   3. npm pack, then in a fresh temp folder `npm init -y && npm install
#      <tarball>`, and runs the README's example there against a live gateway
#      that requires an API key; its output must match the REST facade's
#      answer. The installed typings are type-checked from that folder too.
#
#   scripts/test-sdk-typescript.sh
#   SWITCHYARD_BIN=bin/switchyard scripts/test-sdk-typescript.sh   # skip go build
#
# Loopback only; every step is bounded by `timeout`; cleans up after itself.
# The last line reads "sdk-typescript: N passed, N failed".
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SDK="$ROOT/sdk/typescript"
STEP_TIMEOUT="${SDK_TS_STEP_TIMEOUT:-300}"
WORK="$(mktemp -d -t switchyard-sdk-ts.XXXXXX)"
# Gateways started here keep their state in this run's own directory, never in the ./data of `make run`.
export SWITCHYARD_DATA_DIR="$WORK/data"
SERVER_PID=""
PASSED=0
FAILED=0

say() { printf '==> %s\n' "$*"; }
ok() { PASSED=$((PASSED + 1)); printf 'ok: %s\n' "$*"; }
fail() { FAILED=$((FAILED + 1)); printf 'FAIL: %s\n' "$*" >&2; }

stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pid="$SERVER_PID" i
  SERVER_PID=""
  kill -TERM "$pid" 2>/dev/null
  for i in $(seq 1 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    fail "gateway ignored SIGTERM for 20 s"
    return
  fi
  wait "$pid"
  local rc=$?
  if [ "$rc" -eq 0 ]; then ok "gateway exited 0 after SIGTERM"; else fail "gateway exited $rc after SIGTERM"; fi
}

cleanup() {
  stop_server
  rm -rf "$WORK"
  rm -f "$SDK"/switchyard-sdk-*.tgz
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

finish() {
  stop_server
  echo "sdk-typescript: $PASSED passed, $FAILED failed"
  [ "$FAILED" -eq 0 ]
  exit $?
}

# --- 1. install and build --------------------------------------------------

say "npm ci in sdk/typescript"
(cd "$SDK" && timeout "$STEP_TIMEOUT" npm ci --no-audit --no-fund --loglevel=error) \
  || { fail "npm ci"; finish; }

say "npm run build"
(cd "$SDK" && timeout "$STEP_TIMEOUT" npm run --silent build) || { fail "npm run build"; finish; }
for f in index.js index.d.ts web.js web.d.ts gen/switchyard/v1/chat_pb.js gen/switchyard/v1/chat_pb.d.ts; do
  [ -s "$SDK/dist/$f" ] || { fail "build did not produce dist/$f"; finish; }
done
ok "build produced dist/*.js and dist/*.d.ts"

if [ -n "${SWITCHYARD_BIN:-}" ]; then
  BIN="$(realpath "$SWITCHYARD_BIN")"
  [ -x "$BIN" ] || { fail "SWITCHYARD_BIN=$SWITCHYARD_BIN is not an executable"; finish; }
  say "using gateway binary $BIN"
else
  say "go build the gateway"
  BIN="$WORK/switchyard"
  (cd "$ROOT" && timeout "$STEP_TIMEOUT" go build -o "$BIN" ./server/cmd/switchyard) \
    || { fail "go build ./server/cmd/switchyard"; finish; }
fi

# --- 2. vitest -------------------------------------------------------------

say "vitest"
REPORT="$WORK/vitest.json"
(cd "$SDK" && SWITCHYARD_BIN="$BIN" timeout "$STEP_TIMEOUT" npx --no-install vitest run \
  --reporter=default --reporter=json --outputFile.json="$REPORT")
VITEST_RC=$?
if [ -s "$REPORT" ]; then
  read -r VP VF < <(node -e 'const r=require(process.argv[1]); console.log(r.numPassedTests, r.numFailedTests + (r.numTotalTests===0 ? 1 : 0))' "$REPORT")
  PASSED=$((PASSED + VP))
  FAILED=$((FAILED + VF))
fi
if [ "$VITEST_RC" -ne 0 ]; then fail "vitest exited $VITEST_RC"; fi

# --- 3. the packed tarball in a fresh project ------------------------------

say "npm pack"
TARBALL="$(cd "$SDK" && timeout "$STEP_TIMEOUT" npm pack --silent --pack-destination "$WORK" 2>/dev/null | tail -n1)"
TARBALL="$WORK/$TARBALL"
if [ ! -s "$TARBALL" ]; then fail "npm pack produced no tarball"; finish; fi
LISTING="$(tar -tzf "$TARBALL")"
if grep -qx 'package/dist/gen/switchyard/v1/chat_pb.d.ts' <<<"$LISTING" \
  && grep -qx 'package/dist/web.js' <<<"$LISTING" \
  && ! grep -qE '^package/(src|test|node_modules|scripts)/' <<<"$LISTING"; then
  ok "tarball is self-contained ($(wc -l <<<"$LISTING") files, no src/test)"
else
  fail "tarball contents"; printf '%s\n' "$LISTING" >&2
fi

APP="$WORK/app"
mkdir -p "$APP"
say "npm init -y && npm install <tarball> in $APP"
(cd "$APP" && timeout "$STEP_TIMEOUT" npm init -y >/dev/null \
  && timeout "$STEP_TIMEOUT" npm install --no-audit --no-fund --loglevel=error "$TARBALL") \
  || { fail "npm install of the tarball"; finish; }
ok "tarball installs into a fresh project"

# The README's example, byte for byte.
awk '/<!-- example:start -->/{on=1; next} /<!-- example:end -->/{on=0} on && !/^```/' \
  "$SDK/README.md" >"$APP/example.mjs"
if [ "$(grep -c . "$APP/example.mjs")" -lt 5 ]; then fail "no example block found in README.md"; finish; fi

# The installed typings resolve under NodeNext: the @ts-expect-error lines
# fail the check if any type collapsed to `any`.
cat >"$APP/check.mts" <<'EOF'
import { createSwitchyardClient, contentOf, isNotFound, Code } from "@switchyard/sdk";
import type { ChatCompletion, Model } from "@switchyard/sdk";
import { createSwitchyardClient as createWeb } from "@switchyard/sdk/web";
import { ChatCompletionSchema } from "@switchyard/sdk/gen/switchyard/v1/chat_pb";

const sy = createSwitchyardClient({ baseUrl: "http://127.0.0.1:1", transport: "grpc" });
export async function check(): Promise<string> {
  const res: ChatCompletion = await sy.chat({ model: "auto", messages: [{ role: "user", content: "x" }] });
  // @ts-expect-error not a field of ChatCompletion
  void res.notAField;
  const models: Model[] = await sy.listModels();
  // @ts-expect-error gRPC is not a web transport
  createWeb({ baseUrl: "http://127.0.0.1:1", transport: "grpc" });
  const code: Code = Code.NotFound;
  return contentOf(res) + models.length + String(isNotFound(code)) + ChatCompletionSchema.typeName;
}
EOF
cat >"$APP/tsconfig.json" <<'EOF'
{ "compilerOptions": { "module": "NodeNext", "moduleResolution": "NodeNext", "target": "ES2022",
  "lib": ["ES2022", "DOM"], "types": [], "strict": true, "noEmit": true, "skipLibCheck": true },
  "files": ["check.mts"] }
EOF
if (cd "$APP" && timeout "$STEP_TIMEOUT" "$SDK/node_modules/.bin/tsc" -p tsconfig.json); then
  ok "installed typings type-check under NodeNext"
else
  fail "installed typings do not type-check"
fi

# A gateway that requires an API key, so the example's apiKey is exercised.
KEY="sk-switchyard-readme-0123456789"
cat >"$WORK/gateway.yaml" <<EOF
log: {level: warn, format: text}
auth: {api_keys: ["$KEY"]}
providers:
  - name: sim
    type: simulator
    models: [sim-small, sim-large]
    simulator: {token_delay: 2ms, response_tokens: 12}
routes:
  - model: auto
    strategy: priority
    targets:
      - {provider: sim, model: sim-small, priority: 1}
      - {provider: sim, model: sim-large, priority: 2}
EOF
PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
URL="http://127.0.0.1:$PORT"
"$BIN" --config "$WORK/gateway.yaml" --listen "127.0.0.1:$PORT" >"$WORK/gateway.log" 2>&1 &
SERVER_PID=$!
ready=0
for i in $(seq 1 200); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  if curl -fsS -o /dev/null --max-time 1 "$URL/healthz" 2>/dev/null; then ready=1; break; fi
  sleep 0.1
done
if [ "$ready" -ne 1 ]; then
  fail "gateway not ready on $URL"; cat "$WORK/gateway.log" >&2; SERVER_PID=""; finish
fi

# What the example must print, from the REST facade of the same gateway.
WANT="$(curl -fsS --max-time 10 "$URL/v1/chat/completions" -H "Authorization: Bearer $KEY" \
  -H 'Content-Type: application/json' \
  -d '{"model":"auto","messages":[{"role":"user","content":"Hello!"}]}' \
  | node -e 'let b="";process.stdin.on("data",d=>b+=d).on("end",()=>console.log(JSON.parse(b).choices[0].message.content))')"
if [ -z "$WANT" ]; then fail "REST oracle answered nothing"; finish; fi

say "node example.mjs (the README example) against $URL"
GOT="$(cd "$APP" && SWITCHYARD_URL="$URL" SWITCHYARD_API_KEY="$KEY" timeout 30 node example.mjs)"
RC=$?
printf '%s\n' "$GOT" | sed 's/^/    | /'
if [ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$GOT" | sed -n 1p)" = "$WANT (sim)" ] \
  && [ "$(printf '%s\n' "$GOT" | sed -n 2p)" = "$WANT" ] && [ "$(printf '%s\n' "$GOT" | wc -l)" -eq 2 ]; then
  ok "README example: unary and streamed text match the REST answer"
else
  fail "README example (exit $RC) printed something else; want twice: $WANT"
fi

say "README example without the key is refused"
OUT="$(cd "$APP" && SWITCHYARD_URL="$URL" timeout 30 node example.mjs 2>&1)"
if [ $? -ne 0 ] && printf '%s' "$OUT" | grep -q 'unauthenticated'; then
  ok "missing API key surfaces as ConnectError [unauthenticated]"
else
  fail "example without a key: $OUT"
fi

finish
