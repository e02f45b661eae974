#!/usr/bin/env bash
# Switchyard beside its peers (make bench). Starts the fake upstream at zero
# latency and, in interleaved rounds (A B C … A B C …) so machine noise hits
# every target alike, measures with one load client (bin loadclient):
#   direct to the fake | Switchyard REST | Switchyard gRPC | nethttp-floor
#   (a bare net/http forwarder: the floor for a Go gateway) | Portkey | LiteLLM
# Figures: added latency p50/p99 at concurrency 1, req/s at concurrency 32
# and its ratio to direct, SSE time to first token, gateway CPU ms per 1,000
# requests (utime+stime of the serving process), peak RSS (VmHWM).
# Writes loadtest/results/bench.{md,json,png} and bench-raw.jsonl.
#
# Loopback only; every run is bounded by time and the whole script by a
# watchdog. Env knobs: ROUNDS (3), LAT_DUR (2s), TPUT_DUR (3s), TTFT_DUR (2s),
# CONC (32), PEERS ("portkey litellm"; empty skips them), BENCH_TIMEOUT (900 s),
# and, for a before/after of the REST gateway:
#   BASELINE_REV=<commit>  builds Switchyard at that commit (git archive into
#                          the scratch dir, so no worktree is left behind) and
#                          adds it as one more interleaved target,
#                          switchyard-rest-baseline: same config (its own
#                          ledger dir), same measurements; the report gets a
#                          before/after table (after ÷ before).
#   BASELINE_BIN=<file>    the same with a binary already built
#                          (BASELINE_LABEL names it; default the file name).
#   REV=<commit>           builds the Switchyard under test from that commit
#                          instead of the working tree (REV=HEAD: the last
#                          commit, without what is uncommitted beside it).
# e.g. BASELINE_REV=5d36ed3 REV=HEAD ROUNDS=5 make bench
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
LAT_DUR=${LAT_DUR:-2s}
TPUT_DUR=${TPUT_DUR:-3s}
TTFT_DUR=${TTFT_DUR:-2s}
CONC=${CONC:-32}
PEERS=${PEERS-portkey litellm}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-900}
BASELINE_REV=${BASELINE_REV:-}
BASELINE_BIN=${BASELINE_BIN:-}
REV=${REV:-}
if [[ -n $BASELINE_REV && -n $BASELINE_BIN ]]; then
	echo "bench: set BASELINE_REV or BASELINE_BIN, not both" >&2
	exit 2
fi
BASE_T=switchyard-rest-baseline
BASELINE=
if [[ -n $BASELINE_REV ]]; then
	BASELINE=$(git rev-parse --short=7 --verify "$BASELINE_REV^{commit}")
elif [[ -n $BASELINE_BIN ]]; then
	[[ -x $BASELINE_BIN ]] || { echo "bench: BASELINE_BIN $BASELINE_BIN is not an executable" >&2; exit 2; }
	BASELINE=${BASELINE_LABEL:-$(basename "$BASELINE_BIN")}
fi
[[ -z $REV ]] || REV=$(git rev-parse --short=7 --verify "$REV^{commit}")
OUT=loadtest/results
CACHE=$(scripts/bench-tools.sh cache)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/switchyard-bench.XXXXXX")
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		# Each server runs as its own process group (setsid): end the group
		# (resumed first, in case it was paused).
		kill -CONT -- "-$p" 2>/dev/null || true
		kill -TERM -- "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null || true
	done
	sleep 0.5
	for p in "${PIDS[@]}"; do kill -KILL -- "-$p" 2>/dev/null || true; done
	[[ -n ${WATCHDOG:-} ]] && kill "$WATCHDOG" 2>/dev/null || true
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# The whole run stops itself, whatever hangs.
# (Its own output is closed so a pipe from this script ends with the script.)
(
	exec >/dev/null 2>&1
	sleep "$BENCH_TIMEOUT" &
	s=$!
	trap 'kill $s; exit 0' TERM
	wait $s && kill -TERM $$
) &
WATCHDOG=$!

say() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# listening_pid PORT: the process that accepts on PORT (for npx and other
# launchers, that is the server itself, not its wrapper).
listening_pid() { ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2; }

wait_port() { # port, seconds, logfile
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		[[ -n $(listening_pid "$1") ]] && return 0
		# The process last started died: no point waiting.
		kill -0 "${PIDS[-1]}" 2>/dev/null || break
		sleep 0.1
	done
	say "nothing listens on $1 after $2 s; last log lines:"; tail -5 "$3" >&2 || true
	return 1
}

declare -A GROUP
start() { # name, logfile, command...
	local name=$1 log=$2; shift 2
	setsid "$@" >"$log" 2>&1 &
	PIDS+=($!)
	GROUP[$name]=$!
}

# only TARGET: pause (SIGSTOP) every gateway but TARGET for the length of a
# measurement, so an idle peer's background work (Python and Node runtimes
# have timers and GC of their own) cannot steal CPU from the one measured.
# The fake upstream always runs.
only() {
	local g
	for g in "${!GROUP[@]}"; do
		[[ $g == fake ]] && continue
		if [[ $g == "$1" ]]; then kill -CONT -- "-${GROUP[$g]}" 2>/dev/null || true; else kill -STOP -- "-${GROUP[$g]}" 2>/dev/null || true; fi
	done
}

# build_rev REV DIR: Switchyard as of commit REV into DIR/switchyard, from a
# git archive in the scratch dir (the checkout and its worktrees untouched).
build_rev() {
	local src
	src=$(mktemp -d "$WORK/src-$1.XXXXXX")
	git archive "$1" | tar -x -C "$src"
	(cd "$src" && go build -ldflags "-X main.version=$1" -o "$2/" ./server/cmd/switchyard)
	rm -rf "$src"
}

say "building${REV:+ (switchyard at $REV)}"
mkdir -p "$WORK/bin" "$OUT"
go build -o "$WORK/bin/" ./loadtest/fakeupstream/cmd/fakeupstream ./loadtest/cmd/loadclient ./loadtest/cmd/benchreport ./loadtest/cmd/floorproxy
if [[ -n $REV ]]; then build_rev "$REV" "$WORK/bin"; else go build -o "$WORK/bin/" ./server/cmd/switchyard; fi
B=$WORK/bin
SY_VERSION=${REV:-$(git describe --always --dirty 2>/dev/null || echo dev)}
if [[ -n $BASELINE_REV ]]; then
	say "building the baseline (switchyard at $BASELINE)"
	mkdir -p "$WORK/baseline"
	build_rev "$BASELINE" "$WORK/baseline"
	BASE_BIN=$WORK/baseline/switchyard
elif [[ -n $BASELINE_BIN ]]; then
	BASE_BIN=$BASELINE_BIN
fi
# The gateway config, with the usage ledger (SQLite) in the scratch dir.
CONFIG=$WORK/switchyard.yaml
{ cat loadtest/config/switchyard.yaml; echo "storage: {data_dir: $WORK/data}"; } >"$CONFIG"
# The baseline's: the same, with a ledger of its own (an older binary may not
# open a database a newer one has migrated).
BASE_CONFIG=$WORK/switchyard-baseline.yaml
{ cat loadtest/config/switchyard.yaml; echo "storage: {data_dir: $WORK/data-baseline}"; } >"$BASE_CONFIG"

say "tools (pinned, cached in $CACHE)"
scripts/bench-tools.sh plot $PEERS || true

FAKE_PORT=$(free_port)
start fake "$WORK/fake.log" "$B/fakeupstream" --listen "127.0.0.1:$FAKE_PORT" --records -1
wait_port "$FAKE_PORT" 10 "$WORK/fake.log"
export FAKE_ADDR=127.0.0.1:$FAKE_PORT
FAKE_URL=http://$FAKE_ADDR/v1

# Two Switchyard processes, one per protocol, so each has its own CPU and
# peak-RSS figures.
SYR_PORT=$(free_port)
SYG_PORT=$(free_port)
start switchyard-rest "$WORK/syr.log" "$B/switchyard" --config "$CONFIG" --listen "127.0.0.1:$SYR_PORT"
start switchyard-grpc "$WORK/syg.log" "$B/switchyard" --config "$CONFIG" --listen "127.0.0.1:$SYG_PORT"
if [[ -n $BASELINE ]]; then
	if ! "$BASE_BIN" --check --config "$BASE_CONFIG" >"$WORK/base-check.log" 2>&1; then
		say "the baseline binary refuses the config:"; tail -5 "$WORK/base-check.log" >&2
	fi
	BASE_PORT=$(free_port)
	start "$BASE_T" "$WORK/base.log" "$BASE_BIN" --config "$BASE_CONFIG" --listen "127.0.0.1:$BASE_PORT"
fi

# The floor: a bare net/http forwarder (loadtest/cmd/floorproxy), what any
# gateway built on Go's HTTP server and client costs before doing any work.
FLOOR_PORT=$(free_port)
start nethttp-floor "$WORK/floor.log" "$B/floorproxy" --listen "127.0.0.1:$FLOOR_PORT" --upstream "http://$FAKE_ADDR"

declare -A STATUS MODE SMODE URL HDRS PORT LABEL BASEOF
TARGETS=(direct switchyard-rest switchyard-grpc nethttp-floor)
# The baseline goes right after switchyard-rest (see round_targets).
[[ -z $BASELINE ]] || TARGETS=(direct switchyard-rest "$BASE_T" switchyard-grpc nethttp-floor)
MODE[direct]=http SMODE[direct]=sse URL[direct]=$FAKE_URL/chat/completions HDRS[direct]="Authorization: Bearer sk-fake"
MODE[switchyard-rest]=http SMODE[switchyard-rest]=sse URL[switchyard-rest]=http://127.0.0.1:$SYR_PORT/v1/chat/completions
MODE[switchyard-grpc]=grpc SMODE[switchyard-grpc]=grpc-stream URL[switchyard-grpc]=127.0.0.1:$SYG_PORT
MODE[nethttp-floor]=http SMODE[nethttp-floor]=sse URL[nethttp-floor]=http://127.0.0.1:$FLOOR_PORT/v1/chat/completions HDRS[nethttp-floor]="Authorization: Bearer sk-fake"
PORT[direct]=$FAKE_PORT PORT[switchyard-rest]=$SYR_PORT PORT[switchyard-grpc]=$SYG_PORT PORT[nethttp-floor]=$FLOOR_PORT
if [[ -n $BASELINE ]]; then
	MODE[$BASE_T]=http SMODE[$BASE_T]=sse URL[$BASE_T]=http://127.0.0.1:$BASE_PORT/v1/chat/completions PORT[$BASE_T]=$BASE_PORT
	LABEL[$BASE_T]="switchyard-rest (baseline $BASELINE)" BASEOF[$BASE_T]=switchyard-rest
	LABEL[switchyard-rest]="switchyard-rest ($SY_VERSION)"
fi
for t in "${TARGETS[@]}"; do STATUS[$t]=ok; done
wait_port "$SYR_PORT" 10 "$WORK/syr.log" || STATUS[switchyard-rest]="did not start"
wait_port "$SYG_PORT" 10 "$WORK/syg.log" || STATUS[switchyard-grpc]="did not start"
wait_port "$FLOOR_PORT" 10 "$WORK/floor.log" || STATUS[nethttp-floor]="did not start"
[[ -z $BASELINE ]] || wait_port "$BASE_PORT" 10 "$WORK/base.log" || STATUS[$BASE_T]="did not start"

for peer in $PEERS; do
	TARGETS+=("$peer")
	if [[ -f $CACHE/$peer.failed ]]; then
		STATUS[$peer]="not installable: $(head -c 200 "$CACHE/$peer.failed")"
		continue
	fi
	STATUS[$peer]=ok MODE[$peer]=http SMODE[$peer]=sse
	PORT[$peer]=$(free_port)
	URL[$peer]=http://127.0.0.1:${PORT[$peer]}/v1/chat/completions
	case $peer in
	portkey)
		HDRS[$peer]="x-portkey-provider: openai"$'\n'"x-portkey-custom-host: $FAKE_URL"$'\n'"Authorization: Bearer sk-fake"
		start portkey "$WORK/portkey.log" bash -c "cd '$CACHE/portkey' && exec npx --no-install @portkey-ai/gateway --port=${PORT[$peer]} --headless"
		wait_port "${PORT[$peer]}" 60 "$WORK/portkey.log" || STATUS[$peer]="did not start (see npx output)"
		;;
	litellm)
		# The proxy refuses to start without a master key (fair: so do we
		# off loopback); clients send it as a bearer token.
		LL_KEY=sk-bench-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
		HDRS[$peer]="Authorization: Bearer $LL_KEY"
		cat >"$WORK/litellm.yaml" <<-EOF
			model_list:
			  - model_name: fake-gpt
			    litellm_params: {model: openai/fake-gpt, api_base: "$FAKE_URL", api_key: sk-fake}
			litellm_settings: {telemetry: false, drop_params: true}
			general_settings: {master_key: "$LL_KEY"}
		EOF
		# The local cost map: the proxy otherwise fetches one from the internet.
		start litellm "$WORK/litellm.log" env LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR \
			"$CACHE/litellm-venv/bin/litellm" --config "$WORK/litellm.yaml" --host 127.0.0.1 --port "${PORT[$peer]}" --num_workers 1
		wait_port "${PORT[$peer]}" 120 "$WORK/litellm.log" || STATUS[$peer]="did not start (see litellm output)"
		;;
	*) STATUS[$peer]="unknown peer" ;;
	esac
done

# hdrs TARGET: fill HA with the target's -H arguments.
hdrs() {
	HA=()
	local line
	if [[ -n ${HDRS[$1]:-} ]]; then
		while IFS= read -r line; do HA+=(-H "$line"); done <<<"${HDRS[$1]}"
	fi
}

# lc TARGET KIND ROUND MODE extra-args...: one loadclient run.
lc() {
	local t=$1 kind=$2 round=$3 mode=$4; shift 4
	hdrs "$t"
	only "$t"
	"$B/loadclient" -label "$t|$kind|$round" -mode "$mode" -target "${URL[$t]}" "${HA[@]}" -out "$OUT/bench-raw.jsonl" "$@"
}

# Smoke: a few requests and streams each. A target whose unary requests
# fail is reported, not measured; one whose streams fail is measured without
# its stream figures, and the table says why.
declare -A PIDOF SSTATUS
for t in "${TARGETS[@]}"; do
	[[ ${STATUS[$t]} == ok ]] || continue
	hdrs "$t"
	SSTATUS[$t]=ok
	for m in "${MODE[$t]}" "${SMODE[$t]}"; do
		if ! "$B/loadclient" -label "$t|smoke|0" -mode "$m" -target "${URL[$t]}" "${HA[@]}" -n 10 -c 2 \
			-out "$WORK/smoke.jsonl" 2>"$WORK/smoke.err" || ! tail -1 "$WORK/smoke.jsonl" | grep -q '"errors":0'; then
			why="$m requests fail: $(sed -n 's/.*first error: //p' "$WORK/smoke.err" | tr -d '\r' | head -c 160)"
			if [[ $m == "${MODE[$t]}" ]]; then STATUS[$t]=$why; else SSTATUS[$t]=$why; fi
			say "$t: $why"
			break
		fi
	done
	[[ ${STATUS[$t]} == ok ]] || continue
	PIDOF[$t]=$(listening_pid "${PORT[$t]}")
	say "$t ready (pid ${PIDOF[$t]})"
done
rm -f "$OUT/bench-raw.jsonl"

say "warm-up"
for t in "${TARGETS[@]}"; do
	[[ ${STATUS[$t]} == ok ]] || continue
	lc "$t" warm 0 "${MODE[$t]}" -c 8 -n 2000 -d 10s 2>/dev/null
	[[ ${SSTATUS[$t]} == ok ]] && lc "$t" warm 0 "${SMODE[$t]}" -c 4 -n 200 -d 5s 2>/dev/null
done
rm -f "$OUT/bench-raw.jsonl"

# round_targets R: the targets in round R's order (RT). With a baseline, it
# and switchyard-rest trade places every other round, so neither always
# measures first.
round_targets() {
	RT=("${TARGETS[@]}")
	if [[ -n $BASELINE ]] && (($1 % 2 == 0)); then RT[1]=$BASE_T RT[2]=switchyard-rest; fi
}

for ((r = 1; r <= ROUNDS; r++)); do
	round_targets "$r"
	say "round $r/$ROUNDS: latency at c=1 ($LAT_DUR each)"
	for t in "${RT[@]}"; do [[ ${STATUS[$t]} == ok ]] && lc "$t" lat "$r" "${MODE[$t]}" -c 1 -d "$LAT_DUR" -warmup 50; done
	say "round $r/$ROUNDS: throughput at c=$CONC ($TPUT_DUR each)"
	for t in "${RT[@]}"; do [[ ${STATUS[$t]} == ok ]] && lc "$t" tput "$r" "${MODE[$t]}" -c "$CONC" -d "$TPUT_DUR" -warmup 200 -pid "${PIDOF[$t]}"; done
	say "round $r/$ROUNDS: streams, time to first token at c=1 ($TTFT_DUR each)"
	for t in "${RT[@]}"; do [[ ${STATUS[$t]} == ok && ${SSTATUS[$t]} == ok ]] && lc "$t" ttft "$r" "${SMODE[$t]}" -c 1 -d "$TTFT_DUR" -warmup 20; done
done

only all # resume everything

# Peak RSS of each serving process over the whole run.
jstr() { local v=${1//\\/\\\\}; v=${v//\"/\\\"}; printf '%s' "${v//$'\t'/ }"; }
hwm() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
MEM_GIB=$(awk '/MemTotal/ {printf "%.1f", $2/1048576}' /proc/meminfo)
CPU_MODEL=$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)
{
	printf '{"date":"%s","machine":"%s","rounds":%d,' "$(date -u +'%Y-%m-%d %H:%M UTC')" \
		"$(nproc) × ${CPU_MODEL:-unknown CPU}, ${MEM_GIB} GiB RAM, Linux $(uname -r)" "$ROUNDS"
	printf '"settings":"fake upstream at zero latency (16-word answers); one loadclient (Go, HTTP/1.1 keep-alive; grpc-go for gRPC) for every target; latency: c=1 for %s; throughput: c=%s for %s; TTFT: c=1 streams for %s",' \
		"$LAT_DUR" "$CONC" "$TPUT_DUR" "$TTFT_DUR"
	base_ver=; [[ -z $BASELINE ]] || base_ver="\"switchyard baseline\":\"$(jstr "$BASELINE")\","
	printf '"versions":{%s"switchyard":"%s","go":"%s","node":"%s","python":"%s","@portkey-ai/gateway":"%s","litellm":"%s"},' \
		"$base_ver" "$SY_VERSION" "$(go env GOVERSION)" "$(node --version 2>/dev/null || echo none)" \
		"$(python3 --version 2>&1 | cut -d' ' -f2)" \
		"$(sed -n 's/.*"version": "\(.*\)".*/\1/p' "$CACHE/portkey/node_modules/@portkey-ai/gateway/package.json" 2>/dev/null | head -1)" \
		"$("$CACHE/litellm-venv/bin/python" -c 'import importlib.metadata as m; print(m.version("litellm"))' 2>/dev/null || echo none)"
	printf '"targets":['
	sep=
	for t in "${TARGETS[@]}"; do
		gw=true; [[ $t == direct ]] && gw=false
		rss=0; [[ ${STATUS[$t]} == ok ]] && rss=$(hwm "${PIDOF[$t]}")
		printf '%s{"name":"%s","status":"%s","stream_status":"%s","peak_rss_kb":%s,"gateway":%s' \
			"$sep" "$t" "$(jstr "${STATUS[$t]}")" "$(jstr "${SSTATUS[$t]:-}")" "${rss:-0}" "$gw"
		[[ -z ${LABEL[$t]:-} ]] || printf ',"label":"%s"' "$(jstr "${LABEL[$t]}")"
		[[ -z ${BASEOF[$t]:-} ]] || printf ',"baseline_of":"%s"' "$(jstr "${BASEOF[$t]}")"
		printf '}'
		sep=,
	done
	printf ']}\n'
} >"$WORK/meta.json"

say "report"
"$B/benchreport" -raw "$OUT/bench-raw.jsonl" -meta "$WORK/meta.json" -md "$OUT/bench.md" -json "$OUT/bench.json"
if [[ -x $CACHE/plot-venv/bin/python ]]; then
	"$CACHE/plot-venv/bin/python" loadtest/plot_bench.py "$OUT/bench.json" "$OUT/bench.png" && say "chart: $OUT/bench.png"
else
	say "matplotlib not installable: no chart"
fi
