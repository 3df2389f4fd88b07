#!/usr/bin/env bash
# The float32 vs int8 table of Documentation/Deployment.md: LM, LM-Att and the RAB-KD student
# trained on UCI HAPT with the examples (validation subjects 25–30, at most 40 epochs, patience
# 8; seeds 1–3; RAB-KD distils from one teacher-att the example trains), then each exported as
# post-training int8 C (calibration: the 99.99th percentile of magnitudes over 1,000 training
# windows); prints one line per student with float32 and int8 accuracy and macro-F1. About five
# minutes on two cores after the build.
#
#   Scripts/deployment-table.sh [--data-dir DIR]   (default ../shared/datasets/uci-hapt)
set -euo pipefail
cd "$(dirname "$0")/.."
data=${2:-../shared/datasets/uci-hapt}
[ "${1:-}" = --data-dir ] || [ $# -eq 0 ] || { echo "usage: $0 [--data-dir DIR]" >&2; exit 64; }
[ -d "$data/RawData" ] || { echo "deployment-table: no UCI HAPT at $data" >&2; exit 1; }
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
protocol=(--dataset uci-hapt --data-dir "$data" --validation-subjects 25-30)
printf "%-14s %9s %9s %9s %9s %7s\n" student "f32 acc" "f32 F1" "int8 acc" "int8 F1" agree
for example in lm lm-att rab-kd; do
  "$bin/$example" "${protocol[@]}" --epochs 40 --patience 8 --seeds 3 --out "$work/$example" \
    >"$work/$example.log"
  for checkpoint in "$work/$example"/*-seed*.safetensors; do
    name=$(basename "$checkpoint" .safetensors)
    "$bin/export" --checkpoint "$checkpoint" --format c-int8 --calibration 99.99 \
      "${protocol[@]}" --out "$work/c" >"$work/$name.export"
    f32=$(grep "float32:" "$work/$name.export" | grep -o "[0-9.]* %" | tr -d ' %' | tr '\n' ' ')
    i8=$(grep "int8: " "$work/$name.export" | grep -o "[0-9.]* %" | tr -d ' %' | tr '\n' ' ')
    agree=$(grep -o "agree on [0-9.]* %" "$work/$name.export" | grep -o "[0-9.]*")
    printf "%-14s %9s %9s %9s %9s %7s\n" "$name" $f32 $i8 "$agree"
  done
done
