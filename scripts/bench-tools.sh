#!/usr/bin/env bash
# Installs the pinned tools the load tests and the peer benchmark use into a
# cache directory (never into the repo or the main Go module):
#   ghz (gRPC load), Portkey's gateway (npm), LiteLLM proxy (venv), matplotlib (venv).
# Idempotent: a tool already at its pinned version is left alone. A tool that
# cannot be installed is reported on stderr and by a marker file; the callers
# then report that peer as "not installable" instead of dropping it.
#
# usage: scripts/bench-tools.sh [ghz|portkey|litellm|plot|all]...
set -uo pipefail

GHZ_VERSION=v0.93.0
PORTKEY_VERSION=1.15.2
# Portkey asks for @hono/node-server ^1.3.3; from 1.14.3 on, its responses
# carry immutable headers and every Portkey stream fails with "TypeError:
# immutable" (Portkey-AI/gateway#1389), so the install pins the last good one.
HONO_NODE_SERVER_VERSION=1.14.2
# 1.108+ pin a litellm-proxy(-extras) the registry does not serve, so their
# [proxy] extra cannot install; 1.107.x is withdrawn (a compromised release).
LITELLM_VERSION=1.106.12
MATPLOTLIB_VERSION=3.11.2

CACHE=${SWITCHYARD_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/switchyard-bench}
mkdir -p "$CACHE"
log() { echo "[bench-tools] $*" >&2; }

fail() { # name, message
	echo "$2" >"$CACHE/$1.failed"
	log "$1: NOT INSTALLED: $2"
	return 1
}

ghz() {
	local bin=$CACHE/bin/ghz
	if [[ -x $bin && -f $CACHE/bin/.ghz-$GHZ_VERSION ]]; then return 0; fi
	log "installing ghz $GHZ_VERSION"
	mkdir -p "$CACHE/bin"
	# GOFLAGS=-mod=mod and a neutral directory keep the main module's go.mod out of it.
	if (cd "$CACHE" && GOFLAGS= GOBIN=$CACHE/bin go install "github.com/bojand/ghz/cmd/ghz@$GHZ_VERSION") >"$CACHE/ghz.log" 2>&1; then
		touch "$CACHE/bin/.ghz-$GHZ_VERSION"; rm -f "$CACHE/ghz.failed"
	else
		fail ghz "go install ghz@$GHZ_VERSION failed: $(tail -3 "$CACHE/ghz.log" | tr '\n' ' ')"
	fi
}

portkey() {
	local dir=$CACHE/portkey
	if [[ -f $dir/.v-$PORTKEY_VERSION-$HONO_NODE_SERVER_VERSION && -f $dir/node_modules/@portkey-ai/gateway/package.json ]]; then return 0; fi
	log "installing @portkey-ai/gateway@$PORTKEY_VERSION"
	mkdir -p "$dir"
	cat >"$dir/package.json" <<-EOF
		{"name": "switchyard-bench-portkey", "private": true,
		 "overrides": {"@hono/node-server": "$HONO_NODE_SERVER_VERSION"}}
	EOF
	if (cd "$dir" && npm install --no-audit --no-fund --loglevel=error "@portkey-ai/gateway@$PORTKEY_VERSION") >"$CACHE/portkey.log" 2>&1; then
		touch "$dir/.v-$PORTKEY_VERSION-$HONO_NODE_SERVER_VERSION"; rm -f "$CACHE/portkey.failed"
	else
		fail portkey "npm install @portkey-ai/gateway@$PORTKEY_VERSION failed: $(tail -3 "$CACHE/portkey.log" | tr '\n' ' ')"
	fi
}

venv() { # dir, packages...
	local dir=$1; shift
	[[ -x $dir/bin/python ]] || python3 -m venv "$dir" || return 1
	"$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
}

litellm() {
	local dir=$CACHE/litellm-venv
	if [[ -x $dir/bin/litellm && -f $dir/.v-$LITELLM_VERSION ]]; then return 0; fi
	log "installing litellm[proxy]==$LITELLM_VERSION (a few minutes the first time)"
	if venv "$dir" "litellm[proxy]==$LITELLM_VERSION" >"$CACHE/litellm.log" 2>&1; then
		touch "$dir/.v-$LITELLM_VERSION"; rm -f "$CACHE/litellm.failed"
	else
		fail litellm "pip install litellm[proxy]==$LITELLM_VERSION failed: $(tail -3 "$CACHE/litellm.log" | tr '\n' ' ')"
	fi
}

plot() {
	local dir=$CACHE/plot-venv
	if [[ -f $dir/.v-$MATPLOTLIB_VERSION ]]; then return 0; fi
	log "installing matplotlib==$MATPLOTLIB_VERSION"
	if venv "$dir" "matplotlib==$MATPLOTLIB_VERSION" >"$CACHE/plot.log" 2>&1; then
		touch "$dir/.v-$MATPLOTLIB_VERSION"; rm -f "$CACHE/plot.failed"
	else
		fail plot "pip install matplotlib==$MATPLOTLIB_VERSION failed: $(tail -3 "$CACHE/plot.log" | tr '\n' ' ')"
	fi
}

versions() {
	echo "ghz $GHZ_VERSION; @portkey-ai/gateway $PORTKEY_VERSION; litellm[proxy] $LITELLM_VERSION; matplotlib $MATPLOTLIB_VERSION"
}

[[ $# -gt 0 ]] || set -- all
rc=0
for what in "$@"; do
	case $what in
	all) ghz || rc=1; portkey || rc=1; litellm || rc=1; plot || rc=1 ;;
	ghz | portkey | litellm | plot) $what || rc=1 ;;
	versions) versions ;;
	cache) echo "$CACHE" ;;
	*) log "unknown tool $what"; exit 2 ;;
	esac
done
exit $rc
