#!/usr/bin/env bash
# Creates bench/.venv with the current PyTorch (and torchvision) from the Python package index, as the
# peer for bench/run_cpu_bench.sh. Benchmark-only: never used by the build, `make test` or CI.
# Takes several minutes and a few GB (the Linux wheels pull the CUDA libraries; they run on the CPU).
# Usage: bench/setup_peer_venv.sh            (idempotent: an existing venv with torch is kept)
#        PEER_VENV=/some/dir bench/setup_peer_venv.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PEER_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c 'import torch, torchvision' 2>/dev/null; then
  echo "peer venv ready: $venv ($("$venv/bin/python" -c 'import torch; print("torch", torch.__version__)'))"
  exit 0
fi
"$python" -m venv "$venv"
"$venv/bin/pip" install --upgrade pip
"$venv/bin/pip" install torch torchvision
"$venv/bin/python" -c 'import torch; print("peer venv ready:", torch.__version__, "threads", torch.get_num_threads())'
