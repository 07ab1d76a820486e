"""The PyTorch GPU peer of `cxrtune bench --backend cuda`: the same ResNet training step
(forward, cross-entropy, backward, Adam lr 1e-4) and eval-mode inference on CUDA, channels_last,
torch.autocast in bf16/f16 (f16 with a GradScaler, as a real f16 run needs) or plain f32, median
over measured steps after warm-up. f32 turns TF32 off, because cxrtune's f32 keeps IEEE f32 math.

Prints one JSON object with the keys of `cxrtune bench --json` (plus peak_gpu_mib).
Without torchvision, builds the same torchvision-v1.5 ResNet-18/34/50/101 itself (its layer
order, stride on the 3x3, fresh init) and says so in "isa".
Usage: torch_gpu_peer.py --arch resnet50 --batch 32 --size 224 --dtype bf16 --steps 20 --warmup 10
"""
import argparse
import json
import resource
import statistics
import time

import torch

try:
    import torchvision
except ImportError:  # a GPU machine with PyTorch alone: the same torchvision v1.5 ResNets below
    torchvision = None

p = argparse.ArgumentParser()
p.add_argument("--arch", default="resnet50")
p.add_argument("--batch", type=int, default=32)
p.add_argument("--size", type=int, default=224)
p.add_argument("--steps", type=int, default=20)
p.add_argument("--warmup", type=int, default=10)
p.add_argument("--dtype", default="f32", choices=["f32", "bf16", "f16"])
p.add_argument("--device", type=int, default=0)
p.add_argument("--no-infer", action="store_true")
a = p.parse_args()



def resnet(arch, num_classes):
    """torchvision.models.resnet{18,34,50,101} (v1.5) without torchvision."""
    nn = torch.nn
    blocks = {"resnet18": ("basic", [2, 2, 2, 2]), "resnet34": ("basic", [3, 4, 6, 3]),
              "resnet50": ("bottleneck", [3, 4, 6, 3]), "resnet101": ("bottleneck", [3, 4, 23, 3])}
    kind, counts = blocks[arch]
    expansion = 4 if kind == "bottleneck" else 1

    class Block(nn.Module):
        def __init__(self, cin, width, stride):
            super().__init__()
            cout = width * expansion
            if kind == "bottleneck":
                self.body = nn.Sequential(
                    nn.Conv2d(cin, width, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                    nn.Conv2d(width, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                    nn.Conv2d(width, cout, 1, bias=False), nn.BatchNorm2d(cout))
            else:
                self.body = nn.Sequential(
                    nn.Conv2d(cin, width, 3, stride, 1, bias=False), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                    nn.Conv2d(width, cout, 3, 1, 1, bias=False), nn.BatchNorm2d(cout))
            self.down = None
            if stride != 1 or cin != cout:
                self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x):
            return torch.relu(self.body(x) + (x if self.down is None else self.down(x)))

    layers, cin = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True),
                   nn.MaxPool2d(3, 2, 1)], 64
    for stage, count in enumerate(counts):
        width = 64 * 2 ** stage
        for i in range(count):
            layers.append(Block(cin, width, 2 if stage > 0 and i == 0 else 1))
            cin = width * expansion
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, num_classes)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
    return model


dev = torch.device("cuda", a.device)
torch.backends.cudnn.benchmark = True  # cxrtune also picks its algorithms once per shape
torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
amp_dtype = {"f32": None, "bf16": torch.bfloat16, "f16": torch.float16}[a.dtype]

torch.manual_seed(0)
if torchvision is not None:
    model = getattr(torchvision.models, a.arch)(num_classes=2)
else:
    model = resnet(a.arch, 2)
model = model.to(dev, memory_format=torch.channels_last)
opt = torch.optim.Adam(model.parameters(), lr=1e-4)
scaler = torch.amp.GradScaler("cuda", enabled=a.dtype == "f16")
x = torch.randn(a.batch, 3, a.size, a.size, device=dev).to(memory_format=torch.channels_last)
y = torch.arange(a.batch, device=dev) % 2


def autocast():
    return torch.autocast("cuda", dtype=amp_dtype, enabled=amp_dtype is not None)


def timed(fn, count):
    times, out = [], []
    for i in range(count):
        torch.cuda.synchronize(dev)
        t0 = time.perf_counter()
        r = fn()
        torch.cuda.synchronize(dev)
        times.append(time.perf_counter() - t0)
        out.append(r)
    return times, out


def train_step():
    opt.zero_grad(set_to_none=True)
    with autocast():
        loss = torch.nn.functional.cross_entropy(model(x), y)
    scaler.scale(loss).backward()
    scaler.step(opt)
    scaler.update()
    return float(loss)


model.train()
torch.cuda.reset_peak_memory_stats(dev)
times, losses = timed(train_step, a.warmup + a.steps)
train_step_s = statistics.median(times[a.warmup:])
peak_gpu = torch.cuda.max_memory_allocated(dev) / 2**20

infer_step_s = 0.0
if not a.no_infer:
    model.eval()

    def infer():
        with torch.no_grad(), autocast():
            model(x)

    times, _ = timed(infer, a.warmup + a.steps)
    infer_step_s = statistics.median(times[a.warmup:])

print(json.dumps({
    "arch": a.arch, "backend": "pytorch", "dtype": a.dtype, "batch": a.batch, "size": a.size,
    "train_images_per_s": a.batch / train_step_s,
    "infer_images_per_s": a.batch / infer_step_s if infer_step_s else 0.0,
    "train_step_s": train_step_s, "infer_step_s": infer_step_s,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "peak_gpu_mib": peak_gpu, "first_loss": losses[0], "last_loss": losses[-1],
    "isa": "torch %s cuda %s cudnn %s %s%s" % (torch.__version__, torch.version.cuda,
                                              torch.backends.cudnn.version(), torch.cuda.get_device_name(dev),
                                              "" if torchvision is not None else " (ResNet without torchvision)"),
}))
