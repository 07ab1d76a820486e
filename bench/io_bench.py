#!/usr/bin/python3
"""The pydicom + NumPy (+ Pillow resize) peer of bench/io_bench.cpp: for each DICOM FILE,
dcmread -> pixel_array -> rescale -> first window (PS3.3 C.11.2.1.2 linear) or min-max ->
MONOCHROME1 inversion -> antialiased resize of the shorter side to 224 (Pillow, float mode,
BILINEAR with reducing support as torchvision's antialias) -> centre crop -> 3 channels ->
ImageNet normalisation. A JPEG FILE goes the same way from Pillow's decode (Image.open ->
convert("L") -> float / 255), three times: at full size; with Image.draft("L", (size, size))
first, Pillow's DCT-domain shortcut at its fastest (1/8 for 2048 -> 224); and with draft to twice
the size, the scale cxrtune's reader picks (1/4). One thread, median of --repeat runs
after a warm-up. Prints one JSON line per file (and variant); "images_per_s": null when pydicom
has no decoder for the syntax."""
import argparse, json, statistics, time
import numpy as np
import pydicom
from PIL import Image

MEAN = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
STD = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]


def to_tensor(y, size):
    h, wd = y.shape
    s = size / min(h, wd)
    nw, nh = max(size, round(wd * s)), max(size, round(h * s))
    r = np.asarray(Image.fromarray(y, mode="F").resize((nw, nh), Image.BILINEAR, reducing_gap=None))
    top, left = (nh - size) // 2, (nw - size) // 2
    r = r[top:top + size, left:left + size]
    return (np.broadcast_to(r, (3, size, size)) - MEAN) / STD


def preprocess_jpeg(path, size, draft):
    im = Image.open(path)
    if draft:
        im.draft("L", (draft, draft))
    y = np.asarray(im.convert("L"), np.float32) / 255.0
    return to_tensor(y, size)


def is_jpeg(path):
    with open(path, "rb") as f:
        return f.read(3) == b"\xff\xd8\xff"


def timed(fn, repeat):
    fn()
    ms = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ms.append((time.perf_counter() - t0) * 1000)
    m = statistics.median(ms)
    return {"images_per_s": round(1000 / m, 2), "ms_per_image": round(m, 1)}


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
    return to_tensor(y.astype(np.float32, copy=False), size)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("files", nargs="+")
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--size", type=int, default=224)
    a = p.parse_args()
    for f in a.files:
        if is_jpeg(f):
            # Full decode; draft to the target (Pillow's fastest, 1/8 for 2048 -> 224); draft to
            # twice the target, the scale cxrtune picks (1/4).
            for name, draft in (("full decode", 0), ("draft", a.size), ("draft to 2x", 2 * a.size)):
                with Image.open(f) as im:
                    if draft:
                        im.draft("L", (draft, draft))
                    decoded = "%dx%d" % im.size
                r = timed(lambda: preprocess_jpeg(f, a.size, draft), a.repeat)
                print(json.dumps({"file": f, "transfer_syntax": "JPEG", "pillow": name, "decoded": decoded, **r}))
            continue
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
