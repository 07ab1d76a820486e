#include "io/gdcm_decoder.h"

#include <type_traits>

#include "engine/errors.h"

#ifdef CXRTUNE_HAVE_GDCM
#include <gdcmImageReader.h>
#include <gdcmTrace.h>

#include <mutex>
#endif

namespace cxr {

#ifndef CXRTUNE_HAVE_GDCM

bool gdcm_available() { return false; }

StoredPixels decode_with_gdcm(const std::string& path) {
  throw UsageError(path + ": JPEG 2000 DICOM needs cxrtune built with CXRTUNE_WITH_ITK (GDCM)");
}

#else

namespace {

// A header can lie: refuse sizes no chest X-ray has before allocating anything.
constexpr int64_t kMaxPixels = int64_t{1} << 28;

template <typename T>
void widen(const std::vector<char>& raw, int bits, bool is_signed, std::vector<int32_t>& out) {
  const auto* p = reinterpret_cast<const T*>(raw.data());
  const uint32_t mask = bits >= 32 ? 0xffffffffu : (1u << bits) - 1u;
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t v = static_cast<uint32_t>(static_cast<std::make_unsigned_t<T>>(p[i])) & mask;
    if (is_signed && bits < 32 && (v >> (bits - 1)) & 1u) v |= ~mask;  // sign-extend from bits stored
    out[i] = static_cast<int32_t>(v);
  }
}

}  // namespace

bool gdcm_available() { return true; }

StoredPixels decode_with_gdcm(const std::string& path) {
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
  StoredPixels out;
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
  std::vector<char> raw(image.GetBufferLength());
  if (!image.GetBuffer(raw.data())) throw UsageError(path + ": GDCM cannot decode the pixel data (truncated or corrupt?)");
  out.values.resize(count);
  if (eight)
    widen<uint8_t>(raw, out.bits_stored, out.is_signed, out.values);
  else
    widen<uint16_t>(raw, out.bits_stored, out.is_signed, out.values);
  return out;
}

#endif

}  // namespace cxr
