// JPEG 2000 pixel data through GDCM, the DICOM library under ITK's DICOM reader (DCMTK has no
// JPEG 2000 codec). GDCM is called directly rather than through itk::GDCMImageIO because that
// class rescales the values and inverts MONOCHROME1 on its own; here only the decoding is
// borrowed and cxrtune's own display pipeline (voi_transform.h) does the rest.
// Built when CXRTUNE_WITH_ITK is on and GDCM is found (CXRTUNE_HAVE_GDCM); otherwise
// `gdcm_available()` is false and decode_with_gdcm throws a UsageError saying so.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "io/input_limits.h"
#include "io/voi_transform.h"

namespace cxr {

bool gdcm_available();

// One decoded frame; cells() views its bytes for voi_transform.h.
struct DecodedFrame {
  int64_t width = 0, height = 0;
  int bits_allocated = 16, bits_stored = 16;
  bool is_signed = false;
  std::vector<char> bytes;

  StoredCells cells() const {
    return {bytes.data(), static_cast<size_t>(width * height), bits_allocated, bits_stored, is_signed};
  }
};

// Decodes the single frame of a greyscale DICOM file. UsageError naming the file when GDCM
// cannot read or decode it, when it is not one greyscale frame of at most 16 bits, or when its
// size exceeds limits.max_image_pixels. GDCM's and OpenJPEG's messages go to the calling
// thread's LibraryMessages capture (dicom_messages.h), never to stderr.
DecodedFrame decode_with_gdcm(const std::string& path, const InputLimits& limits = {});

}  // namespace cxr
