#!/usr/bin/env bash
# One prepared check of the cuDNN backend for a GPU machine that has only CUDA, cuDNN, CMake and
# PyTorch (maybe no DCMTK/ITK/yaml-cpp/oneDNN): an engine-only build, the cuDNN tests and the
# registry-wide backend parity test, then the GPU benchmark against PyTorch. Every phase is
# time-limited and logged; a failing phase is reported and the next one still runs. Results go to
# $OUT (or BUILD_DIR/gpu-check) and a summary is printed at the end.
# Usage: bench/gpu_check.sh [BUILD_DIR]
#   CUDA_ARCHS=90 (H100/H200; "80;90" for both)  JOBS=$(nproc)  BENCH_ROUNDS=2  DTYPES="f32 bf16"
#   SKIP_BENCH=1 to stop after the tests.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-gpu}
out=${OUT:-$build/gpu-check}
jobs=${JOBS:-$(nproc)}
archs=${CUDA_ARCHS:-90}
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary" >&2; }
# phase NAME SECONDS COMMAND...: runs with a time limit, logs to $out/NAME.log, notes the status.
phase() {
  local name=$1 limit=$2
  shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  note "$(printf '%-14s rc=%-3s %4ss  (%s)' "$name" "$rc" "$((SECONDS - t0))" "$out/$name.log")"
  return $rc
}

{ nvidia-smi || true; nvcc --version || true; } >"$out/machine.txt" 2>&1
note "cxrtune GPU check, $(date -u +%FT%TZ), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"

phase configure 300 cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DCXRTUNE_ENGINE_ONLY=ON \
  -DCXRTUNE_WITH_CUDNN=ON -DCXRTUNE_WITH_ITK=OFF "-DCMAKE_CUDA_ARCHITECTURES=$archs" ||
  { note "configure failed (GTest is required by tests/; see configure.log)"; exit 1; }
phase build-tests 900 cmake --build "$build" -j"$jobs" --target cudnn_tests layer_tests engine_tests
phase build-cli 600 cmake --build "$build" -j"$jobs" --target cxrtune

run_gtest() {  # NAME BINARY FILTER
  local bin="$build/tests/$2"
  if [ -x "$bin" ]; then
    phase "$1" 900 "$bin" "--gtest_filter=$3" "--gtest_output=json:$out/$1.json"
    grep -E "^\[(cudnn|resnet|.*/cudnn)|worst relative error|SKIPPED|FAILED|PASSED" "$out/$1.log" | tee -a "$summary" >&2
  else
    note "$1: $bin was not built"
  fi
}
run_gtest cudnn-tests cudnn/cudnn_tests '*'
run_gtest parity layers/layer_tests '*Parity*:Registry*'
run_gtest network-grad engine/engine_tests 'NetworkGrad*'

if [ -z "${SKIP_BENCH:-}" ]; then
  if [ -x "$build/cli/cxrtune" ]; then
    phase bench 1200 env OUT="$out" DTYPES="${DTYPES:-f32 bf16}" "$src/bench/run_gpu_bench.sh" "$build" resnet50 32 224 "${BENCH_ROUNDS:-2}"
    sed -n '/^|/p;/^resnet/p;/^pytorch:/p;/^cxrtune:/p' "$out/bench.log" | tee -a "$summary" >&2
  else
    note "bench: cxrtune was not built (cli needs CLI11); PyTorch peer alone:"
    phase bench-torch 600 "${PYTHON:-python3}" "$src/bench/torch_gpu_peer.py" --dtype bf16
    cat "$out/bench-torch.log" | tee -a "$summary" >&2
  fi
fi
note "done; everything is under $out"
