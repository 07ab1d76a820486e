"""The PyTorch peer of `cxrtune bench`: the same ResNet training step (forward, cross-entropy,
backward, Adam lr 1e-4) and eval-mode inference, channels_last, median over measured steps.

Modes: eager f32; eager bf16 under torch.autocast("cpu", bfloat16) (the like-for-like peer of
cxrtune bf16); --compile: torch.compile (inductor) of the model, f32 or bf16 autocast. The compile
time (first training step and first inference step, minus a steady step each) is reported as
compile_s and kept out of the rates. Runs on Debian's torch 1.13 (no --compile there) and on the
current torch of bench/.venv.

Run it with a tuned glibc malloc (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=1073741824; run_cpu_bench.sh sets it) so the peer does
not fault pages every step. Prints one JSON object with the keys of `cxrtune bench --json`, plus
forward_gflop_per_image counted with hooks on every Conv2d and Linear (2 FLOPs per multiply-add),
a cross-check of the count cxrtune takes from its graph.
Usage: torch_peer.py --arch resnet50 --batch 32 --size 224 --steps 10 --warmup 8 --threads 2
       [--dtype f32|bf16] [--compile]
"""
import argparse
import contextlib
import json
import resource
import statistics
import time

import torch
import torchvision

p = argparse.ArgumentParser()
p.add_argument("--arch", default="resnet50")
p.add_argument("--batch", type=int, default=32)
p.add_argument("--size", type=int, default=224)
p.add_argument("--steps", type=int, default=10)
p.add_argument("--warmup", type=int, default=8)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--dtype", choices=["f32", "bf16"], default="f32")
p.add_argument("--compile", action="store_true")
p.add_argument("--no-infer", action="store_true")
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = getattr(torchvision.models, a.arch)(num_classes=2).to(memory_format=torch.channels_last)
x = torch.randn(a.batch, 3, a.size, a.size).to(memory_format=torch.channels_last)
y = torch.arange(a.batch) % 2


def count_forward_flops():
    macs = []

    def hook(m, inp, out):
        if isinstance(m, torch.nn.Conv2d):
            k = m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
            macs.append(out.numel() * k)
        else:
            macs.append(out.numel() * m.in_features)

    hs = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    model.eval()
    with torch.no_grad():
        model(x[:1])
    for h in hs:
        h.remove()
    return 2.0 * sum(macs) / 1e9


forward_gflop = count_forward_flops()
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
if a.compile:
    if not hasattr(torch, "compile"):
        raise SystemExit("torch %s has no torch.compile" % torch.__version__)
    run_model = torch.compile(model)
else:
    run_model = model


def autocast():
    if a.dtype == "bf16":
        return torch.autocast("cpu", dtype=torch.bfloat16)
    return contextlib.nullcontext()


def measure(step):
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        step()
        dt = time.perf_counter() - t0
        times.append(dt)
    return times


losses = []


def train_step():
    opt.zero_grad(set_to_none=True)
    with autocast():
        loss = torch.nn.functional.cross_entropy(run_model(x), y)
    loss.backward()
    opt.step()
    losses.append(float(loss.detach()))


def infer_step():
    with torch.no_grad(), autocast():
        run_model(x)


model.train()
times = measure(train_step)
train_step_s = statistics.median(times[a.warmup:])
compile_s = max(0.0, times[0] - train_step_s) if a.compile else 0.0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

infer_step_s = 0.0
if not a.no_infer:
    model.eval()
    times = measure(infer_step)
    infer_step_s = statistics.median(times[a.warmup:])
    if a.compile:
        compile_s += max(0.0, times[0] - infer_step_s)

print(json.dumps({
    "arch": a.arch, "backend": "pytorch", "dtype": a.dtype, "batch": a.batch, "size": a.size,
    "mode": "compile" if a.compile else "eager", "torch": torch.__version__.split("+")[0],
    "train_images_per_s": a.batch / train_step_s,
    "infer_images_per_s": a.batch / infer_step_s if infer_step_s else 0.0,
    "train_step_s": train_step_s, "infer_step_s": infer_step_s, "compile_s": compile_s,
    "peak_rss_mib": peak, "forward_gflop_per_image": forward_gflop,
    "first_loss": losses[0], "last_loss": losses[-1], "isa": "torch " + torch.__version__,
    "mkldnn": torch.backends.mkldnn.is_available(),
}))
