// DICOM through DCMTK into the display image of contracts.md: stored values → modality LUT
// (rescale slope/intercept or Modality LUT Sequence) → VOI (the first window, linear as in
// PS3.3 C.11.2.1.2, or the first VOI LUT; with neither, the min–max of the modality values) →
// MONOCHROME1 inverted so bone is bright → [0, 1]. Uncompressed (implicit/explicit little,
// explicit big endian), deflated, RLE, JPEG (baseline, extended 12-bit, lossless) and JPEG-LS.
// Multi-frame, colour and non-image objects, and unreadable files, are UsageErrors naming the
// file and the reason. Nothing identifying is read into the result.
#pragma once
#include <string>

#include "io/image.h"

namespace cxr {

Image read_dicom(const std::string& path);

}  // namespace cxr
