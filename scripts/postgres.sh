#!/usr/bin/env bash
# A throwaway Postgres for tests: installs postgresql when missing (Debian,
# needs root), initdb's a fresh cluster, starts it on a free loopback port
# with durability off and prints its URL as the only line on stdout.
#
#   url=$(scripts/postgres.sh)               # start; prints postgres://postgres@127.0.0.1:PORT/switchyard?sslmode=disable
#   SWITCHYARD_TEST_POSTGRES=$url go test ./store/
#   scripts/postgres.sh stop "$url"          # stop it and delete its data (idempotent)
#
# stop also takes HOST:PORT, a bare PORT or the cluster directory. The cluster
# lives in ${TMPDIR:-/tmp}/switchyard-postgres-PORT/ (data/ and postgres.log).
# Postgres refuses to run as root: as root the server runs as the `postgres`
# system user the package creates (or `nobody` when that user is absent).
set -euo pipefail

TMP="${TMPDIR:-/tmp}"
DB=switchyard
SUPERUSER=postgres
die() { printf 'postgres.sh: %s\n' "$*" >&2; exit 1; }

# clusterdir ARG: the directory of the cluster named by a URL, HOST:PORT, PORT or directory.
clusterdir() {
  local a="$1"
  if [ -d "$a" ] && [ -e "$a/data" ]; then
    printf '%s\n' "$a"
    return
  fi
  a="${a#*://}"   # scheme
  a="${a#*@}"     # user[:password]@
  a="${a%%/*}"    # /db?query
  a="${a##*:}"    # host:
  [[ "$a" =~ ^[0-9]+$ ]] || die "usage: $0 stop URL|HOST:PORT|PORT|DIR (got '$1')"
  printf '%s\n' "$TMP/switchyard-postgres-$a"
}

# postmaster_pid DIR: the running postmaster's pid, or nothing.
postmaster_pid() {
  local pid
  [ -f "$1/data/postmaster.pid" ] || return 0
  pid="$(head -n1 "$1/data/postmaster.pid" 2>/dev/null || true)"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    printf '%s\n' "$pid"
  fi
}

# stopdir DIR: fast shutdown (SIGINT: abort sessions, no checkpoint wait), SIGKILL after 10 s,
# then delete the cluster.
stopdir() {
  local dir="$1" pid
  pid="$(postmaster_pid "$dir")"
  if [ -n "$pid" ]; then
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      printf 'postgres.sh: postmaster %s ignored SIGINT for 10s; killing it\n' "$pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  case "$dir" in
    "$TMP"/switchyard-postgres-*) rm -rf -- "$dir" ;;
    *) [ -z "$pid" ] || printf 'postgres.sh: stopped; %s left in place (not one of ours)\n' "$dir" >&2 ;;
  esac
}

case "${1:-start}" in
  stop)
    [ -n "${2:-}" ] || die "usage: $0 stop URL|HOST:PORT|PORT|DIR"
    dir="$(clusterdir "$2")" # exits on a malformed argument
    stopdir "$dir"
    exit 0
    ;;
  start) ;;
  *) die "usage: $0 [start] | stop URL|HOST:PORT|PORT|DIR" ;;
esac

# bindir: Debian keeps the server binaries off PATH, in /usr/lib/postgresql/VERSION/bin.
bindir() {
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [ -n "$d" ] && [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
    printf '%s\n' "$d"
    return
  fi
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(command -v initdb)"
  fi
}

BIN="$(bindir)"
if [ -z "$BIN" ]; then
  [ "$(id -u)" -eq 0 ] || die "postgresql is missing and installing it needs root: apt-get install postgresql"
  export DEBIAN_FRONTEND=noninteractive
  { apt-get update -qq && apt-get install -y -qq postgresql; } >"$TMP/switchyard-postgres-install.log" 2>&1 \
    || { cat "$TMP/switchyard-postgres-install.log" >&2; die "apt-get install postgresql failed"; }
  BIN="$(bindir)"
  [ -n "$BIN" ] || die "postgresql installed but initdb/pg_ctl not found under /usr/lib/postgresql/*/bin"
fi

# as CMD...: run as the server's user (postgres will not run as root).
RUNAS=""
if [ "$(id -u)" -eq 0 ]; then
  if id -u postgres >/dev/null 2>&1; then RUNAS=postgres; else RUNAS=nobody; fi
  command -v runuser >/dev/null 2>&1 || die "running as root needs runuser (util-linux) to drop to $RUNAS"
fi
as() {
  if [ -n "$RUNAS" ]; then runuser -u "$RUNAS" -- "$@"; else "$@"; fi
}

# Clusters left behind by a killed run (pid file naming a dead postmaster) are deleted.
for old in "$TMP"/switchyard-postgres-[0-9]*; do
  [ -d "$old" ] && [ -f "$old/data/postmaster.pid" ] || continue
  [ -n "$(postmaster_pid "$old")" ] || rm -rf -- "$old"
done

work="$(mktemp -d "$TMP/switchyard-postgres-init.XXXXXX")"
trap 'rm -rf -- "$work"' EXIT
[ -z "$RUNAS" ] || chown "$RUNAS" "$work"
as test -w "$work" || die "$RUNAS cannot write to $work: set TMPDIR to a directory it can reach (e.g. /tmp)"

# No fsync and trust auth on loopback only: a disposable test server, never a real one.
# Collation is linguistic (ICU en-US, PostgreSQL 15+) like most production databases, so tests
# catch code that assumes SQLite's byte order; plain C where ICU is unavailable.
locale=(--locale=C)
if "$BIN/initdb" --help 2>/dev/null | grep -q -- --icu-locale; then
  locale=(--locale=C.UTF-8 --locale-provider=icu --icu-locale=en-US)
fi
run_initdb() {
  as "$BIN/initdb" --pgdata="$work/data" --username="$SUPERUSER" --auth=trust --encoding=UTF8 "$@" \
    --no-sync --no-instructions >"$work/initdb.log" 2>&1
}
if ! run_initdb "${locale[@]}"; then
  # e.g. no C.UTF-8 locale or a server built without ICU: fall back to C.
  rm -rf -- "${work:?}/data"
  run_initdb --locale=C || { cat "$work/initdb.log" >&2; die "initdb failed"; }
fi

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

for _ in $(seq 20); do
  port=$((20000 + RANDOM % 40000))
  port_free "$port" || continue
  dir="$TMP/switchyard-postgres-$port"
  # The directory name carries the port so that stop finds it from the URL; claim it atomically.
  mkdir "$dir" 2>/dev/null || continue
  [ -z "$RUNAS" ] || chown "$RUNAS" "$dir"
  mv "$work/data" "$dir/data"
  # pg_ctl -w waits until the server accepts connections (bounded by -t); unix sockets are off,
  # so nothing needs /var/run/postgresql.
  # pg_ctl hands -o to a shell as one line, so it stays one line.
  opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories= -c max_connections=200"
  opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if as "$BIN/pg_ctl" start -w -t 30 -D "$dir/data" -l "$dir/postgres.log" -o "$opts" >/dev/null 2>&1; then
    if as "$BIN/psql" -h 127.0.0.1 -p "$port" -U "$SUPERUSER" -d postgres -v ON_ERROR_STOP=1 -qAt \
        -c "CREATE DATABASE $DB" >"$dir/createdb.log" 2>&1; then
      echo "postgres://$SUPERUSER@127.0.0.1:$port/$DB?sslmode=disable"
      exit 0
    fi
    cat "$dir/createdb.log" >&2
    stopdir "$dir"
    die "could not create database $DB"
  fi
  # Lost the port to someone else between the check and the bind: take the data to the next try.
  tail -n 5 "$dir/postgres.log" >&2 2>/dev/null || true
  [ -z "$(postmaster_pid "$dir")" ] || stopdir "$dir"
  if [ -d "$dir/data" ]; then
    mv "$dir/data" "$work/data"
    rm -rf -- "$dir"
  else
    break
  fi
done
die "could not start postgres on a free port (server log tails above)"
