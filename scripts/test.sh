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

echo "== swift test"
swift test --skip-build
echo "== interoperability (Python's ssl module as an independent client)"
bash scripts/interop.sh
echo "make test: passed in $(( $(date +%s) - started )) s"
