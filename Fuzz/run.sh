#!/usr/bin/env bash
# Runs the fuzzers built by Fuzz/build.sh, each for a bounded time, on one core.
#
#   Fuzz/run.sh [seconds per target] [target ...]
#   targets: uci-har hapt wisdm wisdm-watch opportunity csv csv-layout checkpoint (default: all),
#   60 s each
#
# Each target starts from Fuzz/corpus/<target>/ and grows a working corpus in
# .build-fuzz/corpus/<target>/; crashing inputs land in .build-fuzz/crashes/. To keep new
# interesting inputs in Fuzz/corpus/, merge a minimal set as Documentation/Reliability.md shows.
# Exits 1 if any target crashed.
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(uci-har hapt wisdm wisdm-watch opportunity csv csv-layout checkpoint)
mkdir -p .build-fuzz/crashes
# The Swift runtime's backtracer reads memory in a way ASan reports as an error of its own,
# hiding the real trap; let libFuzzer print the stack instead.
export SWIFT_BACKTRACE=enable=no
status=0
for target in "${targets[@]}"; do
  if [ "$target" = checkpoint ]; then
    fuzzer=.build-fuzz/checkpoint-fuzzer dict=Fuzz/checkpoint.dict maxlen=2048
  else
    fuzzer=.build-fuzz/datasets-fuzzer dict=Fuzz/datasets.dict maxlen=8192
  fi
  [ -x "$fuzzer" ] || { echo "error: $fuzzer missing; run Fuzz/build.sh first" >&2; exit 1; }
  corpus=.build-fuzz/corpus/$target
  mkdir -p "$corpus"
  cp -n Fuzz/corpus/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== $target: ${seconds}s"
  HARDISTILL_FUZZ_TARGET=$target "$fuzzer" "$corpus" -dict="$dict" -max_len=$maxlen \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=.build-fuzz/crashes/"$target"- -print_final_stats=1 \
    >.build-fuzz/"$target".log 2>&1
  code=$?
  grep -E "^(stat::number_of_executed_units|stat::new_units_added)|SUMMARY|Test unit written" \
    .build-fuzz/"$target".log
  if [ $code -ne 0 ]; then
    echo "$target: crashed (exit $code); see .build-fuzz/$target.log" >&2
    status=1
  fi
done
exit $status
