#!/usr/bin/env bash
# The README's main job: what pretraining changes in fine-tuning, on synthetic chest X-rays.
#   1. demo/data: the pneumonia task (NORMAL / PNEUMONIA; DICOM and PNG), demo/pretrain: a
#      different task (CARDIOMEGALY / NODULES / NORMAL), both from `cxrtune demo-data`.
#   2. pretrain: ResNet-18 on the other task (recipes/demo-pretrain.yaml) — or, when your
#      torchvision ImageNet weights are where torchvision keeps them, those (never downloaded).
#   3. fine-tune the pneumonia task with recipes/demo.yaml twice, same seed: from the pretrained
#      weights (their head re-initialised) and from a fresh initialisation.
#   4. train evaluates each run's best checkpoint on data.test (RUN/eval/metrics.json, the
#      operating point chosen on that epoch's validation scores); then the paired DeLong
#      comparison of the two on the same test images, and one report with both runs.
set -euo pipefail
build=${1:-build}
bin="$build/cli/cxrtune"
make_set() {  # DIR, then demo-data's options; a set is remade only when it is incomplete
  local dir=$1
  shift
  if [ ! -f "$dir/.complete" ]; then
    rm -rf "$dir"
    "$bin" demo-data "$dir" "$@"
    touch "$dir/.complete"
  fi
}
make_set demo/data --count 480 --size 256 --seed 0
run="demo/run-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$run"
weights=""
for dir in "${TORCH_HOME:-/nonexistent}/hub/checkpoints" "$HOME/.cache/torch/hub/checkpoints"; do
  if [ -z "$weights" ] && [ -f "$dir/resnet18-f37072fd.pth" ]; then
    weights=torchvision
    echo "demo: the pretrained run starts from your torchvision ImageNet weights ($dir/resnet18-f37072fd.pth)"
  fi
done
if [ -z "$weights" ]; then
  echo "demo: no torchvision weights found (resnet18-f37072fd.pth in ~/.cache/torch/hub/checkpoints; cxrtune"
  echo "      never downloads), so the demo pretrains its own on a different synthetic task first."
  make_set demo/pretrain --task findings --count 360 --size 128 --seed 1
  "$bin" train recipes/demo-pretrain.yaml --out "$run/pretrain" --no-report
  weights="$run/pretrain/checkpoints/last.safetensors"
fi
"$bin" train recipes/demo.yaml --out "$run/pretrained" --set "model.weights=$weights" --no-report
"$bin" train recipes/demo.yaml --out "$run/fresh" --no-report
# A = pretrained, B = fresh, on the same test images (their eval outputs, matched by path).
"$bin" compare "$run/pretrained/eval/metrics.json" "$run/fresh/eval/metrics.json" -o "$run/pretrained/eval/compare.json"
"$bin" report "$run/pretrained" "$run/fresh" -o "$run/report.html"
echo
echo "The report: $(pwd)/$run/report.html"
