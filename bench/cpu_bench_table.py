"""The tables of bench/run_cpu_bench.sh from its JSON lines (argv[1]): the machine's limits (GEMM
rates, memory bandwidth) and the FLOPs per image, every configuration's medians over rounds with
its share of the limit, and cxrtune's like-for-like ratios (f32 against PyTorch f32, bf16 against bf16 autocast), each also
per round (adjacent processes: steadier than a ratio of medians when the machine drifts).
Standard library only (runs on Debian's python3)."""
import json
import statistics
import sys

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
native_bf16 = len(sys.argv) < 3 or sys.argv[2] == "yes"  # argv[2]: run_cpu_bench.sh's CPU check (BF16=on runs it anyway)
ORDER = ["torch-eager-f32", "torch-compile-f32", "torch113-eager-f32", "cxrtune-f32-direct",
         "cxrtune-f32-winograd", "torch-eager-bf16", "torch-compile-bf16", "torch113-eager-bf16",
         "cxrtune-bf16-direct"]


def runs(config):
    return [r for r in rows if r.get("config") == config and "unavailable" not in r]


def why(config):
    return next((r["unavailable"] for r in rows if r.get("config") == config and "unavailable" in r), None)


def med(rs, key):
    vals = [r[key] for r in rs if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def label(config):
    rs = runs(config)
    dtype = "bf16 autocast" if config.endswith("bf16") else "f32"
    if config.startswith("torch113"):
        return f"PyTorch {rs[0]['torch'] if rs else '1.13'} (Debian) eager {dtype}"
    if config.startswith("torch-"):
        version = rs[0]["torch"] if rs else "current"
        mode = "torch.compile" if "compile" in config else "eager"
        return f"PyTorch {version} {mode} {dtype}"
    parts = config.split("-")
    isa = f" ({rs[0]['isa']})" if rs and rs[0].get("isa") else ""
    return f"cxrtune {parts[1]} {parts[2]}{isa}"


# The limit and the work per image.
gemm = {}
print("| limit | best of runs per round; median over rounds |")
print("| --- | --- |")
for dtype in ("f32", "bf16"):
    rs = [r for r in rows if r.get("config") == f"gemm-limit-{dtype}"]
    vals = [r["gflop_per_s"] for r in rs if r.get("gflop_per_s")]
    if vals:
        gemm[dtype] = statistics.median(vals)
        n = rs[0].get("n")
        print(f"| oneDNN {dtype} GEMM {n}³, {rs[0].get('threads')} threads | {gemm[dtype]:.0f} GFLOP/s "
              f"(rounds: {' '.join(f'{v:.0f}' for v in vals)}) |")
    elif rs or why(f"gemm-limit-{dtype}") or why("gemm-limit"):
        reason = (rs[0].get("why") if rs else None) or why(f"gemm-limit-{dtype}") or why("gemm-limit")
        print(f"| oneDNN {dtype} GEMM | not measured: {reason} |")
mem = [r["gb_per_s"] for r in rows if r.get("config") == "memory-limit" and r.get("gb_per_s")]
if mem:
    first = next(r for r in rows if r.get("config") == "memory-limit")
    print(f"| memory, STREAM triad over {first['mib']} MiB, {first['threads']} threads | "
          f"{statistics.median(mem):.1f} GB/s (rounds: {' '.join(f'{v:.1f}' for v in mem)}) |")
ours = next((r for r in rows if r.get("config", "").startswith("cxrtune") and "unavailable" not in r), None)
peer = next((r for r in rows if r.get("backend") == "pytorch"), None)
fwd = (ours or peer or {}).get("forward_gflop_per_image")
if fwd:
    src = "cxrtune's graph" if ours else "PyTorch hooks"
    check = f"; PyTorch's Conv2d/Linear hooks count {peer['forward_gflop_per_image']:.3f}" if ours and peer else ""
    print(f"\nFLOPs per image ({src}, conv + linear multiply-adds × 2): forward {fwd:.3f} GFLOP, "
          f"training step {3 * fwd:.3f} GFLOP (×3){check}. Winograd does fewer multiplies than that count, "
          "so its share can pass 100 %.\n")
else:
    print()


def share(rate, flop, dtype):
    if rate is None or not fwd or dtype not in gemm:
        return "–"
    return f"{100 * rate * flop / gemm[dtype]:.0f} %"


print("| configuration | train img/s | infer img/s | peak RSS MiB | train, % of limit | infer, % of limit | compile s |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
present = [c for c in ORDER if runs(c) or why(c)]
notes = []
for c in present:
    rs = runs(c)
    if not rs:
        if why(c) not in notes:
            notes.append(why(c))
        print(f"| {label(c)} | not run ({notes.index(why(c)) + 1}) | | | | | |")
        continue
    dtype = "bf16" if "bf16" in c else "f32"  # cxrtune-bf16-direct too: its share is of the bf16 limit
    t, i, m = med(rs, "train_images_per_s"), med(rs, "infer_images_per_s"), med(rs, "peak_rss_mib")
    emulated = " (emulated: no native bf16)" if dtype == "bf16" and not native_bf16 else ""
    comp = ""
    if "compile" in c:
        cs = [r["compile_s"] for r in rs]
        comp = f"{cs[0]:.0f}" + (f" cold, {statistics.median(cs[1:]):.0f} warm" if len(cs) > 1 else " cold")
    print(f"| {label(c)}{emulated} | {t:.2f} | {i:.2f} | {m:.0f} | {share(t, 3 * fwd if fwd else 0, dtype)} | "
          f"{share(i, fwd or 0, dtype)} | {comp} |")

for k, n in enumerate(notes):
    print(f"\n({k + 1}) {n}")

print("\n| cxrtune | against (like for like) | train × | infer × | peak RSS × | train × per round |")
print("| --- | --- | ---: | ---: | ---: | --- |")
printed = False
for c in [c for c in present if c.startswith("cxrtune") and runs(c)]:
    dtype = "bf16" if "bf16" in c else "f32"
    for p in (f"torch-eager-{dtype}", f"torch-compile-{dtype}", f"torch113-eager-{dtype}"):
        mine, theirs = runs(c), runs(p)
        if not theirs:
            continue
        ratio = lambda k: med(mine, k) / med(theirs, k) if med(theirs, k) else float("nan")
        per_round = []
        for r in sorted({x["round"] for x in mine}):
            a = [x for x in mine if x["round"] == r]
            b = [x for x in theirs if x["round"] == r]
            if a and b and b[0]["train_images_per_s"]:
                per_round.append(a[0]["train_images_per_s"] / b[0]["train_images_per_s"])
        print(f"| {label(c)} | {label(p)} | {ratio('train_images_per_s'):.2f}× | {ratio('infer_images_per_s'):.2f}× | "
              f"{ratio('peak_rss_mib'):.2f}× | {' '.join(f'{x:.2f}' for x in per_round)} |")
        printed = True
if not printed:
    print("| – | no pair of like-for-like configurations ran | | | | |")
