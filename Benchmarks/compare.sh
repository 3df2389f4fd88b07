#!/usr/bin/env bash
# Runs har-bench and the PyTorch / Keras anchors interleaved, model by model, in one time window,
# and prints the ratio per case (the machine is shared and noisy: only same-window ratios count).
#
# Needs a copy of ../shared/anchors with its virtual environment (its setup.sh; ~7 GB):
#   d=$(mktemp -d) && cp -r ../shared/anchors "$d" && "$d/anchors/setup.sh"
#   Benchmarks/compare.sh "$d/anchors"            # from the package root
# Options after the anchors folder: --threads N (default 2), --reps N (default 2), --cases LIST
# (comma-separated; default all: ceiling,teacher-att,lm,lm-att,rab-kd,infer,om,om-lm,om-hapt,gemm).
# ceiling: har-bench's FMA loop on 1 and --threads threads, the arithmetic ceiling in this run.
# infer: one window (InferencePlan) and batches of 256 on 1 thread against PyTorch eager and ONNX
# Runtime (the anchors' bench_torch.py --onnx, run for inference only).
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
cases=ceiling,teacher-att,lm,lm-att,rab-kd,infer,om,om-lm,om-hapt,gemm
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
  [[ ",ceiling,teacher-att,lm,lm-att,rab-kd,infer,om,om-lm,om-hapt,gemm," == *",$c,"* ]] ||
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
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo "CPU: ${cpu:-unknown}, $(nproc) processors; $(date -u '+%Y-%m-%d %H:%M UTC')" | tee "$out/cpu.txt"

# Our case name, the anchors' model name, epochs for the anchors (first one untimed).
cnn_cases="teacher-att:teacher:3 lm:lm:4 lm-att:lm_att:4 rab-kd:rabkd:3"
for rep in $(seq "$reps"); do
  if wants ceiling; then
    "$bench" --json --threads "$threads" --filter 'ceiling.fma$' >>"$out/swift-ceiling.jsonl"
  fi
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
  # Inference on 1 thread: ours, then PyTorch eager and ONNX Runtime (a 2-epoch run on 256
  # windows only builds the model; its training figures are not used).
  if wants infer; then
    echo "== rep $rep: infer" >&2
    "$bench" --json --threads 1 --filter infer1 --filter 'infer256.lm' >>"$out/swift.jsonl"
    for model in lm lm_att; do
      "$python" "$anchors/bench_torch.py" --model "$model" --mode eager --epochs 2 --samples 256 \
        --threads 1 --onnx --out "$out/torch-infer.jsonl" >/dev/null
    done
  fi
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
torch_dcl, torch_infer = lines("torch-dcl.jsonl"), lines("torch-infer.jsonl")
def values(records, key, **match):
    return [r[key] for r in records if all(r.get(k) == v for k, v in match.items()) and key in r]
def ours(case): return values(swift, "value", case=case)
def spread(xs, digits):
    if not xs: return "—"
    m = statistics.median(xs)
    if len(xs) == 1: return f"{m:,.{digits}f}"
    return f"{m:,.{digits}f} ({min(xs):,.{digits}f}–{max(xs):,.{digits}f})"
def ratios(a, b, lower_is_better=False):
    # Repetition by repetition (both sides ran in the same minutes): median (min–max).
    pairs = [(x, y) for x, y in zip(a, b)]
    if not pairs: return "—"
    return spread([y / x if lower_is_better else x / y for x, y in pairs], 2)
rows = []
def row(case, mine, digits, peers, lower_is_better=False):
    if not mine: return
    cells = [spread(mine, digits)]
    for theirs in peers:
        cells += [spread(theirs, digits), ratios(mine, theirs, lower_is_better)]
    rows.append([case] + cells)
def table(title, peer_names):
    global rows
    if not rows: return
    header = ["case", "HARDistill"] + [c for p in peer_names for c in (p, f"× {p}")]
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    print(f"\n{title}")
    for r in [header] + rows:
        print("  ".join(str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(r, widths))))
    rows = []
ceiling = lines("swift-ceiling.jsonl")
if ceiling:
    print("\nceiling (FMA loop, GFLOP/s):",
          f"1 thread {spread([r['baseline_value'] for r in ceiling], 1)},",
          f"{ceiling[0]['threads']} threads {spread([r['value'] for r in ceiling], 1)}")
names = {"teacher-att": "teacher", "lm": "lm", "lm-att": "lm_att", "rab-kd": "rabkd"}
for mine, theirs in names.items():
    row(f"train.{mine}", ours(f"train.{mine}"), 0,
        [values(torch, "samples_per_sec", model=theirs), values(keras, "samples_per_sec", model=theirs)])
for mine in ["om", "om-lm", "om-hapt"]:
    row(f"train.{mine}", ours(f"train.{mine}"), 1,
        [values(torch_dcl, "train_samples_per_sec", model=mine), []])
table("training, samples/s (median (min–max) over repetitions)", ["torch eager", "keras tf.fn"])
# infer1: our InferencePlan; infer1-forward: the model's own forward pass. Latency: lower is
# better, so the ratios are theirs / ours.
for case in ["infer1", "infer1-forward"]:
    for mine, theirs in [("lm", "lm"), ("lm-att", "lm_att")]:
        row(f"{case}.{mine} µs", ours(f"{case}.{mine}"), 1,
            [values(torch_infer, "infer_latency_us_b1", model=theirs),
             values(torch_infer, "ort_latency_us_b1", model=theirs)], lower_is_better=True)
for mine, theirs in [("lm", "lm"), ("lm-att", "lm_att")]:
    row(f"infer256.{mine} windows/s", ours(f"infer256.{mine}"), 0,
        [values(torch_infer, "infer_throughput_b256", model=theirs),
         values(torch_infer, "ort_throughput_b256", model=theirs)])
table("inference on 1 thread", ["torch eager", "onnx runtime"])
for r in lines("swift-gemm.jsonl"):
    t = r["threads"]
    numpy = values(lines("numpy-gemm.jsonl"), "gflops_median", n=512, threads=t)
    share = ""
    if ceiling:
        peak = statistics.median([c["baseline_value"] if t == 1 else c["value"] for c in ceiling])
        share = f" = {100 * r['value'] / peak:.0f} % of the ceiling"
    row(f"gemm 512³ {t} thread(s){share}", [r["value"]], 1, [numpy[:1]])
table("SGEMM GFLOP/s against numpy's OpenBLAS", ["numpy"])
for mine in ["om", "om-lm", "om-hapt"]:
    sp = {r.get("params") for r in swift if r["case"] == f"train.{mine}"}
    tp = {r["params"] for r in torch_dcl if r["model"] == mine}
    if sp or tp:
        print(f"train.{mine} parameters: swift {sorted(sp)}, torch {sorted(tp)}")
PY
