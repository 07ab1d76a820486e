#!/usr/bin/env bash
# Builds the weights fuzz target with clang's libFuzzer (ASan + UBSan) and runs it for a bounded
# time on a seed corpus of valid files and of .pth tensor declarations that once crashed. Exit 77 (ctest: skipped) when clang or libFuzzer is absent.
set -euo pipefail
src=$1
work=$2
seconds=${3:-20}
cxx=$(command -v clang++ || command -v clang++-14 || true)
if [ -z "$cxx" ]; then
  echo "skipped: clang++ not installed (apt-get install clang libclang-rt-14-dev)"
  exit 77
fi
mkdir -p "$work/corpus"
rm -f "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*  # findings of an earlier run
if ! "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$src" \
    "$src/tests/weights/fuzz_weights.cpp" "$src/tests/weights/pth_builder.cpp" "$src/io/weights/safetensors.cpp" \
    "$src/io/weights/unpickler.cpp" "$src/io/weights/pth_reader.cpp" "$src/io/weights/state_dict.cpp" \
    "$src/engine/shape.cpp" "$src/engine/tensor.cpp" "$src/core/atomic_file.cpp" -lzip \
    -o "$work/fuzz_weights" 2> "$work/build.log"; then
  if grep -q "fuzzer" "$work/build.log"; then
    echo "skipped: clang cannot link libFuzzer here"; tail -3 "$work/build.log"; exit 77
  fi
  cat "$work/build.log"; exit 1
fi
# Seeds: a valid safetensors file, a state_dict-like pickle, and a pickle that appends a list to
# itself (a reference cycle that once leaked).
printf '\x38\x00\x00\x00\x00\x00\x00\x00{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}      \x00\x00\x80\x3f' > "$work/corpus/seed.safetensors"
printf '\x80\x02ccollections\nOrderedDict\nq\x00)Rq\x01X\x01\x00\x00\x00aK\x01s.' > "$work/corpus/seed.pkl"
printf '\x80\x02]q\x00h\x00a.' > "$work/corpus/cycle.pkl"
# .pth tensor metadata (layout in fuzz_weights.cpp): a valid float view, and the files that once
# crashed the reader or made it allocate what they declared. 0x20: float32, rank 1.
le64() {
  local i out=""
  for i in 0 1 2 3 4 5 6 7; do out+=$(printf '\\x%02x' $(( ($1 >> (8 * i)) & 255 ))); done
  printf '%s' "$out"
}
pth() { printf "\x$1$(le64 "$2")$(le64 "$3")$(le64 "$4")$(le64 "$5")$6" > "$work/corpus/$7"; }
pth 20 4 0 4 1 '\x00\x00\x80\x3f' view.pth                                    # [4] of 4 floats
pth 28 4 0 2 2 '\x00\x00\x80\x3f' shared.pth                                  # and a second view
pth 20 4 0 3 $(( (1 << 62) + (1 << 40) )) '' stride_wraps.pth                  # SIGSEGV
pth 20 4 $(( (1 << 62) - 1 + (1 << 62) )) 2 1 '' offset_max.pth                 # read before the block
pth 20 4 $(( (1 << 62) + 4 )) 1023 $(( (1 << 62) + 1 )) '' heap_copy.pth        # 4,092 heap bytes out
pth 20 $(( 1 << 34 )) 0 $(( 1 << 34 )) 1 '\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f\x00\x00\x80\x3f' big34.pth
pth 20 1 0 1000000000 0 '\x00\x00\x80\x3f' expand.pth                         # stride 0, 3.9 GB
# libFuzzer's own failure exit code is 77, ctest's "skipped": a finding must fail instead.
if ! "$work/fuzz_weights" -error_exitcode=1 -artifact_prefix="$work/" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 "$work/corpus" > "$work/fuzz.log" 2>&1; then
  grep -A40 "ERROR\|SUMMARY" "$work/fuzz.log" | head -80; echo "reproducer: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null)"; exit 1
fi
tail -2 "$work/fuzz.log"
