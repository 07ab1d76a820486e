#!/usr/bin/env bash
# Decode + preprocess throughput to 224×224 on one thread: a 2048×2500 12-bit DX (MONOCHROME1,
# window) per DICOM encoding, and a 2048×2048 8-bit greyscale JPEG film (baseline and
# progressive, quality 90): cxrtune (bench/io_bench.cpp) against pydicom / Pillow + NumPy
# (bench/io_bench.py; JPEG with and without Image.draft). Usage: bench/io_bench.sh BUILD_DIR
# [jpeg] (a configured cxrtune build with cxr_io built; `jpeg`: the JPEG files only). The files
# are made here: pydicom writes the uncompressed DICOM, DCMTK's dcmcrle / dcmcjpeg / dcmcjpls
# re-encode it, Pillow writes the JPEGs.
set -euo pipefail
BUILD=${1:-build}
ONLY=${2:-all}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
WORK=$(mktemp -d /tmp/cxr_io_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PY=/usr/bin/python3

# Under the shared build lock where there is one (several builds share the tree).
if command -v flock > /dev/null; then
  flock /tmp/cxr-build.lock cmake --build "$BUILD" --target cxr_io > /dev/null
else
  cmake --build "$BUILD" --target cxr_io > /dev/null
fi
CORE_LIB=""
[ -f "$BUILD/core/libcxr_core.a" ] && CORE_LIB="$BUILD/core/libcxr_core.a"
GDCM_LIBS=""
if grep -q "CXRTUNE_HAVE_GDCM" "$BUILD/io/CMakeFiles/cxr_io.dir/flags.make" 2>/dev/null; then
  GDCM_LIBS="-lgdcmMSFF -lgdcmDSED -lgdcmCommon"
fi
g++ -std=c++20 -O2 -I"$ROOT" "$ROOT/bench/io_bench.cpp" -o "$WORK/io_bench" \
  "$BUILD/io/libcxr_io.a" "$BUILD/engine/libcxr_engine.a" $CORE_LIB \
  -ldcmjpeg -ldcmjpls -ldcmimage -ldcmimgle -ldcmdata -loflog -lofstd $GDCM_LIBS -lpng -ljpeg -lz -fopenmp -lpthread

"$PY" - "$WORK/film" <<'PYEOF'
import sys, numpy as np
from PIL import Image
n = 2048
y, x = np.mgrid[0:n, 0:n].astype(np.float32)
rng = np.random.default_rng(0)
# The DX phantom below in 8 display bits: body, lung fields, rib-like bands, quantum noise.
img = 190 - 70 * np.exp(-(((x - 0.3 * n) / (0.16 * n)) ** 2 + ((y - 0.45 * n) / (0.28 * n)) ** 2) ** 2)
img -= 70 * np.exp(-(((x - 0.7 * n) / (0.16 * n)) ** 2 + ((y - 0.45 * n) / (0.28 * n)) ** 2) ** 2)
img += 20 * (np.sin(y / n * 60 + np.abs(x - n / 2) / n * 8) > 0.6)
img += rng.normal(0, 2, img.shape)
im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8), mode="L")
im.save(sys.argv[1] + "_baseline.jpg", quality=90)
im.save(sys.argv[1] + "_progressive.jpg", quality=90, progressive=True)
PYEOF
JPEGS=("$WORK"/film_baseline.jpg "$WORK"/film_progressive.jpg)
echo "# $(lscpu | sed -n 's/^Model name: *//p'), one thread"
echo "# JPEG: cxrtune (bench/io_bench.cpp; DCT-scaled as the loader reads, then --full)"
OMP_NUM_THREADS=1 "$WORK/io_bench" --repeat 20 "${JPEGS[@]}"
OMP_NUM_THREADS=1 "$WORK/io_bench" --repeat 20 --full "${JPEGS[@]}"
echo "# JPEG: Pillow $("$PY" -c 'import PIL; print(PIL.__version__)') + NumPy (bench/io_bench.py)"
OMP_NUM_THREADS=1 "$PY" "$ROOT/bench/io_bench.py" --repeat 20 "${JPEGS[@]}"
[ "$ONLY" = jpeg ] && exit 0

"$PY" - "$WORK/dx_uncompressed.dcm" <<'PYEOF'
import sys, numpy as np, pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
h, w = 2500, 2048
y, x = np.mgrid[0:h, 0:w].astype(np.float32)
rng = np.random.default_rng(0)
# Smooth body, two dark lung fields, rib-like bands and quantum noise: compresses like a film.
img = 2600 - 900 * np.exp(-(((x - 0.3 * w) / (0.16 * w)) ** 2 + ((y - 0.45 * h) / (0.28 * h)) ** 2) ** 2)
img -= 900 * np.exp(-(((x - 0.7 * w) / (0.16 * w)) ** 2 + ((y - 0.45 * h) / (0.28 * h)) ** 2) ** 2)
img += 250 * (np.sin(y / h * 60 + np.abs(x - w / 2) / w * 8) > 0.6)
img += rng.normal(0, 25, img.shape)
stored = np.clip(4095 - img, 0, 4095).astype(np.uint16)  # MONOCHROME1: high = dark
meta = FileMetaDataset()
meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
meta.MediaStorageSOPInstanceUID = generate_uid()
meta.TransferSyntaxUID = ExplicitVRLittleEndian
ds = Dataset()
ds.file_meta = meta
ds.is_little_endian, ds.is_implicit_VR = True, False
ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
ds.Modality, ds.PatientName, ds.PatientID = "DX", "BENCH^PHANTOM", "BENCH-0"
ds.Rows, ds.Columns, ds.SamplesPerPixel = h, w, 1
ds.PhotometricInterpretation = "MONOCHROME1"
ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
ds.RescaleSlope, ds.RescaleIntercept, ds.WindowCenter, ds.WindowWidth = 1, 0, 2048, 4096
ds.PixelData = stored.tobytes()
ds.save_as(sys.argv[1], write_like_original=False)
PYEOF
dcmcrle "$WORK/dx_uncompressed.dcm" "$WORK/dx_rle.dcm"
dcmcjpeg +e1 "$WORK/dx_uncompressed.dcm" "$WORK/dx_jpeg_lossless.dcm"
dcmcjpls "$WORK/dx_uncompressed.dcm" "$WORK/dx_jpeg_ls.dcm"
FILES=("$WORK"/dx_uncompressed.dcm "$WORK"/dx_rle.dcm "$WORK"/dx_jpeg_lossless.dcm "$WORK"/dx_jpeg_ls.dcm)

echo "# cxrtune (bench/io_bench.cpp)"
OMP_NUM_THREADS=1 "$WORK/io_bench" --repeat 10 "${FILES[@]}"
echo "# pydicom $("$PY" -c 'import pydicom; print(pydicom.__version__)') + NumPy + Pillow (bench/io_bench.py)"
OMP_NUM_THREADS=1 "$PY" "$ROOT/bench/io_bench.py" --repeat 10 "${FILES[@]}"
