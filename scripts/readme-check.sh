#!/usr/bin/env bash
# Runs every shell example of README.md, in order, against a fresh gateway,
# so the README stays true:
#
#   scripts/readme-check.sh [README.md]       # what `make test-readme` runs
#
# Blocks fenced ```sh, ```bash, ```shell or ```console are run (in a console
# block only the lines after a "$ " prompt); other languages are not. A block
# preceded by the line
#
#   <!-- readme-check: skip (reason) -->
#
# is skipped and reported with its reason.
#
# The gateway is bin/switchyard (SWITCHYARD_BIN overrides) on the embedded
# default, with no provider keys in its environment (the simulator only), on
# a free loopback port and a data directory of its own. The README's
# 127.0.0.1:8080 and localhost:8080 are rewritten to that address, and
# SWITCHYARD_URL points the CLI at it. Blocks run one after another like
# commands typed in one terminal: from a scratch directory holding links to
# the checkout's top-level entries (so bin/switchyard and config/… resolve
# and new files land outside the tree), with set -e and pipefail, each
# seeing the variables the blocks before it exported. Inside them
#   - curl fails on an HTTP error status (--fail-with-body), so an example
#     that answers 4xx/5xx fails the check;
#   - `make run [ARGS=…]` restarts the gateway with the variables exported
#     so far (as a reader restarts it in another terminal); other make
#     targets are refused.
# A failing block is reported with its README line, the failing command's
# line, the block's output and the end of the gateway log; the exit status
# is 1. README_CHECK_VERBOSE=1 prints every block's output. The gateway
# is stopped and the scratch directory removed on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
README="$(cd "$(dirname "${1:-$ROOT/README.md}")" && pwd)/$(basename "${1:-README.md}")"
BIN="${SWITCHYARD_BIN:-$ROOT/bin/switchyard}"
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
BLOCK_TIMEOUT="${README_BLOCK_TIMEOUT:-120}"

if [ ! -x "$BIN" ]; then
  echo "readme-check: $BIN is missing: run make build (or make test-readme)" >&2
  exit 1
fi
[ -f "$README" ] || { echo "readme-check: $README not found" >&2; exit 1; }
# The README's examples use jq; a fresh Debian machine may not have it.
if ! command -v jq >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || { echo "readme-check: jq is missing and installing it needs root: apt-get install jq" >&2; exit 1; }
  echo "readme-check: installing jq (apt-get)" >&2
  { apt-get update -qq && apt-get install -y -qq jq; } >/dev/null 2>&1 || { echo "readme-check: apt-get install jq failed" >&2; exit 1; }
fi
# grpcurl for the gRPC examples: pinned, built from the Go module proxy into
# a cache outside the tree (kept between runs, like the load-test tools).
GRPCURL_VERSION=v1.9.4
TOOLS="${XDG_CACHE_HOME:-$HOME/.cache}/switchyard-tools"
if [ ! -x "$TOOLS/bin/grpcurl" ] || [ ! -f "$TOOLS/bin/.grpcurl-$GRPCURL_VERSION" ]; then
  echo "readme-check: installing grpcurl $GRPCURL_VERSION (go install) into $TOOLS/bin" >&2
  mkdir -p "$TOOLS/bin"
  (cd "$TOOLS" && GOFLAGS= GOBIN="$TOOLS/bin" go install "github.com/fullstorydev/grpcurl/cmd/grpcurl@$GRPCURL_VERSION") >"$TOOLS/grpcurl.log" 2>&1 \
    || { tail -5 "$TOOLS/grpcurl.log" >&2; echo "readme-check: go install grpcurl@$GRPCURL_VERSION failed" >&2; exit 1; }
  touch "$TOOLS/bin/.grpcurl-$GRPCURL_VERSION"
fi
export PATH="$TOOLS/bin:$PATH"
for tool in curl jq python3 timeout grpcurl; do
  command -v "$tool" >/dev/null 2>&1 || { echo "readme-check: $tool is missing: the check (and the README's examples) need it" >&2; exit 1; }
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/switchyard-readme.XXXXXX")"
STATE="$TMP/state"
mkdir -p "$STATE" "$TMP/work" "$TMP/blocks"
before="$(cd "$ROOT" && git status --porcelain 2>/dev/null || true)"

cleanup() {
  local rc=$?
  stop_gateway
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The scratch directory mirrors the checkout's top level with links.
for e in "$ROOT"/* ; do
  ln -s "$e" "$TMP/work/$(basename "$e")"
done

# start_gateway [flags…] starts bin/switchyard in the background with the
# exported environment minus provider keys and config and waits for
# /healthz; stop_gateway stops it, by the pid it recorded. They are defined
# here and again, identically, in the blocks' session (see prelude), where
# `make run` restarts the gateway.
read -r -d '' GATEWAY_FNS <<'EOF' || true
start_gateway() {
  local log="$README_STATE/gateway.log"
  : >"$log"
  # One address for the whole run (README_ADDR, chosen once), so the
  # README's address stays valid across `make run` restarts.
  env -u OPENAI_API_KEY -u ANTHROPIC_API_KEY -u GEMINI_API_KEY -u DEEPSEEK_API_KEY -u SWITCHYARD_CONFIG \
    SWITCHYARD_DATA_DIR="$README_STATE/data" \
    "$README_BIN" --listen "$README_ADDR" "$@" >>"$log" 2>&1 </dev/null &
  echo $! >"$README_STATE/gateway.pid"
  for _ in $(seq 1 150); do
    if command curl -fsS -o /dev/null "http://$README_ADDR/healthz" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$(cat "$README_STATE/gateway.pid")" 2>/dev/null; then
      echo "readme-check: the gateway exited at start:" >&2
      tail -n 20 "$log" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "readme-check: the gateway did not answer /healthz on $README_ADDR within 15s:" >&2
  tail -n 20 "$log" >&2
  return 1
}
stop_gateway() {
  local pid
  pid="$(cat "$README_STATE/gateway.pid" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$README_STATE/gateway.pid"
}
EOF
eval "$GATEWAY_FNS"

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

NAME="$(basename "$README")"
export README_STATE="$STATE" README_BIN="$BIN" README_ADDR="127.0.0.1:$(free_port)" README_NAME="$NAME"
ADDR="$README_ADDR"

# The gateway and the blocks' session start from a clean slate: none of the
# caller's admin, master, client or provider keys, nor config. The blocks
# run under env -i with exactly the environment of env.sh, which each block
# rewrites for the next.
CALLER_VARS="SWITCHYARD_ADMIN_KEY SWITCHYARD_MASTER_KEY SWITCHYARD_API_KEY SWITCHYARD_URL SWITCHYARD_CONFIG SWITCHYARD_DATA_DIR SWITCHYARD_PPROF OPENAI_API_KEY ANTHROPIC_API_KEY GEMINI_API_KEY DEEPSEEK_API_KEY"
(
  # shellcheck disable=SC2086 # a list of names
  unset $CALLER_VARS
  export SWITCHYARD_URL="http://$ADDR"
  export -p | grep -vE '^declare -x (PWD|OLDPWD|SHLVL|_)='
) >"$STATE/env.sh"

cat >"$STATE/prelude.sh" <<EOF
$GATEWAY_FNS
# Failures inside these functions return to the block's line, where the
# ERR trap names it (set -e would otherwise exit from inside the function,
# where the trap does not run).
curl() { command curl --fail-with-body "\$@" || return \$?; }
_readme_failed() {
  local rc=\$1 ln=\$((\$2 - 5))
  echo "readme-check: \${README_NAME}:\$((ln + README_LINE)): exit \$rc: \$(sed -n "\${ln}p" "\$README_BODY")" >&2
  exit "\$rc"
}
make() {
  if [ "\${1:-}" != run ]; then
    echo "readme-check: only 'make run' can run inside the check (make \$*): mark the block <!-- readme-check: skip (reason) -->" >&2
    return 2
  fi
  shift
  local args=""
  for a in "\$@"; do
    case "\$a" in ARGS=*) args="\${a#ARGS=}" ;; *) echo "readme-check: make run \$a is not understood" >&2; return 2 ;; esac
  done
  stop_gateway
  # shellcheck disable=SC2086 # ARGS is split as make splits it
  start_gateway \$args || return \$?
}
EOF

(
  # shellcheck disable=SC2086 # a list of names
  unset $CALLER_VARS
  start_gateway
)

# Extract the blocks: for each, its first line number, whether it is
# skipped (and why), and its commands.
blocks=0 skipped=0
python3 - "$README" "$TMP/blocks" <<'EOF'
import re, sys, os
readme, out = sys.argv[1], sys.argv[2]
lines = open(readme, encoding="utf-8").read().split("\n")
run_langs = {"sh", "bash", "shell", "console"}
i, n = 0, 0
while i < len(lines):
    m = re.match(r"^(\s*)(```+|~~~+)\s*([A-Za-z0-9_+-]*)", lines[i])
    if not m:
        i += 1
        continue
    fence, lang, start = m.group(2), m.group(3).lower(), i + 1
    j = i + 1
    while j < len(lines) and not lines[j].strip().startswith(fence):
        j += 1
    body = lines[i + 1:j]
    if lang in run_langs:
        prev = ""
        k = i - 1
        while k >= 0 and lines[k].strip() == "":
            k -= 1
        if k >= 0:
            prev = lines[k].strip()
        skip = re.match(r"^<!--\s*readme-check:\s*skip\s*(?:\((.*)\))?\s*-->$", prev)
        if prev.startswith("<!--") and "readme-check" in prev and not skip:
            sys.exit(f"readme-check: {readme}:{k + 1}: unknown marker {prev!r} (want <!-- readme-check: skip (reason) -->)")
        if skip and not (skip.group(1) or "").strip():
            sys.exit(f"readme-check: {readme}:{k + 1}: a skip needs a reason: <!-- readme-check: skip (reason) -->")
        if lang == "console":
            body = [l.lstrip()[2:] if l.lstrip().startswith("$ ") else "" for l in body]
        n += 1
        base = os.path.join(out, f"{n:03d}")
        with open(base + ".line", "w") as f:
            f.write(f"{start}\n")
        if skip:
            with open(base + ".skip", "w") as f:
                f.write(skip.group(1).strip() + "\n")
        with open(base + ".sh", "w") as f:
            f.write("\n".join(body) + "\n")
    i = j + 1
EOF

for f in "$TMP"/blocks/*.sh; do
  [ -e "$f" ] || break
  id="${f%.sh}"
  line="$(cat "$id.line")"
  blocks=$((blocks + 1))
  if [ -f "$id.skip" ]; then
    skipped=$((skipped + 1))
    printf 'readme-check: %s:%s skipped (%s)\n' "$NAME" "$line" "$(cat "$id.skip")"
    continue
  fi
  # The README's address becomes this gateway's.
  sed -e "s#127\.0\.0\.1:8080#$ADDR#g" -e "s#localhost:8080#$ADDR#g" "$f" >"$id.body"
  {
    echo "set -eo pipefail"
    echo "source '$STATE/env.sh'"
    echo "source '$STATE/prelude.sh'"
    # The failing command with its README line: the body starts on this
    # script's line 6 and on README line $line + 1 (the fence is $line).
    echo "trap '_readme_failed \$? \$LINENO' ERR"
    echo "trap 'export -p | grep -vE \"^declare -x (PWD|OLDPWD|SHLVL|_|README_LINE|README_BODY)=\" >\"$STATE/env.sh\"' EXIT"
    cat "$id.body"
  } >"$id.run"
  printf 'readme-check: %s:%s running\n' "$NAME" "$line"
  set +e
  (cd "$TMP/work" && timeout "$BLOCK_TIMEOUT" env -i PATH="$PATH" HOME="$HOME" README_LINE="$line" README_BODY="$id.body" \
    bash "$id.run") >"$id.out" 2>&1 </dev/null
  rc=$?
  set -e
  if [ -n "${README_CHECK_VERBOSE:-}" ]; then
    sed 's/^/    /' "$id.out"
  fi
  if [ "$rc" -ne 0 ]; then
    {
      echo
      if [ "$rc" -eq 124 ]; then
        echo "readme-check: FAIL: the block at $NAME:$line did not finish within ${BLOCK_TIMEOUT}s"
      else
        echo "readme-check: FAIL: the block at $NAME:$line exited $rc"
      fi
      echo "---- block (as run, address $ADDR) ----"
      nl -ba -v "$((line + 1))" "$id.body"
      echo "---- output ----"
      cat "$id.out"
      echo "---- gateway log (last 20 lines) ----"
      tail -n 20 "$STATE/gateway.log" 2>/dev/null || true
    } >&2
    exit 1
  fi
done

after="$(cd "$ROOT" && git status --porcelain 2>/dev/null || true)"
if [ "$before" != "$after" ]; then
  echo "readme-check: FAIL: the README examples changed the work tree:" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi
if [ "$blocks" -eq 0 ]; then
  echo "readme-check: FAIL: no shell blocks found in $README" >&2
  exit 1
fi
echo "readme-check: $((blocks - skipped)) blocks ran, $skipped skipped: the examples of $NAME work"
