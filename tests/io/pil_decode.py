#!/usr/bin/python3
"""Pillow's decode of a JPEG, the oracle of tests/io/jpeg_reader_test.cpp.
Usage: pil_decode.py IN OUT MODE [W H]. MODE is L or RGB; with W H, Image.draft(MODE, (W, H))
first, so libjpeg scales in the DCT domain as Pillow chooses. OUT gets "WIDTH HEIGHT\\n" and the
raw samples (row-major, 1 or 3 bytes per pixel)."""
import sys
from PIL import Image

src, dst, mode = sys.argv[1:4]
im = Image.open(src)
if len(sys.argv) == 6:
    im.draft(mode, (int(sys.argv[4]), int(sys.argv[5])))
im = im.convert(mode) if im.mode != mode else im
with open(dst, "wb") as f:
    f.write(b"%d %d\n" % im.size)
    f.write(im.tobytes())
