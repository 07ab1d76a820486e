#!/usr/bin/python3
"""The pydicom + NumPy (+ Pillow resize) peer of bench/io_bench.cpp: for each DICOM FILE,
dcmread -> pixel_array -> rescale -> first window (PS3.3 C.11.2.1.2 linear) or min-max ->
MONOCHROME1 inversion -> antialiased resize of the shorter side to 224 (Pillow, float mode,
BILINEAR with reducing support as torchvision's antialias) -> centre crop -> 3 channels ->
ImageNet normalisation. One thread, median of --repeat runs after a warm-up. Prints one JSON
line per file; "images_per_s": null when pydicom has no decoder for the syntax."""
import argparse, json, statistics, time
import numpy as np
import pydicom
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]


def preprocess(path, size):
    ds = pydicom.dcmread(path)
    x = ds.pixel_array.astype(np.float32) * float(getattr(ds, "RescaleSlope", 1)) + float(getattr(ds, "RescaleIntercept", 0))
    if "WindowCenter" in ds:
        c = float(ds.WindowCenter[0] if ds["WindowCenter"].VM > 1 else ds.WindowCenter)
        w = float(ds.WindowWidth[0] if ds["WindowWidth"].VM > 1 else ds.WindowWidth)
    else:
        lo, hi = float(x.min()), float(x.max())
        c, w = (lo + hi + 1) / 2, hi - lo + 1
    y = np.clip((x - (c - 0.5)) / max(w - 1, 1) + 0.5, 0, 1)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        y = 1 - y
    h, wd = y.shape
    s = size / min(h, wd)
    nw, nh = max(size, round(wd * s)), max(size, round(h * s))
    r = np.asarray(Image.fromarray(y, mode="F").resize((nw, nh), Image.BILINEAR, reducing_gap=None))
    top, left = (nh - size) // 2, (nw - size) // 2
    r = r[top:top + size, left:left + size]
    return (np.broadcast_to(r, (3, size, size)) - MEAN) / STD


def main():
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--size", type=int, default=224)
    a = p.parse_args()
    for f in a.files:
        syntax = str(pydicom.dcmread(f, stop_before_pixels=True).file_meta.TransferSyntaxUID.name)
        try:
            preprocess(f, a.size)
        except Exception as e:  # no pixel handler for this syntax in Debian's pydicom
            print(json.dumps({"file": f, "transfer_syntax": syntax, "images_per_s": None, "why": str(e)[:120]}))
            continue
        ms = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            preprocess(f, a.size)
            ms.append((time.perf_counter() - t0) * 1000)
        m = statistics.median(ms)
        print(json.dumps({"file": f, "transfer_syntax": syntax, "images_per_s": round(1000 / m, 2), "ms_per_image": round(m, 1)}))


if __name__ == "__main__":
    main()
