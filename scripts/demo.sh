#!/usr/bin/env bash
# The README's main job: synthetic chest X-rays (DICOM and PNG), fine-tuning a ResNet-18 with
# layer-wise lr decay (recipes/demo.yaml), then the HTML report. Uses your torchvision ImageNet
# weights when they are where torchvision keeps them; never downloads.
set -euo pipefail
build=${1:-build}
bin="$build/cli/cxrtune"
if [ ! -f demo/data/.complete ]; then
  rm -rf demo/data
  "$bin" demo-data demo/data --count 480 --size 256 --seed 0
  touch demo/data/.complete
fi
sets=()
for dir in "${TORCH_HOME:-/nonexistent}/hub/checkpoints" "$HOME/.cache/torch/hub/checkpoints"; do
  if [ -f "$dir/resnet18-f37072fd.pth" ]; then
    sets=(--set model.weights=torchvision)
    echo "demo: starting from your torchvision ImageNet weights ($dir/resnet18-f37072fd.pth)"
  fi
done
if [ ${#sets[@]} -eq 0 ]; then
  echo "demo: no torchvision weights found (resnet18-f37072fd.pth in ~/.cache/torch/hub/checkpoints);"
  echo "      starting from a fresh initialisation. cxrtune never downloads."
fi
run="demo/run-$(date +%Y%m%d-%H%M%S)"
"$bin" train recipes/demo.yaml --out "$run" "${sets[@]}"
"$bin" eval --checkpoint "$run/checkpoints/best.safetensors" --data demo/data/test --out "$run/eval/metrics.json"
# The page is written again so that it holds the held-out test results eval just wrote.
"$bin" report "$run" -o "$run/report.html"
echo
echo "The report: $(pwd)/$run/report.html"
