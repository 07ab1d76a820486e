#!/usr/bin/env bash
# Builds the weights fuzz target with clang's libFuzzer (ASan + UBSan) and runs it for a bounded
# time on a seed corpus of valid files. Exit 77 (ctest: skipped) when clang or libFuzzer is absent.
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
if ! "$cxx" -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -I"$src" \
    "$src/tests/weights/fuzz_weights.cpp" "$src/io/weights/safetensors.cpp" "$src/io/weights/unpickler.cpp" \
    "$src/io/weights/state_dict.cpp" "$src/engine/shape.cpp" "$src/engine/tensor.cpp" "$src/engine/atomic_file.cpp" \
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
# libFuzzer's own failure exit code is 77, ctest's "skipped": a finding must fail instead.
if ! "$work/fuzz_weights" -error_exitcode=1 -artifact_prefix="$work/" -max_total_time="$seconds" -rss_limit_mb=2048 -max_len=4096 "$work/corpus" > "$work/fuzz.log" 2>&1; then
  grep -A40 "ERROR\|SUMMARY" "$work/fuzz.log" | head -80; echo "reproducer: $(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null)"; exit 1
fi
tail -2 "$work/fuzz.log"
