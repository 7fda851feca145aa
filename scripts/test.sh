#!/usr/bin/env bash
# `make test`: build once (debug, tests included), start pcscd with the vpcd test reader, run every test
# against that build (swift test, then the interoperability tests), stop pcscd.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
echo "== build"
swift build --build-tests 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Wrapping|Linking|Generating)" || true
swift build --build-tests >/dev/null   # fails the script if the build above failed

echo "== pcscd with the vpcd test reader"
# Only one pcscd can run per machine; a leftover one (not ours) would hold the readers.
if pgrep -x pcscd >/dev/null && ! scripts/pcscd.sh status >/dev/null 2>&1; then
  pkill -x pcscd || true
  sleep 1
fi
scripts/pcscd.sh start
trap 'scripts/pcscd.sh stop >/dev/null 2>&1 || true' EXIT
export HDF_REQUIRE_PCSCD=1   # the PC/SC suites must run here, not skip
export HDF_REQUIRE_ROOT_FAULTS=1   # the disk-full fault test (it mounts a tmpfs as root) must run, not skip

echo "== swift test"
log=$(mktemp)
swift test --skip-build 2>&1 | tee "$log"
swift_status=${PIPESTATUS[0]}
swift_passed=$(sed -n 's/.*Test run with \([0-9][0-9]*\) tests.* passed after.*/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ "$swift_status" -eq 0 ] || { echo "swift test failed ($swift_status)"; exit "$swift_status"; }
echo "== timing tests, alone (floods against the gateway, the web space beside busy writers): each measures latency"
log=$(mktemp)
HDF_ALONE_TESTS=1 swift test --skip-build --filter "FloodTests|ConcurrencyTests" 2>&1 | tee "$log"
alone_status=${PIPESTATUS[0]}
alone_passed=$(sed -n 's/.*Test run with \([0-9][0-9]*\) tests.* passed after.*/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ "$alone_status" -eq 0 ] || { echo "timing tests failed ($alone_status)"; exit "$alone_status"; }
[ "${alone_passed:-0}" -ge 4 ] || { echo "timing tests: ${alone_passed:-0} ran, 4 expected"; exit 1; }
echo "== interoperability (Python's ssl module as an independent client)"
log=$(mktemp)
bash scripts/interop.sh 2>&1 | tee "$log"
interop_status=${PIPESTATUS[0]}
interop_passed=$(sed -n 's/^interop: \([0-9][0-9]*\) passed.*/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ "$interop_status" -eq 0 ] || { echo "interop failed ($interop_status)"; exit "$interop_status"; }
echo "== fuzz (libFuzzer on the parsers, a fixed number of runs per target)"
log=$(mktemp)
bash scripts/test-fuzz.sh 2>&1 | tee "$log"
fuzz_status=${PIPESTATUS[0]}
fuzz_passed=$(sed -n 's/^fuzz: \([0-9][0-9]*\) passed.*/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ "$fuzz_status" -eq 0 ] || { echo "fuzz failed ($fuzz_status)"; exit "$fuzz_status"; }
echo "== web space in a real browser (headless Chromium, Selenium, axe-core)"
log=$(mktemp)
bash scripts/test-web.sh 2>&1 | tee "$log"
web_status=${PIPESTATUS[0]}
web_passed=$(sed -n 's/^web: \([0-9][0-9]*\) passed.*/\1/p' "$log" | tail -n 1)
rm -f "$log"
[ "$web_status" -eq 0 ] || { echo "web failed ($web_status)"; exit "$web_status"; }
echo "make test: took $(( $(date +%s) - started )) s"
echo "make test: $(( ${swift_passed:-0} + ${alone_passed:-0} + ${interop_passed:-0} + ${fuzz_passed:-0} + ${web_passed:-0} )) passed, 0 failed"
