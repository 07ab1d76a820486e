// The non-identifying header facts of a DICOM image, read from a DCMTK dataset: what the
// display pipeline needs (rescale, first window, first VOI LUT, pixel padding, photometric)
// and what makes a file unusable (no pixel data, multi-frame, colour, implausible size). No
// patient, study or institution attribute is read.
#pragma once
#include <cstdint>
#include <string>

#include "io/image.h"
#include "io/input_limits.h"
#include "io/voi_transform.h"

class DcmDataset;

namespace cxr {

struct DicomHeader {
  ImageFacts facts;             // format, modality, photometric, transfer syntax, bits, rescale
  int64_t rows = 0, columns = 0;
  int bits_allocated = 16;      // 8, 16 or 32
  bool jpeg2000 = false;        // DCMTK cannot decode it: the GDCM path
  bool modality_lut_sequence = false;
  DisplayParams display;        // for pipelines outside DCMTK's renderer
};

// UsageError naming `path` and the reason for a file that is not one greyscale frame: no Pixel
// Data, Number of Frames > 1, colour, rows × columns below 1 or above limits.max_image_pixels,
// Bits Allocated other than 8/16/32, or a Rescale Slope/Intercept, Window Center or Width that
// is not finite (or a slope that makes the modality values overflow).
DicomHeader read_dicom_header(DcmDataset& ds, const std::string& path, const InputLimits& limits = {});

}  // namespace cxr
