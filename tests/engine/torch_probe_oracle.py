"""Oracle for tests/engine/probe_vs_torch_test.cpp: Grad-CAM's two tensors from PyTorch.

A torchvision ResNet with random weights (BN state spread as in tests/oracle), run in float64 on
the f32-rounded weights and input, with forward hooks on layer3 and layer4. For the eval forward
(running statistics) and the train-mode forward (batch statistics) it records the logits, the
layer4 output (the last block's output, after its ReLU) and d(logit_c)/d(layer4 output), with
c = n % NUM_CLASSES for sample n; in train mode also d(logit_c)/d(layer3 output).

Writes into OUT_DIR: state.json + state.bin (every state_dict entry, f32, with offsets; counters
as f32), input.bin ([N, 3, S, S] f32) and expect.json.
Usage: torch_probe_oracle.py ARCH BATCH SIZE NUM_CLASSES SEED OUT_DIR
"""
import json
import os
import sys

import torch
import torchvision

arch, batch, size, classes, seed, out = sys.argv[1], *map(int, sys.argv[2:6]), sys.argv[6]
torch.manual_seed(seed)
torch.set_num_threads(2)
model = getattr(torchvision.models, arch)(num_classes=classes)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.weight.uniform_(0.8, 1.2)
            m.bias.uniform_(-0.1, 0.1)
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
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
x.numpy().astype("float32").tofile(os.path.join(out, "input.bin"))

model = model.double()
x = x.double()
seen = {}
model.layer3.register_forward_hook(lambda mod, i, o: seen.__setitem__("layer3", o))
model.layer4.register_forward_hook(lambda mod, i, o: seen.__setitem__("layer4", o))
target = torch.arange(batch) % classes


def run(train):
    """Logits, layer4 output and the gradients of sum_n logit[n, c_n] at the hooked outputs."""
    model.train(train)
    saved = {k: v.clone() for k, v in model.state_dict().items()}  # train mode moves running stats
    logits = model(x)
    score = logits.gather(1, target[:, None]).sum()
    wanted = ["layer4", "layer3"] if train else ["layer4"]
    grads = torch.autograd.grad(score, [seen[k] for k in wanted])
    model.load_state_dict(saved)
    result = {"logits": logits.detach().flatten().tolist(),
              "layer4_out": seen["layer4"].detach().flatten().tolist()}
    for k, g in zip(wanted, grads):
        result[k + "_grad"] = g.flatten().tolist()
    return result


json.dump({"classes": target.tolist(), "eval": run(False), "train": run(True)},
          open(os.path.join(out, "expect.json"), "w"))
