#!/usr/bin/env bash
# cxrtune (cuDNN backend) vs PyTorch on the GPU, side by side in one run: ROUNDS interleaved
# rounds (clocks and thermals drift between time windows), one process per configuration, each
# dtype of DTYPES. PyTorch runs channels_last with cudnn.benchmark and torch.autocast (TF32 off
# for f32, as cxrtune's f32 is IEEE); cxrtune runs with CXRTUNE_CUDNN_BENCHMARK=1 likewise.
# Prints a Markdown table of medians and ratios; the raw JSON
# lines go to $OUT (or bench/results/). A configuration that fails (e.g. a dtype the bench does
# not take yet) is reported and skipped, not fatal.
# Usage: bench/run_gpu_bench.sh [BUILD_DIR] [ARCH] [BATCH] [SIZE] [ROUNDS]
#        DTYPES="f32 bf16 f16" STEPS=20 WARMUP=10 PYTHON=python3
set -uo pipefail
build=${1:-build}
arch=${2:-resnet50}
batch=${3:-32}
size=${4:-224}
rounds=${5:-3}
dtypes=${DTYPES:-"f32 bf16"}
steps=${STEPS:-20}
warmup=${WARMUP:-10}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
out=${OUT:-$here/results}
mkdir -p "$out"
log="$out/gpu-$arch-b$batch-s$size-$(date +%Y%m%d-%H%M%S).jsonl"
: > "$log"

for r in $(seq "$rounds"); do
  for dt in $dtypes; do
    echo "round $r/$rounds $dt: cxrtune" >&2
    # Measured algorithm choice, as the peer's cudnn.benchmark (the default is cuDNN's heuristics).
    if ! CXRTUNE_CUDNN_BENCHMARK=1 "$build/cli/cxrtune" bench --backend cuda --dtype "$dt" --arch "$arch" --batch "$batch" --size "$size" \
        --steps "$steps" --warmup "$warmup" --json 2>"$out/cxrtune-$dt-err.txt" >>"$log"; then
      echo "  cxrtune $dt failed: $(tail -1 "$out/cxrtune-$dt-err.txt")" >&2
    fi
    echo "round $r/$rounds $dt: pytorch" >&2
    if ! "$python" "$here/torch_gpu_peer.py" --arch "$arch" --batch "$batch" --size "$size" --dtype "$dt" \
        --steps "$steps" --warmup "$warmup" 2>"$out/pytorch-$dt-err.txt" >>"$log"; then
      echo "  pytorch $dt failed: $(tail -1 "$out/pytorch-$dt-err.txt")" >&2
    fi
  done
done

"$python" - "$log" <<'PY'
import json, statistics, sys
rows = []
for line in open(sys.argv[1]):
    try:
        rows.append(json.loads(line))
    except ValueError:
        pass
if not rows:
    sys.exit("no results")
print(f"{rows[0]['arch']}, batch {rows[0]['batch']}, {rows[0]['size']}x{rows[0]['size']}; medians over rounds")
for r in rows:
    if r["backend"] == "pytorch":
        print("pytorch:", r["isa"]); break
for r in rows:
    if r["backend"] != "pytorch":
        print("cxrtune:", r["isa"]); break
print("| dtype | | cxrtune | PyTorch | ratio |")
print("| --- | --- | --- | --- | --- |")
for dt in sorted({r["dtype"] for r in rows}):
    for key, label in [("train_images_per_s", "training img/s"), ("infer_images_per_s", "inference img/s")]:
        ours = [r[key] for r in rows if r["dtype"] == dt and r["backend"] != "pytorch"]
        peer = [r[key] for r in rows if r["dtype"] == dt and r["backend"] == "pytorch"]
        a = statistics.median(ours) if ours else float("nan")
        b = statistics.median(peer) if peer else float("nan")
        ratio = f"{a / b:.2f}x" if ours and peer and b else "n/a"
        print(f"| {dt} | {label} | {a:.1f} | {b:.1f} | {ratio} |")
PY
echo "raw results: $log" >&2
