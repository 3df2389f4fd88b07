#!/usr/bin/env bash
# Builds the libFuzzer harnesses (with AddressSanitizer) into .build-fuzz/:
#   datasets-fuzzer    every dataset loader; pick one with HARDISTILL_FUZZ_TARGET=<target>
#   checkpoint-fuzzer  Checkpoint(decoding:path:), then the model card and the model it rebuilds
# Not part of `swift build` or `swift test`. Run them with Fuzz/run.sh. Linux toolchain only
# (libFuzzer ships with the Linux swift toolchain).
set -euo pipefail
cd "$(dirname "$0")/.."
out=.build-fuzz
mkdir -p "$out/ckernels"
flags=(-sanitize=fuzzer,address -parse-as-library -O -g -suppress-warnings)
# The linker warns about every ASan helper symbol it cannot export; those lines are noise.
quiet() { "$@" 2>&1 | grep -v "Cannot export local symbol" || true; test -x "${@: -1}"; }
targets=${*:-datasets checkpoint}

if [[ " $targets " == *" datasets "* ]]; then
echo "== datasets-fuzzer"
rm -f "$out/datasets-fuzzer"
quiet swiftc "${flags[@]}" -module-name Datasets \
  Sources/Datasets/*.swift Tests/DatasetsTests/FuzzTargets.swift Fuzz/DatasetsFuzzer.swift \
  -o "$out/datasets-fuzzer"
fi

if [[ " $targets " == *" checkpoint "* ]]; then
echo "== checkpoint-fuzzer"
# Tensor and its C kernels are built plainly (no coverage: the fuzzer explores the reader, not
# the kernels); the reader and what it needs from Layers are instrumented.
cat >"$out/ckernels/module.modulemap" <<MAP
module CKernels {
  umbrella header "$PWD/Sources/CKernels/include/CKernels.h"
  export *
}
MAP
objects=()
for source in Sources/CKernels/*.c; do
  object="$out/ckernels/$(basename "$source" .c).o"
  clang -c -O2 -fPIC -I Sources/CKernels/include "$source" -o "$object"
  objects+=("$object")
done
swiftc -parse-as-library -O -g -suppress-warnings -sanitize=address -module-name Tensor \
  -package-name HARDistill \
  -I "$out/ckernels" -emit-module -emit-module-path "$out/Tensor.swiftmodule" \
  -emit-library -static -o "$out/libTensor.a" \
  $(find Sources/Tensor -name '*.swift' | sort)
rm -f "$out/checkpoint-fuzzer"
quiet swiftc "${flags[@]}" -module-name Layers -package-name HARDistill -I "$out" -I "$out/ckernels" \
  $(find Sources/Layers -name '*.swift' | sort) Fuzz/CheckpointFuzzer.swift "$out/libTensor.a" "${objects[@]}" \
  -o "$out/checkpoint-fuzzer"
fi
echo "built: $targets (in $out/)"
