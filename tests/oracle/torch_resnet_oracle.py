"""Oracle for tests/oracle: torchvision ResNet in train mode, written to simple files.

The expected values are computed in float64 on the same (f32-rounded) weights and inputs: exact
autograd, not PyTorch's own float32 rounding (which on ResNet-50 at random init is itself 0.2 %
off the float64 gradient norms when BN scales are spread widely).

Writes into OUT_DIR:
  state.json + state.bin  every state_dict entry (f32, row-major; counters as f32) with offsets
  input.bin               [N, 3, S, S] f32;  labels.bin [N] f32 class indices
  expect.json             logits, loss, per-stage gradient norms of pass 1 (forward+backward),
                          and BN running stats (by key, offsets into running.bin) after 3
                          train-mode forward passes; under "bf16_autocast" and "f32" the same
                          figures from PyTorch's own CPU bf16 autocast and float32 runs of the
                          same case, the yardsticks of what that arithmetic costs on it
Usage: torch_resnet_oracle.py ARCH BATCH SIZE NUM_CLASSES SEED OUT_DIR [--tame]

--tame: the last BN of every residual branch gets weights in [0.1, 0.3], as in trained networks
(and torchvision's zero_init_residual), so activations do not grow block after block. Random
init without it is ill-conditioned for bf16 on ResNet-50 (PyTorch's own bf16 logits ~28 % off);
the reduced-precision tests use it so that they measure arithmetic, not that.
"""
import copy
import json
import os
import sys

import torch
import torchvision

arch, batch, size, classes, seed, out = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
tame = "--tame" in sys.argv[7:]
torch.manual_seed(seed)
torch.set_num_threads(2)
model = getattr(torchvision.models, arch)(num_classes=classes)
# Non-trivial BN state so that affine parameters and running stats are all exercised.
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.8, 1.2)
            m.bias.uniform_(-0.1, 0.1)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
    if tame:
        for name, m in model.named_modules():
            if isinstance(m, (torchvision.models.resnet.BasicBlock, torchvision.models.resnet.Bottleneck)):
                last = m.bn3 if isinstance(m, torchvision.models.resnet.Bottleneck) else m.bn2
                last.weight.uniform_(0.1, 0.3)
os.makedirs(out, exist_ok=True)

index, offset = [], 0
with open(os.path.join(out, "state.bin"), "wb") as f:
    for key, t in model.state_dict().items():
        data = t.detach().to(torch.float32).contiguous().numpy().tobytes()
        index.append({"name": key, "shape": list(t.shape), "offset": offset})
        f.write(data)
        offset += len(data)
json.dump(index, open(os.path.join(out, "state.json"), "w"))

x = torch.randn(batch, 3, size, size)
y = torch.arange(batch) % classes
x.numpy().astype("float32").tofile(os.path.join(out, "input.bin"))
y.to(torch.float32).numpy().tofile(os.path.join(out, "labels.bin"))

bf16_model = copy.deepcopy(model).train()
f32_model = copy.deepcopy(model).train()
model = model.double()
model.train()
x = x.double()
logits = model(x)
loss = torch.nn.functional.cross_entropy(logits, y)
loss.backward()
stages = {s: 0.0 for s in ["conv1", "layer1", "layer2", "layer3", "layer4", "fc"]}
for name, p in model.named_parameters():
    stage = name.split(".")[0]
    stage = "conv1" if stage in ("conv1", "bn1") else stage
    stages[stage] += float(p.grad.double().pow(2).sum())
with torch.no_grad():
    model(x)
    model(x)
running, roffset = [], 0
with open(os.path.join(out, "running.bin"), "wb") as f:
    for key, t in model.state_dict().items():
        if "running_" in key:
            data = t.to(torch.float32).numpy().tobytes()
            running.append({"name": key, "offset": roffset, "numel": t.numel()})
            f.write(data)
            roffset += len(data)


def lower_precision_run(net, dtype):
    """PyTorch's own run of the case in float32 or bf16 autocast: logits, gradient norms and
    running statistics after the same 3 passes (as a list in running.bin order)."""
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
        out = net(x.float())
    torch.nn.functional.cross_entropy(out.float(), y).backward()
    norms = {s: 0.0 for s in stages}
    for name, p in net.named_parameters():
        stage = name.split(".")[0]
        stage = "conv1" if stage in ("conv1", "bn1") else stage
        norms[stage] += float(p.grad.double().pow(2).sum())
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype == "bf16"):
        net(x.float())
        net(x.float())
    state = net.state_dict()
    return {
        "logits": out.detach().float().flatten().tolist(),
        "grad_norm": {k: v ** 0.5 for k, v in norms.items()},
        "running": [float(v) for r in running for v in state[r["name"]].float().flatten()],
    }


json.dump({
    "bf16_autocast": lower_precision_run(bf16_model, "bf16"),
    "f32": lower_precision_run(f32_model, "f32"),
    "logits": logits.detach().flatten().tolist(),
    "loss": float(loss),
    "grad_norm": {k: v ** 0.5 for k, v in stages.items()},
    "grad_norm_total": sum(stages.values()) ** 0.5,
    "running": running,
}, open(os.path.join(out, "expect.json"), "w"))
