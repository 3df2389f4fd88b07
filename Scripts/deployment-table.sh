#!/usr/bin/env bash
# The float32 vs int8 table of Documentation/Deployment.md: LM, LM-Att and the RAB-KD student
# trained on UCI HAPT with the examples (validation subjects 25–30, at most 40 epochs, patience
# 8; seeds 1–3; RAB-KD distils from one teacher-att the example trains), then each exported as
# post-training int8 C (calibration: the 99.99th percentile of magnitudes over 1,000 training
# windows) and, with --qat-epochs N ≥ 1 (default 3), as int8 C after N epochs of
# quantization-aware fine-tuning on the training windows (learning rate 1e-4, the same
# calibration); prints one line per student with float32, post-training int8 and QAT int8
# accuracy and macro-F1, and how often each int8 model agrees with float32. About five minutes
# on two cores after the build without QAT; QAT adds about a minute per student and seed on one
# core.
#
#   Scripts/deployment-table.sh [--data-dir DIR] [--qat-epochs N] [--threads N]
#     (defaults ../shared/datasets/uci-hapt, 3, all cores; --threads is the training's)
#   ONLY="lm" Scripts/deployment-table.sh   (a subset of lm lm-att rab-kd)
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/datasets/uci-hapt
qat=3
threads=()
while [ $# -gt 0 ]; do
  case "$1" in
    --data-dir) data=$2; shift 2 ;;
    --qat-epochs) qat=$2; shift 2 ;;
    --threads) threads=(--threads "$2"); shift 2 ;;
    *) echo "usage: $0 [--data-dir DIR] [--qat-epochs N] [--threads N]" >&2; exit 64 ;;
  esac
done
[ -d "$data/RawData" ] || { echo "deployment-table: no UCI HAPT at $data" >&2; exit 1; }
swift build -c release >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
protocol=(--dataset uci-hapt --data-dir "$data" --validation-subjects 25-30)
qatOptions=()
[ "$qat" -gt 0 ] && qatOptions=(--qat-epochs "$qat")
printf "%-14s %8s %8s %8s %8s %6s %8s %8s %6s\n" student "f32 acc" "f32 F1" "int8 acc" \
  "int8 F1" agree "QAT acc" "QAT F1" agree
for example in ${ONLY:-lm lm-att rab-kd}; do
  "$bin/$example" "${protocol[@]}" --epochs 40 --patience 8 --seeds 3 ${threads[@]+"${threads[@]}"} \
    --out "$work/$example" >"$work/$example.log"
  for checkpoint in "$work/$example"/*-seed*.safetensors; do
    name=$(basename "$checkpoint" .safetensors)
    "$bin/export" --checkpoint "$checkpoint" --format c-int8 --calibration 99.99 \
      ${qatOptions[@]+"${qatOptions[@]}"} "${protocol[@]}" --out "$work/c" >"$work/$name.export"
    line() { grep "^  $1" "$work/$name.export" | grep -o "[0-9.]* %" | tr -d ' %' | tr '\n' ' '; }
    agree() { grep "^  $1 and float32 agree" "$work/$name.export" | grep -o "[0-9.]* %" | tr -d ' %'; }
    qatColumns="- - -"
    [ "$qat" -gt 0 ] && qatColumns="$(line "int8 QAT:") $(agree "int8 QAT")"
    # shellcheck disable=SC2046,SC2086 # the columns are words
    printf "%-14s %8s %8s %8s %8s %6s %8s %8s %6s\n" "$name" $(line "float32:") \
      $(line "int8: ") "$(agree "int8")" $qatColumns
  done
done
