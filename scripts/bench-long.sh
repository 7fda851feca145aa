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
LOG=$(mktemp "${TMPDIR:-/tmp}/hdf-long.XXXXXX")
"$BIN/gateway" serve --dir "$ENV_DIR" --port 0 --metrics-port=-1 --log-level warning >"$LOG" 2>&1 &
SERVER_PID=$!
trap 'kill -TERM $SERVER_PID 2>/dev/null || true; wait $SERVER_PID 2>/dev/null || true; rm -f "$LOG"' EXIT
port=""
for _ in $(seq 1 600); do
    port=$(sed -n 's/.*gateway ready on [^ ]*:\([0-9]*\).*/\1/p' "$LOG" | head -n 1)
    [[ -n "$port" ]] && break
    sleep 0.1
done
[[ -n "$port" ]] || { echo "long: the gateway did not start" >&2; cat "$LOG" >&2; exit 1; }
OUT=$(mktemp "${TMPDIR:-/tmp}/hdf-long-out.XXXXXX")
"$BIN/bench-load" purchases --plan "$PLAN" --port "$port" --duration "$DURATION" --warmup 2 --first-atc "$FIRST_ATC" \
    --server-pid "$SERVER_PID" >"$OUT" &
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
rate=$(grep '^result purchases ' "$OUT" | tr ' ' '\n' | sed -n 's/^rate=//p')
p99=$(grep '^result purchases ' "$OUT" | tr ' ' '\n' | sed -n 's/^p99_ms=//p')
errors=$(grep '^result purchases ' "$OUT" | tr ' ' '\n' | sed -n 's/^errors=//p')
rm -f "$OUT"
echo "long: seconds=$DURATION purchases/s=$rate p99_ms=$p99 wal_max_kib=$max errors=$errors"
