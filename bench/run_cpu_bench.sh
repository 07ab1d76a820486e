#!/usr/bin/env bash
# cxrtune vs PyTorch on the CPU, side by side in one run: ROUNDS interleaved rounds (the machine's
# speed drifts between time windows), one process per configuration, both with THREADS threads;
# PyTorch gets a tuned glibc malloc (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
# MALLOC_TOP_PAD_=1073741824; without it it faults pages every step) and channels_last.
# cxrtune runs each of CONFIGS (precision:conv_algorithm; default "f32:direct f32:winograd
# bf16:direct", a bf16 run is left out on CPUs without AVX512_BF16); PyTorch runs f32, the peer
# every ratio is taken against.
# Prints a Markdown table of medians and ratios, and writes the raw JSON lines to bench/results/.
# Usage: bench/run_cpu_bench.sh [BUILD_DIR] [ARCH] [BATCH] [SIZE] [ROUNDS]
set -euo pipefail
build=${1:-build}
arch=${2:-resnet50}
batch=${3:-32}
size=${4:-224}
rounds=${5:-3}
threads=${THREADS:-2}
steps=${STEPS:-6}
configs=${CONFIGS:-f32:direct f32:winograd bf16:direct}
here=$(cd "$(dirname "$0")" && pwd)
out="$here/results"
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
log="$out/cpu-$arch-b$batch-s$size-$stamp.jsonl"

for r in $(seq "$rounds"); do
  for config in $configs; do
    echo "round $r/$rounds: cxrtune $config" >&2
    OMP_NUM_THREADS=$threads "$build/cli/cxrtune" bench --arch "$arch" --batch "$batch" --size "$size" \
      --steps "$steps" --warmup 3 --threads "$threads" --dtype "${config%%:*}" \
      --conv-algorithm "${config##*:}" --json 2>/dev/null | tee -a "$log" >/dev/null \
      || echo "  $config: not available on this machine" >&2
  done
  echo "round $r/$rounds: pytorch" >&2
  OMP_NUM_THREADS=$threads MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 \
    MALLOC_TOP_PAD_=1073741824 /usr/bin/python3 "$here/torch_peer.py" --arch "$arch" \
    --batch "$batch" --size "$size" --steps "$steps" --warmup 8 --threads "$threads" \
    | tee -a "$log" >/dev/null
done

/usr/bin/python3 - "$log" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peer = [r for r in rows if r["backend"] == "pytorch"]
def med(rs, key):
    return statistics.median(r[key] for r in rs)
ours = [r for r in rows if r["backend"] != "pytorch"]
first = ours[0]
print(f"{first['arch']}, batch {first['batch']}, {first['size']}x{first['size']}, {first['isa']}; "
      f"medians of {len(peer)} interleaved rounds; ratios against PyTorch f32")
print("| | training img/s | ratio | inference img/s | ratio | peak RSS (MiB) | ratio |")
print("| --- | --- | --- | --- | --- | --- | --- |")
pt, pi, pm = (med(peer, k) for k in ("train_images_per_s", "infer_images_per_s", "peak_rss_mib"))
print(f"| PyTorch f32 (channels_last) | {pt:.2f} | 1.00x | {pi:.2f} | 1.00x | {pm:.0f} | 1.00x |")
configs = []
for r in ours:
    key = (r["dtype"], r.get("conv_algorithm", "direct"))
    if key not in configs:
        configs.append(key)
for dtype, alg in configs:
    rs = [r for r in ours if (r["dtype"], r.get("conv_algorithm", "direct")) == (dtype, alg)]
    t, i, m = (med(rs, k) for k in ("train_images_per_s", "infer_images_per_s", "peak_rss_mib"))
    label = f"cxrtune {dtype}" + ("" if alg == "direct" else f", {alg}")
    print(f"| {label} | {t:.2f} | {t/pt:.2f}x | {i:.2f} | {i/pi:.2f}x | {m:.0f} | {m/pm:.2f}x |")
# The machine's speed drifts between time windows; a ratio taken within one round (adjacent
# processes) is steadier than the ratio of medians, so print those too.
rounds, current = [], []
for r in rows:
    current.append(r)
    if r["backend"] == "pytorch":
        rounds.append(current)
        current = []
print()
for dtype, alg in configs:
    label = f"{dtype} {alg}"
    for key, name in (("train_images_per_s", "training"), ("infer_images_per_s", "inference")):
        ratios = []
        for rs in rounds:
            peer_r = rs[-1][key]
            mine = [r[key] for r in rs if (r.get("dtype"), r.get("conv_algorithm", "direct")) == (dtype, alg)]
            if mine and peer_r > 0:
                ratios.append(mine[0] / peer_r)
        if ratios:
            print(f"per-round {name} ratios, {label}: " + " ".join(f"{x:.2f}" for x in ratios) +
                  f" (median {statistics.median(ratios):.2f}x)")
PY
