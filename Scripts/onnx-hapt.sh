#!/usr/bin/env bash
# An exported LM-Att in ONNX Runtime on UCI HAPT's test split, against the same model in Swift:
# trains LM-Att with the lm-att example (one seed; validation subjects 25–30, 40 epochs at most,
# patience 8), exports it with `export`, writes the raw test windows and Swift's logits, then
# runs ONNX Runtime on the raw windows (the z-score is inside the exported graph) and compares
# every prediction and the accuracy. About a minute after the build.
#
#   Scripts/onnx-hapt.sh [--no-build] [--data-dir DIR]   (default ../shared/datasets/uci-hapt)
#
# The Python side uses Scripts/onnx-check.sh's virtual environment (it creates it if needed).
set -euo pipefail
cd "$(dirname "$0")/.."
data=../shared/datasets/uci-hapt
build=1
while [ $# -gt 0 ]; do
  case $1 in
    --no-build) build=0; shift ;;
    --data-dir) data=$2; shift 2 ;;
    *) echo "usage: Scripts/onnx-hapt.sh [--no-build] [--data-dir DIR]" >&2; exit 64 ;;
  esac
done
[ -d "$data/RawData" ] || { echo "onnx-hapt: skipped: no UCI HAPT at $data"; exit 0; }
venv=${XDG_CACHE_HOME:-$HOME/.cache}/hardistill/onnx-venv
"$venv/bin/python" -c "import onnxruntime" 2>/dev/null || {
  echo "onnx-hapt: no ONNX Runtime venv yet; run Scripts/onnx-check.sh first" >&2
  exit 1
}
[ $build -eq 0 ] || swift build -c release --build-tests >/dev/null
bin=$(swift build -c release --show-bin-path)
work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT

echo "== training LM-Att on UCI HAPT (lm-att, one seed)"
"$bin/lm-att" --dataset uci-hapt --data-dir "$data" --validation-subjects 25-30 --epochs 40 \
  --patience 8 --seeds 1 --out "$work" | tail -1
echo "== exporting"
"$bin/export" --checkpoint "$work/LM-Att-seed1.safetensors" --out "$work"
echo "== Swift's logits on the raw test windows"
HARDISTILL_ONNX_HAPT_CHECKPOINT="$work/LM-Att-seed1.safetensors" HARDISTILL_HAPT="$data" \
  HARDISTILL_ONNX_HAPT_OUT="$work" swift test -c release --skip-build --filter HAPTFixture \
  >"$work/swift-test.log" 2>&1 || { cat "$work/swift-test.log" >&2; exit 1; }
[ -f "$work/hapt.shape.txt" ] || { cat "$work/swift-test.log" >&2; echo "onnx-hapt: no fixture" >&2; exit 1; }
echo "== ONNX Runtime on the same windows"
"$venv/bin/python" - "$work" <<'PY'
import os, sys
import numpy as np
import onnxruntime as ort

folder = sys.argv[1]
windows, time, channels, classes = map(int, open(os.path.join(folder, "hapt.shape.txt")).read().split())
x = np.fromfile(os.path.join(folder, "hapt.input.f32"), dtype="<f4").reshape(windows, time, channels)
swift = np.fromfile(os.path.join(folder, "hapt.expected.f32"), dtype="<f4").reshape(windows, classes)
labels = np.array([int(v) for v in open(os.path.join(folder, "hapt.labels.txt")).read().split()])
session = ort.InferenceSession(os.path.join(folder, "LM-Att-seed1.onnx"), providers=["CPUExecutionProvider"])
onnx = session.run(None, {"input": x})[0]
ours, theirs = swift.argmax(1), onnx.argmax(1)
differ = np.flatnonzero(ours != theirs)
print(f"{windows} test windows: Swift accuracy {np.mean(ours == labels):.4%}, "
      f"ONNX Runtime accuracy {np.mean(theirs == labels):.4%}; "
      f"max abs logit difference {np.abs(swift - onnx).max():.3g}")
print(f"predictions that differ: {len(differ)}")
for i in differ:
    top = np.sort(swift[i])[-2:]
    print(f"  window {i}: Swift {ours[i]}, ONNX Runtime {theirs[i]}, Swift's top-two margin {top[1] - top[0]:.3g}")
sys.exit(1 if len(differ) else 0)
PY
