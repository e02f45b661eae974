#!/usr/bin/env bash
# Runs the real coding-agent CLIs non-interactively through a live gateway,
# for a prompt and a tool call each, and checks the ledger saw them.
#
#   scripts/test-agents.sh
#
# Claude Code (`claude -p`, Anthropic Messages), Codex CLI (`codex exec`,
# OpenAI Responses) and Gemini CLI (`gemini -p`, generateContent):
#
#   1. against the built-in simulator (test/sdkcompat/switchyard.yaml), the
#      baseline;
#   2. against the fake upstream (loadtest/fakeupstream) in each of its wire
#      formats — providers of type openai, anthropic and gemini
#      (test/agents/switchyard.yaml) — so every ingress × target pair runs:
#      same-dialect passthrough (Anthropic → anthropic, Responses → openai's
#      /v1/responses, Gemini → gemini) and every translation. The fake's
#      auto_tool knob, set per provider by a static X-Fake-Auto-Tool header,
#      plays a model that calls the agent's tool once on its own.
#
# A matrix (CLI × target: prompt / tool) is printed at the end. The CLIs are
# installed from npm into ~/.cache/switchyard-tools (pinned below) on first
# use. The gateways and the fake get their own ports, data directories and a
# HOME for the CLIs; every step is bounded by `timeout`, and everything is
# stopped and removed on exit.
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
PIDS=()
FAILED=0
declare -A MATRIX

say() { printf '==> %s\n' "$*"; }
fail() { printf 'FAIL: %s\n' "$*" >&2; FAILED=1; }
stop() { # pid
  kill -TERM "$1" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}
cleanup() {
  for pid in "${PIDS[@]}"; do stop "$pid"; done
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

say "building bin/switchyard and the fake upstream"
timeout 300 go build -o "$BIN" ./server/cmd/switchyard || { fail "go build"; exit 1; }
timeout 300 go build -o "$WORK/fakeupstream" ./loadtest/fakeupstream/cmd/fakeupstream || { fail "go build fakeupstream"; exit 1; }

# The fake picks its own port and prints it.
"$WORK/fakeupstream" --listen 127.0.0.1:0 --log >"$WORK/fake.out" 2>"$WORK/fake.log" &
PIDS+=($!)
FAKE_ADDR=""
for _ in $(seq 1 100); do
  FAKE_ADDR="$(sed -n 's/^fakeupstream listening on //p' "$WORK/fake.out")"
  [ -n "$FAKE_ADDR" ] && break
  sleep 0.1
done
[ -n "$FAKE_ADDR" ] || { cat "$WORK/fake.log" >&2; fail "fake upstream not ready"; exit 1; }
FAKE="http://$FAKE_ADDR"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
start_gateway() { # name config; prints the base URL
  local port
  port="$(free_port)"
  SWITCHYARD_DATA_DIR="$WORK/data-$1" FAKE_UPSTREAM_PORT="${FAKE_ADDR##*:}" \
    "$BIN" --config "$2" --listen "127.0.0.1:$port" >"$WORK/gateway-$1.log" 2>&1 &
  PIDS+=($!)
  for _ in $(seq 1 200); do curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" 2>/dev/null && break; sleep 0.1; done
  curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/healthz" || { cat "$WORK/gateway-$1.log" >&2; fail "gateway $1 not ready"; exit 1; }
  BASE="http://127.0.0.1:$port"
}
start_gateway sim test/sdkcompat/switchyard.yaml
SIM="$BASE"
start_gateway fake test/agents/switchyard.yaml
FAKEGW="$BASE"

mkdir -p "$WORK/home" "$WORK/ghome/.gemini"
printf 'switchyard notes\n' >"$WORK/notes.txt"

# show_failure LOG: what the CLI printed, the gateway's log, and the last
# requests the fake saw.
show_failure() {
  printf '%s\n' "$out" >&2
  [ -s "$WORK/cli.err" ] && tail -n 40 "$WORK/cli.err" >&2
  tail -n 60 "$1" >&2
  if [ "$1" = "$WORK/gateway-fake.log" ]; then
    curl -fsS --max-time 5 "$FAKE/_control/records?limit=4" | python3 -c '
import json, sys
for r in json.load(sys.stdin)["records"]:
    print("fake saw:", r["method"], r["path"], r["body"][:300].replace("\n", " "), file=sys.stderr)
' || true
    tail -n 10 "$WORK/fake.log" >&2
  fi
}

# ---- Claude Code: ANTHROPIC_BASE_URL at the gateway's Anthropic Messages door.
claude_p() { # base model prompt [args...]
  local base="$1" model="$2" prompt="$3"
  shift 3
  (cd "$WORK" && HOME="$WORK/home" ANTHROPIC_BASE_URL="$base" ANTHROPIC_AUTH_TOKEN=sk-test \
    ANTHROPIC_MODEL="$model" ANTHROPIC_SMALL_FAST_MODEL="$model" CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 DISABLE_TELEMETRY=1 \
    timeout 120 "$CLAUDE" -p "$prompt" --output-format json "$@" 2>"$WORK/cli.err")
}
claude_prompt() { # base model log
  out="$(claude_p "$1" "$2" "Say hello")"
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["is_error"] is False, r
assert r["result"], r
assert r["usage"]["output_tokens"] > 0, r["usage"]
print("  claude -p:", r["result"][:60], "| output_tokens", r["usage"]["output_tokens"])
' || { show_failure "$3"; return 1; }
}
claude_tool() { # base model log
  out="$(claude_p "$1" "$2" "Read notes.txt and summarise it" --allowedTools Read)"
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert r["is_error"] is False, r
assert r["num_turns"] >= 2, r
print("  claude -p tool:", r["num_turns"], "turns |", r["result"][:60])
' || { show_failure "$3"; return 1; }
}

# ---- Codex reads its model provider from $CODEX_HOME/config.toml: the
# gateway as an OpenAI Responses endpoint, one home per gateway.
codex_home() { # dir base
  mkdir -p "$1"
  cat >"$1/config.toml" <<EOF
model_provider = "switchyard"

[model_providers.switchyard]
name = "Switchyard"
base_url = "$2/v1"
env_key = "SWITCHYARD_API_KEY"
wire_api = "responses"
EOF
}
codex_home "$WORK/codex-sim" "$SIM"
codex_home "$WORK/codex-fake" "$FAKEGW"
codex_exec() { # base model prompt
  local home="$WORK/codex-sim"
  [ "$1" = "$FAKEGW" ] && home="$WORK/codex-fake"
  (cd "$WORK" && HOME="$WORK/home" CODEX_HOME="$home" SWITCHYARD_API_KEY=sk-test \
    timeout 120 "$CODEX" exec --skip-git-repo-check --json -m "$2" "$3" </dev/null 2>"$WORK/cli.err")
}
codex_prompt() { # base model log
  out="$(codex_exec "$1" "$2" "Say hello")"
  printf '%s' "$out" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
msgs = [e["item"]["text"] for e in evs if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]
done = [e for e in evs if e.get("type") == "turn.completed"]
assert msgs and msgs[0] and done and done[0]["usage"]["output_tokens"] > 0, evs
print("  codex exec:", msgs[0][:60], "| output_tokens", done[0]["usage"]["output_tokens"])
' || { show_failure "$3"; return 1; }
}
codex_tool() { # base model log
  out="$(codex_exec "$1" "$2" "List the files here")"
  printf '%s' "$out" | python3 -c '
import json, sys
evs = [json.loads(l) for l in sys.stdin if l.startswith("{")]
cmds = [e["item"] for e in evs if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"]
msgs = [e["item"]["text"] for e in evs if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]
assert cmds and cmds[0]["exit_code"] is not None, evs
assert msgs and msgs[-1], evs
print("  codex exec tool: ran", repr(cmds[0]["command"]), "exit", cmds[0]["exit_code"], "| then:", msgs[-1][:50])
' || { show_failure "$3"; return 1; }
}

# ---- Gemini CLI: an API key auth choice in its settings, the gateway as
# its base URL, the workspace trusted; its temp files go to $WORK too.
printf '%s\n' '{"security":{"auth":{"selectedType":"gemini-api-key"}},"telemetry":{"enabled":false},"privacy":{"usageStatisticsEnabled":false}}' >"$WORK/ghome/.gemini/settings.json"
gemini_p() { # base model prompt
  (cd "$WORK" && HOME="$WORK/ghome" TMPDIR="$WORK" GEMINI_CLI_TRUST_WORKSPACE=true GEMINI_API_KEY=sk-test GOOGLE_GEMINI_BASE_URL="$1" \
    timeout 120 "$GEMINI" -p "$3" -m "$2" --output-format json </dev/null 2>"$WORK/cli.err")
}
gemini_prompt() { # base model log
  out="$(gemini_p "$1" "$2" "Say hello")"
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
assert not r.get("error") and r.get("response"), r
toks = sum(m["tokens"]["candidates"] for m in r["stats"]["models"].values())
assert toks > 0, r["stats"]
print("  gemini -p:", r["response"][:60], "| candidates tokens", toks)
' || { show_failure "$3"; return 1; }
}
gemini_tool() { # base model log
  out="$(gemini_p "$1" "$2" "Read notes.txt and summarise it")"
  printf '%s' "$out" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
t = r["stats"]["tools"]
assert not r.get("error") and r.get("response"), r
assert t["totalCalls"] >= 1 and "read_file" in t["byName"], t
print("  gemini -p tool:", t["totalCalls"], "call(s) of", list(t["byName"]), "| then:", r["response"][:50])
' || { show_failure "$3"; return 1; }
}

# cell CLI TARGET KIND BASE MODEL: runs one check and records it.
cell() {
  local cli="$1" target="$2" kind="$3" base="$4" model="$5" log="$WORK/gateway-fake.log"
  [ "$target" = simulator ] && log="$WORK/gateway-sim.log"
  say "$cli $kind: model $model ($target)"
  local r=ok
  "${cli}_${kind}" "$base" "$model" "$log" || { r=FAIL; fail "$cli $kind via $target (model $model)"; }
  MATRIX["$cli,$target,$kind"]=$r
}

# 1. The simulator baseline: auto for prompts, and the models whose
# simulator calls the CLI's tool (agent-sim: Read, codex-sim:
# exec_command, gemini-sim: read_file).
cell claude simulator prompt "$SIM" auto
cell claude simulator tool "$SIM" agent-sim
cell codex simulator prompt "$SIM" auto
cell codex simulator tool "$SIM" codex-sim
cell gemini simulator prompt "$SIM" sim-small
cell gemini simulator tool "$SIM" gemini-sim

# 2. The fake upstream in each wire format: <cli>-via-<format> for the
# prompt, <cli>-tool-via-<format> for the tool call.
TARGETS=(openai anthropic gemini)
for target in "${TARGETS[@]}"; do
  for cli in claude codex gemini; do
    cell "$cli" "$target" prompt "$FAKEGW" "$cli-via-$target"
    cell "$cli" "$target" tool "$FAKEGW" "$cli-tool-via-$target"
  done
done

say "ledger (simulator gateway): each CLI's requests in its dialect, with tokens and cost"
curl -fsS --max-time 10 "$SIM/v1/usage?group_by=dialect" | python3 -c '
import json, sys
rows = {r["dialect"]: r for r in json.load(sys.stdin)["rows"]}
bad = False
for d in ("anthropic", "responses", "gemini"):
    a = rows.get(d)
    if not (a and int(a["requests"]) >= 3 and int(a["prompt_tokens"]) > 0 and int(a["completion_tokens"]) > 0 and a["cost"] != "0"):
        print("FAIL: ledger has no", d, "row with tokens and cost:", rows, file=sys.stderr); bad = True; continue
    print("  ledger", d + ":", a["requests"], "requests,", a["prompt_tokens"], "prompt,", a["completion_tokens"], "completion, $" + a["cost"])
sys.exit(1 if bad else 0)
' || fail "simulator gateway ledger"

say "ledger (fake upstream gateway): each dialect, and every provider (format × tool) used"
curl -fsS --max-time 10 "$FAKEGW/v1/usage?group_by=dialect" | python3 -c '
import json, sys
rows = {r["dialect"]: r for r in json.load(sys.stdin)["rows"]}
bad = False
for d in ("anthropic", "responses", "gemini"):
    a = rows.get(d)
    if not (a and int(a["requests"]) >= 9 and int(a["prompt_tokens"]) > 0 and int(a["completion_tokens"]) > 0 and a["cost"] != "0"):
        print("FAIL: ledger has no", d, "row with 9+ requests, tokens and cost:", rows, file=sys.stderr); bad = True; continue
    print("  ledger", d + ":", a["requests"], "requests,", a["prompt_tokens"], "prompt,", a["completion_tokens"], "completion, $" + a["cost"])
sys.exit(1 if bad else 0)
' || fail "fake upstream gateway ledger by dialect"
curl -fsS --max-time 10 "$FAKEGW/v1/usage?group_by=provider" | python3 -c '
import json, sys
rows = {r["provider"]: r for r in json.load(sys.stdin)["rows"]}
bad = False
for f in ("openai", "anthropic", "gemini"):
    # the plain provider serves three prompts; a tool provider at least the call and the answer
    for p, least in (("fake-" + f, 3), ("fake-" + f + "-read", 2), ("fake-" + f + "-exec", 2), ("fake-" + f + "-readfile", 2)):
        a = rows.get(p)
        if not (a and int(a["requests"]) >= least):
            print("FAIL: ledger shows fewer than", least, "requests for provider", p, ":", a, file=sys.stderr); bad = True; continue
    print("  ledger fake-" + f + "*:", ", ".join(p + " " + rows[p]["requests"] for p in sorted(rows) if p == "fake-" + f or p.startswith("fake-" + f + "-")))
sys.exit(1 if bad else 0)
' || fail "fake upstream gateway ledger by provider"
FAKE_SEEN="$(curl -fsS --max-time 10 "$FAKE/_control/records?limit=0" | python3 -c '
import json, sys
import re, collections
c = collections.Counter()
for p, n in json.load(sys.stdin)["counts"].items():
    c[re.sub(r"/models/[^/:]+:", "/models/*:", p)] += n
print(", ".join(f"{p} {n}" for p, n in sorted(c.items())))
')"
echo "  fake upstream saw: $FAKE_SEEN"

say "matrix (prompt / tool)"
printf '  %-8s' ""
for target in simulator "${TARGETS[@]}"; do printf ' %-16s' "$target"; done
echo
for cli in claude codex gemini; do
  printf '  %-8s' "$cli"
  for target in simulator "${TARGETS[@]}"; do
    printf ' %-16s' "${MATRIX[$cli,$target,prompt]:-skip} / ${MATRIX[$cli,$target,tool]:-skip}"
  done
  echo
done

[ "$FAILED" -eq 0 ] && echo "agents: all passed" || { echo "agents: FAILED" >&2; exit 1; }
