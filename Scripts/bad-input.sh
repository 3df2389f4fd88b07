#!/usr/bin/env bash
# Every executable turns bad command-line input into exit status 64 and exactly one line on
# standard error (nothing on standard output). A few seconds after `swift build -c release`.
#
#   Scripts/bad-input.sh [--scratch-path DIR]   (default .build)
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=.build
if [ "${1:-}" = --scratch-path ]; then scratch=$2; fi
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
: >"$work/empty.txt"
cases=(
  "--bogus" "--epochs" "--epochs ten" "--epochs -1" "--epochs 99999999999999999999"
  "--alpha 1.5" "--temperature 0" "--beta -1" "--clip-norm nan" "--seeds 0" "--resume=yes"
  "--dataset mnist" "--dataset uci-hapt" "--dataset uci-hapt --data-dir $work/absent"
  "--dataset wisdm --data-dir $work/empty.txt"
)
failures=0
checked=0
for exe in study teacher teacher-att mm lm rb-kd lm-att rb-kd-att rab-kd; do
  [ -x "$bin/$exe" ] || { echo "bad-input: $bin/$exe is not built" >&2; exit 1; }
  for arguments in "${cases[@]}"; do
    # shellcheck disable=SC2086 # the case is a list of words
    status=0
    "$bin/$exe" $arguments --out "$work/out" >"$work/stdout" 2>"$work/stderr" || status=$?
    lines=$(wc -l <"$work/stderr")
    if [ "$status" -ne 64 ] || [ "$lines" -ne 1 ] || [ -s "$work/stdout" ]; then
      echo "bad-input: FAIL: $exe $arguments: exit $status, $lines stderr line(s):" >&2
      cat "$work/stderr" "$work/stdout" >&2
      failures=$((failures + 1))
    fi
    checked=$((checked + 1))
  done
done
[ "$failures" -eq 0 ] || { echo "bad-input: $failures of $checked cases failed" >&2; exit 1; }
echo "bad-input: OK ($checked cases, exit 64 and one line each)"
