#!/usr/bin/env bash
# Decode + preprocess throughput of a 2048×2500 12-bit DX (MONOCHROME1, window) to 224×224,
# per encoding: cxrtune (bench/io_bench.cpp, one thread) against pydicom + NumPy + Pillow
# (bench/io_bench.py, one thread). Usage: bench/io_bench.sh BUILD_DIR (a configured cxrtune
# build with cxr_io built). The DICOM files are made here: pydicom writes the uncompressed one,
# DCMTK's dcmcrle / dcmcjpeg / dcmcjpls re-encode it.
set -euo pipefail
BUILD=${1:-build}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "$BUILD" && pwd)
WORK=$(mktemp -d /tmp/cxr_io_bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
PY=/usr/bin/python3

cmake --build "$BUILD" --target cxr_io > /dev/null
GDCM_LIBS=""
if grep -q "CXRTUNE_HAVE_GDCM" "$BUILD/io/CMakeFiles/cxr_io.dir/flags.make" 2>/dev/null; then
  GDCM_LIBS="-lgdcmMSFF -lgdcmDSED -lgdcmCommon"
fi
g++ -std=c++20 -O2 -I"$ROOT" "$ROOT/bench/io_bench.cpp" -o "$WORK/io_bench" \
  "$BUILD/io/libcxr_io.a" "$BUILD/engine/libcxr_engine.a" \
  -ldcmjpeg -ldcmjpls -ldcmimage -ldcmimgle -ldcmdata -loflog -lofstd $GDCM_LIBS -lpng -fopenmp -lpthread

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
