#!/usr/bin/env bash
# cxrtune against PyTorch on the CPU, like for like, and against the machine's own limit.
#
#   bench/run_cpu_bench.sh [BUILD_DIR] [ARCH] [BATCH] [SIZE] [ROUNDS]     (defaults: build resnet50 32 224 2)
#
# Expected runtime of the default full run (ResNet-50, batch 32, 224 px, 2 rounds, 2 threads) on a
# quiet 2-core Zen 3 without bf16: about 13 minutes (round 1 about 8, of which the cold
# torch.compile is 3-4; round 2 about 5, the compile cache warm); where the CPU has AVX512_BF16 or
# AMX the four bf16 rows run too: about 20 minutes, or ROUNDS=1 for about 11. These are estimates
# from the per-step rates (about 3.5 s per training step for both programs); the script prints
# the elapsed time. A smoke run (`bench/run_cpu_bench.sh build resnet18 4 64 1`) took 3 minutes on
# a loaded machine. Needs BUILD_DIR's cxrtune and machine_limits targets built
# (`cmake --build build --target cxrtune machine_limits`) and bench/setup_peer_venv.sh run once.
#
# ROUNDS interleaved rounds (the machine's speed drifts between time windows; even rounds run the
# configurations in reverse order), one process per configuration, THREADS threads each:
#   PyTorch current (bench/.venv, made by bench/setup_peer_venv.sh): eager f32, eager bf16
#     autocast, torch.compile (inductor) f32 and bf16 autocast; the compile time is reported on its
#     own and kept out of the rates (cold cache in round 1, a fresh cache per run of this script);
#   PyTorch of Debian (/usr/bin/python3, 1.13): eager f32 and bf16 autocast;
#   cxrtune (BUILD_DIR/cli/cxrtune bench): f32 direct, f32 winograd, bf16 direct;
#   the limits (BUILD_DIR/bench/machine_limits): oneDNN f32 and bf16 GEMM GFLOP/s at GEMM_N³, and
#     the memory's triad GB/s (batch norm, the adds and the optimizer run at that speed; on a
#     shared machine it moves with other tenants' traffic, and the ratios with it).
# PyTorch runs channels_last with a tuned glibc malloc (torch_env below: without it PyTorch faults
# pages every step) and WARMUP untimed steps.
# bf16 rows run only where the CPU computes bf16 natively (AVX512_BF16 or AMX): elsewhere PyTorch
# would emulate it (slower than its f32) and cxrtune refuses it, so the rows say so instead of
# printing ratios. BF16=on runs them anyway (PyTorch emulated, marked so); BF16=off leaves them out.
# A configuration that cannot run (no venv, no C++ compiler for inductor, a failure) is a row
# that says why. Every ratio is like for like: cxrtune f32 against PyTorch f32, bf16 against
# bf16 autocast, training, inference and peak RSS. FLOPs per image are counted from the network's
# layers (conv and linear multiply-adds × 2; forward ×1, training ×3); a configuration's share of
# the limit is its rate × those FLOPs / the GEMM rate of its data type.
#
# Environment: THREADS (2), STEPS measured steps (5), WARMUP peer warm-up steps (8), CXR_WARMUP
# (3), GEMM_N (4096), BF16 (auto|on|off), PEER_PYTHON (bench/.venv/bin/python), OLD_PYTHON
# (/usr/bin/python3), ONLY (a space-separated subset of the configuration names below).
# Output: a Markdown table on stdout and in bench/results/cpu-*.md, the raw JSON lines beside it.
set -uo pipefail
build=${1:-build}
arch=${2:-resnet50}
batch=${3:-32}
size=${4:-224}
rounds=${5:-${ROUNDS:-2}}
threads=${THREADS:-2}
steps=${STEPS:-5}
warmup=${WARMUP:-8}
cxr_warmup=${CXR_WARMUP:-3}
gemm_n=${GEMM_N:-4096}
bf16_mode=${BF16:-auto}
here=$(cd "$(dirname "$0")" && pwd)
peer_python=${PEER_PYTHON:-$here/.venv/bin/python}
old_python=${OLD_PYTHON:-/usr/bin/python3}
out="$here/results"
mkdir -p "$out"
stamp=$(date +%Y%m%d-%H%M%S)
base="$out/cpu-$arch-b$batch-s$size-$stamp"
log="$base.jsonl"
work=$(mktemp -d /tmp/cxr_cpu_bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
export TORCHINDUCTOR_CACHE_DIR="$work/inductor"  # cold in round 1 of every run: a reproducible compile time
cxrtune="$build/cli/cxrtune"
limits="$build/bench/machine_limits"

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
# A VM's model name can be as bare as "AMD EPYC": the family and model say which generation
# (AMD family 25 model 1: Zen 3; family 25 model 17: Zen 4).
cpu_model="$cpu_model (family $(sed -n 's/^cpu family[[:space:]]*: //p' /proc/cpuinfo | head -1) model $(sed -n 's/^model[[:space:]]*: //p' /proc/cpuinfo | head -1))"
flags=$(sed -n 's/^flags[[:space:]]*: //p' /proc/cpuinfo | head -1)
isa=""
for f in sse4_2 avx avx2 fma avx512f avx512bw avx512_vnni avx512_bf16 amx_bf16 amx_tile; do
  [[ " $flags " == *" $f "* ]] && isa="$isa $f"
done
native_bf16=no
[[ " $flags " == *" avx512_bf16 "* || " $flags " == *" amx_bf16 "* ]] && native_bf16=yes
echo "# $cpu_model; ISA:$isa; $(nproc) CPUs, $threads threads; native bf16: $native_bf16" >&2

# One JSON line per run, tagged with its configuration and round; a run that cannot go becomes
# {"config":..,"unavailable":why}.
note() {  # config round why
  "$old_python" -c 'import json,sys; print(json.dumps({"config":sys.argv[1],"round":int(sys.argv[2]),"unavailable":sys.argv[3]}))' \
    "$1" "$2" "$3" >> "$log"
}
record() {  # config round command...
  local config=$1 round=$2
  shift 2
  echo "round $round/$rounds: $config" >&2
  if "$@" > "$work/out" 2> "$work/err"; then
    local line
    line=$(grep '^{' "$work/out" | tail -1)
    if [[ -n "$line" ]]; then
      "$old_python" -c 'import json,sys; r=json.loads(sys.argv[3]); r.update(config=sys.argv[1], round=int(sys.argv[2])); print(json.dumps(r))' \
        "$config" "$round" "$line" >> "$log"
      return
    fi
  fi
  note "$config" "$round" "failed: $(grep -v '^\s*$' "$work/err" | tail -2 | tr '\n' ' ' | cut -c1-300)"
}

torch_env=(env OMP_NUM_THREADS="$threads" MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000
  MALLOC_TOP_PAD_=1073741824)
peer_args=(--arch "$arch" --batch "$batch" --size "$size" --steps "$steps" --warmup "$warmup" --threads "$threads")
have_peer=yes
[[ -x "$peer_python" ]] && "$peer_python" -c 'import torch, torchvision' 2>/dev/null || have_peer=no
have_cxx=no
command -v "${CXX:-g++}" > /dev/null && have_cxx=yes

all="limits torch-eager-f32 torch-eager-bf16 torch-compile-f32 torch-compile-bf16 torch113-eager-f32"
all="$all torch113-eager-bf16 cxrtune-f32-direct cxrtune-f32-winograd cxrtune-bf16-direct"
configs=${ONLY:-$all}

run_config() {  # config round
  local c=$1 r=$2 dtype=f32
  [[ "$c" == *bf16* ]] && dtype=bf16
  if [[ $dtype == bf16 && $bf16_mode == off ]]; then return; fi
  if [[ $dtype == bf16 && $native_bf16 == no && $bf16_mode != on && $c != limits ]]; then
    note "$c" "$r" "no AVX512_BF16 or AMX on this CPU: PyTorch would emulate bf16 (slower than its f32), cxrtune refuses it (BF16=on times it anyway)"
    return
  fi
  case $c in
    limits)
      [[ -x "$limits" ]] || { note "$c" "$r" "$limits not built (cmake --build $build --target machine_limits)"; return; }
      echo "round $r/$rounds: $c" >&2
      if OMP_NUM_THREADS=$threads "$limits" --n "$gemm_n" --threads "$threads" > "$work/limits" 2> "$work/err"; then
        "$old_python" -c 'import json,sys
for l in open(sys.argv[1]):
    d=json.loads(l); d.update(config="gemm-limit-"+d["dtype"] if "dtype" in d else "memory-limit", round=int(sys.argv[2])); print(json.dumps(d))' \
          "$work/limits" "$r" >> "$log"
      else
        note "$c" "$r" "failed: $(tail -1 "$work/err")"
      fi ;;
    torch-eager-*|torch-compile-*)
      [[ $have_peer == yes ]] || { note "$c" "$r" "no current PyTorch at $peer_python (run bench/setup_peer_venv.sh)"; return; }
      local mode=()
      if [[ $c == torch-compile-* ]]; then
        [[ $have_cxx == yes ]] || { note "$c" "$r" "torch.compile (inductor) needs a C++ compiler; ${CXX:-g++} not found"; return; }
        mode=(--compile)
      fi
      record "$c" "$r" "${torch_env[@]}" "$peer_python" "$here/torch_peer.py" "${peer_args[@]}" --dtype "$dtype" "${mode[@]}" ;;
    torch113-eager-*)
      "$old_python" -c 'import torch, torchvision' 2>/dev/null \
        || { note "$c" "$r" "no PyTorch at $old_python (Debian: apt install python3-torch python3-torchvision)"; return; }
      record "$c" "$r" "${torch_env[@]}" "$old_python" "$here/torch_peer.py" "${peer_args[@]}" --dtype "$dtype" ;;
    cxrtune-*)
      [[ -x "$cxrtune" ]] || { note "$c" "$r" "$cxrtune not built"; return; }
      local alg=${c##*-}
      record "$c" "$r" env OMP_NUM_THREADS="$threads" "$cxrtune" bench --arch "$arch" --batch "$batch" --size "$size" \
        --steps "$steps" --warmup "$cxr_warmup" --threads "$threads" --dtype "$dtype" --conv-algorithm "$alg" --json ;;
    *) note "$c" "$r" "unknown configuration" ;;
  esac
}

start=$(date +%s)
for r in $(seq "$rounds"); do
  order=$configs
  (( r % 2 == 0 )) && order=$(echo "$configs" | tr ' ' '\n' | tac | tr '\n' ' ')
  for c in $order; do run_config "$c" "$r"; done
done
elapsed=$(( $(date +%s) - start ))

{
  echo "$cpu_model; ISA:$isa; $threads threads; native bf16: $native_bf16; $(date -u +%Y-%m-%dT%H:%MZ), ${elapsed} s"
  echo
  "$old_python" "$here/cpu_bench_table.py" "$log" "$native_bf16"
} | tee "$base.md"
echo "raw: $log; table: $base.md" >&2
