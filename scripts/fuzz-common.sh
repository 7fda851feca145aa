# Shared by scripts/test-fuzz.sh and scripts/fuzz.sh (sourced, not run): the libFuzzer targets of Fuzz/,
# their build and their options.

# The targets (executables of Fuzz/Package.swift), each with its corpus in Fuzz/corpus/<target>/.
fuzz_targets=(FuzzFrameDecoder FuzzJSON FuzzRequestParser FuzzAPDU)
# The fuzz package's own build folder (ignored by git, like every .build*).
fuzz_scratch=Fuzz/.build-fuzz
# Where runs write what they find (new inputs, crash artifacts, logs): under var/, ignored by git.
fuzz_work=var/fuzz
# The largest input libFuzzer makes, in bytes, per target: frames and requests well past the sizes the
# parsers branch on; an APDU is at most 261 bytes, the card program holds a few dozen.
fuzz_max_len() {
  case "$1" in
    FuzzAPDU) echo 2048 ;;
    *) echo 8192 ;;
  esac
}
# One input that takes longer than this, in seconds, is a failure (a hang).
fuzz_input_timeout_seconds=10
# A target that uses more memory than this, in MiB, is a failure (a leak or an unbounded buffer).
fuzz_rss_limit_mb=2048

# The runs of each target in `make test` (FUZZ_RUNS overrides all): 200,000 each (issue 8). The frame
# decoder's target drives the decoder through NIO's NIOSingleStepByteToMessageProcessor, not a channel (it
# ran 300 inputs a second through an EmbeddedChannel, 1,500 to 3,000 this way in this unoptimised build).
fuzz_runs() {
  if [ -n "${FUZZ_RUNS:-}" ]; then echo "$FUZZ_RUNS"; return; fi
  echo 200000
}

fuzz_build() {
  swift build --package-path Fuzz --scratch-path "$fuzz_scratch" -Xswiftc -sanitize=fuzzer "$@"
}

fuzz_bin_path() {
  fuzz_build --show-bin-path
}
