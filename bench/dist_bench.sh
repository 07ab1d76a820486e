#!/bin/sh
# Data-parallel benchmark (issue #20, docs/distributed.md): on this machine, ResNet-50 training
# steps of the global batch as 2 ranks x 1 thread (mpirun) against 1 process x 2 threads,
# interleaved rounds; the allreduce of ResNet-50's gradients (97.5 MB) as one plain
# MPI_Allreduce and as the trainer's 25 MB buckets; and a projection of the ring allreduce
# 2(N-1)/N * S / B against the measured compute time for 2-16 nodes at 10/25/100 Gb/s.
# Usage: bench/dist_bench.sh [BUILD_DIR] [ARCH] [BATCH] [SIZE] [STEPS] [ROUNDS]
# RESULTS=FILE reprints the tables from an earlier run's output instead of measuring.
# COMPUTE_S=0.25 projects for that step time instead of this machine's (e.g. a faster node's).
set -eu
BUILD=${1:-build}
ARCH=${2:-resnet50}
BATCH=${3:-32}
SIZE=${4:-224}
STEPS=${5:-3}
ROUNDS=${6:-2}
BIN=$BUILD/bench/cxr_dist_bench
MPIRUN="mpirun -np 2 --oversubscribe --allow-run-as-root --bind-to none"
OUT=$(mktemp)
if [ -n "${RESULTS:-}" ]; then
  grep -E "^(train|allreduce)" "$RESULTS" > "$OUT"
else
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
  for round in $(seq 1 "$ROUNDS"); do
    OMP_NUM_THREADS=2 "$BIN" train "$ARCH" "$BATCH" "$SIZE" 2 "$STEPS" | tee -a "$OUT"
    OMP_NUM_THREADS=1 $MPIRUN -x OMP_NUM_THREADS "$BIN" train "$ARCH" "$BATCH" "$SIZE" 1 "$STEPS" | tee -a "$OUT"
  done
  $MPIRUN "$BIN" allreduce 97.5 5 | tee -a "$OUT"
  echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
fi
awk '
  function val(line, key,   n, i, kv) { n = split(line, kv, " "); for (i = 1; i <= n; i++) if (index(kv[i], key "=") == 1) return substr(kv[i], length(key) + 2); return "" }
  /^train/ { r = val($0, "ranks"); ips[r] += val($0, "img_per_s"); cnt[r]++; if (r == 1) compute += val($0, "step_s");
             if (r > 1) { comm += val($0, "comm_s"); exposed += val($0, "comm_after_backward_s"); mb = val($0, "gradient_MB") } }
  /^allreduce=plain/ { plain = val($0, "seconds") } /^allreduce=buckets/ { buckets = val($0, "seconds") }
  END {
    one = ips[1] / cnt[1]; two = ips[2] / cnt[2]; c = compute / cnt[1]; if ("'"${COMPUTE_S:-}"'" != "") c = "'"${COMPUTE_S:-}"'" + 0
    printf "\n| setup | img/s (mean of %d rounds) |\n|---|---|\n| 1 process x 2 threads | %.2f |\n| 2 ranks x 1 thread | %.2f (%.2fx) |\n", cnt[1], one, two, two / one
    printf "\nreducer: %.1f MB of gradients, %.3f s allreducing per step, %.3f s of it after backward (%.0f%% overlapped)\n", mb, comm / cnt[2], exposed / cnt[2], (comm > 0 ? 100 * (1 - exposed / comm) : 0)
    printf "allreduce of 97.5 MB on 2 ranks of this machine: plain MPI_Allreduce %.3f s, 25 MB buckets %.3f s\n", plain, buckets
    printf "\nProjection: step time of %s batch %d per node = %.2f s (1 process x 2 threads here, or COMPUTE_S); ring allreduce 2(N-1)/N * %.1f MB / B\n", "'"$ARCH"'", '"$BATCH"', c, mb
    printf "| nodes | 10 Gb/s: comm s / efficiency | 25 Gb/s | 100 Gb/s |\n|---|---|---|---|\n"
    split("2 4 8 16", nodes, " "); split("10 25 100", bw, " ")
    for (i = 1; i <= 4; i++) { n = nodes[i]; printf "| %d |", n
      for (j = 1; j <= 3; j++) { t = 2 * (n - 1) / n * mb * 8 / (bw[j] * 1000); printf " %.2f s / %.0f%%-%.0f%% |", t, 100 * c / (c + t), 100 * c / (c > t ? c : t) }
      printf "\n" }
    printf "(efficiency: no overlap c/(c+t) to full overlap c/max(c,t), c = compute, t = allreduce)\n"
  }' "$OUT"
rm -f "$OUT"
