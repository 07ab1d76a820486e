#!/usr/bin/env bash
# One prepared check of the cuDNN backend for a GPU machine that has only CUDA, CMake and PyTorch
# (cuDNN as PyTorch's nvidia-cudnn wheel; maybe no GoogleTest, oneDNN, CLI11, nlohmann-json,
# torchvision). Runs the build that scripts/gpu_prepare.sh packed into .carry/gpu-build when it
# is there, and otherwise builds one (engine-only) here. Then: the host arithmetic tests, the
# cuDNN tests, the registry-wide backend parity test, the network gradient tests and the GPU
# benchmark against PyTorch (the PyTorch peer alone when cxrtune is missing).
# Every phase runs whatever happened before it, has a time limit, and logs into $OUT/NAME.log; a
# failing test phase is run again, its failed tests only, with CXRTUNE_CUDA_SYNC=1 and
# CUDA_LAUNCH_BLOCKING=1 (NAME-sync.log), so an asynchronous fault names its layer. The whole
# check keeps within TOTAL_S seconds; $OUT/summary.txt (also printed) says what ran and how.
# Usage: bench/gpu_check.sh [BUILD_DIR]
#   OUT=dir  TOTAL_S=480  FORCE_BUILD=1 (ignore .carry)  CUDA_ARCHS=90  JOBS=$(nproc)
#   DTYPES="f32 bf16"  BENCH_ROUNDS=1  STEPS=10  WARMUP=5  SKIP_BENCH=1  PYTHON=python3
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
carried=$src/.carry/gpu-build
if [ -z "${FORCE_BUILD:-}" ] && [ -f "$carried/MANIFEST.txt" ]; then
  build=$carried mode=carried
else
  build=${1:-$src/build-gpu} mode=built
fi
out=${OUT:-$src/gpu-check}
mkdir -p "$out"
jobs=${JOBS:-$(nproc)}
python=${PYTHON:-python3}
deadline=$((SECONDS + ${TOTAL_S:-480}))
mkdir -p "$out"
summary="$out/summary.txt"
: > "$summary"
note() { echo "$*" | tee -a "$summary"; }

# phase NAME SECONDS COMMAND...: runs with a time limit (cut to what the deadline leaves; skipped
# when under 20 s are left), logs to $out/NAME.log, notes the status; returns the command's.
phase() {
  local name=$1 limit=$2
  shift 2
  local left=$((deadline - SECONDS - 5))
  if [ "$left" -lt 20 ]; then
    note "$(printf '%-16s skipped: the check is out of time (TOTAL_S)' "$name")"
    return 124
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  local t0=$SECONDS
  timeout -k 5 "$limit" "$@" >"$out/$name.log" 2>&1
  local rc=$?
  note "$(printf '%-16s rc=%-3s %4ss  (%s)' "$name" "$rc" "$((SECONDS - t0))" "$out/$name.log")"
  return $rc
}

# Where the loader finds cuDNN (libcudnn.so.9 of the nvidia-cudnn wheel), cuBLAS and the CUDA
# runtime: every folder of the nvidia.* wheels holding one of them, then torch/lib.
libdirs=$("$python" - <<'PY' 2>/dev/null
import importlib, os
dirs = []
try:
    import nvidia
    roots = list(nvidia.__path__)
except Exception:
    roots = []
for root in roots:
    for here, _, files in os.walk(root):
        if any(f.startswith(("libcudnn.so", "libcublas.so", "libcublasLt.so", "libcudart.so")) for f in files):
            dirs.append(here)
try:
    import torch
    dirs.append(os.path.join(os.path.dirname(torch.__file__), "lib"))
except Exception:
    pass
print(":".join(d for d in dirs if os.path.isdir(d)))
PY
)
export LD_LIBRARY_PATH="${libdirs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# libgomp: the engine's OpenMP. A machine without the system's may still have PyTorch's copy.
for b in "$build"/tests/cudnn/cudnn_host_tests "$build"/cli/cxrtune; do
  [ -x "$b" ] || continue
  if ldd "$b" 2>/dev/null | grep -q 'libgomp.so.1 => not found'; then
    torch_dir=$("$python" -c 'import torch, os; print(os.path.dirname(torch.__file__))' 2>/dev/null)
    gomp=$(ls "$torch_dir"/lib/libgomp*.so* "$torch_dir"/../torch.libs/libgomp*.so* 2>/dev/null | head -1)
    if [ -n "$gomp" ]; then
      mkdir -p "$out/lib" && ln -sf "$gomp" "$out/lib/libgomp.so.1"
      export LD_LIBRARY_PATH="$out/lib:$LD_LIBRARY_PATH"
    fi
  fi
  break
done
# A carried build that cannot start here (an older glibc/libstdc++, a missing library) is
# replaced by one built here.
if [ "$mode" = carried ] && ! "$carried/tests/cudnn/cudnn_host_tests" --gtest_list_tests >"$out/carried-start.log" 2>&1; then
  build=${1:-$src/build-gpu} mode="built (the carried build did not start: $(grep -v '^ ' "$out/carried-start.log" | tail -1))"
fi

{
  nvidia-smi || true
  nvcc --version || true
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn", torch.backends.cudnn.version(), "gpu", torch.cuda.is_available())' || true
  "$python" -c 'import torchvision; print("torchvision", torchvision.__version__)' || echo "no torchvision: the peer builds its ResNets itself"
  echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
} >"$out/machine.txt" 2>&1
note "cxrtune GPU check, $(date -u +%FT%TZ), $(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)"
note "build: $mode ($build)"
[ "$mode" = carried ] && sed 's/^/  /' "$carried/MANIFEST.txt" | head -4 | tee -a "$summary"

if [ "${mode%% *}" = built ]; then
  # Tests need GoogleTest and cxrtune needs CLI11 + nlohmann-json: the configuration skips what
  # it cannot build, and every later phase runs with whatever was built.
  cudnn_hints=()
  cudnn_dir=$("$python" -c 'import nvidia.cudnn; print(list(nvidia.cudnn.__path__)[0])' 2>/dev/null) &&
    [ -f "$cudnn_dir/include/cudnn.h" ] &&
    cudnn_hints=("-DCUDNN_INCLUDE=$cudnn_dir/include" "-DCUDNN_LIBRARY=$(ls "$cudnn_dir"/lib/libcudnn.so* | head -1)")
  generator=()
  command -v ninja >/dev/null && [ ! -f "$build/CMakeCache.txt" ] && generator=(-G Ninja)
  phase configure 240 cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DCXRTUNE_ENGINE_ONLY=ON -DCXRTUNE_WITH_ONEDNN=OFF -DCXRTUNE_WITH_CUDNN=ON -DCXRTUNE_WITH_ITK=OFF \
    "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-90}" "${cudnn_hints[@]}"
  for t in cudnn_host_tests cudnn_tests layer_tests engine_tests cxrtune; do
    phase "build-$t" 600 cmake --build "$build" -j"$jobs" --target "$t"
  done
fi

for b in "$build"/tests/cudnn/cudnn_tests "$build"/cli/cxrtune; do
  [ -x "$b" ] && { echo "== $b"; ldd "$b"; } >>"$out/machine.txt" 2>&1
done
grep -q "=> not found" "$out/machine.txt" && note "missing libraries: $(grep '=> not found' "$out/machine.txt" | sort -u | tr -s ' \t' ' ' | paste -sd';')"

# run_gtest NAME BINARY FILTER LIMIT: the gtest phase, then its failed tests again in sync mode.
run_gtest() {
  local name=$1 bin="$build/tests/$2" filter=$3 limit=$4
  if [ ! -x "$bin" ]; then
    note "$(printf '%-16s not run: %s was not built' "$name" "$bin")"
    return
  fi
  phase "$name" "$limit" "$bin" "--gtest_filter=$filter" "--gtest_output=json:$out/$name.json" "--gtest_color=no"
  local rc=$?
  grep -E "^\[(cudnn|resnet)|worst relative error|^\[ +(SKIPPED|FAILED|PASSED) +\] [0-9]+ tests?|^\[  FAILED  \] .* \([0-9]+ ms\)" "$out/$name.log" |
    sed 's/^/  /' | tee -a "$summary"
  [ "$rc" = 0 ] && return
  local failed
  failed=$(sed -n 's/^\[  FAILED  \] \([A-Za-z0-9_/.]*\).*/\1/p' "$out/$name.log" | grep '\.' | sort -u | paste -sd:)
  [ -n "$failed" ] || failed=$filter  # a crash or a timeout: the whole filter again
  phase "$name-sync" "$limit" env CXRTUNE_CUDA_SYNC=1 CUDA_LAUNCH_BLOCKING=1 "$bin" "--gtest_filter=$failed" "--gtest_color=no"
  grep -E "CXRTUNE_CUDA_SYNC|^\[  FAILED  \]|Failure|failed in" "$out/$name-sync.log" | head -20 | sed 's/^/  /' | tee -a "$summary"
}
run_gtest host-tests cudnn/cudnn_host_tests '*' 60
run_gtest cudnn-tests cudnn/cudnn_tests '*' 240
run_gtest parity layers/layer_tests '*Parity*:Registry*' 180
run_gtest network-grad engine/engine_tests 'NetworkGrad*' 120

if [ -z "${SKIP_BENCH:-}" ]; then
  if [ -x "$build/cli/cxrtune" ]; then
    phase bench 300 env OUT="$out/bench" DTYPES="${DTYPES:-f32 bf16}" STEPS="${STEPS:-10}" WARMUP="${WARMUP:-5}" \
      PYTHON="$python" "$src/bench/run_gpu_bench.sh" "$build" resnet50 32 224 "${BENCH_ROUNDS:-1}"
    sed -n '/^|/p;/^resnet/p;/^pytorch:/p;/^cxrtune:/p;/failed:/p' "$out/bench.log" | tee -a "$summary"
  else
    note "bench: $build/cli/cxrtune was not built; the PyTorch peer alone:"
    phase bench-torch 180 "$python" "$src/bench/torch_gpu_peer.py" --dtype bf16 --steps "${STEPS:-10}" --warmup "${WARMUP:-5}"
    tail -3 "$out/bench-torch.log" | tee -a "$summary"
  fi
fi
note "done in ${SECONDS}s; logs under $out"
