#!/usr/bin/env bash
# compare-storage.sh: the durable storage modes against memory mode, in one run.
#
# For every scenario (relay at each --relay-rates rate, assign) and every
# durable mode (sync = always, sync = interval), it starts two fresh servers
# from one generated roster, each on its own loopback ports:
#   - the server under test: storage.mode = "file", storage.sync = MODE, its own data_dir;
#   - the baseline: storage.mode = "memory";
# and runs the harness against the first with the second as --baseline
# (--baseline-protocol switchboard): ROUNDS rounds, server and baseline
# alternating, medians and ratios, CPU steal from /proc/stat per run. Then it
# saves the durable server's log metrics, stops both servers and deletes the
# data_dir. Everything is bounded in time and cleaned up on exit.
#
# Usage (from the repository root, after a release build):
#   loadtest/compare-storage.sh [--out DIR] [--rounds N] [--modes "always interval"]
#       [--scenarios "relay assign"] [--relay-rates "10000 40000"] [--pairs N]
#       [--duration S] [--warmup S] [--agents N] [--assign-rate R] [--assign-duration S]
#       [--hold S] [--burst N] [--bin DIR] [--port-base P] [--tag NAME]
#       [--server-env "KEY=VALUE ..."] [--baseline-bin DIR]
#
# --server-env adds environment overrides for the durable server only, e.g.
# --server-env "SWITCHBOARD_STORAGE__SNAPSHOT_EVERY=1000000000 SWITCHBOARD_STORAGE__SNAPSHOT_INTERVAL=1h"
# to keep snapshots out of the runs (use --tag to keep such reports apart).
#
# --baseline-bin DIR runs the baseline from another build's `switchboard` (a
# release build of an earlier commit): with --server-env
# "SWITCHBOARD_STORAGE__MODE=memory" both servers keep state in memory and the
# ratios compare the two builds, e.g. before and after a change to the
# session layer (docs/performance.md says which runs used it).
#
# Output in --out: storage-<tag><scenario>[-<rate>]-<mode>.{json,txt} (the
# harness's report and table) and ...-log-metrics.txt (switchboard_log_* and
# switchboard_snapshot_* series of the durable server after the run).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/loadtest/results/$(date -u +%F)"
ROUNDS=5
MODES="always interval"
SCENARIOS="relay assign"
RELAY_RATES="10000 40000"
PAIRS=1000
DURATION=10
WARMUP=2
AGENTS=500
ASSIGN_RATE=200
ASSIGN_DURATION=10
HOLD=1
BURST=0
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release"
PORT_BASE=18300
TAG=""
SERVER_ENV=""
BASELINE_BIN=""

while [ $# -gt 0 ]; do
    case "$1" in
        --out) OUT=$2; shift 2 ;;
        --rounds) ROUNDS=$2; shift 2 ;;
        --modes) MODES=$2; shift 2 ;;
        --scenarios) SCENARIOS=$2; shift 2 ;;
        --relay-rates) RELAY_RATES=$2; shift 2 ;;
        --pairs) PAIRS=$2; shift 2 ;;
        --duration) DURATION=$2; shift 2 ;;
        --warmup) WARMUP=$2; shift 2 ;;
        --agents) AGENTS=$2; shift 2 ;;
        --assign-rate) ASSIGN_RATE=$2; shift 2 ;;
        --assign-duration) ASSIGN_DURATION=$2; shift 2 ;;
        --hold) HOLD=$2; shift 2 ;;
        --burst) BURST=$2; shift 2 ;;
        --bin) BIN=$2; shift 2 ;;
        --port-base) PORT_BASE=$2; shift 2 ;;
        --tag) TAG="$2-"; shift 2 ;;
        --server-env) SERVER_ENV=$2; shift 2 ;;
        --baseline-bin) BASELINE_BIN=$2; shift 2 ;;
        -h|--help) sed -n '2,35p' "$0"; exit 0 ;;
        *) echo "compare-storage.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

LT="$BIN/switchboard-loadtest"
SERVER="$BIN/switchboard"
BASELINE_SERVER="${BASELINE_BIN:-$BIN}/switchboard"
for exe in "$LT" "$SERVER" "$BASELINE_SERVER" "$BIN/baseline-relay"; do
    [ -x "$exe" ] || { echo "compare-storage.sh: no $exe: cargo build --release -p switchboard-server -p switchboard-loadtest" >&2; exit 2; }
done
for mode in $MODES; do
    case "$mode" in always|interval|none) ;; *) echo "compare-storage.sh: unknown sync mode $mode" >&2; exit 2 ;; esac
done
mkdir -p "$OUT"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/sb-compare-storage.XXXXXX")
PIDS=()

# Stops the servers this script started (by pid), then removes the work directory.
stop_servers() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
cleanup() {
    stop_servers
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# One roster for every server: 2,000 agents of capacity 5 in group "load".
CONFIG="$WORK/load.toml"
"$LT" gen-config --agents 2000 --capacity 5 --out "$CONFIG"

# start_server NAME EXE PUBLIC_PORT ADMIN_PORT ENV...: starts a server in the background.
start_server() {
    local name=$1 exe=$2 public=$3 admin=$4
    shift 4
    env SWITCHBOARD_LISTEN="127.0.0.1:$public" SWITCHBOARD_ADMIN_LISTEN="127.0.0.1:$admin" "$@" \
        "$exe" --config "$CONFIG" >"$WORK/$name.log" 2>&1 &
    PIDS+=($!)
}

# wait_ready PORT NAME: /readyz 200 within 60 s, or fail.
wait_ready() {
    local port=$1 name=$2
    for _ in $(seq 600); do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "http://127.0.0.1:$port/readyz")" = 200 ]; then
            return 0
        fi
        sleep 0.1
    done
    echo "compare-storage.sh: the $name server was not ready within 60 s:" >&2
    cat "$WORK/$name.log" >&2
    exit 1
}

steal() { awk '/^cpu /{print $9}' /proc/stat; }

MEM_PORT=$PORT_BASE
MEM_ADMIN=$((PORT_BASE + 1))
DUR_PORT=$((PORT_BASE + 10))
DUR_ADMIN=$((PORT_BASE + 11))

# run_pair SCENARIO MODE NAME HARNESS_ARGS...: fresh servers, one harness run, clean up.
run_pair() {
    local scenario=$1 mode=$2 name=$3
    shift 3
    local data_dir="$WORK/data-$name"
    start_server "memory-$name" "$BASELINE_SERVER" "$MEM_PORT" "$MEM_ADMIN" SWITCHBOARD_STORAGE__MODE=memory
    # shellcheck disable=SC2086 # SERVER_ENV is a list of KEY=VALUE words
    start_server "$mode-$name" "$SERVER" "$DUR_PORT" "$DUR_ADMIN" SWITCHBOARD_STORAGE__MODE=file \
        SWITCHBOARD_STORAGE__SYNC="$mode" SWITCHBOARD_STORAGE__DATA_DIR="$data_dir" $SERVER_ENV
    wait_ready "$MEM_PORT" "memory-$name"
    wait_ready "$DUR_PORT" "$mode-$name"
    # Each round is two runs of at most (duration + warm-up + 60 s of set-up, drain and pauses).
    local bound=$(( ROUNDS * 2 * (${DURATION%.*} + ${WARMUP%.*} + ${ASSIGN_DURATION%.*} + 60) + 60 ))
    local steal_before
    steal_before=$(steal)
    echo "== $name: $scenario against sync = $mode ${SERVER_ENV:+($SERVER_ENV) }baseline memory${BASELINE_BIN:+ of $BASELINE_SERVER} ($ROUNDS rounds; steal before $steal_before)" >&2
    timeout --kill-after=10 "$bound" "$LT" "$scenario" \
        --url "ws://127.0.0.1:$DUR_PORT" --admin-url "http://127.0.0.1:$DUR_ADMIN" --server-config "$CONFIG" \
        --baseline "ws://127.0.0.1:$MEM_PORT" --baseline-protocol switchboard \
        --rounds "$ROUNDS" --quiet --json "$OUT/storage-$name.json" "$@" | tee "$OUT/storage-$name.txt"
    echo "machine steal (/proc/stat cpu, ticks): before $steal_before after $(steal)" | tee -a "$OUT/storage-$name.txt"
    curl -s --max-time 5 "http://127.0.0.1:$DUR_ADMIN/metrics" | grep -E '^switchboard_(log|snapshot)_' \
        >"$OUT/storage-$name-log-metrics.txt" || true
    stop_servers
    rm -rf "$data_dir"
}

for scenario in $SCENARIOS; do
    for mode in $MODES; do
        case "$scenario" in
            relay)
                for rate in $RELAY_RATES; do
                    run_pair relay "$mode" "${TAG}relay-$rate-$mode" \
                        --pairs "$PAIRS" --rate "$rate" --duration "$DURATION" --warmup "$WARMUP"
                done
                ;;
            assign)
                run_pair assign "$mode" "${TAG}assign-$mode" --agents "$AGENTS" --rate "$ASSIGN_RATE" \
                    --duration "$ASSIGN_DURATION" --hold "$HOLD" --burst "$BURST"
                ;;
            *) echo "compare-storage.sh: unknown scenario $scenario (relay or assign)" >&2; exit 2 ;;
        esac
    done
done
echo "reports in $OUT" >&2
