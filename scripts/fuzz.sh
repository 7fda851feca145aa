#!/usr/bin/env bash
# `make fuzz`: the longer libFuzzer run (issue 8). Builds Fuzz/ with -sanitize=fuzzer and runs each target
# for FUZZ_SECONDS (default 600 s) with a random seed, from its committed corpus, writing what it finds
# under var/fuzz/<target>/ (new inputs in new/, crash artifacts in artifacts/, the log in fuzz.log).
#
#   scripts/fuzz.sh [TARGET...]            run the targets (all by default)
#   FUZZ_SECONDS=60 scripts/fuzz.sh FuzzJSON
#   scripts/fuzz.sh --minimise [TARGET...] fold var/fuzz/<target>/new into Fuzz/corpus/<target>/, keeping only
#                                          the inputs that add coverage (libFuzzer -merge=1), then commit it
#   scripts/fuzz.sh --seed [TARGET...]     rebuild the corpus from the seeds (Fuzz/seeds.py: protocol/vectors
#                                          and hand-written cases), minimised
#
# A crash is reproduced with `Fuzz/.build-fuzz/debug/<target> var/fuzz/<target>/artifacts/crash-...`.
set -uo pipefail
cd "$(dirname "$0")/.."
. scripts/fuzz-common.sh

mode=run
case "${1:-}" in
  --minimise) mode=minimise; shift ;;
  --seed) mode=seed; shift ;;
esac
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${fuzz_targets[@]}")
seconds=${FUZZ_SECONDS:-600}

fuzz_build 2>&1 | grep -vE "^\[[0-9]+/[0-9]+\] (Compiling|Write|Emitting|Wrapping|Linking|Generating)" || true
fuzz_build >/dev/null 2>&1 || { echo "fuzz: the build of Fuzz/ failed"; exit 1; }
bin=$(fuzz_bin_path)

# Replaces Fuzz/corpus/<target> by the minimal set of inputs from it and the given folders that keeps
# their coverage.
minimise() {
  local target=$1; shift
  local fresh
  fresh=$(mktemp -d)
  "$bin/$target" -merge=1 -max_len="$(fuzz_max_len "$target")" "$fresh" "Fuzz/corpus/$target" "$@" \
    > "$fuzz_work/$target/merge.log" 2>&1 || { echo "fuzz: merging $target failed, see $fuzz_work/$target/merge.log"; rm -rf "$fresh"; return 1; }
  rm -rf "Fuzz/corpus/$target"
  mkdir -p "Fuzz/corpus/$target"
  cp "$fresh"/* "Fuzz/corpus/$target/" 2>/dev/null || true
  rm -rf "$fresh"
  echo "fuzz: $target corpus: $(find "Fuzz/corpus/$target" -type f | wc -l) files, $(du -sk "Fuzz/corpus/$target" | cut -f1) KiB"
}

failed=0
for target in "${targets[@]}"; do
  work="$fuzz_work/$target"
  mkdir -p "$work/new" "$work/artifacts" "Fuzz/corpus/$target"
  case "$mode" in
    seed)
      seeds=$(mktemp -d)
      python3 Fuzz/seeds.py "$target" "$seeds"
      rm -rf "Fuzz/corpus/$target"; mkdir -p "Fuzz/corpus/$target"
      minimise "$target" "$seeds" || failed=$((failed + 1))
      rm -rf "$seeds"
      ;;
    minimise)
      minimise "$target" "$work/new" || failed=$((failed + 1))
      ;;
    run)
      echo "fuzz: $target for $seconds s (log: $work/fuzz.log)"
      if "$bin/$target" -max_total_time="$seconds" -max_len="$(fuzz_max_len "$target")" \
          -timeout="$fuzz_input_timeout_seconds" -rss_limit_mb="$fuzz_rss_limit_mb" \
          -artifact_prefix="$work/artifacts/" -print_final_stats=1 "$work/new" "Fuzz/corpus/$target" > "$work/fuzz.log" 2>&1; then
        runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$work/fuzz.log" | tail -n 1)
        echo "fuzz: $target ok: ${runs:-?} runs, $(find "$work/new" -type f | wc -l) new inputs in $work/new"
      else
        failed=$((failed + 1))
        echo "fuzz: $target FAILED; log: $work/fuzz.log"
        grep -E "FUZZ PROPERTY VIOLATED|ERROR: libFuzzer|Fatal error|SUMMARY|Test unit written" "$work/fuzz.log" | head -n 10 | sed 's/^/     /'
      fi
      ;;
  esac
done
[ "$failed" -eq 0 ]
