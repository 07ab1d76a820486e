"""The PyTorch peer of bench/checkpoint_bench.sh: a torchvision ResNet training step (forward,
cross-entropy, backward, Adam lr 1e-4), channels_last, f32, with torch.utils.checkpoint on the
same stages as `cxrtune bench --activation-checkpointing` and at the same granularity, so the
comparison is like for like: cxrtune's planner replays a checkpointed stage one residual block at
a time (each block keeps only its input), so here each block of a checkpointed stage (layerK[J])
is its own torch.utils.checkpoint call, and the stem (conv1+bn1+relu+maxpool) one more; fc is
never checkpointed (it holds nothing). use_reentrant=False, the recommended variant. Prints one
JSON object: peak RSS (getrusage, MiB) and the median step time.
Usage: checkpoint_peer.py --arch resnet50 --batch 16 --size 512 --steps 2 --warmup 1 --threads 2
       --stages none|all|conv1,layer1,...
"""
import argparse
import json
import resource
import statistics
import time

import torch
import torch.utils.checkpoint as cp
import torchvision

p = argparse.ArgumentParser()
p.add_argument("--arch", default="resnet50")
p.add_argument("--batch", type=int, default=16)
p.add_argument("--size", type=int, default=512)
p.add_argument("--steps", type=int, default=2)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=2)
p.add_argument("--stages", default="none")
a = p.parse_args()

torch.set_num_threads(a.threads)
torch.manual_seed(0)
model = getattr(torchvision.models, a.arch)(num_classes=2).to(memory_format=torch.channels_last)
names = ["conv1", "layer1", "layer2", "layer3", "layer4"]
stages = [] if a.stages == "none" else names if a.stages == "all" else [s for s in a.stages.split(",") if s != "fc"]
stem = torch.nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool)
parts = {"conv1": stem, "layer1": model.layer1, "layer2": model.layer2, "layer3": model.layer3, "layer4": model.layer4}


def forward(x):
    for n in names:
        if n not in stages:
            x = parts[n](x)
            continue
        for block in ([parts[n]] if n == "conv1" else list(parts[n])):  # the stem, or each block
            x = cp.checkpoint(block, x, use_reentrant=False)
    return model.fc(torch.flatten(model.avgpool(x), 1))


x = torch.randn(a.batch, 3, a.size, a.size).to(memory_format=torch.channels_last)
y = torch.arange(a.batch) % 2
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
loss_fn = torch.nn.CrossEntropyLoss()
model.train()
times = []
for i in range(a.warmup + a.steps):
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    loss = loss_fn(forward(x), y)
    loss.backward()
    opt.step()
    if i >= a.warmup:
        times.append(time.perf_counter() - t0)
step = statistics.median(times)
print(json.dumps({"peer": "torch " + torch.__version__, "arch": a.arch, "batch": a.batch, "size": a.size,
                  "stages": stages, "granularity": "block", "train_step_s": step, "train_images_per_s": a.batch / step,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}))
