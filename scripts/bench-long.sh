#!/usr/bin/env bash
# A long purchase run on an existing bench environment (issue 11, docs/bench.md "How cost grows"): a gateway
# on ENV_DIR, `bench-load purchases` for BENCH_DURATION seconds (default 600) with the plan's terminals, and the
# WAL's size read every BENCH_WAL_SAMPLE_S seconds (default 10). Usage: bench-long.sh ENV_DIR PLAN [FIRST_ATC].
# Prints `wal: t_s=T wal_kib=K` lines, the load's lines, then `long: purchases/s=.. p99_ms=.. wal_max_kib=..`.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BENCH_BIN:-.build/release}
ENV_DIR=$1 PLAN=$2 FIRST_ATC=${3:-0}
DURATION=${BENCH_DURATION:-600}
SAMPLE=${BENCH_WAL_SAMPLE_S:-10}
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
LOG=$(mktemp "${TMPDIR:-/tmp}/hdf-long.XXXXXX")
trap 'stop_server; rm -f "$LOG"' EXIT
start_server "$LOG" gateway "$BIN/gateway" serve --dir "$ENV_DIR" --port 0 --metrics-port=-1 --log-level warning
port=$SERVER_PORT
SERVER=$SERVER_PID
OUT=$(mktemp "${TMPDIR:-/tmp}/hdf-long-out.XXXXXX")
"$BIN/bench-load" purchases --plan "$PLAN" --port "$port" --duration "$DURATION" --warmup 2 --first-atc "$FIRST_ATC" \
    --server-pid "$SERVER" >"$OUT" &
LOAD_PID=$!
max=0 t=0
while kill -0 "$LOAD_PID" 2>/dev/null; do
    kib=$(( $(stat -c %s "$ENV_DIR/ledger.sqlite-wal" 2>/dev/null || echo 0) / 1024 ))
    (( kib > max )) && max=$kib
    echo "wal: t_s=$t wal_kib=$kib"
    sleep "$SAMPLE"; t=$((t + SAMPLE))
done
wait "$LOAD_PID" || true
grep -v '^result' "$OUT"
rate=$(field purchases "$OUT" rate) p99=$(field purchases "$OUT" p99_ms) errors=$(field purchases "$OUT" errors)
rm -f "$OUT"
echo "long: seconds=$DURATION purchases/s=$rate p99_ms=$p99 wal_max_kib=$max errors=$errors"
