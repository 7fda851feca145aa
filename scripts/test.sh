#!/usr/bin/env bash
# `make test`: build once (debug, tests included), then run every test against that build.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
echo "== build"
swift build --build-tests 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Wrapping|Linking|Generating)" || true
swift build --build-tests >/dev/null   # fails the script if the build above failed
echo "== swift test"
swift test --skip-build
echo "== interoperability (Python's ssl module as an independent client)"
bash scripts/interop.sh
echo "make test: passed in $(( $(date +%s) - started )) s"
