#!/usr/bin/env bash
# Interrupted training: runs the teacher of `study --smoke` once without interruption, once
# killed with SIGKILL in the middle of training (after at least one per-epoch checkpoint exists)
# and resumed with --resume; the final checkpoints must hold identical tensors, and no half-written or temporary
# file may be left in either output folder. About 30–60 s on 2 cores.
#
#   Scripts/kill-resume.sh [--no-build] [--scratch-path DIR]   (default .build, as `swift build`)
#
# Builds the `study` product in release mode first, unless --no-build (CI, right after its own
# `swift build -c release`).
set -euo pipefail
cd "$(dirname "$0")/.."
. Scripts/common.sh
script_options kill-resume "$@"
[ $build -eq 0 ] || swift build -c release --product study --scratch-path "$scratch" >/dev/null
teacher="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/study"
[ -x "$teacher" ] || { echo "kill-resume: $teacher is not built" >&2; exit 1; }

work=$(mktemp -d)
[ -n "${KEEP:-}" ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
args=(--smoke --configurations teacher --epochs 10 --seeds 1 --seed 7)
stem=teacher-seed7
fail() { echo "kill-resume: FAIL: $*" >&2; exit 1; }

started=$(date +%s)
echo "== uninterrupted run"
"$teacher" "${args[@]}" --out "$work/whole" >"$work/whole.log" 2>&1 ||
  { cat "$work/whole.log"; fail "the uninterrupted run failed"; }

echo "== run killed with SIGKILL after its first epoch checkpoint"
state="$work/killed/checkpoints/$stem.training.safetensors"
"$teacher" "${args[@]}" --out "$work/killed" >"$work/killed.log" 2>&1 &
pid=$!
while [ ! -e "$state" ]; do
  kill -0 "$pid" 2>/dev/null || fail "the run ended before writing an epoch checkpoint"
  sleep 0.02
done
# Into the next epoch: half as long as the uninterrupted run's second epoch took.
half=$(python3 -c 'import json, sys; print(json.loads(open(sys.argv[1]).readlines()[1])["seconds"] / 2)' \
  "$work/whole/logs/$stem.jsonl")
sleep "$half"
kill -KILL "$pid"
wait "$pid" 2>/dev/null && fail "the run finished before it was killed" || true
[ -e "$work/killed/checkpoints/$stem.safetensors" ] &&
  fail "the run wrote its final checkpoint before it was killed; kill it sooner"
epochs=$(grep -c '"epoch"' "$work/killed/logs/$stem.jsonl" 2>/dev/null || echo "?")
echo "killed after $epochs epoch(s) were logged"

echo "== resumed run"
"$teacher" "${args[@]}" --out "$work/killed" --resume >"$work/resumed.log" 2>&1 ||
  { cat "$work/resumed.log"; fail "the resumed run failed"; }

first=$(grep -o 'epoch [0-9]*/' "$work/resumed.log" | head -1 | tr -dc 0-9)
[ "${first:-1}" -gt 1 ] || fail "the resumed run started again from epoch 1"
echo "resumed at epoch $first"

echo "== comparing"
python3 - "$work/whole/checkpoints/$stem.safetensors" "$work/killed/checkpoints/$stem.safetensors" <<'PY' || fail "the final weights differ"
# The tensors of two safetensors files, compared bit for bit (metadata may differ).
import json, struct, sys
def tensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    return {k: (v["shape"], data[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]])
            for k, v in header.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
bad = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
print(f"{len(a)} tensors, {sum(len(v[1]) for v in a.values())} bytes; differing: {bad or 'none'}")
sys.exit(1 if bad else 0)
PY
# Every file the interrupted folder holds, the uninterrupted one holds too: nothing half-written
# or temporary (atomic writes go through a temporary file and a rename).
(cd "$work/whole" && find . -type f | sort) >"$work/whole.files"
(cd "$work/killed" && find . -type f | sort) >"$work/killed.files"
diff "$work/whole.files" "$work/killed.files" || fail "the output folders hold different files"
echo "kill-resume: OK ($(wc -l <"$work/whole.files") files, $(($(date +%s) - started)) s)"
