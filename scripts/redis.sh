#!/usr/bin/env bash
# A throwaway Redis for tests: installs redis-server when missing (Debian,
# needs root), starts one on a free loopback port with no persistence and
# prints its address (host:port) as the only line on stdout.
#
#   addr=$(scripts/redis.sh)                 # start; prints 127.0.0.1:PORT
#   SWITCHYARD_TEST_REDIS=$addr go test ./engine/cache/
#   scripts/redis.sh stop "$addr"            # stop it (idempotent)
#
# The server daemonizes; its pid file and log are under
# ${TMPDIR:-/tmp}/switchyard-redis-PORT.{pid,log}.
set -euo pipefail

TMP="${TMPDIR:-/tmp}"
die() { printf 'redis.sh: %s\n' "$*" >&2; exit 1; }

stop() {
  local port="${1##*:}"
  [ -n "$port" ] || die "usage: $0 stop HOST:PORT"
  local pidfile="$TMP/switchyard-redis-$port.pid"
  if [ -f "$pidfile" ]; then
    local pid
    pid="$(cat "$pidfile")"
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
    rm -f "$pidfile"
  fi
}

if [ "${1:-start}" = stop ]; then
  stop "${2:-}"
  exit 0
fi
[ "${1:-start}" = start ] || die "usage: $0 [start] | stop HOST:PORT"

if ! command -v redis-server >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || die "redis-server is missing and installing it needs root: apt-get install redis-server"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq redis-server; } >"$TMP/switchyard-redis-install.log" 2>&1 \
    || { cat "$TMP/switchyard-redis-install.log" >&2; die "apt-get install redis-server failed"; }
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for _ in $(seq 20); do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" || continue
  pidfile="$TMP/switchyard-redis-$port.pid"
  if redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --pidfile "$pidfile" --logfile "$TMP/switchyard-redis-$port.log" \
      --dir "$TMP" >/dev/null 2>&1; then
    for _ in $(seq 50); do
      if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
        echo "127.0.0.1:$port"
        exit 0
      fi
      sleep 0.1
    done
    stop "$port"
  fi
done
die "could not start redis-server on a free port (see $TMP/switchyard-redis-*.log)"
