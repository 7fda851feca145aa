#!/usr/bin/env bash
# How the purchases' cost grows with the number of terminals (issue 11, docs/bench.md "How cost grows"):
# for each count in BENCH_SCALING_TERMINALS (default 1 8 64 256 1000), a fresh environment, a gateway process,
# and `bench-load purchases` with one connection per terminal and one request in flight on each.
# One line per count: `scaling: terminals=N purchases/s=R p50_ms=A p99_ms=B errors=E`. BENCH_GATEWAY_ARGS: more
# options of `gateway serve` (e.g. `--checkpoints thread`).
# Expects the release build (`swift build -c release`).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BENCH_BIN:-.build/release}
COUNTS=${BENCH_SCALING_TERMINALS:-1 8 64 256 1000}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
WORK=$(mktemp -d "${TMPDIR:-/tmp}/hdf-scaling.XXXXXX")
trap 'stop_server; rm -rf "$WORK"' EXIT

echo "scaling: load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for count in $COUNTS; do
    env_dir="$WORK/env-$count"
    "$BIN/gateway" demo --dir "$env_dir" >/dev/null
    "$BIN/bench-load" prepare --dir "$env_dir" --terminals "$count" --cards-per-terminal 4 --out "$WORK/plan-$count.json" >/dev/null
    # shellcheck disable=SC2086 # BENCH_GATEWAY_ARGS is a list of options
    start_server "$WORK/gateway-$count.log" gateway \
        "$BIN/gateway" serve --dir "$env_dir" --port 0 --metrics-port=-1 --log-level warning ${BENCH_GATEWAY_ARGS:-}
    port=$SERVER_PORT
    "$BIN/bench-load" purchases --plan "$WORK/plan-$count.json" --port "$port" --duration "$DURATION" --warmup "$WARMUP" \
        --threads 2 --server-pid "$SERVER_PID" >"$WORK/purchases-$count.out"
    stop_server
    echo "scaling: terminals=$count purchases/s=$(field purchases "$WORK/purchases-$count.out" rate)" \
         "p50_ms=$(field purchases "$WORK/purchases-$count.out" p50_ms) p99_ms=$(field purchases "$WORK/purchases-$count.out" p99_ms)" \
         "errors=$(field purchases "$WORK/purchases-$count.out" errors)"
done
