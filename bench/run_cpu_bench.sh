#!/usr/bin/env bash
# cxrtune vs PyTorch on the CPU, side by side in one run: ROUNDS interleaved rounds (the machine's
# speed drifts between time windows), one process per configuration, both with THREADS threads;
# PyTorch gets the tuned glibc malloc and channels_last (deps-notes.md). Prints a Markdown table
# of medians and ratios, and writes the raw JSON lines to bench/results/.
# Usage: bench/run_cpu_bench.sh [BUILD_DIR] [ARCH] [BATCH] [SIZE] [ROUNDS]
set -euo pipefail
build=${1:-build}
arch=${2:-resnet50}
batch=${3:-32}
size=${4:-224}
rounds=${5:-3}
threads=${THREADS:-2}
steps=${STEPS:-6}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/results"
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
log="$out/cpu-$arch-b$batch-s$size-$stamp.jsonl"

for r in $(seq "$rounds"); do
  echo "round $r/$rounds: cxrtune" >&2
  OMP_NUM_THREADS=$threads "$build/cli/cxrtune" bench --arch "$arch" --batch "$batch" --size "$size" \
    --steps "$steps" --warmup 3 --threads "$threads" --json 2>/dev/null | tee -a "$log" >/dev/null
  echo "round $r/$rounds: pytorch" >&2
  OMP_NUM_THREADS=$threads MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
    MALLOC_TOP_PAD_=1073741824 /usr/bin/python3 "$here/torch_peer.py" --arch "$arch" \
    --batch "$batch" --size "$size" --steps "$steps" --warmup 8 --threads "$threads" \
    | tee -a "$log" >/dev/null
done

/usr/bin/python3 - "$log" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def med(backend, key):
    vals = [r[key] for r in rows if (r["backend"] == "pytorch") == (backend == "pytorch")]
    return statistics.median(vals)
ours = [r for r in rows if r["backend"] != "pytorch"][0]
print(f"{ours['arch']}, batch {ours['batch']}, {ours['size']}x{ours['size']}, {ours['dtype']}, "
      f"{ours['isa']}; medians of {len(rows)//2} interleaved rounds")
print("| | cxrtune | PyTorch | ratio |")
print("| --- | --- | --- | --- |")
for key, label in [("train_images_per_s", "training img/s"), ("infer_images_per_s", "inference img/s"),
                   ("peak_rss_mib", "peak RSS (MiB)")]:
    a, b = med("cxrtune", key), med("pytorch", key)
    print(f"| {label} | {a:.2f} | {b:.2f} | {a/b:.2f}x |")
PY
