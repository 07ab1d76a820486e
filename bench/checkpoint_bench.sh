#!/usr/bin/env bash
# Activation checkpointing (issue #21, docs/memory.md): ResNet-50 training steps with and without
# checkpointing every stage, cxrtune (`cxrtune bench --json`: median step, peak RSS, the planner's
# estimate) side by side with PyTorch (bench/checkpoint_peer.py: torch.utils.checkpoint on the
# same stages at the same granularity, one call per residual block as cxrtune's planner replays
# them, channels_last, f32, bench/.venv's current torch), one process per figure (peak RSS
# is per process), interleaved in each round (cxrtune none, cxrtune all, torch none, torch all)
# so that load on a shared machine hits both alike. Cases (SIZE:BATCH): 224:32, 512:16, 1024:8
# by default. Prints one JSON line per run and a markdown table of medians over rounds: img/s,
# peak GiB, cxrtune's estimate and its error against the RSS, and the ratios all/none (memory,
# step time) and cxrtune/torch (memory, time) per checkpointing choice; then, per case, the step
# time ratios of each round (the runs of one round are next to each other in time, so their
# ratio is steadier than a ratio of medians under changing load): median and min–max.
# A case SIZE:BATCH:all runs checkpointing every stage only (1024 px without it needs about 13 GiB
# for cxrtune and more for PyTorch: too much next to other work on a 23 GiB machine).
# Usage: bench/checkpoint_bench.sh [BUILD_DIR] [ROUNDS] [STEPS] [CASES...]
#   e.g. bench/checkpoint_bench.sh build 1 1 512:16 1024:8:all
set -euo pipefail
build=$(cd "${1:-build}" && pwd)
rounds=${2:-1}
steps=${3:-2}
shift $(( $# > 3 ? 3 : $# ))
cases=("$@")
[ ${#cases[@]} -eq 0 ] && cases=(224:32 512:16 1024:8)
here=$(cd "$(dirname "$0")" && pwd)
py="$here/.venv/bin/python"
[ -x "$py" ] || { echo "bench/.venv is missing (bench/setup_peer_venv.sh): PyTorch runs are skipped" >&2; py=""; }
threads=$(nproc)
out=$(mktemp /tmp/cxr_checkpoint_bench.XXXXXX.jsonl)
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $threads threads; load average $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for ((r = 0; r < rounds; ++r)); do
  for c in "${cases[@]}"; do
    IFS=: read -r size batch only <<< "$c"
    modes=(none all)
    [ -n "${only:-}" ] && modes=("$only")
    for mode in "${modes[@]}"; do
      j=$("$build/cli/cxrtune" bench --arch resnet50 --size "$size" --batch "$batch" --steps "$steps" --warmup 1 \
            --threads "$threads" --no-inference --activation-checkpointing "$mode" --json 2>/dev/null | tail -1)
      echo "{\"who\":\"cxrtune\",\"mode\":\"$mode\",\"round\":$r,\"load\":$(cut -d' ' -f1 /proc/loadavg),\"result\":$j}" | tee -a "$out"
    done
    if [ -n "$py" ]; then
      for mode in "${modes[@]}"; do
        j=$(MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 "$py" "$here/checkpoint_peer.py" --arch resnet50 \
              --size "$size" --batch "$batch" --steps "$steps" --warmup 1 --threads "$threads" --stages "$mode")
        echo "{\"who\":\"torch\",\"mode\":\"$mode\",\"round\":$r,\"load\":$(cut -d' ' -f1 /proc/loadavg),\"result\":$j}" | tee -a "$out"
      done
    fi
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
def med(who, mode, size, batch, key):
    v = [r["result"][key] for r in runs if r["who"] == who and r["mode"] == mode
         and r["result"]["size"] == size and r["result"]["batch"] == batch]
    return statistics.median(v) if v else None
cases = sorted({(r["result"]["size"], r["result"]["batch"]) for r in runs})
print("| size | batch | checkpointing | cxrtune img/s | peak GiB | estimate GiB (error) | torch img/s | torch peak GiB | memory vs torch | time vs torch |")
print("|---|---|---|---|---|---|---|---|---|---|")
for s, b in cases:
    for mode in ("none", "all"):
        ips, rss = med("cxrtune", mode, s, b, "train_images_per_s"), med("cxrtune", mode, s, b, "peak_rss_mib")
        if ips is None: continue
        est = statistics.median([r["result"]["estimate_mib"]["total"] for r in runs if r["who"] == "cxrtune"
                                 and r["mode"] == mode and r["result"]["size"] == s and r["result"]["batch"] == b])
        tips, trss = med("torch", mode, s, b, "train_images_per_s"), med("torch", mode, s, b, "peak_rss_mib")
        t = lambda v, f: f % v if v is not None else "-"
        print(f"| {s} | {b} | {mode} | {ips:.2f} | {rss/1024:.2f} | {est/1024:.2f} ({100*(est/rss-1):+.1f} %) | "
              f"{t(tips, '%.2f')} | {t(trss and trss/1024, '%.2f')} | {t(trss and rss/trss, '%.2fx')} | "
              f"{t(tips and tips/ips, '%.2fx')} |")
    n, a = med("cxrtune", "none", s, b, "peak_rss_mib"), med("cxrtune", "all", s, b, "peak_rss_mib")
    ns, as_ = med("cxrtune", "none", s, b, "train_step_s"), med("cxrtune", "all", s, b, "train_step_s")
    if n and a:
        print(f"| {s} | {b} | all / none | | {a/n:.2f}x memory | | {as_/ns:.2f}x step time | | | |")
def step(who, mode, size, batch, rnd):
    v = [r["result"]["train_step_s"] for r in runs if r["who"] == who and r["mode"] == mode and r["round"] == rnd
         and r["result"]["size"] == size and r["result"]["batch"] == batch]
    return v[0] if v else None
rounds = sorted({r["round"] for r in runs})
loads = [r["load"] for r in runs if "load" in r]
if loads:
    print(f"load average (1 min) as each run ended: {min(loads):.2f}-{max(loads):.2f}, median {statistics.median(loads):.2f}")
for s, b in cases:
    ratios = {"cxrtune all/none": ("cxrtune", "all", "cxrtune", "none"),
              "cxrtune/torch none": ("cxrtune", "none", "torch", "none"),
              "cxrtune/torch all": ("cxrtune", "all", "torch", "all")}
    for label, (w1, m1, w2, m2) in ratios.items():
        v = [step(w1, m1, s, b, r) / step(w2, m2, s, b, r) for r in rounds
             if step(w1, m1, s, b, r) and step(w2, m2, s, b, r)]
        if v:
            print(f"step time {s}:{b} {label}: median {statistics.median(v):.2f}x, "
                  f"min-max {min(v):.2f}-{max(v):.2f}x over {len(v)} rounds")
PY
echo "# load average at the end $(cut -d' ' -f1-3 /proc/loadavg); runs: $out" >&2
