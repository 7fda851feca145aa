#!/usr/bin/env bash
# Interoperability test: the gateway as a partner sees it from outside, with nothing but Python's
# standard library on the client side (protocol/examples/terminal.py).
#
#   fresh demo environment -> `gateway serve` on a free port -> terminal.py selftest and scenario
#   (the beneficiary side driven through the `beneficiary` binary) -> TLS refusals (no client
#   certificate, a self-signed one naming T001/P001) -> revocation of T001 while T002 keeps working
#   -> SIGTERM: graceful exit 0 -> `gateway check` on the ledger left behind.
#
# Needs the debug build (`swift build`). Prints `interop: N passed, M failed`; exits non-zero on any
# failure (the work directory, with the gateway's log, is kept then). INTEROP_VERBOSE=1 shows every
# check's output, not only a failed one's.
set -euo pipefail
cd "$(dirname "$0")/.."

export PYTHONDONTWRITEBYTECODE=1   # leave no __pycache__ in protocol/examples
GATEWAY=.build/debug/gateway
BENEFICIARY=.build/debug/beneficiary
TERMINAL=protocol/examples/terminal.py
for binary in "$GATEWAY" "$BENEFICIARY"; do
    [ -x "$binary" ] || { echo "interop: $binary is missing: run \`swift build\` first" >&2; exit 2; }
done

started=$(date +%s)
work=$(mktemp -d "${TMPDIR:-/tmp}/hdf-interop.XXXXXX")
D="$work/env"
gateway_pid=""
holder_pid=""
passed=0
failed=0

cleanup() {
    local status=$?
    for pid in "$holder_pid" "$gateway_pid"; do
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ]; then rm -rf "$work"; else echo "interop: work directory kept: $work" >&2; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM   # the EXIT trap runs on these too

ok()   { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
# check NAME COMMAND...: runs the command; its output is shown (indented) when it fails.
check() {
    local name=$1 output
    shift
    if output=$("$@" 2>&1); then
        ok "$name"
        if [ "${INTEROP_VERBOSE:-0}" = 1 ] && [ -n "$output" ]; then printf '%s\n' "$output" | sed 's/^/     /'; fi
    else
        fail "$name"
        printf '%s\n' "$output" | sed 's/^/     /'
    fi
}
finish() {
    echo "interop: $passed passed, $failed failed ($(( $(date +%s) - started )) s)"
    if [ "$failed" -eq 0 ]; then exit 0; else exit 1; fi
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# --- environment and gateway ---------------------------------------------------------------------
check "gateway demo creates a fresh environment" "$GATEWAY" demo --dir "$D"
[ -f "$D/demo.json" ] || finish

start_gateway() {
    port=$(free_port)
    # `--metrics-port=-1` (with `=`): the metrics endpoint is off.
    "$GATEWAY" serve --dir "$D" --port "$port" --metrics-port=-1 >"$work/gateway.log" 2>&1 &
    gateway_pid=$!
    for _ in $(seq 1 300); do
        grep -q "gateway ready on" "$work/gateway.log" && return 0
        kill -0 "$gateway_pid" 2>/dev/null || break
        sleep 0.1
    done
    return 1
}
ready=false
for attempt in 1 2 3; do   # the free port may be taken between choosing and binding it: try again
    if start_gateway; then ready=true; break; fi
    kill -KILL "$gateway_pid" 2>/dev/null || true
    wait "$gateway_pid" 2>/dev/null || true
    gateway_pid=""
done
if $ready; then ok "gateway serve ready on port $port"; else fail "gateway serve ready within 30 s"; sed 's/^/     /' "$work/gateway.log"; finish; fi

# --- the reference client ------------------------------------------------------------------------
check "terminal.py selftest (the contract's card vectors)" python3 "$TERMINAL" selftest

echo "== scenario (terminal T001)"
if python3 "$TERMINAL" scenario --dir "$D" --terminal T001 --port "$port" --beneficiary "$BENEFICIARY" | sed 's/^/   /'; then
    ok "terminal.py scenario"
else
    fail "terminal.py scenario"
fi

# --- TLS: who may connect --------------------------------------------------------------------------
# python_check NAME PYTHON: runs PYTHON with terminal.py importable and D, PORT, WORK, GATEWAY set.
python_check() {
    local name=$1 code=$2
    check "$name" env D="$D" PORT="$port" WORK="$work" GATEWAY="$GATEWAY" PYTHONPATH=protocol/examples python3 -c "
import os, ssl, subprocess, sys
from terminal import GatewayClient
D, PORT = os.environ['D'], int(os.environ['PORT'])
def client(cert=None, key=None):
    return GatewayClient('127.0.0.1', PORT, D + '/certs/ca.pem', cert, key, timeout=5)
def terminal(name):
    return client(D + '/certs/' + name + '.pem', D + '/certs/' + name + '.key')
def attempt(c):
    try:
        return c.request({'type': 'echo'}), None
    except Exception as error:
        return None, error
    finally:
        c.close()
def refused(c):
    '''True when the gateway serves nothing: the handshake fails, or the first read does.'''
    response, error = attempt(c)
    if response is not None:
        print('SERVED:', response)
        return False
    print('refused:', type(error).__name__, error)
    return not isinstance(error, ssl.SSLCertVerificationError)   # that would be our side refusing
def served(c):
    response, error = attempt(c)
    assert response is not None and response['code'] == '00', (response, error)
    return response
$code"
}

python_check "no client certificate: nothing served" "served(terminal('T002')); sys.exit(0 if refused(client()) else 1)"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=T001/O=P001" \
    -keyout "$work/rogue.key" -out "$work/rogue.pem" >/dev/null 2>&1
python_check "self-signed certificate CN=T001 O=P001: nothing served" \
    "served(terminal('T001')); sys.exit(0 if refused(client(os.environ['WORK'] + '/rogue.pem', os.environ['WORK'] + '/rogue.key')) else 1)"

python_check "T001 revoked: 58 on its open connection, then closed; new handshakes fail; T002 still served" "
open_connection = terminal('T001')
before = open_connection.request({'type': 'echo'})
assert before['code'] == '00', before
subprocess.run([os.environ['GATEWAY'], 'terminal', 'revoke', '--dir', D, '--id', 'T001'], check=True, capture_output=True)
answer = open_connection.request({'type': 'echo', 'id': 'after-revoke'})
assert answer['code'] == '58' and answer['id'] == 'after-revoke', answer
try:
    extra = open_connection.request({'type': 'echo'})
    sys.exit('the revoked connection was not closed: %r' % extra)
except Exception as error:
    print('open connection closed after 58:', error)
assert refused(terminal('T001')), 'a new T001 connection was served'
print('T002:', served(terminal('T002')))
"

# --- TLS session resumption (protocol/wire.md "Session resumption") --------------------------------
# A resumed TLS 1.3 session skips the certificate exchange. Either the gateway does not resume, or it
# checks the terminal's identity on the resumed session as on a full handshake: an active terminal is
# served, a revoked one is not. The attempt is asserted (a ticket was offered back), and the outcome.
python_check "TLS resumption (session=): attempted; resumed with the identity checked, or not resumed" "
import socket
first = terminal('T003')
print('full handshake:', first.request({'type': 'echo', 'id': 'full'})['code'])
session = first.sock.session
assert session is not None and session.has_ticket, 'the client holds no ticket to offer: no attempt possible'
def resume(expect_served):
    raw = socket.create_connection(('127.0.0.1', PORT), timeout=5)
    c = terminal('T003')
    c.context = first.context
    c.sock = first.context.wrap_socket(raw, server_hostname='127.0.0.1', session=session)
    reused = c.sock.session_reused
    response, error = attempt(c)
    print('attempt with session=: resumed =', reused, '; answer:', response, error or '')
    if expect_served:
        assert response is not None and response['code'] == '00', (response, error)
    else:
        assert response is None or response['code'] == '58', 'a revoked terminal was served on a resumed session'
    return reused
reused = resume(True)
print('outcome: the session WAS resumed and the identity checked' if reused else 'outcome: the gateway did NOT resume')
first.close()
subprocess.run([os.environ['GATEWAY'], 'terminal', 'revoke', '--dir', D, '--id', 'T003'], check=True, capture_output=True)
resume(False)
"

# --- log injection: what a peer sends cannot forge a log line ---------------------------------------
python_check "a type holding a newline and a NUL is logged escaped" "
c = terminal('T002')
answer = c.request({'type': 'x\nFAKE LOG LINE terminal=T999 code=00\u0000', 'id': 'inject'})
print('answer:', answer)
assert answer['code'] == '12', answer
c.close()
import time; time.sleep(0.3)
log = open(os.environ['WORK'] + '/gateway.log', encoding='utf-8', errors='replace').read()
assert not any(line.startswith('FAKE LOG LINE') for line in log.splitlines()), 'a forged line in the log'
assert r'\\0' in log and r'x\\nFAKE LOG LINE' in log, 'the escaped type is not in the log'
assert '\x00' not in log, 'a NUL in the log'
print([line for line in log.splitlines() if 'FAKE' in line])
"

# --- graceful stop, then the ledger's invariants -------------------------------------------------
# A partner's idle connection stays open through the stop: it must not hold the gateway up.
env D="$D" PORT="$port" PYTHONPATH=protocol/examples python3 -c "
import os, time
from terminal import GatewayClient
D = os.environ['D']
c = GatewayClient('127.0.0.1', int(os.environ['PORT']), D + '/certs/ca.pem', D + '/certs/T002.pem', D + '/certs/T002.key')
c.request({'type': 'echo'})
time.sleep(30)
" >/dev/null 2>&1 &
holder_pid=$!
sleep 0.5

kill -TERM "$gateway_pid"
stopped=false
for _ in $(seq 1 150); do
    if ! kill -0 "$gateway_pid" 2>/dev/null; then stopped=true; break; fi
    sleep 0.1
done
if $stopped; then
    if wait "$gateway_pid"; then rc=0; else rc=$?; fi
    gateway_pid=""
    if [ "$rc" -eq 0 ]; then ok "SIGTERM: gateway exited 0 within 15 s"; else fail "SIGTERM: gateway exited $rc"; tail -20 "$work/gateway.log" | sed 's/^/     /'; fi
else
    fail "SIGTERM: gateway still running after 15 s"
fi
kill -KILL "$holder_pid" 2>/dev/null || true
wait "$holder_pid" 2>/dev/null || true
holder_pid=""

check "gateway check: the ledger's invariants hold" "$GATEWAY" check --dir "$D"

finish
