#!/usr/bin/env bash
# Builds the DocC catalog of every library target with the toolchain alone, warnings as errors.
#
#   Documentation/build-docs.sh            # archives in Documentation/.docc-build/<Target>.doccarchive
#   JOBS=1 Documentation/build-docs.sh     # fewer build jobs on a shared machine
#
# Step 1 compiles the five libraries once (debug, in a scratch folder of its own so it never
# invalidates the release build) with `-emit-symbol-graph`: the compiler writes each module's
# public API as `<Module>.symbols.json` as a side effect, so no plugin and no second pass over the
# sources are needed. Step 2 runs `docc convert --warnings-as-errors` on each catalog with its
# module's symbol graphs. Any warning (an unresolved ``link``, a parameter that the signature
# lacks, …) stops the script with a non-zero status.
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(Tensor Layers Distillation Datasets Metrics Export)
out=Documentation/.docc-build                # gitignored
scratch=${DOCS_SCRATCH_PATH:-.build-docs}    # gitignored (.build*)
jobs=${JOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}

docc=$(command -v docc || true)
if [[ -z $docc ]]; then
  # Swift toolchains ship docc beside swift.
  docc="$(dirname "$(readlink -f "$(command -v swift)")")/docc"
fi
[[ -x $docc ]] || { echo "error: docc not found (it ships with the Swift toolchain)" >&2; exit 1; }

rm -rf "$out"
mkdir -p "$out"
# The compiler writes a module's symbol graph only when it compiles the module, so the graphs live
# beside the build they came from (an incremental build leaves unchanged modules' graphs as they are).
mkdir -p "$scratch"
graphs="$(cd "$scratch" && pwd)/symbol-graphs"
mkdir -p "$graphs"

echo "== symbol graphs (swift build --target HARDistill -emit-symbol-graph)"
# HARDistill is the umbrella target: building it builds the five libraries and nothing else.
swift build --scratch-path "$scratch" -j "$jobs" --target HARDistill \
  -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs"
# Export is not in the umbrella: its own build (Tensor and Layers are already built).
swift build --scratch-path "$scratch" -j "$jobs" --target Export \
  -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs"

status=0
for target in "${targets[@]}"; do
  echo "== docc convert $target"
  # One folder per module: docc documents every module it is given.
  module_graphs="$out/symbol-graphs/$target"
  mkdir -p "$module_graphs"
  cp "$graphs/$target.symbols.json" "$module_graphs/"
  shopt -s nullglob
  for extension in "$graphs/$target@"*.symbols.json; do cp "$extension" "$module_graphs/"; done
  shopt -u nullglob
  if ! "$docc" convert "Sources/$target/$target.docc" \
    --additional-symbol-graph-dir "$module_graphs" \
    --fallback-display-name "$target" \
    --fallback-bundle-identifier "org.hardistill.$target" \
    --output-path "$out/$target.doccarchive" \
    --warnings-as-errors; then
    echo "error: the $target documentation has warnings or errors (listed above)" >&2
    status=1
  fi
done

if [[ $status -eq 0 ]]; then
  echo "== documentation built in $out/ (open with: docc preview, or serve <Target>.doccarchive)"
fi
exit $status
