#!/usr/bin/env bash
# Load tests (make loadtest): Switchyard in front of the fake upstream, on
# loopback, every step bounded in count and time.
#   1. ghz scenarios over gRPC (schemas by server reflection: ghz's proto
#      parser rejects proto3 `optional`, which chat.proto uses):
#      unary chat, streaming chat, and the cache-hit path (one request
#      repeated with switchyard.cache_control default on a cache: {mode: all}
#      route); the hit ratio comes from the response's switchyard.cache
#      (loadclient sample) and from the upstream's request counter.
#   2. a soak: SOAK_RATE requests/s for SOAK_SECS over REST; zero errors and
#      RSS flat within 10% are checked.
#   3. a stream soak: STREAMS concurrent streams held open against a slow
#      upstream; RSS per open stream (target <= 30 KB).
# Ends with a summary table, also written to loadtest/results/loadtest.md.
#
# Env: GHZ_N (20000), GHZ_C (16), SOAK_SECS (60), SOAK_RATE (1000),
# STREAMS (10000), STREAM_MODE (grpc-stream | sse; 10,000 SSE streams need
# 20,000+ descriptors in the gateway, over this machine's hard limit), SKIP="soak streams"
# to leave steps out, LOADTEST_TIMEOUT (900 s) for the whole run.
set -euo pipefail
cd "$(dirname "$0")/.."

GHZ_N=${GHZ_N:-20000}
GHZ_C=${GHZ_C:-16}
SOAK_SECS=${SOAK_SECS:-60}
SOAK_RATE=${SOAK_RATE:-1000}
STREAMS=${STREAMS:-10000}
STREAM_MODE=${STREAM_MODE:-grpc-stream}
SKIP=${SKIP:-}
LOADTEST_TIMEOUT=${LOADTEST_TIMEOUT:-900}
OUT=loadtest/results
CACHE=$(scripts/bench-tools.sh cache)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-loadtest.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true; done
	sleep 0.3
	for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	[[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
(
	exec >/dev/null 2>&1
	sleep "$LOADTEST_TIMEOUT" &
	s=$!
	trap 'kill $s; exit 0' TERM
	wait $s && kill -TERM $$
) &
WATCHDOG=$!

say() { printf '[loadtest %s] %s\n' "$(date +%T)" "$*" >&2; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
listening_pid() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }
wait_port() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -n $(listening_pid "$1") ]] && return 0
		# The process last started died: no point waiting.
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	say "nothing listens on $1 after $2 s"; tail -5 "$3" >&2 || true
	return 1
}
start() { local log=$1; shift; setsid "$@" >"$log" 2>&1 & PIDS+=($!); }
skip() { [[ " $SKIP " == *" $1 "* ]]; }

# Many sockets for the stream soak (client, gateway and upstream each hold
# one or two per stream); children inherit the limit.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < 4 * STREAMS + 1000)); then
	say "ulimit -n is $(ulimit -n): the stream soak opens $STREAMS streams and may run out of descriptors"
fi

say "building"
mkdir -p "$WORK/bin" "$OUT"
go build -o "$WORK/bin/" ./server/cmd/switchyard ./loadtest/fakeupstream/cmd/fakeupstream ./loadtest/cmd/loadclient ./loadtest/cmd/benchreport
B=$WORK/bin
# The gateway config, with the usage ledger (SQLite) in the scratch dir.
CONFIG=$WORK/switchyard.yaml
{ cat loadtest/config/switchyard.yaml; echo "storage: {data_dir: $WORK/data}"; } >"$CONFIG"
scripts/bench-tools.sh ghz
GHZ=$CACHE/bin/ghz

FAKE_PORT=$(free_port)
start "$WORK/fake.log" "$B/fakeupstream" --listen "127.0.0.1:$FAKE_PORT" --records 0
wait_port "$FAKE_PORT" 10 "$WORK/fake.log"
export FAKE_ADDR=127.0.0.1:$FAKE_PORT
SY_PORT=$(free_port)
start "$WORK/sy.log" "$B/switchyard" --config "$CONFIG" --listen "127.0.0.1:$SY_PORT"
wait_port "$SY_PORT" 10 "$WORK/sy.log"
SY=127.0.0.1:$SY_PORT
SY_PID=$(listening_pid "$SY_PORT")

PROTO=(--insecure) # schemas by reflection
MSG='"messages":[{"role":"user","content":"Say hello in a few words."}]'
ghz_run() { # name, call, data
	say "ghz $1: c=$GHZ_C n=$GHZ_N"
	timeout 120 "$GHZ" "${PROTO[@]}" --call "$2" -d "$3" -c "$GHZ_C" -n "$GHZ_N" --connections 1 \
		-O json -o "$WORK/ghz-$1.json" "$SY" || say "ghz $1 exited with $?"
	GHZ_SPEC+="${GHZ_SPEC:+,}$1=$WORK/ghz-$1.json"
}
upstream_calls() { curl -s "http://$FAKE_ADDR/_control/records?limit=0" | sed -n 's/.*"total":\([0-9]*\).*/\1/p'; }

GHZ_SPEC=
ghz_run unary switchyard.v1.ChatService.CreateChatCompletion "{\"model\":\"fake-gpt\",$MSG}"
ghz_run stream switchyard.v1.ChatService.StreamChatCompletion "{\"model\":\"fake-gpt\",\"stream_options\":{\"include_usage\":true},$MSG}"
curl -s -X POST "http://$FAKE_ADDR/_control/reset" >/dev/null
ghz_run cache-hit switchyard.v1.ChatService.CreateChatCompletion \
	"{\"model\":\"cached\",$MSG,\"switchyard\":{\"cache_control\":\"CACHE_CONTROL_UNSPECIFIED\"}}"
UP=$(upstream_calls)
CACHE_NOTE="cache-hit: $GHZ_N requests through ghz cost ${UP:-?} upstream calls (upstream-side hit ratio $(awk -v u="${UP:-0}" -v n="$GHZ_N" 'BEGIN{printf "%.1f%%", 100*(1-u/n)}'))"
say "$CACHE_NOTE"
# The same request through loadclient, which reads switchyard.cache from
# every response.
"$B/loadclient" -label cache-hit-sample -mode grpc -target "$SY" -model cached -cache-control default \
	-c 4 -n 2000 -out "$WORK/extra.jsonl"

if ! skip soak; then
	say "soak: $SOAK_RATE req/s for ${SOAK_SECS}s over REST (after a 10 s warm-up at the same rate)"
	"$B/loadclient" -label soak-warmup -mode http -target "http://$SY/v1/chat/completions" -c 64 -rate "$SOAK_RATE" -d 10s >/dev/null
	"$B/loadclient" -label soak -mode http -target "http://$SY/v1/chat/completions" -c 64 -rate "$SOAK_RATE" \
		-d "${SOAK_SECS}s" -pid "$SY_PID" -sample 1s -out "$WORK/soak.jsonl"
	cat "$WORK/soak.jsonl" >>"$WORK/extra.jsonl"
	SOAK_NOTE=$(python3 - "$WORK/soak.jsonl" "$SOAK_RATE" <<-'EOF'
		import json, sys
		r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
		s = r["proc"]["rss_kb_samples"] or [r["proc"]["after"]["rss_kb"]]
		lo, hi = min(s), max(s)
		flat = (hi - lo) / lo * 100
		ok = r["errors"] == 0 and flat <= 10 and r["rps"] >= 0.95 * float(sys.argv[2])
		print(f"soak: {r['requests']} ok, {r['errors']} errors, {r['rps']:.0f} req/s, p99 {r['latency']['p99_ms']:.3f} ms; "
		      f"RSS {lo/1024:.1f}-{hi/1024:.1f} MB over {len(s)} samples = {flat:.1f}% spread "
		      f"-> {'PASS' if ok else 'FAIL'} (zero errors, RSS flat within 10%)")
	EOF
	)
	say "$SOAK_NOTE"
fi

if ! skip streams; then
	say "stream soak: $STREAMS $STREAM_MODE streams held open against a slow upstream"
	# Its own gateway and upstream, so the baseline RSS is the serving one.
	SFAKE_PORT=$(free_port)
	start "$WORK/sfake.log" "$B/fakeupstream" --listen "127.0.0.1:$SFAKE_PORT" --records 0 --token-delay 60s --tokens 4
	wait_port "$SFAKE_PORT" 10 "$WORK/sfake.log"
	SSY_PORT=$(free_port)
	{ cat loadtest/config/switchyard.yaml; echo "storage: {data_dir: $WORK/data-streams}"; } >"$WORK/streams.yaml"
	FAKE_ADDR=127.0.0.1:$SFAKE_PORT start "$WORK/ssy.log" "$B/switchyard" --config "$WORK/streams.yaml" --listen "127.0.0.1:$SSY_PORT"
	wait_port "$SSY_PORT" 10 "$WORK/ssy.log"
	SSY_PID=$(listening_pid "$SSY_PORT")
	# Warm the gateway (one short stream) so the baseline is a running server.
	"$B/loadclient" -mode sse -target "http://127.0.0.1:$SSY_PORT/v1/chat/completions" -n 1 -prompt '[[fake:token_delay=0]] hi' >/dev/null 2>&1 || true
	target="http://127.0.0.1:$SSY_PORT/v1/chat/completions"
	[[ $STREAM_MODE == grpc-stream ]] && target="127.0.0.1:$SSY_PORT"
	"$B/loadclient" -hold "$STREAMS" -mode "$STREAM_MODE" -target "$target" -pid "$SSY_PID" -conns $(((STREAMS + 199) / 200)) \
		-parallel 200 -open-timeout 90s -settle 3s -hold-for 5s -out "$WORK/hold.json" || say "stream soak failed"
	STREAM_NOTE=$(python3 - "$WORK/hold.json" <<-'EOF'
		import json, sys
		r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
		ok = r["opened"] == r["streams"] and r["per_stream_kb"] <= 30 and r["still_open"] == r["opened"]
		print(f"stream soak ({r['mode']}): {r['opened']}/{r['streams']} open in {r['open_s']:.1f}s, {r['failed']} failed; "
		      f"gateway RSS {r['before']['rss_kb']/1024:.1f} -> {r['open']['rss_kb']/1024:.1f} MB = {r['per_stream_kb']:.1f} KB per stream; "
		      f"{r['still_open']} still open at the end -> {'PASS' if ok else 'FAIL'} (all open, <= 30 KB each)")
	EOF
	) || STREAM_NOTE="stream soak: no result"
	say "$STREAM_NOTE"
fi

{
	echo "## Load test — $(date -u +'%Y-%m-%d %H:%M UTC')"
	echo
	echo "Machine: $(nproc) × $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo) GiB; $(scripts/bench-tools.sh versions | cut -d';' -f1); switchyard $(git describe --always --dirty 2>/dev/null || echo dev); fake upstream at zero latency."
	echo
	"$B/benchreport" -ghz "$GHZ_SPEC" -extra "$WORK/extra.jsonl"
	echo
	echo "- $CACHE_NOTE"
	[[ -n ${SOAK_NOTE:-} ]] && echo "- $SOAK_NOTE"
	[[ -n ${STREAM_NOTE:-} ]] && echo "- $STREAM_NOTE"
} | tee "$OUT/loadtest.md"
