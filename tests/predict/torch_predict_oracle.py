"""Oracle for tests/predict: what `cxrtune predict` must write, computed by PyTorch.

Loads a cxrtune checkpoint (.safetensors: parsed here from its documented layout, an 8-byte
little-endian header length, a JSON header, raw little-endian tensors) into torchvision's ResNet
by its state_dict keys, preprocesses each image independently (PIL: 8/16-bit grey PNG already at
SIZE x SIZE, values / (2^bits - 1), replicated to 3 channels, ImageNet normalisation), runs it in
float64 in eval mode and writes, per image: the probabilities (softmax, or a sigmoid per label
for bce; logits divided by TEMPERATURE first when it is not 1) and Grad-CAM by hooks on layer4
(Selvaraju et al. 2017: alpha_k = mean over space of d logit_c / d A_k, cam = relu(sum_k alpha_k
A_k)) for c = CLASS (an index; -1: the argmax).
Usage: torch_predict_oracle.py CKPT ARCH LOSS SIZE TEMPERATURE CLASS OUT.json IMAGE...
"""
import json
import struct
import sys

import numpy as np
import torch
import torchvision
from PIL import Image

ckpt, arch, loss, size, temperature, cls, out = sys.argv[1:8]
size, temperature, cls = int(size), float(temperature), int(cls)
images = sys.argv[8:]
torch.set_num_threads(2)

with open(ckpt, "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    data = f.read()
dtypes = {"F32": np.float32, "I64": np.int64, "F64": np.float64}
state = {}
for key, meta in header.items():
    if key == "__metadata__":
        continue
    a, b = meta["data_offsets"]
    arr = np.frombuffer(data[a:b], dtype=dtypes[meta["dtype"]]).reshape(meta["shape"])
    state[key] = torch.from_numpy(arr.copy())
classes = state["fc.weight"].shape[0]
model = getattr(torchvision.models, arch)(num_classes=classes)
model.load_state_dict(state, strict=True)
model = model.double().eval()

saved = {}
def hook(_module, _inputs, output):
    saved["a"] = output
    output.register_hook(lambda g: saved.__setitem__("g", g))
model.layer4.register_forward_hook(hook)

mean = torch.tensor([0.485, 0.456, 0.406], dtype=torch.float64).view(3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225], dtype=torch.float64).view(3, 1, 1)
result = []
for path in images:
    img = Image.open(path)
    bits = 16 if img.mode in ("I;16", "I") else 8
    arr = np.asarray(img, dtype=np.float64) / (2 ** bits - 1)
    assert arr.shape == (size, size), (path, arr.shape)
    # Rounded to float32 as cxrtune's loader stores it, then normalised in float64.
    x = torch.from_numpy(arr.astype(np.float32).astype(np.float64)).unsqueeze(0).repeat(3, 1, 1)
    x = ((x - mean) / std).float().double().unsqueeze(0)
    logits = model(x)
    z = logits.detach()[0] / temperature
    probs = torch.sigmoid(z) if loss == "bce" else torch.softmax(z, 0)
    c = int(torch.argmax(probs)) if cls < 0 else cls
    model.zero_grad()
    logits[0, c].backward()
    a, g = saved["a"].detach()[0], saved["g"][0]
    alpha = g.mean(dim=(1, 2))
    cam = torch.relu((alpha.view(-1, 1, 1) * a).sum(0))
    result.append({"path": path, "probs": probs.tolist(), "class": c, "cam": cam.flatten().tolist(),
                   "cam_shape": list(cam.shape), "logits": logits.detach()[0].tolist()})
json.dump(result, open(out, "w"))
