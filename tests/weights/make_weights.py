"""Writes the weights fixtures for tests/weights with Debian's torch: torchvision resnet18 saved
the ways people save it, a safetensors file (written here from the format description, no
safetensors package), tensors sharing one storage with offsets and strides, hostile pickles,
and the expected values as raw float32 files. Usage: make_weights.py OUT_DIR
"""
import io
import json
import os
import struct
import sys
import zipfile

import torch
import torchvision

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
torch.manual_seed(3)
model = torchvision.models.resnet18(num_classes=4)
with torch.no_grad():
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.1, 0.1)
            m.running_var.uniform_(0.8, 1.2)
            m.weight.data.uniform_(0.8, 1.2)
            m.bias.data.uniform_(-0.1, 0.1)
            m.num_batches_tracked.fill_(7)
sd = model.state_dict()

torch.save(sd, os.path.join(out, "plain.pth"))
torch.save({"epoch": 3, "state_dict": sd, "optimizer": {"lr": 0.1, "betas": (0.9, 0.999)}},
           os.path.join(out, "wrapped.pth"))
torch.save({"model": {"module." + k: v for k, v in sd.items()}}, os.path.join(out, "module.pth"))
torch.save({k: (v.half() if v.is_floating_point() else v) for k, v in sd.items()}, os.path.join(out, "half.pth"))
torch.save(sd, os.path.join(out, "legacy.pth"), _use_new_zipfile_serialization=False)

# Expected values: every entry as float32, concatenated, with an index.
index, offset = [], 0
with open(os.path.join(out, "expected.bin"), "wb") as f:
    for k, v in sd.items():
        data = v.to(torch.float32).contiguous().numpy().tobytes()
        index.append({"name": k, "shape": list(v.shape), "offset": offset})
        f.write(data)
        offset += len(data)
json.dump(index, open(os.path.join(out, "expected.json"), "w"))

# Views sharing one storage: offsets, a transposed stride, a slice.
base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
torch.save({"base": base, "t": base.t(), "rows": base[1:3], "cols": base[:, 2:5]}, os.path.join(out, "views.pth"))

# Eval-mode logits of the model on a fixed input.
model.eval()
x = torch.randn(2, 3, 64, 64)
x.numpy().tofile(os.path.join(out, "input.bin"))
with torch.no_grad():
    model(x).numpy().tofile(os.path.join(out, "logits.bin"))

# ResNet-50 as torchvision saves it, and its eval-mode logits.
torch.manual_seed(5)
r50 = torchvision.models.resnet50(num_classes=3).eval()
torch.save(r50.state_dict(), os.path.join(out, "resnet50.pth"))
with torch.no_grad():
    r50(x).numpy().tofile(os.path.join(out, "logits50.bin"))

def safetensors(path, tensors, header_patch=None):
    header, blobs, off = {}, [], 0
    for name, t in tensors.items():
        b = t.contiguous().numpy().tobytes()
        dt = {torch.float32: "F32", torch.float16: "F16", torch.int64: "I64"}[t.dtype]
        header[name] = {"dtype": dt, "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    header["__metadata__"] = {"format": "pt"}
    if header_patch:
        header_patch(header)
    h = json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)

safetensors(os.path.join(out, "model.safetensors"), sd)
small = {"a": torch.ones(2, 3), "b": torch.zeros(4)}
def overlap(h): h["b"]["data_offsets"] = [8, 24]
def outside(h): h["b"]["data_offsets"] = [24, 1 << 40]
def overflow(h): h["a"]["shape"] = [1 << 62, 1 << 62]
safetensors(os.path.join(out, "overlap.safetensors"), small, overlap)
safetensors(os.path.join(out, "outside.safetensors"), small, outside)
safetensors(os.path.join(out, "overflow.safetensors"), small, overflow)
with open(os.path.join(out, "longheader.safetensors"), "wb") as f:
    f.write(struct.pack("<Q", 1 << 40) + b"{}")

# A hostile checkpoint: a pickle that would call os.system if unpickled by Python.
with zipfile.ZipFile(os.path.join(out, "evil.pth"), "w") as z:
    z.writestr("evil/data.pkl", b"\x80\x02cposix\nsystem\nq\x00X\x0b\x00\x00\x00touch /tmp/pwnq\x01\x85q\x02Rq\x03.")
with open(os.path.join(out, "plain.pth"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.pth"), "wb") as f:
    f.write(data[: len(data) // 2])
with open(os.path.join(out, "garbage.pth"), "wb") as f:
    f.write(b"PK\x03\x04" + os.urandom(4000))
