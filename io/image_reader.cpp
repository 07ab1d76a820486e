#include "io/image_reader.h"

#include <fstream>
#include <new>

#include "core/errors.h"
#include "io/dicom_reader.h"
#include "io/image_sniff.h"
#include "io/jpeg_reader.h"
#include "io/png_io.h"

namespace cxr {

int64_t checked_mul(int64_t a, int64_t b, const std::string& path, const char* what) {
  int64_t out = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &out))
    throw UsageError(path + ": " + what + " (" + std::to_string(a) + " x " + std::to_string(b) + ") is out of range");
  return out;
}

void check_declared_pixels(const std::string& path, int64_t width, int64_t height, const InputLimits& limits) {
  if (width < 1 || height < 1)
    throw UsageError(path + ": implausible image size " + std::to_string(width) + "x" + std::to_string(height));
  const int64_t pixels = checked_mul(width, height, path, "the declared image size");
  if (pixels > limits.max_image_pixels)
    throw UsageError(path + ": declares a " + std::to_string(width) + "x" + std::to_string(height) + " image (" +
                     std::to_string(pixels) + " pixels), more than the limit of " + std::to_string(limits.max_image_pixels) +
                     " pixels (data.max_image_pixels)");
}

void check_display_image(const std::string& path, const Image& image) {
  if (image.width < 1 || image.height < 1 ||
      static_cast<int64_t>(image.pixels.size()) != checked_mul(image.width, image.height, path, "the decoded size"))
    throw UsageError(path + ": the decoded image does not have " + std::to_string(image.width) + "x" +
                     std::to_string(image.height) + " values");
  for (const float v : image.pixels)
    // Written so that NaN fails too.
    if (!(v >= 0.0f && v <= 1.0f))
      throw UsageError(path + ": the decoded image has values that are not finite or outside [0, 1] "
                              "(check Rescale Slope/Intercept and the window)");
}

Image read_as_file_error(const std::string& path, const std::function<Image()>& read) {
  try {
    return read();
  } catch (const Error&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw UsageError(path + ": out of memory while reading this image (a size in the file is implausible?)");
  } catch (const std::exception& e) {
    throw UsageError(path + ": cannot read this image (" + e.what() + ")");
  }
}

Image read_image(const std::string& path, const InputLimits& limits, const DecodeHints& hints) {
  return read_as_file_error(path, [&] {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw UsageError("cannot open image " + path);
    unsigned char head[kSniffBytes];
    in.read(reinterpret_cast<char*>(head), sizeof head);
    const auto got = static_cast<size_t>(in.gcount());
    if (got == 0) throw UsageError(path + ": empty file, not an image");
    in.close();
    std::string sop_class;
    Image img;
    switch (sniff_image_bytes(head, got, &sop_class)) {
      case ImageKind::Png: img = read_png(path, limits); break;
      case ImageKind::Jpeg: img = read_jpeg(path, limits, hints); break;
      case ImageKind::Dicom: img = read_dicom(path, DicomDecoder::Auto, limits); break;
      case ImageKind::DicomDir:
        throw UsageError(path + ": a DICOMDIR (an index of other DICOM files), not an image");
      case ImageKind::DicomNonImage:
        throw UsageError(path + ": a DICOM object with no image (SOP class " + sop_class + ", a class without pixel data)");
      case ImageKind::NotImage:
      case ImageKind::Unreadable:
        throw UsageError(path + ": neither DICOM, PNG nor JPEG");
    }
    check_display_image(path, img);
    return img;
  });
}

}  // namespace cxr
