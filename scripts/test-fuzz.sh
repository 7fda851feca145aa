#!/usr/bin/env bash
# The libFuzzer stage of `make test` (issue 8): builds Fuzz/ with -sanitize=fuzzer, then runs each target a
# fixed number of times (fuzz_runs in scripts/fuzz-common.sh: 200,000; FUZZ_RUNS overrides) from its committed corpus (Fuzz/corpus/<target>/),
# with a fixed seed (FUZZ_SEED) so that a run is reproducible. A target passes when it ran all its runs
# without a crash, a property violation, a hang or a memory blow-up. Ends with one line
# `fuzz: N passed, M failed` (N, M: targets) and exits non-zero on any failure.
# The longer run is scripts/fuzz.sh (`make fuzz`).
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-common.sh

seed=${FUZZ_SEED:-1}
# A guard on the whole stage: a target still running after this many seconds stops and fails.
max_seconds_per_target=${FUZZ_MAX_SECONDS:-300}

started=$(date +%s)
echo "== fuzz: build (Fuzz/, -sanitize=fuzzer, into $fuzz_scratch)"
fuzz_build 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Wrapping|Linking|Generating)|^(Fetching|Fetched|Computing|Computed|Creating|Working copy)" || true
if ! fuzz_build >/dev/null 2>&1; then
  echo "fuzz: the build of Fuzz/ failed"
  echo "fuzz: 0 passed, ${#fuzz_targets[@]} failed"
  exit 1
fi
bin=$(fuzz_bin_path)
echo "fuzz: build took $(( $(date +%s) - started )) s"

passed=0
failed=0
# Each target runs on one core: two at a time on a 2-core machine (FUZZ_JOBS), each into its own log.
jobs=${FUZZ_JOBS:-2}
run_target() {
  local target=$1 work="$fuzz_work/$1" corpus="Fuzz/corpus/$1" runs target_started status done_runs seconds corpus_files
  rm -rf "$work/new"
  mkdir -p "$work/new" "$work/artifacts"
  corpus_files=$(find "$corpus" -type f 2>/dev/null | wc -l)
  runs=$(fuzz_runs "$target")
  target_started=$(date +%s)
  # New inputs go to $work/new (the first folder); the committed corpus is only read.
  "$bin/$target" -runs="$runs" -seed="$seed" -max_len="$(fuzz_max_len "$target")" \
    -timeout="$fuzz_input_timeout_seconds" -rss_limit_mb="$fuzz_rss_limit_mb" \
    -max_total_time="$max_seconds_per_target" -artifact_prefix="$work/artifacts/" \
    -print_final_stats=1 "$work/new" "$corpus" > "$work/test.log" 2>&1
  status=$?
  done_runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$work/test.log" | tail -n 1)
  seconds=$(( $(date +%s) - target_started ))
  if [ "$status" -eq 0 ] && [ -n "$done_runs" ] && [ "$done_runs" -ge "$runs" ]; then
    echo "fuzz: $target ok: $done_runs runs in $seconds s (seed $seed, committed corpus $corpus_files files)" > "$work/result"
  else
    {
      echo "fuzz: $target FAILED (exit $status, ${done_runs:-no} runs of $runs, $seconds s); log: $work/test.log"
      grep -E "FUZZ PROPERTY VIOLATED|ERROR: libFuzzer|Fatal error|SUMMARY|Test unit written" "$work/test.log" | head -n 10 | sed 's/^/     /'
    } > "$work/result"
  fi
}
running=0
for target in "${fuzz_targets[@]}"; do
  rm -f "$fuzz_work/$target/result"
  run_target "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
done
wait
for target in "${fuzz_targets[@]}"; do
  result="$fuzz_work/$target/result"
  if [ -f "$result" ] && head -n 1 "$result" | grep -q " ok: "; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  cat "$result" 2>/dev/null || echo "fuzz: $target FAILED (no result)"
done
echo "fuzz: stage took $(( $(date +%s) - started )) s"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
