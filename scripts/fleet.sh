#!/usr/bin/env bash
# make fleet: three gateway replicas (the real binary, one config) on a
# shared Redis and Postgres behind HAProxy, in front of the fake upstream,
# with a replica SIGTERM'd, another SIGKILL'd and Redis restarted under
# load (loadtest/cmd/fleet). Loopback only; the driver bounds itself
# (--timeout, 6 min) and stops every process it started; this script
# stops the Postgres it started and deletes its temp dir.
# Installs haproxy and redis-server with apt-get when missing (needs root).
# Writes loadtest/results/fleet.{md,json}.
#
# Env: SWITCHYARD_BIN (bin/switchyard), FLEET_DURATION (60s), FLEET_WORKERS (16).
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
BIN=${SWITCHYARD_BIN:-bin/switchyard}
die() { printf 'fleet.sh: %s\n' "$*" >&2; exit 1; }

need() { # need BINARY PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  [ -x "/usr/sbin/$1" ] && return 0
  [ "$(id -u)" -eq 0 ] || die "$1 is missing and installing it needs root: apt-get install $2"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq "$2"; } >&2 || die "apt-get install $2 failed"
}
need haproxy haproxy
need redis-server redis-server
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-fleet-run.XXXXXX")
pg=""
cleanup() {
  [ -z "$pg" ] || scripts/postgres.sh stop "$pg" || true
  rm -rf "$WORK"
}
trap cleanup EXIT
# postgres.sh keeps its cluster in its own /tmp directory (the server runs as
# another user, who cannot enter $WORK) and deletes it on stop.
pg=$(scripts/postgres.sh)

"$GO" build -o "$WORK/fleet" ./loadtest/cmd/fleet
TMPDIR="$WORK" "$WORK/fleet" --bin "$BIN" --haproxy "$HAPROXY" --postgres "$pg" \
  --duration "${FLEET_DURATION:-60s}" --workers "${FLEET_WORKERS:-16}" --out loadtest/results "$@"
