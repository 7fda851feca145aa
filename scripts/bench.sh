#!/usr/bin/env bash
# `make bench` (contract §7, docs/bench.md): a fresh environment in a temporary directory, then, in sequence
# so that no run disturbs another (numbered as docs/bench.md's steps, where step 1 is that environment):
#   2. tls_echo/s     the load process against a mutual-TLS echo server (same framing, same certificates)
#   3. purchases/s    the load process against a gateway process: N terminals, one mTLS connection each,
#                     one purchase in flight each; p50/p99 latency; the gateway's peak RSS
#   4. idle RSS       the gateway's RSS with BENCH_IDLE_CONNECTIONS idle mTLS connections open
#   4b. web space     `beneficiary serve` beside the gateway: BENCH_WEB_CLIENTS logged-in clients load "Ma carte"
#                     while the purchase load runs again: pages/s, p50/p99, purchases/s drop (a `web:` line)
#   4c. beneficiary   the beneficiary side in a second process, BENCH_PREPAYMENTS_PER_S prepayment vouchers a
#                     second, while the purchase load runs again: the worst prepayment's latency and the
#                     purchases/s lost (a `beneficiary:` line)
#   5. ledger_only/s  the same purchases straight on the ledger (Authorizer + group commit), gateway stopped
#   5b. ledger_floor/s the rows of those purchases written by raw SQLite calls on a copy of the ledger (the disk's limit)
#   6. gateway check  the ledger's invariants after all that
# The last line is
# `bench: purchases/s=N p50_ms=A p99_ms=B tls_echo/s=E ledger_only/s=L ledger_floor/s=F errors=0`.
# Expects the release build (`swift build -c release`, which `make bench` runs first).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

BIN=${BENCH_BIN:-.build/release}
TERMINALS=${BENCH_TERMINALS:-64}
CARDS=${BENCH_CARDS_PER_TERMINAL:-4}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-2}
IDLE=${BENCH_IDLE_CONNECTIONS:-1000}
LOAD_THREADS=${BENCH_LOAD_THREADS:-2}

PREPAYMENTS_PER_S=${BENCH_PREPAYMENTS_PER_S:-20}
WEB_CLIENTS=${BENCH_WEB_CLIENTS:-64}
WEB_PAUSES_MS=${BENCH_WEB_PAUSES_MS:-0 100}

for tool in gateway bench-load beneficiary; do
    [[ -x "$BIN/$tool" ]] || { echo "bench: $BIN/$tool is missing: run 'swift build -c release' first" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/hdf-bench.XXXXXX")
ENV_DIR="$WORK/env"
PLAN="$WORK/plan.json"

cleanup() {
    stop_server
    [[ "${BENCH_KEEP:-0}" == 1 ]] || rm -rf "$WORK"
}
trap cleanup EXIT

mib() { awk -v kib="$1" 'BEGIN { printf "%.1f", kib / 1024 }'; }

[[ "${BENCH_KEEP:-0}" != 1 ]] || echo "bench: BENCH_KEEP=1: $WORK stays after the run"
echo "bench: load average before: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores; other work on the machine lowers every figure)"
echo "bench: environment in $ENV_DIR ($TERMINALS terminals x $CARDS cards, ${WARMUP} s warm-up + ${DURATION} s per run)"
"$BIN/gateway" demo --dir "$ENV_DIR" >/dev/null
"$BIN/bench-load" prepare --dir "$ENV_DIR" --terminals "$TERMINALS" --cards-per-terminal "$CARDS" --out "$PLAN"

LOAD=(--plan "$PLAN" --duration "$DURATION" --warmup "$WARMUP" --threads "$LOAD_THREADS")

# 2. The TLS echo server, alone.
start_server "$WORK/echo-server.log" echo-server "$BIN/bench-load" echo-server --plan "$PLAN" --port 0
"$BIN/bench-load" echo "${LOAD[@]}" --port "$SERVER_PORT" --server-pid "$SERVER_PID" | tee "$WORK/echo.out"
stop_server

# 3. The gateway, under the purchases load; then 4. idle connections on the same gateway.
start_server "$WORK/gateway.log" gateway \
    "$BIN/gateway" serve --dir "$ENV_DIR" --port 0 --metrics-port=-1 --log-level warning ${BENCH_GATEWAY_ARGS:-}
GATEWAY_PID=$SERVER_PID
"$BIN/bench-load" purchases "${LOAD[@]}" --port "$SERVER_PORT" --server-pid "$GATEWAY_PID" | tee "$WORK/purchases.out"
PEAK_KIB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$GATEWAY_PID/status")
"$BIN/bench-load" idle --plan "$PLAN" --port "$SERVER_PORT" --connections "$IDLE" --gateway-pid "$GATEWAY_PID" \
    --threads "$LOAD_THREADS" | tee "$WORK/idle.out"

# 4b. The web space beside the purchase load (issue 9): `beneficiary serve` on the same ledger, WEB_CLIENTS
# logged-in beneficiaries loading "Ma carte" (scripts/bench-web.py) while the same purchase load runs again
# (its cards' counters start past the previous run's), once per pause in BENCH_WEB_PAUSES_MS (0: each client
# asks again as soon as it has its page; 100: a page every 100 ms per client at most); each run's purchases/s
# against the first run's. The web space runs at nice 10, as `make run` starts it (on a shared host a payment
# comes before a page); the clients run as SCHED_IDLE, because they stand for browsers on other machines.
GATEWAY_PORT=$SERVER_PORT
nice -n 10 "$BIN/beneficiary" serve --dir "$ENV_DIR" --port 0 >"$WORK/web.log" 2>&1 &
WEB_PID=$!
WEB_URL=""
for _ in $(seq 1 300); do
    WEB_URL=$(sed -n 's|^beneficiary web space: \(http://[^ ]*\)/$|\1|p' "$WORK/web.log" | head -n 1)
    [[ -n "$WEB_URL" ]] && break
    kill -0 "$WEB_PID" 2>/dev/null || break
    sleep 0.1
done
[[ -n "$WEB_URL" ]] || { echo "bench: the web space did not start:" >&2; cat "$WORK/web.log" >&2; exit 1; }
first_atc=20000
for pause in $WEB_PAUSES_MS; do
    "$BIN/bench-load" purchases "${LOAD[@]}" --port "$GATEWAY_PORT" --first-atc "$first_atc" --server-pid "$GATEWAY_PID" \
        >"$WORK/purchases-web-$pause.out" &
    PURCHASES_PID=$!
    chrt --idle 0 python3 scripts/bench-web.py --url "$WEB_URL" --manifest "$ENV_DIR/demo.json" --clients "$WEB_CLIENTS" \
        --pause-ms "$pause" --warmup "$WARMUP" --duration "$DURATION" | tee "$WORK/web-$pause.out"
    wait "$PURCHASES_PID" || true
    grep '^result' "$WORK/purchases-web-$pause.out" | sed "s/^result purchases /result purchases_with_web pause_ms=$pause /"
    first_atc=$((first_atc + 10000))
done
kill -TERM "$WEB_PID" 2>/dev/null || true
wait "$WEB_PID" 2>/dev/null || true

# 4c. The beneficiary side in a second process (issue 11): prepayment vouchers at a steady rate on the same
# ledger while the purchase load runs again.
"$BIN/bench-load" purchases "${LOAD[@]}" --port "$GATEWAY_PORT" --first-atc "$first_atc" --server-pid "$GATEWAY_PID" \
    >"$WORK/purchases-prepayments.out" &
PURCHASES_PID=$!
"$BIN/bench-load" prepayments --plan "$PLAN" --rate "$PREPAYMENTS_PER_S" --warmup "$WARMUP" --duration "$DURATION" \
    | tee "$WORK/prepayments.out"
wait "$PURCHASES_PID" || true
grep '^result' "$WORK/purchases-prepayments.out" | sed "s/^result purchases /result purchases_with_prepayments /"
first_atc=$((first_atc + 10000))
stop_server
if grep -qiE "error|critical" "$WORK/gateway.log"; then
    echo "bench: the gateway logged errors:" >&2; grep -iE "error|critical" "$WORK/gateway.log" | head -5 >&2
fi

# 5. The ledger alone, nothing else running.
"$BIN/bench-load" ledger-only --plan "$PLAN" --duration "$DURATION" --warmup "$WARMUP" | tee "$WORK/ledger.out"
# 5b. The disk's limit: the same rows by raw SQLite calls, on a copy of the ledger beside it.
"$BIN/bench-load" ledger-floor --plan "$PLAN" --duration "$DURATION" --warmup "$WARMUP" | tee "$WORK/floor.out"

# 6. Everything the runs wrote keeps the ledger's invariants.
WEB_ERRORS=0
for pause in $WEB_PAUSES_MS; do
    WEB_ERRORS=$(( WEB_ERRORS + $(field purchases "$WORK/purchases-web-$pause.out" errors) + $(field web "$WORK/web-$pause.out" errors) ))
done
CHECK_ERRORS=0
"$BIN/gateway" check --dir "$ENV_DIR" || CHECK_ERRORS=1

echo "bench: load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
ERRORS=$(( $(field tls_echo "$WORK/echo.out" errors) + $(field purchases "$WORK/purchases.out" errors)
           + WEB_ERRORS + $(field purchases "$WORK/purchases-prepayments.out" errors) + $(field prepayments "$WORK/prepayments.out" errors)
           + $(field ledger_floor "$WORK/floor.out" errors)
           + $(field idle "$WORK/idle.out" errors) + $(field ledger_only "$WORK/ledger.out" errors) + CHECK_ERRORS ))
echo "gateway_rss_peak_mib=$(mib "$PEAK_KIB") rss_${IDLE}_idle_mib=$(mib "$(field idle "$WORK/idle.out" rss_kib)")"
ALONE=$(field purchases "$WORK/purchases.out" rate)
for pause in $WEB_PAUSES_MS; do
    WITH_WEB=$(field purchases "$WORK/purchases-web-$pause.out" rate)
    echo "web: clients=$WEB_CLIENTS pause_ms=$pause pages/s=$(field web "$WORK/web-$pause.out" rate)" \
         "p50_ms=$(field web "$WORK/web-$pause.out" p50_ms) p99_ms=$(field web "$WORK/web-$pause.out" p99_ms)" \
         "purchases/s_alone=$ALONE purchases/s_with_web=$WITH_WEB" \
         "drop_pct=$(awk -v a="$ALONE" -v b="$WITH_WEB" 'BEGIN { printf "%.1f", (a > 0) ? (a - b) * 100 / a : 0 }')"
done
WITH_PREPAYMENTS=$(field purchases "$WORK/purchases-prepayments.out" rate)
echo "beneficiary: prepayments/s=$PREPAYMENTS_PER_S count=$(field prepayments "$WORK/prepayments.out" count)" \
     "p50_ms=$(field prepayments "$WORK/prepayments.out" p50_ms) p99_ms=$(field prepayments "$WORK/prepayments.out" p99_ms)" \
     "max_ms=$(field prepayments "$WORK/prepayments.out" max_ms)" \
     "purchases/s_alone=$ALONE purchases/s_with_prepayments=$WITH_PREPAYMENTS" \
     "drop_pct=$(awk -v a="$ALONE" -v b="$WITH_PREPAYMENTS" 'BEGIN { printf "%.1f", (a > 0) ? (a - b) * 100 / a : 0 }')"
echo "bench: purchases/s=$(field purchases "$WORK/purchases.out" rate)" \
     "p50_ms=$(field purchases "$WORK/purchases.out" p50_ms) p99_ms=$(field purchases "$WORK/purchases.out" p99_ms)" \
     "tls_echo/s=$(field tls_echo "$WORK/echo.out" rate) ledger_only/s=$(field ledger_only "$WORK/ledger.out" rate)" \
     "ledger_floor/s=$(field ledger_floor "$WORK/floor.out" rate)" \
     "errors=$ERRORS"
[[ "$ERRORS" == 0 ]]
