"""Does oneDNN 3.x make the peer faster? Per-primitive times of one training step, side by side:
cxrtune on Debian's oneDNN 2.6 (DNNL_VERBOSE) against the current PyTorch, whose wheel carries
oneDNN 3.x (ONEDNN_VERBOSE), same network, batch, size, threads and precision.

Each side runs its training steps with the library's verbose log on; every `exec` line of a
convolution, matmul or inner product is keyed by (primitive, propagation, problem, data type).
Per key: the median time per call and the calls per step (calls / steps, the stem convolution's
forward counting the steps); the table lists the shapes by the larger of the two per-step times,
with each side's kernel (the "impl" field) and the ratio 2.6 / 3.x. cxrtune computes some weight
gradients as a matmul over its nhwc tensors instead of oneDNN's convolution weight gradient, so a
convolution's backward_weights appears on one side only there: the totals per propagation say
what each side spends in all. Verbose logging adds a stream wait per primitive: compare the two
columns, not with bench's own rates.

Usage: bench/.venv/bin/python bench/onednn_versions.py BUILD_DIR [--dtype f32|bf16] [--arch resnet50]
         [--batch 32] [--size 224] [--steps 3] [--threads 2] [--top 25] [--json OUT.json]
"""
import argparse
import collections
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys

PRIMITIVES = {"convolution", "matmul", "inner_product"}
here = pathlib.Path(__file__).resolve().parent


def parse(log_text):
    """exec lines -> {key: [ms, ...]}, {key: impl}; key = (primitive, prop, problem, dtype)."""
    times, impls = collections.defaultdict(list), {}
    for line in log_text.splitlines():
        if not (line.startswith("dnnl_verbose,") or line.startswith("onednn_verbose,")):
            continue
        f = line.strip().split(",")
        if "exec" not in f:
            continue
        i = f.index("exec")
        if i + 4 >= len(f) or f[i + 1] != "cpu" or f[i + 2] not in PRIMITIVES:
            continue
        if f[i + 4] == "forward_inference":  # cxrtune bench's inference steps: not the training step
            continue
        kind, impl, prop = f[i + 2], f[i + 3], f[i + 4]
        try:
            ms = float(f[-1])
        except ValueError:
            continue
        problem = f[-2]
        mds = f[i + 5] if i + 5 < len(f) else ""
        dtype = "bf16" if "bf16" in mds else "f32"
        key = (kind, prop, problem, dtype)
        times[key].append(ms)
        impls[key] = impl
    return times, impls


def per_step(times):
    """Steps = calls of the stem convolution's forward (3 input channels)."""
    stem = [k for k in times if k[0] == "convolution" and k[1].startswith("forward") and re.search(r"(^|_)ic3oc", k[2])]
    steps = max((len(times[k]) for k in stem), default=0)
    if not steps:
        sys.exit("no stem convolution forward in the log: was verbose on?")
    return steps, {k: statistics.median(v) * len(v) / steps for k, v in times.items()}


def run(cmd, env_extra):
    env = dict(os.environ, **env_extra)
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"{cmd[0]} failed ({r.returncode}):\n{r.stderr[-2000:]}")
    return r.stdout + r.stderr


def normalise(problem):
    # 2.6 and 3.x spell a convolution problem the same way; matmul shapes may carry a ':' layout tail.
    return problem.split(" ")[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("build_dir")
    p.add_argument("--dtype", choices=["f32", "bf16"], default="bf16")
    p.add_argument("--arch", default="resnet50")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--top", type=int, default=25)
    p.add_argument("--json")
    a = p.parse_args()
    threads = str(a.threads)
    cx = run([str(pathlib.Path(a.build_dir) / "cli" / "cxrtune"), "bench", "--arch", a.arch, "--batch", str(a.batch),
              "--size", str(a.size), "--backend", "cpu", "--dtype", a.dtype, "--steps", str(a.steps), "--json"],
             {"DNNL_VERBOSE": "1", "OMP_NUM_THREADS": threads})
    malloc = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": "100000000000", "MALLOC_TOP_PAD_": "1073741824"}
    pt = run([sys.executable, str(here / "torch_peer.py"), "--arch", a.arch, "--batch", str(a.batch), "--size",
              str(a.size), "--steps", str(a.steps), "--warmup", "2", "--threads", threads, "--dtype", a.dtype,
              "--no-infer"], dict(malloc, ONEDNN_VERBOSE="1", OMP_NUM_THREADS=threads))
    version = re.search(r"onednn_verbose,[^\n]*oneDNN v([0-9.]+)", pt)
    side = {}
    for name, text in (("2.6 (cxrtune)", cx), ("3.x (PyTorch)", pt)):
        times, impls = parse(text)
        times = {(k[0], k[1], normalise(k[2]), k[3]): v for k, v in times.items()}
        impls = {(k[0], k[1], normalise(k[2]), k[3]): v for k, v in impls.items()}
        steps, ms = per_step(times)
        side[name] = (steps, ms, impls)
    (n_a, ms_a, impl_a), (n_b, ms_b, impl_b) = side["2.6 (cxrtune)"], side["3.x (PyTorch)"]
    print(f"oneDNN per-primitive ms per training step, {a.arch} batch {a.batch} {a.size} px {a.dtype}, {a.threads} "
          f"threads; PyTorch's oneDNN {version.group(1) if version else '3.x'}")
    keys = sorted(set(ms_a) | set(ms_b), key=lambda k: -max(ms_a.get(k, 0), ms_b.get(k, 0)))
    print("| primitive | propagation | problem | 2.6 ms/step | 2.6 kernel | 3.x ms/step | 3.x kernel | 2.6 / 3.x |")
    print("| --- | --- | --- | ---: | --- | ---: | --- | ---: |")
    for k in keys[: a.top]:
        x, y = ms_a.get(k), ms_b.get(k)
        ratio = f"{x / y:.2f}" if x and y else ""
        print(f"| {k[0]} | {k[1]} | {k[2]} | {x or 0:.1f} | {impl_a.get(k, '')} | {y or 0:.1f} | {impl_b.get(k, '')} | {ratio} |")
    totals = collections.defaultdict(lambda: [0.0, 0.0])
    for k, v in ms_a.items():
        totals[(k[0], k[1])][0] += v
    for k, v in ms_b.items():
        totals[(k[0], k[1])][1] += v
    print("\n| primitive | propagation | 2.6 ms/step (cxrtune) | 3.x ms/step (PyTorch) |")
    print("| --- | --- | ---: | ---: |")
    for (kind, prop), (x, y) in sorted(totals.items()):
        print(f"| {kind} | {prop} | {x:.0f} | {y:.0f} |")
    # Like for like: the convolution shapes both sides ran with oneDNN, per propagation.
    both = [k for k in ms_a if k in ms_b and k[0] == "convolution"]
    like = collections.defaultdict(lambda: [0.0, 0.0])
    for k in both:
        like[k[1]][0] += ms_a[k]
        like[k[1]][1] += ms_b[k]
    print("\nconvolutions both sides ran with oneDNN (same problem): ms/step 2.6 vs 3.x")
    for prop, (x, y) in sorted(like.items()):
        ratios = sorted(ms_a[k] / ms_b[k] for k in both if k[1] == prop)
        print(f"  {prop}: {x:.0f} vs {y:.0f} ({x / y:.2f}x in all; per shape median {statistics.median(ratios):.2f}x, "
              f"range {ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(ratios)} shapes)")
    if a.json:
        out = {"dtype": a.dtype, "steps": {"cxrtune": n_a, "pytorch": n_b},
               "rows": [{"key": list(k), "onednn26_ms": ms_a.get(k), "onednn3_ms": ms_b.get(k),
                         "impl26": impl_a.get(k), "impl3": impl_b.get(k)} for k in keys]}
        pathlib.Path(a.json).write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
