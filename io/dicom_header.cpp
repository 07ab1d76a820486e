#include "io/dicom_header.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcdatset.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <cmath>

#include "core/errors.h"
#include "io/image_reader.h"

namespace cxr {
namespace {

std::string get_string(DcmItem& ds, const DcmTagKey& tag) {
  OFString v;
  return ds.findAndGetOFString(tag, v).good() ? std::string(v.c_str()) : std::string();
}

// Pixel Padding Value is US or SS depending on Pixel Representation; an implicit-VR file gives
// DCMTK no VR, so an unsigned read of a signed value is sign-extended here.
bool get_padding(DcmItem& ds, const DcmTagKey& tag, bool is_signed, int64_t& value) {
  Uint16 u = 0;
  Sint16 s = 0;
  if (ds.findAndGetUint16(tag, u).good()) {
    value = is_signed ? static_cast<int64_t>(static_cast<int16_t>(u)) : static_cast<int64_t>(u);
    return true;
  }
  if (ds.findAndGetSint16(tag, s).good()) {
    value = s;
    return true;
  }
  return false;
}

std::optional<VoiLut> first_voi_lut(DcmItem& ds) {
  DcmItem* item = nullptr;
  if (ds.findAndGetSequenceItem(DCM_VOILUTSequence, item, 0).bad() || !item) return std::nullopt;
  Uint16 entries = 0, bits = 0;
  Sint32 first = 0;
  Uint16 first_u = 0;
  if (item->findAndGetUint16(DCM_LUTDescriptor, entries, 0).bad() || item->findAndGetUint16(DCM_LUTDescriptor, bits, 2).bad())
    return std::nullopt;
  if (item->findAndGetUint16(DCM_LUTDescriptor, first_u, 1).good()) first = first_u;
  const Uint16* data = nullptr;
  unsigned long count = 0;
  if (item->findAndGetUint16Array(DCM_LUTData, data, &count).bad() || !data) return std::nullopt;
  VoiLut lut;
  lut.first_mapped = first;
  lut.bits = bits == 0 || bits > 16 ? 16 : bits;
  // Zero entries means 65536 (PS3.3 C.11.1.1.1).
  const size_t n = std::min<size_t>(entries == 0 ? 65536u : entries, count);
  lut.data.assign(data, data + n);
  return lut;
}

// A Decimal String that parsed to NaN or ±inf ("NaN", "1e400") would make every pixel
// non-finite, which training would only notice many steps later, naming no file.
void check_finite(double v, const char* attribute, const std::string& path) {
  if (!std::isfinite(v))
    throw UsageError(path + ": " + attribute + " is not a finite number (" + std::to_string(v) + ")");
}

}  // namespace

DicomHeader read_dicom_header(DcmDataset& ds, const std::string& path, const InputLimits& limits) {
  if (!ds.tagExists(DCM_PixelData)) throw UsageError(path + ": DICOM object has no image (no Pixel Data)");
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames).good() && frames > 1)
    throw UsageError(path + ": multi-frame DICOM (" + std::to_string(frames) + " frames) is not a chest X-ray film");
  Uint16 samples = 1;
  ds.findAndGetUint16(DCM_SamplesPerPixel, samples);
  DicomHeader h;
  ImageFacts& f = h.facts;
  f.photometric = get_string(ds, DCM_PhotometricInterpretation);
  if (samples != 1 || (f.photometric != "MONOCHROME1" && f.photometric != "MONOCHROME2"))
    throw UsageError(path + ": colour DICOM (" + (f.photometric.empty() ? "no photometric" : f.photometric) +
                     ") is not supported: cxrtune reads greyscale radiographs");
  Uint16 rows = 0, columns = 0;
  ds.findAndGetUint16(DCM_Rows, rows);
  ds.findAndGetUint16(DCM_Columns, columns);
  h.rows = rows;
  h.columns = columns;
  check_declared_pixels(path, h.columns, h.rows, limits);

  const E_TransferSyntax xfer = ds.getOriginalXfer();
  h.jpeg2000 = xfer == EXS_JPEG2000 || xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000MulticomponentLosslessOnly ||
               xfer == EXS_JPEG2000Multicomponent;
  f.format = "dicom";
  f.modality = get_string(ds, DCM_Modality);
  f.transfer_syntax = DcmXfer(xfer).getXferName();
  Uint16 allocated = 0, bits = 0, repr = 0;
  ds.findAndGetUint16(DCM_BitsAllocated, allocated);
  ds.findAndGetUint16(DCM_BitsStored, bits);
  ds.findAndGetUint16(DCM_PixelRepresentation, repr);
  if (allocated != 8 && allocated != 16 && allocated != 32)
    throw UsageError(path + ": " + std::to_string(allocated) + " bits allocated is not supported (8, 16 or 32)");
  if (bits < 1 || bits > allocated)
    throw UsageError(path + ": " + std::to_string(bits) + " bits stored in " + std::to_string(allocated) +
                     " allocated is not a valid pixel format");
  h.bits_allocated = allocated;
  f.bits_stored = bits;
  f.is_signed = repr == 1;
  Float64 slope = 1, intercept = 0;
  if (ds.findAndGetFloat64(DCM_RescaleSlope, slope).good()) f.rescale_slope = slope;
  if (ds.findAndGetFloat64(DCM_RescaleIntercept, intercept).good()) f.rescale_intercept = intercept;
  check_finite(f.rescale_slope, "Rescale Slope", path);
  check_finite(f.rescale_intercept, "Rescale Intercept", path);
  // The modality values of the extreme stored values must be finite too (slope 1e305 is not).
  const double top = std::ldexp(1.0, f.bits_stored) - 1.0;
  for (const double stored : {0.0, top, -top})
    if (!std::isfinite(stored * f.rescale_slope + f.rescale_intercept))
      throw UsageError(path + ": Rescale Slope " + std::to_string(f.rescale_slope) + " and Intercept " +
                       std::to_string(f.rescale_intercept) + " give values that are not finite");
  h.modality_lut_sequence = ds.tagExists(DCM_ModalityLUTSequence);

  DisplayParams& d = h.display;
  d.slope = f.rescale_slope;
  d.intercept = f.rescale_intercept;
  d.monochrome1 = f.photometric == "MONOCHROME1";
  Float64 center = 0, width = 0;
  const bool has_center = ds.findAndGetFloat64(DCM_WindowCenter, center, 0).good();
  const bool has_width = ds.findAndGetFloat64(DCM_WindowWidth, width, 0).good();
  if (has_center) check_finite(center, "Window Center", path);
  if (has_width) check_finite(width, "Window Width", path);
  if (has_center && has_width && width >= 1) d.window = std::make_pair(center, width);
  d.voi_lut = first_voi_lut(ds);
  int64_t pad = 0, limit = 0;
  if (get_padding(ds, DCM_PixelPaddingValue, f.is_signed, pad)) {
    if (!get_padding(ds, DCM_PixelPaddingRangeLimit, f.is_signed, limit)) limit = pad;
    d.padding = std::make_pair(std::min(pad, limit), std::max(pad, limit));
  }
  return h;
}

}  // namespace cxr
