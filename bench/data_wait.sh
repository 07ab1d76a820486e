#!/usr/bin/env bash
# Does the trainer wait on data? ResNet-50 at 224, batch 32, on the CPU with ONE loader worker
# and no cache, over synthetic 2048×2048 DX/CR films in the demo's mixed encodings
# (uncompressed, RLE, JPEG lossless, JPEG-LS, PNG). Prints each step's data_wait_s and step time
# from metrics.jsonl. Usage: bench/data_wait.sh [BUILD_DIR] [STEPS]
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
steps=${2:-8}
work=$(mktemp -d /tmp/cxr_data_wait.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
"$build/cli/cxrtune" demo-data films --count $((32 * (steps + 1) * 10 / 6)) --size 2048 > /dev/null
cat > recipe.yaml <<YAML
model: {arch: resnet50, num_classes: 2, weights: null}
data: {train: films/train, val: films/val, image_size: 224, workers: 1, cache: none}
train: {epochs: 1, max_steps: $steps, batch_size: 32, backend: cpu}
optimizer: {name: adam, lr: 1.0e-4}
YAML
"$build/cli/cxrtune" train recipe.yaml --out run > train.log 2>&1 || { cat train.log; exit 1; }
/usr/bin/python3 - run/metrics.jsonl <<'PY'
import json, sys
steps = [r for r in map(json.loads, open(sys.argv[1])) if r.get("kind", "step") == "step" and "data_wait_s" in r]
print("| step | data_wait_s | images/s |")
print("|---:|---:|---:|")
for r in steps:
    print(f"| {r['step']} | {r['data_wait_s']:.3f} | {r.get('images_per_s', float('nan')):.1f} |")
later = [r["data_wait_s"] for r in steps[1:]]
print(f"\nafter the first batch: mean data_wait_s {sum(later) / max(1, len(later)):.3f}, max {max(later, default=0):.3f}")
PY
