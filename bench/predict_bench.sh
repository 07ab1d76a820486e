#!/usr/bin/env bash
# `cxrtune predict` throughput against `cxrtune bench`'s inference figure on the same model,
# size and batch, and what Grad-CAM adds. COUNT PNGs already at SIZE × SIZE (no resize, so the
# loader's decode is cheap and what is measured is the model), a checkpoint of ARCH from one
# training step, then: bench --json (infer_images_per_s, the network alone on a batch in memory),
# predict (decode, preprocessing, forward, CSV), predict --cam (plus the backward to layer4 and
# two files per image). One process each, ROUNDS interleaved rounds, medians.
# Usage: bench/predict_bench.sh [BUILD_DIR] [ARCH] [SIZE] [BATCH] [COUNT] [ROUNDS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
arch=${2:-resnet50}
size=${3:-224}
batch=${4:-32}
count=${5:-256}
rounds=${6:-3}
bin="$build/cli/cxrtune"
work=$(mktemp -d /tmp/cxr_predict_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
/usr/bin/python3 - "$size" "$count" <<'PY'
import os, random, sys
from PIL import Image
size, count = int(sys.argv[1]), int(sys.argv[2])
random.seed(0)
def write(path, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rnd = random.Random(seed)
    Image.frombytes("L", (size, size), bytes(rnd.randrange(256) for _ in range(size * size))).save(path)
for c in ("A", "B"):
    for i in range(8):
        write(f"train/{c}/{i}.png", hash((c, i)))
        write(f"val/{c}/{i}.png", hash((c, i, 1)))
for i in range(count):
    write(f"images/{i:05d}.png", i)
PY
cat > recipe.yaml <<YAML
model: {arch: $arch, num_classes: 2, weights: null}
data: {train: train, val: val, image_size: $size, workers: 1}
train: {epochs: 1, max_steps: 1, batch_size: $batch, backend: cpu}
YAML
sed -i "s/batch_size: $batch/batch_size: 16/" recipe.yaml  # 16 training images: one step
"$bin" train recipe.yaml --out run --no-report > train.log 2>&1 || { cat train.log; exit 1; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
rate() { sed -n 's/.*images, \([0-9.]*\) img\/s.*/\1/p'; }
: > bench.txt; : > plain.txt; : > cam.txt
for r in $(seq "$rounds"); do
  "$bin" bench --arch "$arch" --size "$size" --batch "$batch" --backend cpu --json 2> /dev/null |
    /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["infer_images_per_s"])' >> bench.txt
  "$bin" predict --checkpoint run images --batch "$batch" --out p.csv 2> /dev/null | rate >> plain.txt
  rm -rf cams
  "$bin" predict --checkpoint run images --batch "$batch" --out p.csv --cam cams 2> /dev/null | rate >> cam.txt
done
b=$(median < bench.txt); p=$(median < plain.txt); c=$(median < cam.txt)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "$arch ${size}px batch $batch, $count images, $(nproc) threads, $cpu, medians of $rounds rounds"
echo "| measure | img/s | ratio to bench |"
echo "| --- | --- | --- |"
awk -v b="$b" -v p="$p" -v c="$c" 'BEGIN {
  printf "| cxrtune bench (inference) | %.2f | 1.00x |\n", b
  printf "| cxrtune predict | %.2f | %.2fx |\n", p, p / b
  printf "| cxrtune predict --cam | %.2f | %.2fx |\n", c, c / b
  printf "\nGrad-CAM adds %.1f ms per image (%.0f %% of a forward pass)\n", 1000 / c - 1000 / p, 100 * (1000 / c - 1000 / p) / (1000 / p)
}'
echo "per round: bench $(tr '\n' ' ' < bench.txt)| predict $(tr '\n' ' ' < plain.txt)| --cam $(tr '\n' ' ' < cam.txt)"
