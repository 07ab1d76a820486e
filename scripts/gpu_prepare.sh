#!/usr/bin/env bash
# Builds, on this machine (no GPU needed: CUDA, cuDNN and GoogleTest installed), the engine-only
# cuDNN build that bench/gpu_check.sh runs on a GPU machine lacking GoogleTest, oneDNN, CLI11 and
# nlohmann-json, and packs it into .carry/gpu-build (ignored by git) for the device run to carry.
#   - CUDA architecture sm_90 only (H100/H200): CUDA_ARCHS=90 (or "80;90").
#   - GoogleTest and the CUDA runtime are linked statically; CLI11 and nlohmann-json are
#     header-only. What stays dynamic is checked: libcudnn.so.9 (the GPU machine's nvidia-cudnn
#     wheel), glibc, libstdc++/libgcc_s, libgomp, the driver (opened by the runtime) and cuBLAS
#     (opened at run time by the backend). libstdc++ stays dynamic on purpose: linked statically
#     it pulls arc4random (glibc 2.36) and _dl_find_object (2.35); dynamic, glibc 2.34 is enough
#     (Ubuntu 22.04 and newer). The manifest records the newest glibc/GLIBCXX versions needed.
#   - Fails when a binary needs another library, or when the pack exceeds MAX_MIB (default 50).
# Usage: scripts/gpu_prepare.sh [BUILD_DIR]   (default build-gpu-carry; JOBS=2; LOCK=/tmp/cxr-build.lock)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build-gpu-carry}
pack=$src/.carry/gpu-build
jobs=${JOBS:-2}
lock=${LOCK:-/tmp/cxr-build.lock}
max_mib=${MAX_MIB:-50}
targets=(cudnn_tests cudnn_host_tests layer_tests engine_tests cxrtune)
# Relative paths inside the build (and the pack) of what gpu_check.sh runs.
binaries=(tests/cudnn/cudnn_tests tests/cudnn/cudnn_host_tests tests/layers/layer_tests
          tests/engine/engine_tests cli/cxrtune)

locked() { if command -v flock >/dev/null; then flock "$lock" "$@"; else "$@"; fi; }

generator=()
if [ ! -f "$build/CMakeCache.txt" ] && command -v ninja >/dev/null; then generator=(-G Ninja); fi
locked cmake -S "$src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
  -DCXRTUNE_ENGINE_ONLY=ON -DCXRTUNE_WITH_ONEDNN=OFF -DCXRTUNE_WITH_CUDNN=ON -DCXRTUNE_WITH_ITK=OFF \
  "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-90}" -DCXRTUNE_CUDART_STATIC=ON \
  "-DCMAKE_EXE_LINKER_FLAGS=" >"$build.configure.log" 2>&1 ||
  { tail -30 "$build.configure.log" >&2; exit 1; }
locked cmake --build "$build" -j"$jobs" --target "${targets[@]}"

rm -rf "$pack"
mkdir -p "$pack"
bad=0
for b in "${binaries[@]}"; do
  mkdir -p "$pack/$(dirname "$b")"
  cp "$build/$b" "$pack/$b"
  strip --strip-debug "$pack/$b"
  # DT_NEEDED entries: everything the loader must find on the GPU machine.
  while read -r lib; do
    case "$lib" in
      libcudnn.so.9 | libc.so.6 | libm.so.6 | libgomp.so.1 | libdl.so.2 | libpthread.so.0 | librt.so.1 | \
        libstdc++.so.6 | libgcc_s.so.1 | ld-linux-x86-64.so.2) ;;
      *) echo "gpu_prepare: $b needs $lib, which the GPU machine may lack" >&2; bad=1 ;;
    esac
  done < <(readelf -d "$pack/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
[ "$bad" = 0 ] || exit 1

glibc=$(for b in "${binaries[@]}"; do objdump -T "$pack/$b"; done | grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
glibcxx=$(for b in "${binaries[@]}"; do objdump -T "$pack/$b"; done | grep -o 'GLIBCXX_[0-9.]*' | sort -uV | tail -1)
mib=$(( $(du -sk "$pack" | cut -f1) / 1024 ))
{
  echo "cxrtune engine-only cuDNN build for CUDA architectures ${CUDA_ARCHS:-90}"
  echo "commit: $(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)$(git -C "$src" diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
  echo "built: $(date -u +%FT%TZ) on $(uname -n), $(nvcc --version 2>/dev/null | tail -1)"
  echo "cuDNN headers: $(sed -n 's/^#define CUDNN_\(MAJOR\|MINOR\|PATCHLEVEL\) *\([0-9]*\)/\2/p' "$(sed -n 's/^CUDNN_INCLUDE:PATH=//p' "$build/CMakeCache.txt")/cudnn_version.h" | paste -sd.)"
  echo "newest symbol versions needed: $glibc, $glibcxx"
  echo "size: $mib MiB"
  for b in "${binaries[@]}"; do
    echo "$b needs: $(readelf -d "$pack/$b" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | paste -sd' ')"
  done
} | tee "$pack/MANIFEST.txt"
if [ "$mib" -gt "$max_mib" ]; then
  echo "gpu_prepare: the pack is $mib MiB, over $max_mib MiB" >&2
  exit 1
fi
echo "gpu_prepare: packed into $pack; carry .carry to the GPU machine and run bench/gpu_check.sh" >&2
