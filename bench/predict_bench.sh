#!/usr/bin/env bash
# `cxrtune predict` throughput against `cxrtune bench`'s inference figure on the same model,
# size and batch, and what Grad-CAM adds. COUNT PNGs already at SIZE × SIZE (no resize, so the
# loader's decode is cheap and what is measured is the model), a checkpoint of ARCH from one
# training step, then, interleaved in each of ROUNDS rounds: bench --json (infer_images_per_s,
# the network alone on a batch in memory, median of BENCH_STEPS steps after 2 warm-up steps;
# train_step_s gives a full training step for scale), predict (decode, preprocessing, forward,
# CSV) and predict --cam (plus the backward to layer4 and two files per image). predict's "time:"
# line splits its run into setup (loader, primitives), waiting for decoded images and the
# network, and gives the network's rate on its median full batch, the statistic bench reports
# (bench's median step after its warm-up); on a loaded machine a mean is slower than a median. Ratios are per round (bench of the
# same round), then their median and range, because the machine may be loaded.
# Usage: bench/predict_bench.sh [BUILD_DIR] [ARCH] [SIZE] [BATCH] [COUNT] [ROUNDS] [BENCH_STEPS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
arch=${2:-resnet50}
size=${3:-224}
batch=${4:-32}
count=${5:-256}
rounds=${6:-3}
bench_steps=${7:-5}
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
range() { sort -g | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.2f-%.2f", lo, hi}'; }
rate() { sed -n 's/.*images, \([0-9.]*\) img\/s.*/\1/p'; }
steady() { sed -n 's/.*median batch \([0-9.]*\) img\/s.*/\1/p'; }
: > rounds.txt
for r in $(seq "$rounds"); do
  "$bin" bench --arch "$arch" --size "$size" --batch "$batch" --backend cpu --steps "$bench_steps" --warmup 2 --json \
    2> /dev/null > bench.json
  b=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open("bench.json"))["infer_images_per_s"])')
  t=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open("bench.json"))["train_step_s"])')
  "$bin" predict --checkpoint run images --batch "$batch" --out p.csv 2> /dev/null > plain.out
  rm -rf cams
  "$bin" predict --checkpoint run images --batch "$batch" --out p.csv --cam cams 2> /dev/null > cam.out
  cam_total=$(sed -n 's/^grad-cam: .* (\([0-9.]*\) s of the run: \([0-9.]*\) s backward.*/\1 \2/p' cam.out)
  # round: bench img/s, train step s, predict img/s, predict median-batch img/s, --cam img/s, cam total s, cam compute s
  echo "$b $t $(rate < plain.out) $(steady < plain.out) $(rate < cam.out) $cam_total" >> rounds.txt
  echo "round $r predict: $(tail -1 plain.out)" >&2
  echo "round $r --cam: $(tail -2 cam.out | tr "\n" " ")" >&2
done
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "$arch ${size}px batch $batch, $count images, $(nproc) threads, $cpu, $rounds interleaved rounds," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg)"
col() { awk -v c="$1" '{print $c}' rounds.txt; }
ratio() { awk -v a="$1" -v b="$2" '{print $a / $b}' rounds.txt; }
echo "| measure | img/s (median) | ratio to bench, median (range over rounds) |"
echo "| --- | --- | --- |"
echo "| cxrtune bench (inference) | $(col 1 | median) | 1.00x |"
echo "| cxrtune predict, whole run | $(col 3 | median) | $(ratio 3 1 | median)x ($(ratio 3 1 | range)) |"
echo "| cxrtune predict, its median batch (bench's statistic) | $(col 4 | median) | $(ratio 4 1 | median)x ($(ratio 4 1 | range)) |"
echo "| cxrtune predict --cam, whole run | $(col 5 | median) | $(ratio 5 1 | median)x ($(ratio 5 1 | range)) |"
# Grad-CAM per image: its compute (probe read-back, backward from the logits to layer4, the maps)
# and its files, against a forward pass (bench) and a full training step (bench, for scale).
awk -v n="$count" -v batch="$batch" '{
  fwd = 1000 / $1; step = 1000 * $2 / batch; comp = 1000 * $7 / n; files = 1000 * ($6 - $7) / n
  print fwd, step, comp, files, comp / fwd, comp / (step - fwd)
}' rounds.txt > cam.txt
awk '{f += $1; s += $2; c += $3; w += $4; r += $5; q += $6} END {
  printf "\nGrad-CAM per image (means over rounds): compute %.1f ms (backward to layer4, read-back, maps: %.0f %% of a forward pass of %.1f ms, %.0f %% of the backward half of a training step, %.1f ms), files %.1f ms\n", c / NR, 100 * r / NR, f / NR, 100 * q / NR, (s - f) / NR, w / NR
}' cam.txt
echo "per round (bench img/s, train step s, predict img/s, median-batch img/s, --cam img/s, cam s, cam compute s):"
cat rounds.txt
