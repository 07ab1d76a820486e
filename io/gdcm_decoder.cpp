#include "io/gdcm_decoder.h"

#include "engine/errors.h"

#ifdef CXRTUNE_HAVE_GDCM
#include <gdcmImageReader.h>
#include <gdcmTrace.h>

#include <mutex>
#endif

namespace cxr {

#ifndef CXRTUNE_HAVE_GDCM

bool gdcm_available() { return false; }

DecodedFrame decode_with_gdcm(const std::string& path) {
  throw UsageError(path + ": JPEG 2000 DICOM needs cxrtune built with CXRTUNE_WITH_ITK (GDCM)");
}

#else

namespace {

// A header can lie: refuse sizes no chest X-ray has before allocating anything.
constexpr int64_t kMaxPixels = int64_t{1} << 28;

}  // namespace

bool gdcm_available() { return true; }

DecodedFrame decode_with_gdcm(const std::string& path) {
  // GDCM writes its warnings to std::cerr; failures reach the user as UsageErrors instead.
  static std::once_flag quiet;
  std::call_once(quiet, [] {
    gdcm::Trace::WarningOff();
    gdcm::Trace::DebugOff();
    gdcm::Trace::ErrorOff();
  });
  gdcm::ImageReader reader;
  reader.SetFileName(path.c_str());
  if (!reader.Read()) throw UsageError(path + ": GDCM cannot read this DICOM image");
  const gdcm::Image& image = reader.GetImage();
  const gdcm::PixelFormat& pf = image.GetPixelFormat();
  if (image.GetNumberOfDimensions() == 3 && image.GetDimension(2) > 1)
    throw UsageError(path + ": multi-frame DICOM is not a chest X-ray film");
  if (pf.GetSamplesPerPixel() != 1) throw UsageError(path + ": colour DICOM is not supported");
  DecodedFrame out;
  out.width = image.GetColumns();
  out.height = image.GetRows();
  out.bits_stored = pf.GetBitsStored();
  out.is_signed = pf.GetPixelRepresentation() == 1;
  if (out.width <= 0 || out.height <= 0 || out.width * out.height > kMaxPixels)
    throw UsageError(path + ": implausible image size " + std::to_string(out.width) + "x" + std::to_string(out.height));
  const auto scalar = pf.GetScalarType();
  const bool eight = scalar == gdcm::PixelFormat::UINT8 || scalar == gdcm::PixelFormat::INT8;
  const bool sixteen = scalar == gdcm::PixelFormat::UINT16 || scalar == gdcm::PixelFormat::INT16 ||
                       scalar == gdcm::PixelFormat::UINT12 || scalar == gdcm::PixelFormat::INT12;
  if ((!eight && !sixteen) || out.bits_stored < 1 || out.bits_stored > 16)
    throw UsageError(path + ": " + std::to_string(out.bits_stored) + "-bit pixels are not supported (1 to 16 bits)");
  const auto count = static_cast<size_t>(out.width * out.height);
  const size_t bytes = count * (eight ? 1 : 2);
  if (image.GetBufferLength() < bytes) throw UsageError(path + ": pixel data shorter than the image size");
  out.bits_allocated = eight ? 8 : 16;
  out.bytes.resize(image.GetBufferLength());
  if (!image.GetBuffer(out.bytes.data())) throw UsageError(path + ": GDCM cannot decode the pixel data (truncated or corrupt?)");
  return out;
}

#endif

}  // namespace cxr
