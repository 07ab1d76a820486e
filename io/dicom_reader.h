// DICOM into the display image of docs/images.md: stored values → modality LUT (Rescale
// Slope/Intercept or Modality LUT Sequence) → VOI (the first window, linear as in PS3.3
// C.11.2.1.2, or the first VOI LUT; with neither, the min–max of the modality values with
// Pixel Padding excluded) → MONOCHROME1 inverted so bone is bright → [0, 1].
// DCMTK decodes uncompressed (implicit/explicit little, explicit big endian), deflated, RLE,
// JPEG (baseline, extended 12-bit, lossless) and JPEG-LS; JPEG 2000 is decoded by GDCM
// (gdcm_decoder.h). Both are rendered by voi_transform.h; DCMTK's own renderer (DicomImage)
// renders files with a Modality LUT Sequence and serves as a cross-check in tests.
// Failure modes, all UsageErrors naming the file and the reason: multi-frame, colour and
// non-image objects; unreadable, truncated or garbage files; sequences nested deeper than
// kMaxSequenceDepth (dicom_structure.h, checked before DCMTK parses); Rows × Columns above
// limits.max_image_pixels; pixel data that cannot be the declared frame (dicom_pixel_checks.h);
// non-finite rescale or window values, or a decoded image that is not finite. What DCMTK, GDCM
// and OpenJPEG say meanwhile is folded into the message, never printed (dicom_messages.h).
// Nothing identifying is read into the result. Thread-safe.
#pragma once
#include <string>

#include "io/image.h"
#include "io/input_limits.h"

namespace cxr {

enum class DicomDecoder {
  Auto,           // DCMTK decodes, voi_transform.h renders; GDCM for JPEG 2000
  DcmtkRenderer,  // DCMTK decodes and renders (DicomImage), as dcm2pnm does
  Gdcm,  // GDCM and cxrtune's own display pipeline for every syntax (cross-checks in tests)
};

Image read_dicom(const std::string& path, DicomDecoder decoder = DicomDecoder::Auto, const InputLimits& limits = {});

}  // namespace cxr
