#!/usr/bin/env bash
# The web space's browser tests (Tests/Browser): Debian's python3-pytest and python3-selenium driving
# Debian's headless Chromium against the built executables (.build/debug), axe-core from
# var/third_party/axe.min.js (scripts/install-deps.sh). Run after `swift build`. Ends with exactly one line
# `web: N passed, M failed` and exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."
log=$(mktemp)
# Debian's python (not pyenv's): the selenium and pytest it imports are the Debian packages.
/usr/bin/python3 -m pytest -p no:cacheprovider -q -rfE Tests/Browser 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$log" | tail -n 1)
count() { printf '%s' "$summary" | grep -oE "[0-9]+ $1" | grep -oE '[0-9]+' | head -n 1; }
passed=$(count passed)
failed=$(count failed)
errors=$(count error)
rm -f "$log"
passed=${passed:-0}
failed=$(( ${failed:-0} + ${errors:-0} ))
# pytest exits 5 when it collected nothing: that is a failure here, not a pass.
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "web: ${passed} passed, ${failed} failed"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
