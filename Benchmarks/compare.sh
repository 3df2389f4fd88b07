#!/usr/bin/env bash
# Runs har-bench and the PyTorch / Keras anchors interleaved, model by model, in one time window,
# and prints the ratio per case (the machine is shared and noisy: only same-window ratios count).
#
# Needs a copy of ../shared/anchors with its virtual environment (its setup.sh; ~7 GB):
#   d=$(mktemp -d) && cp -r ../shared/anchors "$d" && "$d/anchors/setup.sh"
#   Benchmarks/compare.sh "$d/anchors"            # from the package root
# Options after the anchors folder: --threads N (default 2), --reps N (default 2), --cases LIST
# (comma-separated; default all: teacher-att,lm,lm-att,rab-kd,infer1,om,om-lm,om-hapt,gemm).
# The anchors' own JSON lines (with their CPU accounting) are kept in the printed raw folder.
#
# train.om / train.om-lm / train.om-hapt (DeepConvLSTM on Opportunity- and HAPT-shaped windows)
# run against this repository's Benchmarks/anchors/bench_dcl_torch.py with the same venv; there is
# no Keras script for them. The PyTorch run is given har-bench's parameter count and fails if its model differs.
set -euo pipefail
anchors=${1:?usage: Benchmarks/compare.sh ANCHORS_DIR [--threads N] [--reps N] [--cases LIST]}
shift
threads=2
reps=2
cases=teacher-att,lm,lm-att,rab-kd,infer1,om,om-lm,om-hapt,gemm
while [ $# -gt 0 ]; do
  case "$1" in
    --threads) threads=$2; shift 2 ;;
    --reps) reps=$2; shift 2 ;;
    --cases) cases=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 64 ;;
  esac
done
wants() { [[ ",$cases," == *",$1,"* ]]; }
for c in ${cases//,/ }; do
  [[ ",teacher-att,lm,lm-att,rab-kd,infer1,om,om-lm,om-hapt,gemm," == *",$c,"* ]] ||
    { echo "unknown case $c in --cases" >&2; exit 64; }
done
python=$anchors/.venv/bin/python
[ -x "$python" ] || { echo "no venv at $anchors/.venv (run its setup.sh)" >&2; exit 1; }

cd "$(dirname "$0")/.."
# HAR_BENCH=path/to/har-bench skips the build (e.g. a binary built with its own --scratch-path).
if [ -n "${HAR_BENCH:-}" ]; then
  bench=$HAR_BENCH
else
  swift build -c release --product har-bench >&2
  bench=$(swift build -c release --show-bin-path)/har-bench
fi
out=$(mktemp -d)
echo "raw results in $out" >&2

# Our case name, the anchors' model name, epochs for the anchors (first one untimed).
cnn_cases="teacher-att:teacher:3 lm:lm:4 lm-att:lm_att:4 rab-kd:rabkd:3"
for rep in $(seq "$reps"); do
  for entry in $cnn_cases; do
    IFS=: read -r ours theirs epochs <<<"$entry"
    wants "$ours" || continue
    echo "== rep $rep: $ours" >&2
    "$bench" --json --threads "$threads" --skip-baseline \
      --filter "train.$ours\$" >>"$out/swift.jsonl"
    "$python" "$anchors/bench_torch.py" --model "$theirs" --mode eager --epochs "$epochs" \
      --threads "$threads" --out "$out/torch.jsonl" >/dev/null
    "$python" "$anchors/bench_keras.py" --model "$theirs" --mode tf_function --epochs "$epochs" \
      --threads "$threads" --out "$out/keras.jsonl" >/dev/null
  done
  if wants infer1; then "$bench" --json --threads "$threads" --filter infer1 >>"$out/swift.jsonl"; fi
  # DeepConvLSTM, Opportunity-shaped: 1,024 windows of 30x113 on both sides, 2 timed epochs each
  # (om-hapt: 128x6, the study's HAPT windows).
  for ours in om om-lm om-hapt; do
    wants "$ours" || continue
    echo "== rep $rep: $ours" >&2
    line=$("$bench" --json --threads "$threads" --skip-baseline --filter "train.$ours\$")
    echo "$line" >>"$out/swift.jsonl"
    params=$(sed -n 's/.*"params": \([0-9]*\).*/\1/p' <<<"$line")
    "$python" Benchmarks/anchors/bench_dcl_torch.py --model "$ours" --samples 1024 --epochs 3 \
      --threads "$threads" --expect-params "$params" --out "$out/torch-dcl.jsonl" >/dev/null
  done
done
# SGEMM 512³ against numpy's OpenBLAS (the anchors' bench_gemm.py, OPENBLAS_* overrides unset as
# its header asks), on 1 and 2 threads whatever --threads says.
if wants gemm; then
  echo "== gemm" >&2
  for t in 1 2; do
    "$bench" --json --threads "$t" --filter 'gemm.512x512x512$' >>"$out/swift-gemm.jsonl"
  done
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$python" "$anchors/bench_gemm.py" \
    >"$out/numpy-gemm.jsonl"
fi

"$python" - "$out" <<'PY'
import json, statistics, sys, pathlib
out = pathlib.Path(sys.argv[1])
def lines(name):
    p = out / name
    return [json.loads(l) for l in p.read_text().splitlines() if l.strip().startswith("{")] if p.exists() else []
swift, torch, keras = lines("swift.jsonl"), lines("torch.jsonl"), lines("keras.jsonl")
torch_dcl = lines("torch-dcl.jsonl")
names = {"teacher-att": "teacher", "lm": "lm", "lm-att": "lm_att", "rab-kd": "rabkd"}
def med(xs): return statistics.median(xs) if xs else float("nan")
def ran(case): return any(r["case"] == case for r in swift)
print(f"{'case':<20}{'swift':>12}{'torch eager':>14}{'keras tf.fn':>14}{'× torch':>10}{'× keras':>10}")
for ours, theirs in names.items():
    if not ran(f"train.{ours}"): continue
    s = med([r["value"] for r in swift if r["case"] == f"train.{ours}"])
    t = med([r["samples_per_sec"] for r in torch if r["model"] == theirs])
    k = med([r["samples_per_sec"] for r in keras if r["model"] == theirs])
    print(f"{'train.' + ours:<20}{s:>12.0f}{t:>14.0f}{k:>14.0f}{s / t:>10.2f}{s / k:>10.2f}")
for ours in ["om", "om-lm", "om-hapt"]:
    if not ran(f"train.{ours}"): continue
    s = med([r["value"] for r in swift if r["case"] == f"train.{ours}"])
    t = med([r["train_samples_per_sec"] for r in torch_dcl if r["model"] == ours])
    print(f"{'train.' + ours:<20}{s:>12.1f}{t:>14.1f}{'—':>14}{s / t:>10.2f}{'—':>10}")
# infer1: our InferencePlan; infer1-forward: the model's own forward pass.
for case in ["infer1", "infer1-forward"]:
    for ours, theirs in [("lm", "lm"), ("lm-att", "lm_att")]:
        if not ran(f"{case}.{ours}"): continue
        s = med([r["value"] for r in swift if r["case"] == f"{case}.{ours}"])
        t = med([r["infer_latency_us_b1"] for r in torch if r["model"] == theirs])
        k = med([r["infer_latency_us_b1"] for r in keras if r["model"] == theirs])
        # Latency: lower is better, so the ratio is theirs / ours.
        label = f"{case}.{ours} µs"
        print(f"{label:<20}{s:>12.1f}{t:>14.1f}{k:>14.1f}{t / s:>10.2f}{k / s:>10.2f}")
if lines("swift-gemm.jsonl"): print("SGEMM against numpy's OpenBLAS (ratio in the × torch column is × numpy):")
for r in lines("swift-gemm.jsonl"):
    t = r["threads"]
    theirs = [n["gflops_median"] for n in lines("numpy-gemm.jsonl")
              if n.get("lib", "").startswith("numpy") and n["n"] == 512 and n["threads"] == t]
    if theirs:
        label = f"gemm 512³ {t}T GFLOP/s"
        print(f"{label:<20}{r['value']:>12.1f}{'numpy ' + format(theirs[0], '.1f'):>14}{'':>14}{r['value'] / theirs[0]:>10.2f}")
for ours in ["om", "om-lm", "om-hapt"]:
    sp = {r.get("params") for r in swift if r["case"] == f"train.{ours}"}
    tp = {r["params"] for r in torch_dcl if r["model"] == ours}
    if sp or tp:
        print(f"train.{ours} parameters: swift {sorted(sp)}, torch {sorted(tp)}")
PY
