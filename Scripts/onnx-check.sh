#!/usr/bin/env bash
# ONNX export checked against ONNX Runtime. For each reference model (teacher, teacher-att, mm,
# lm, lm-att; DeepConvLSTM OM and LM with and without CBAM-2D), with random weights and a random
# input normalization: exports it, runs onnx.checker.check_model(full_check=True), runs ONNX
# Runtime on 1,000 random raw windows and compares the logits with the Swift forward pass
# (max abs difference ≤ 1e-5). Prints one line per model; exits non-zero on any failure.
# A tenth model holds every built-in layer type. With the models' Keras-style initialization the
# logits stay below about 1.5 in magnitude; float32 rounding differences grow with them (about
# 4e-7 of the largest logit), which each line reports as the relative difference.
#
#   Scripts/onnx-check.sh [--no-build] [--scratch-path DIR]   (default .build, as `swift build`)
#
# The Python side (onnx, onnxruntime, numpy from PyPI) lives in a virtual environment created on
# first use in ${XDG_CACHE_HOME:-$HOME/.cache}/hardistill/onnx-venv and reused afterwards. The
# Swift side is the `ONNX fixtures` test, which writes the .onnx files, the inputs and the
# expected logits when HARDISTILL_ONNX_FIXTURES names a folder (and skips otherwise).
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/common.sh
script_options onnx-check "$@"

if ! command -v python3 >/dev/null || ! python3 -c "import venv, ensurepip" 2>/dev/null; then
  echo "== installing python3 and python3-venv from Debian's packages"
  apt-get update -qq && apt-get install -y -qq python3 python3-venv >/dev/null
fi
venv=${XDG_CACHE_HOME:-$HOME/.cache}/hardistill/onnx-venv
if ! "$venv/bin/python" -c "import onnx, onnxruntime, numpy" 2>/dev/null; then
  echo "== creating $venv (onnx, onnxruntime, numpy)"
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --upgrade pip
  "$venv/bin/python" -m pip install --quiet onnx onnxruntime numpy
fi

write_fixtures onnx-check ONNXFixtures HARDISTILL_ONNX_FIXTURES

echo "== checking with ONNX Runtime"
"$venv/bin/python" - "$work" <<'PY'
import json, os, sys
import numpy as np
import onnx
import onnxruntime as ort

folder = sys.argv[1]
tolerance = 1e-5
failed = 0
with open(os.path.join(folder, "manifest.tsv")) as f:
    rows = [line.rstrip("\n").split("\t") for line in f][1:]
print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}, tolerance {tolerance:g}")
for name, windows, time, channels, classes in rows:
    windows, time, channels, classes = map(int, (windows, time, channels, classes))
    path = os.path.join(folder, name + ".onnx")
    try:
        model = onnx.load(path)
        onnx.checker.check_model(model, full_check=True)
        metadata = {p.key: p.value for p in model.metadata_props}
        assert json.loads(metadata["hardistill.class_names"]), "no class names"
        x = np.fromfile(os.path.join(folder, name + ".input.f32"), dtype="<f4")
        x = x.reshape(windows, time, channels)
        expected = np.fromfile(os.path.join(folder, name + ".expected.f32"), dtype="<f4")
        expected = expected.reshape(windows, classes)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        (logits,) = session.run(["logits"], {"input": x})
        # The batch axis is dynamic: one window alone gives the same logits.
        (single,) = session.run(["logits"], {"input": x[:1]})
        difference = float(np.max(np.abs(logits - expected)))
        single_difference = float(np.max(np.abs(single - logits[:1])))
        ok = logits.shape == expected.shape and difference <= tolerance and single_difference <= tolerance
        largest = float(np.max(np.abs(expected)))
        print(f"{'ok  ' if ok else 'FAIL'} {name:<12} max abs diff {difference:.3e} "
              f"(relative to the largest |logit| {largest:.2f}: {difference / max(largest, 1e-30):.1e}) "
              f"over {windows} windows [{time}, {channels}] -> {classes}")
        failed += not ok
    except Exception as error:  # one line per model, whatever went wrong
        print(f"FAIL {name:<12} {type(error).__name__}: {error}")
        failed += 1
sys.exit(1 if failed else 0)
PY
