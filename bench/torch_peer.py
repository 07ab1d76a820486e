"""The PyTorch peer of `cxrtune bench`: the same ResNet training step (forward, cross-entropy,
backward, Adam lr 1e-4) and eval-mode inference, channels_last, median over measured steps.

Run it with a tuned glibc malloc (MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=100000000000 MALLOC_TOP_PAD_=1073741824; run_cpu_bench.sh sets it) so the peer does
not fault pages every step. Prints one JSON object with the keys of `cxrtune bench --json`.
Usage: torch_peer.py --arch resnet50 --batch 32 --size 224 --steps 10 --warmup 8 --threads 2
"""
import argparse
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
p.add_argument("--no-infer", action="store_true")
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = getattr(torchvision.models, a.arch)(num_classes=2).to(memory_format=torch.channels_last)
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
x = torch.randn(a.batch, 3, a.size, a.size).to(memory_format=torch.channels_last)
y = torch.arange(a.batch) % 2

model.train()
times, losses = [], []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = torch.nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    dt = time.perf_counter() - t0
    losses.append(float(loss))
    if i >= a.warmup:
        times.append(dt)
train_step = statistics.median(times)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0

infer_step = 0.0
if not a.no_infer:
    model.eval()
    times = []
    with torch.no_grad():
        for i in range(a.warmup + a.steps):
            t0 = time.perf_counter()
            model(x)
            if i >= a.warmup:
                times.append(time.perf_counter() - t0)
    infer_step = statistics.median(times)

print(json.dumps({
    "arch": a.arch, "backend": "pytorch", "dtype": "f32", "batch": a.batch, "size": a.size,
    "train_images_per_s": a.batch / train_step,
    "infer_images_per_s": a.batch / infer_step if infer_step else 0.0,
    "train_step_s": train_step, "infer_step_s": infer_step, "peak_rss_mib": peak,
    "first_loss": losses[0], "last_loss": losses[-1], "isa": "torch " + torch.__version__,
}))
