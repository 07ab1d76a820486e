#include "io/gdcm_decoder.h"

#include "core/errors.h"
#include "io/image_reader.h"

#ifdef CXRTUNE_HAVE_GDCM
#include <gdcmImageReader.h>
#include <gdcmTrace.h>

#include <mutex>
#include <ostream>
#include <streambuf>

#include "io/dicom_messages.h"
#endif

namespace cxr {

#ifndef CXRTUNE_HAVE_GDCM

bool gdcm_available() { return false; }

DecodedFrame decode_with_gdcm(const std::string& path, const InputLimits&) {
  throw UsageError(path + ": JPEG 2000 DICOM needs cxrtune built with CXRTUNE_WITH_ITK (GDCM)");
}

#else

namespace {

// gdcm::Trace's streams are process-wide; this buffer hands each line to the capture of the
// thread that writes it (dicom_messages.h). Unbuffered: every character arrives in overflow()
// or xsputn() on the writing thread, and the line so far is kept per thread.
class LineToCapture final : public std::streambuf {
 protected:
  int_type overflow(int_type c) override {
    if (c != traits_type::eof()) put(static_cast<char>(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    for (std::streamsize i = 0; i < n; ++i) put(s[i]);
    return n;
  }

 private:
  static void put(char c) {
    thread_local std::string line;
    if (c != '\n') {
      line += c;
      return;
    }
    // gdcm::Trace puts "Error: In FILE, line N, function F" before each message: left out.
    if (line.find(": In ") == std::string::npos || line.find(", line ") == std::string::npos)
      library_message("GDCM", line);
    line.clear();
  }
};

void route_gdcm_messages() {
  static std::once_flag once;
  std::call_once(once, [] {
    static LineToCapture buffer;
    static std::ostream stream(&buffer);
    gdcm::Trace::SetStream(stream);
    gdcm::Trace::SetDebugStream(stream);
    gdcm::Trace::SetWarningStream(stream);
    gdcm::Trace::SetErrorStream(stream);
    gdcm::Trace::DebugOff();
    gdcm::Trace::WarningOn();
    gdcm::Trace::ErrorOn();
  });
}

}  // namespace


}  // namespace cxr

// GDCM 3.0 installs this function as OpenJPEG's error handler, and it prints every message with
// fputs to stderr ("Expected a SOC marker"), whatever gdcm::Trace says. libgdcmMSFF takes its
// address through the dynamic symbol table, so this definition, exported from the executable
// (io/CMakeLists.txt), is the one OpenJPEG calls: the message goes to the reading thread's
// capture instead. A GDCM whose symbol differs simply keeps printing; the tests notice.
namespace gdcm {
// Declared here: GDCM declares it in no header.
void gdcm_error_callback(const char* msg, void*);
void gdcm_error_callback(const char* msg, void*) { cxr::library_message("OpenJPEG", msg ? msg : ""); }
}  // namespace gdcm

namespace cxr {

bool gdcm_available() { return true; }

DecodedFrame decode_with_gdcm(const std::string& path, const InputLimits& limits) {
  route_gdcm_messages();
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
  check_declared_pixels(path, out.width, out.height, limits);
  const auto scalar = pf.GetScalarType();
  const bool eight = scalar == gdcm::PixelFormat::UINT8 || scalar == gdcm::PixelFormat::INT8;
  const bool sixteen = scalar == gdcm::PixelFormat::UINT16 || scalar == gdcm::PixelFormat::INT16 ||
                       scalar == gdcm::PixelFormat::UINT12 || scalar == gdcm::PixelFormat::INT12;
  if ((!eight && !sixteen) || out.bits_stored < 1 || out.bits_stored > 16)
    throw UsageError(path + ": " + std::to_string(out.bits_stored) + "-bit pixels are not supported (1 to 16 bits)");
  const auto count = static_cast<size_t>(checked_mul(out.width, out.height, path, "the image size"));
  const size_t bytes = count * (eight ? 1 : 2);
  if (image.GetBufferLength() < bytes || image.GetBufferLength() > 2 * bytes)
    throw UsageError(path + ": GDCM's pixel buffer (" + std::to_string(image.GetBufferLength()) + " bytes) does not fit " +
                     std::to_string(out.width) + "x" + std::to_string(out.height) + " pixels");
  out.bits_allocated = eight ? 8 : 16;
  out.bytes.resize(image.GetBufferLength());
  if (!image.GetBuffer(out.bytes.data())) throw UsageError(path + ": GDCM cannot decode the pixel data (truncated or corrupt?)");
  return out;
}

#endif

}  // namespace cxr
