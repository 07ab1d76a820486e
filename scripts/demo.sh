#!/usr/bin/env bash
# The README's main job. Until `cxrtune train` lands, it runs the training-step benchmark on a
# small size so a new user sees the engine work end to end.
set -euo pipefail
build=${1:-build}
"$build/cli/cxrtune" bench --arch resnet18 --batch 8 --size 112 --steps 5 --backend cpu
