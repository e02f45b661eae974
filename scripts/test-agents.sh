#!/usr/bin/env bash
# Runs the real coding-agent CLIs non-interactively against a live gateway on
# the deterministic simulator, and checks the ledger saw each in its dialect.
#
#   scripts/test-agents.sh
#
# Claude Code (`claude -p`, Anthropic Messages), Codex CLI (`codex exec`,
# OpenAI Responses) and Gemini CLI (`gemini -p`, generateContent), each for a
# prompt and a tool call. The CLIs are installed from npm into
# ~/.cache/switchyard-tools (pinned below) on first use. The
# gateway gets its own port, data directory and HOME for the CLI; every step
# is bounded by `timeout`, and everything is removed on exit.
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CLAUDE_CODE_VERSION=2.1.197
TOOLS="${SWITCHYARD_TOOLS_DIR:-$HOME/.cache/switchyard-tools}"
CC_DIR="$TOOLS/claude-code-$CLAUDE_CODE_VERSION"
CODEX_VERSION=0.171.0
CODEX_DIR="$TOOLS/codex-$CODEX_VERSION"
GEMINI_CLI_VERSION=0.61.0
GEMINI_DIR="$TOOLS/gemini-cli-$GEMINI_CLI_VERSION"
BIN="$ROOT/bin/switchyard"
WORK="$(mktemp -d -t switchyard-agents.XXXXXX)"
SERVER_PID=""
FAILED=0

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; FAILED=1; }
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill -TERM "$SERVER_PID" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# The package's postinstall only links the platform binary, which npm puts
# in the optional dependency for this machine; run that binary directly.
claude_bin() { ls "$CC_DIR"/node_modules/@anthropic-ai/claude-code-linux-*/claude 2>/dev/null | head -1; }
if [ -z "$(claude_bin)" ]; then
  say "installing @anthropic-ai/claude-code@$CLAUDE_CODE_VERSION into $CC_DIR"
  mkdir -p "$CC_DIR"
  timeout 300 npm install --prefix "$CC_DIR" --no-audit --no-fund --no-save "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" >"$WORK/npm.log" 2>&1 \
    || { cat "$WORK/npm.log" >&2; fail "npm install @anthropic-ai/claude-code"; exit 1; }
fi
CLAUDE="$(claude_bin)"
[ -x "$CLAUDE" ] || { fail "no claude binary under $CC_DIR"; exit 1; }

# The same for Codex: its npm package's launcher picks the platform binary.
codex_bin() { ls "$CODEX_DIR"/node_modules/@openai/codex-linux-*/vendor/*/bin/codex 2>/dev/null | head -1; }
if [ -z "$(codex_bin)" ]; then
  say "installing @openai/codex@$CODEX_VERSION into $CODEX_DIR"
  mkdir -p "$CODEX_DIR"
  timeout 300 npm install --prefix "$CODEX_DIR" --no-audit --no-fund --no-save "@openai/codex@$CODEX_VERSION" >"$WORK/npm.log" 2>&1 \
    || { cat "$WORK/npm.log" >&2; fail "npm install @openai/codex"; exit 1; }
fi
CODEX="$(codex_bin)"
[ -x "$CODEX" ] || { fail "no codex binary under $CODEX_DIR"; exit 1; }

if [ ! -x "$GEMINI_DIR/node_modules/.bin/gemini" ]; then
  say "installing @google/gemini-cli@$GEMINI_CLI_VERSION into $GEMINI_DIR"
  mkdir -p "$GEMINI_DIR"
  timeout 400 npm install --prefix "$GEMINI_DIR" --no-audit --no-fund --no-save "@google/gemini-cli@$GEMINI_CLI_VERSION" >"$WORK/npm.log" 2>&1 \
    || { cat "$WORK/npm.log" >&2; fail "npm install @google/gemini-cli"; exit 1; }
fi
GEMINI="$GEMINI_DIR/node_modules/.bin/gemini"

say "building bin/switchyard"
timeout 300 go build -o "$BIN" ./server/cmd/switchyard || { fail "go build"; exit 1; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
BASE="http://127.0.0.1:$PORT"
SWITCHYARD_DATA_DIR="$WORK/data" "$BIN" --config test/sdkcompat/switchyard.yaml --listen "127.0.0.1:$PORT" >"$WORK/gateway.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 200); do curl -fsS -o /dev/null --max-time 1 "$BASE/healthz" 2>/dev/null && break; sleep 0.1; done
curl -fsS -o /dev/null "$BASE/healthz" || { cat "$WORK/gateway.log" >&2; fail "gateway not ready"; exit 1; }

say "claude -p through $BASE (model auto, Anthropic Messages → simulator)"
mkdir -p "$WORK/home"
out="$(cd "$WORK" && HOME="$WORK/home" ANTHROPIC_BASE_URL="$BASE" ANTHROPIC_AUTH_TOKEN=sk-test \
  ANTHROPIC_MODEL=auto ANTHROPIC_SMALL_FAST_MODEL=auto CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
  timeout 120 "$CLAUDE" -p "Say hello" --output-format json 2>&1)"
if ! printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["is_error"] is False, r
assert r["result"], r
assert r["usage"]["output_tokens"] > 0, r["usage"]
print("claude -p:", r["result"][:60], "| output_tokens", r["usage"]["output_tokens"])
'; then
  printf '%s\n' "$out" >&2
  cat "$WORK/gateway.log" >&2
  fail "claude -p did not complete through the gateway"
fi

say "claude -p tool round trip (model agent-sim calls Read, Claude Code runs it, the model answers the result)"
printf 'switchyard notes\n' >"$WORK/notes.txt"
out="$(cd "$WORK" && HOME="$WORK/home" ANTHROPIC_BASE_URL="$BASE" ANTHROPIC_AUTH_TOKEN=sk-test \
  ANTHROPIC_MODEL=agent-sim ANTHROPIC_SMALL_FAST_MODEL=agent-sim CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
  timeout 120 "$CLAUDE" -p "Read notes.txt and summarise it" --output-format json --allowedTools Read 2>&1)"
if ! printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["is_error"] is False, r
assert r["num_turns"] >= 2, r
print("claude -p tool:", r["num_turns"], "turns |", r["result"][:60])
'; then
  printf '%s\n' "$out" >&2
  cat "$WORK/gateway.log" >&2
  fail "claude -p did not complete a tool call through the gateway"
fi

# Codex reads its model provider from $CODEX_HOME/config.toml: the gateway
# as an OpenAI Responses endpoint.
mkdir -p "$WORK/codex"
cat >"$WORK/codex/config.toml" <<EOF
model_provider = "switchyard"

[model_providers.switchyard]
name = "Switchyard"
base_url = "$BASE/v1"
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
EOF
codex_exec() { # model prompt
  (cd "$WORK" && HOME="$WORK/home" CODEX_HOME="$WORK/codex" SWITCHYARD_API_KEY=sk-test \
    timeout 120 "$CODEX" exec --skip-git-repo-check --json -m "$1" "$2" </dev/null 2>"$WORK/codex.err")
}
say "codex exec through $BASE (model auto, OpenAI Responses → simulator)"
out="$(codex_exec auto "Say hello")"
if ! printf '%s' "$out" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
msgs = [e["item"]["text"] for e in evs if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]
done = [e for e in evs if e.get("type") == "turn.completed"]
assert msgs and msgs[0] and done and done[0]["usage"]["output_tokens"] > 0, evs
print("codex exec:", msgs[0][:60], "| output_tokens", done[0]["usage"]["output_tokens"])
'; then
  printf '%s\n' "$out" >&2; cat "$WORK/codex.err" >&2
  cat "$WORK/gateway.log" >&2
  fail "codex exec did not complete through the gateway"
fi

say "codex exec tool round trip (model codex-sim calls exec_command, Codex runs it, the model answers the output)"
out="$(codex_exec codex-sim "List the files here")"
if ! printf '%s' "$out" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
cmds = [e["item"] for e in evs if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"]
msgs = [e["item"]["text"] for e in evs if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]
assert cmds and cmds[0]["exit_code"] is not None, evs
assert msgs and msgs[-1], evs
print("codex exec tool: ran", repr(cmds[0]["command"]), "exit", cmds[0]["exit_code"], "| then:", msgs[-1][:50])
'; then
  printf '%s\n' "$out" >&2; cat "$WORK/codex.err" >&2
  cat "$WORK/gateway.log" >&2
  fail "codex exec did not complete a tool call through the gateway"
fi

# Gemini CLI: an API key auth choice in its settings, the gateway as its
# base URL, the workspace trusted; its temp files go to $WORK too.
mkdir -p "$WORK/ghome/.gemini"
printf '%s\n' '{"security":{"auth":{"selectedType":"gemini-api-key"}},"telemetry":{"enabled":false},"privacy":{"usageStatisticsEnabled":false}}' >"$WORK/ghome/.gemini/settings.json"
gemini_p() { # model prompt
  (cd "$WORK" && HOME="$WORK/ghome" TMPDIR="$WORK" GEMINI_CLI_TRUST_WORKSPACE=true GEMINI_API_KEY=sk-test GOOGLE_GEMINI_BASE_URL="$BASE" \
    timeout 120 "$GEMINI" -p "$2" -m "$1" --output-format json </dev/null 2>"$WORK/gemini.err")
}
say "gemini -p through $BASE (model sim-small, generateContent → simulator)"
out="$(gemini_p sim-small "Say hello")"
if ! printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert not r.get("error") and r.get("response"), r
toks = sum(m["tokens"]["candidates"] for m in r["stats"]["models"].values())
assert toks > 0, r["stats"]
print("gemini -p:", r["response"][:60], "| candidates tokens", toks)
'; then
  printf '%s\n' "$out" >&2; cat "$WORK/gemini.err" >&2
  cat "$WORK/gateway.log" >&2
  fail "gemini -p did not complete through the gateway"
fi

say "gemini -p tool round trip (model gemini-sim calls read_file, Gemini CLI runs it, the model answers the result)"
out="$(gemini_p gemini-sim "Read notes.txt and summarise it")"
if ! printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
t = r["stats"]["tools"]
assert not r.get("error") and r.get("response"), r
assert t["totalCalls"] >= 1 and "read_file" in t["byName"], t
print("gemini -p tool:", t["totalCalls"], "call(s) of", list(t["byName"]), "| then:", r["response"][:50])
'; then
  printf '%s\n' "$out" >&2; cat "$WORK/gemini.err" >&2
  cat "$WORK/gateway.log" >&2
  fail "gemini -p did not complete a tool call through the gateway"
fi

say "ledger: the requests are recorded as dialect anthropic with tokens and cost"
if ! curl -fsS "$BASE/v1/usage?group_by=dialect" | python3 -c '
import json, sys
rows = {r["dialect"]: r for r in json.load(sys.stdin)["rows"]}
a = rows.get("anthropic")
assert a and int(a["requests"]) >= 3 and int(a["prompt_tokens"]) > 0 and int(a["completion_tokens"]) > 0 and a["cost"] != "0", rows
print("ledger anthropic:", a["requests"], "requests,", a["prompt_tokens"], "prompt,", a["completion_tokens"], "completion, $" + a["cost"])
'; then
  fail "ledger has no anthropic row with tokens and cost"
fi
if ! curl -fsS "$BASE/v1/usage?group_by=dialect" | python3 -c '
import json, sys
rows = {r["dialect"]: r for r in json.load(sys.stdin)["rows"]}
a = rows.get("responses")
assert a and int(a["requests"]) >= 3 and int(a["prompt_tokens"]) > 0 and int(a["completion_tokens"]) > 0 and a["cost"] != "0", rows
print("ledger responses:", a["requests"], "requests,", a["prompt_tokens"], "prompt,", a["completion_tokens"], "completion, $" + a["cost"])
'; then
  fail "ledger has no responses row with tokens and cost"
fi
if ! curl -fsS "$BASE/v1/usage?group_by=dialect" | python3 -c '
import json, sys
rows = {r["dialect"]: r for r in json.load(sys.stdin)["rows"]}
a = rows.get("gemini")
assert a and int(a["requests"]) >= 3 and int(a["prompt_tokens"]) > 0 and int(a["completion_tokens"]) > 0 and a["cost"] != "0", rows
print("ledger gemini:", a["requests"], "requests,", a["prompt_tokens"], "prompt,", a["completion_tokens"], "completion, $" + a["cost"])
'; then
  fail "ledger has no gemini row with tokens and cost"
fi

[ "$FAILED" -eq 0 ] && echo "agents: all passed" || { echo "agents: FAILED" >&2; exit 1; }
