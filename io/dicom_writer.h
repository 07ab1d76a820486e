// Writes a display image as a DICOM radiograph (DX or CR) with DCMTK, for the demo data and the
// tests: MONOCHROME1 or 2, 12- or 16-bit stored values, a rescale intercept, a window covering
// the stored range, and the pixel data uncompressed, RLE, JPEG lossless or JPEG-LS. Patient
// attributes are invented and non-identifying.
#pragma once
#include <string>

#include "io/image.h"

namespace cxr {

struct DicomEncoding {
  std::string modality = "DX";         // DX | CR
  bool monochrome1 = false;
  int bits_stored = 16;                // 12 | 16
  std::string compression = "none";    // none | rle | jpeg-lossless | jpeg-ls
  double rescale_intercept = 0.0;
};

void write_dicom(const std::string& path, const Image& image, const DicomEncoding& encoding,
                 const std::string& patient_id);

}  // namespace cxr
