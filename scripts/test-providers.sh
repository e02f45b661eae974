#!/usr/bin/env bash
# Provider acceptance: real client SDKs through a live Switchyard gateway to
# each provider wire format (OpenAI, Anthropic, Gemini). Python: openai (Chat
# Completions, Responses), openai-agents, anthropic, google-genai, LangChain
# (langchain-openai), LiteLLM (as a client). Node:
# openai (Chat Completions, Responses), @anthropic-ai/sdk, ai + @ai-sdk/openai.
#
#   scripts/test-providers.sh
#
# Builds bin/switchyard and bin/fakeupstream, starts the fake upstream
# (OpenAI, Anthropic and Gemini formats on one port) and a gateway configured
# with test/providers/switchyard.yaml (three providers, one per format, all
# pointing at the fake), both on free loopback ports, then runs
# test/providers/python (pytest) and test/providers/node (node --test), and
# prints pass / fail / gateway-bug (xfail, todo) / skip counts per client.
# Both servers are stopped with SIGTERM and must exit 0. Every wait is
# bounded; logs are shown on failure. Exits non-zero if anything failed.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

STEP_TIMEOUT="${PROVIDERS_STEP_TIMEOUT:-300}"
INSTALL_TIMEOUT="${PROVIDERS_INSTALL_TIMEOUT:-300}"
CONFIG="$ROOT/test/providers/switchyard.yaml"
SDK_NODE_DIR="$ROOT/test/sdkcompat/node" # the pinned openai package both Node suites use
PY="$ROOT/.venv/bin/python"
GATEWAY="$ROOT/bin/switchyard"
FAKE="$ROOT/bin/fakeupstream"

TMP="$(mktemp -d -t switchyard-providers.XXXXXX)"
# Gateways started here keep their state in this run's own directory, never in the ./data of `make run`.
export SWITCHYARD_DATA_DIR="$TMP/data"
GATEWAY_LOG="$TMP/switchyard.log"
FAKE_LOG="$TMP/fakeupstream.log"
GATEWAY_PID=""
FAKE_PID=""
FAILED=0

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; FAILED=1; }

show_logs() {
  local f
  for f in "$FAKE_LOG" "$GATEWAY_LOG"; do
    [ -s "$f" ] || continue
    echo "----- $(basename "$f") -----" >&2
    tail -n 200 "$f" >&2 || true
  done
  echo "----- end of logs -----" >&2
}

# stop NAME PIDVAR: SIGTERM, then require exit 0 within 20 s.
stop() {
  local name="$1" var="$2"
  local pid="${!var}"
  [ -n "$pid" ] || return 0
  printf -v "$var" '%s' ""
  if ! kill -0 "$pid" 2>/dev/null; then
    wait "$pid"
    fail "$name (pid $pid) had already exited with status $? before shutdown"
    return 1
  fi
  kill -TERM "$pid"
  local i
  for i in $(seq 1 200); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    fail "$name did not exit within 20 s of SIGTERM; killing it"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 1
  fi
  wait "$pid"
  local rc=$?
  if [ "$rc" -ne 0 ]; then
    fail "$name exited with status $rc after SIGTERM (want 0)"
    return 1
  fi
  say "$name stopped cleanly"
}

stop_all() {
  stop gateway GATEWAY_PID
  stop fakeupstream FAKE_PID
}

cleanup() {
  stop_all
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'fail "interrupted"; exit 130' INT TERM

finish() {
  stop_all
  if [ "$FAILED" -ne 0 ]; then
    show_logs
    echo "providers: FAILED" >&2
    exit 1
  fi
  echo "providers: all suites passed"
  exit 0
}

# wait_for DESC PIDVAR CMD...: poll CMD every 0.1 s for up to 20 s while the
# process is alive.
wait_for() {
  local desc="$1" var="$2"
  shift 2
  local i
  for i in $(seq 1 200); do
    if ! kill -0 "${!var}" 2>/dev/null; then
      wait "${!var}"
      fail "$desc: process exited with status $? before it was ready"
      printf -v "$var" '%s' ""
      return 1
    fi
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.1
  done
  fail "$desc: not ready within 20 s"
  return 1
}

# --- prerequisites ---------------------------------------------------------

if [ ! -x "$PY" ]; then
  say "creating Python venv at .venv"
  timeout "$INSTALL_TIMEOUT" python3 -m venv "$ROOT/.venv" \
    && timeout "$INSTALL_TIMEOUT" "$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-dev.txt" \
    || { fail "could not create .venv"; finish; }
fi
if ! "$PY" -c 'import openai, agents, anthropic, google.genai, pytest, httpx, langchain_openai, litellm' 2>/dev/null; then
  say "installing requirements-dev.txt into .venv"
  timeout "$INSTALL_TIMEOUT" "$ROOT/.venv/bin/pip" install -q -r "$ROOT/requirements-dev.txt" \
    || { fail "pip install -r requirements-dev.txt failed"; finish; }
fi
if [ ! -d "$SDK_NODE_DIR/node_modules/openai" ] || [ ! -d "$SDK_NODE_DIR/node_modules/@anthropic-ai/sdk" ] \
  || [ ! -d "$SDK_NODE_DIR/node_modules/ai" ] || [ ! -d "$SDK_NODE_DIR/node_modules/@ai-sdk/openai" ]; then
  say "npm ci in test/sdkcompat/node"
  (cd "$SDK_NODE_DIR" && timeout "$INSTALL_TIMEOUT" npm ci --no-audit --no-fund) \
    || { fail "npm ci failed"; finish; }
fi

say "building bin/switchyard and bin/fakeupstream"
mkdir -p "$ROOT/bin"
timeout "$INSTALL_TIMEOUT" go build -o "$GATEWAY" ./server/cmd/switchyard \
  || { fail "go build ./server/cmd/switchyard failed"; finish; }
timeout "$INSTALL_TIMEOUT" go build -o "$FAKE" ./loadtest/fakeupstream/cmd/fakeupstream \
  || { fail "go build ./loadtest/fakeupstream/cmd/fakeupstream failed"; finish; }

# --- the fake upstream -----------------------------------------------------

# Port 0: the fake binds a free port itself and prints it, so no other
# process can take the port between choosing and binding it.
say "starting fakeupstream (log: $FAKE_LOG)"
"$FAKE" --listen 127.0.0.1:0 --log >"$FAKE_LOG" 2>&1 &
FAKE_PID=$!
fake_addr() { sed -n 's/^fakeupstream listening on //p' "$FAKE_LOG" | head -n 1 | grep .; }
wait_for "fakeupstream address" FAKE_PID fake_addr || finish
FAKE_URL="http://$(fake_addr)"
wait_for "fakeupstream $FAKE_URL/_control" FAKE_PID curl -fsS --max-time 1 "$FAKE_URL/_control" || finish
export FAKE_UPSTREAM_URL="$FAKE_URL"
say "fakeupstream ready on $FAKE_URL"

# --- the gateway -----------------------------------------------------------

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
ADDR="127.0.0.1:$PORT"
export SWITCHYARD_BASE_URL="http://$ADDR/v1"
say "starting gateway on $ADDR (log: $GATEWAY_LOG)"
"$GATEWAY" --config "$CONFIG" --listen "$ADDR" >"$GATEWAY_LOG" 2>&1 &
GATEWAY_PID=$!
wait_for "gateway http://$ADDR/healthz" GATEWAY_PID curl -fsS --max-time 1 "http://$ADDR/healthz" || finish
say "gateway ready"

# --- the suites ------------------------------------------------------------

say "pytest test/providers/python"
if ! timeout "$STEP_TIMEOUT" "$PY" -m pytest -q -rfExX -p no:cacheprovider --junitxml="$TMP/python.xml" test/providers/python; then
  fail "Python provider suite"
fi

say "node --test test/providers/node/"
if ! timeout "$STEP_TIMEOUT" node --test --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=junit --test-reporter-destination="$TMP/node.xml" test/providers/node/; then
  fail "Node provider suite"
fi

say "go test test/providers/go (openai-go)"
# A module of its own, so the gateway's go.mod carries no client SDK.
if ! timeout "$STEP_TIMEOUT" go -C test/providers/go test -count=1 -json ./... >"$TMP/go.json"; then
  grep -E '"Action":"(fail|output)"' "$TMP/go.json" | grep -E 'FAIL|_test.go' | head -n 40 >&2 || true
  fail "Go provider suite"
fi

# The matrix from the JUnit reports and go test -json: the client from the
# Python module / the Node top-level describe ("<client> → <model>") / the Go
# suite, the feature from the test's name (see feature() below).
say "results: client × feature (n = passed, nF = failed, nx = known gap: pytest xfail / node todo / go 'xfail:' skip, ns = skipped)"
python3 - "$TMP/python.xml" "$TMP/node.xml" "$TMP/go.json" <<'PYEOF' || fail "could not summarise the reports"
import html
import json
import re
import sys
import xml.etree.ElementTree as ET
from collections import Counter, OrderedDict, defaultdict

PY = OrderedDict([
    ("test_providers", "python openai chat.completions"),
    ("test_providers_chat_features", "python openai chat.completions"),
    ("test_providers_responses", "python openai responses"),
    ("test_providers_agents", "python openai-agents"),
    ("test_providers_langchain", "python langchain-openai"),
    ("test_providers_litellm", "python litellm (client)"),
    ("test_providers_anthropic", "python anthropic"),
    ("test_providers_anthropic_features", "python anthropic"),
    ("test_providers_genai", "python google-genai"),
    ("test_providers_genai_features", "python google-genai"),
])
NODE = OrderedDict([
    ("chat", "node openai chat.completions"),
    ("chat features", "node openai chat.completions"),
    ("responses", "node openai responses"),
    ("anthropic", "node @anthropic-ai/sdk"),
    ("vercel ai", "node ai + @ai-sdk/openai"),
    ("vercel ai features", "node ai + @ai-sdk/openai"),
])
GO = "go openai-go chat.completions"
FEATURES = ["chat", "stream", "tools", "structured", "reasoning", "logprobs", "n", "files", "embeddings", "errors"]
RULES = [  # first match wins, on the test's name without parameters
    ("errors", r"error|fault|abort"),
    ("embeddings", r"embed"),
    ("logprobs", r"logprob"),
    ("n", r"\bn2\b|_n2|n=2|candidate"),
    ("files", r"file|pdf|document|audio|inline"),
    ("reasoning", r"reason|think"),
    ("structured", r"structur|schema|parse|object|response_format|json"),
    ("tools", r"tool|function"),
    ("stream", r"stream"),
]
GO_FEATURES = {"TestChatUnary": "chat", "TestStreamAccumulatorFiresJustFinished": "stream", "TestToolRoundTrip": "tools",
               "TestErrorsMapToTheSDKsError": "errors", "TestStructuredOutput": "structured", "TestReasoningEffort": "reasoning",
               "TestLogprobs": "logprobs", "TestN2": "n", "TestFilePDF": "files", "TestEmbeddings": "embeddings"}


def feature(name):
    name = re.sub(r"\[.*$", "", name).lower()
    for f, rx in RULES:
        if re.search(rx, name):
            return f
    return "chat"


cells = defaultdict(Counter)  # (client, feature) -> outcome counts
clients = list(OrderedDict.fromkeys([*PY.values(), *NODE.values(), GO]))
gaps = Counter()  # reason -> cells


def add(client, feat, outcome, reason=""):
    if client not in clients:
        clients.append(client)
    cells[client, feat][outcome] += 1
    if outcome == "bug":
        gaps[html.unescape(reason).split(" || ")[0].strip()] += 1


def outcome(tc):
    skipped = tc.find("skipped")
    failed = tc.find("failure") is not None or tc.find("error") is not None
    if skipped is not None and (skipped.get("type") or "") in ("todo", "pytest.xfail"):
        return "bug", skipped.get("message") or ""
    if failed:
        return "fail", ""
    if skipped is not None:
        return "skip", ""
    return "pass", ""


def load(path):
    try:
        return ET.parse(path).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"  (no report {path}: {e})")
        return None


root = load(sys.argv[1])
if root is not None:
    for tc in root.iter("testcase"):
        mod = (tc.get("classname") or "").rsplit(".", 1)[-1]
        add(PY.get(mod, "python " + mod), feature(tc.get("name") or ""), *outcome(tc))
root = load(sys.argv[2])
if root is not None:
    for suite in root.findall("testsuite"):
        prefix = (suite.get("name") or "").split(" →")[0]
        for tc in suite.iter("testcase"):
            add(NODE.get(prefix, "node " + prefix), feature(tc.get("name") or ""), *outcome(tc))
# go test -json: every subtest (client × format) is one case; a skip whose
# output says "xfail:" is a known gap.
try:
    out = defaultdict(str)
    results = []
    with open(sys.argv[3]) as f:
        for line in f:
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            test = ev.get("Test") or ""
            if "/" not in test:
                continue
            if ev.get("Action") == "output":
                out[test] += ev.get("Output", "")
            elif ev.get("Action") in ("pass", "fail", "skip"):
                results.append((test, ev["Action"]))
    for test, action in results:
        top = test.split("/")[0]
        m = re.search(r"xfail: (.*)", out[test])
        if action == "skip" and m:
            add(GO, GO_FEATURES.get(top, feature(top)), "bug", m.group(1))
        else:
            add(GO, GO_FEATURES.get(top, feature(top)), action)
except OSError as e:
    print(f"  (no report {sys.argv[3]}: {e})")


def cell(c):
    parts = [f"{c['pass']}" if c["pass"] else "", f"{c['fail']}F" if c["fail"] else "",
             f"{c['bug']}x" if c["bug"] else "", f"{c['skip']}s" if c["skip"] else ""]
    return " ".join(p for p in parts if p) or "-"


W = 30
print(f"  {'client':{W}} " + " ".join(f"{f[:10]:>10}" for f in FEATURES) + f" {'pass':>5} {'fail':>5} {'bug':>5} {'skip':>5}")
total = Counter()
for client in clients:
    row = Counter()
    for f in FEATURES:
        row.update(cells[client, f])
    total.update(row)
    print(f"  {client:{W}} " + " ".join(f"{cell(cells[client, f]):>10}" for f in FEATURES)
          + f" {row['pass']:5} {row['fail']:5} {row['bug']:5} {row['skip']:5}")
print(f"  {'total':{W}} " + " ".join(f"{cell(sum((cells[c, f] for c in clients), Counter())):>10}" for f in FEATURES)
      + f" {total['pass']:5} {total['fail']:5} {total['bug']:5} {total['skip']:5}")
if gaps:
    print("  known gaps (cells):")
    for reason, n in gaps.most_common():
        print(f"  {n:4}  {reason}")
PYEOF

finish
